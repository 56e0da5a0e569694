#!/usr/bin/env python3
"""Generates the decode-benchmark payloads (xml-rpc.md §6.2 and §6.3, step 1).

Each payload is a `paas.list`-shaped methodResponse written by Python's own encoder:

    xmlrpc.client.dumps(([rec(i) for i in range(N)],), methodresponse=True, allow_none=True)

Each record is a 15-member struct with the field set of `paas.list` in the API usage page plus
gandi.cli's `console` and `snapshot_profile`: 6 strings (`name` holds `& <co>`), 3 ints, 1 boolean,
3 dateTimes (`date_end_commitment` alternates with nil), a nested array of structs (`servers`, each
`{id, uuid}`: two more ints) and a nil (`snapshot_profile`).

The files go to `target/bench-data/paas_list_<N>.xml` (never committed), next to
`manifest.json`, which records for each file its size, sha256 and the figures every decoder must
reproduce (record count, sum of ids, total length of the names, ...), computed here from the
records themselves rather than from any decoder.

Usage: python3 benches/fixtures.py [--out DIR] [N ...]   (default N: 10 1000 10000)
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
import xmlrpc.client

DEFAULT_SIZES = (10, 1000, 10000)
TYPES = ("phpmysql", "phppgsql", "nodejsmongodb", "pythonpgsql", "rubymysql")
SIZES = ("s", "m", "l", "xl", "xxl")
START = dt.datetime(2013, 9, 3, 22, 14, 13)


def rec(i):
    """The i-th record: deterministic, 15 members, in the field set of SEED + gandi.cli."""
    kind = TYPES[i % len(TYPES)]
    size = SIZES[i % len(SIZES)]
    dc = 1 + i % 3
    start = START + dt.timedelta(days=i % 900, seconds=37 * i % 86400)
    end = start + dt.timedelta(days=365 * (1 + i % 3))
    return {
        "catalog_name": f"{kind}_{size}",
        "console": f"{1656411 + i}@console.dc{dc - 1}.gpaas.net",
        "data_disk_additional_size": (i % 8) * 5,
        "datacenter_id": dc,
        "date_end": end,
        "date_end_commitment": (start + dt.timedelta(days=180)) if i % 2 == 0 else None,
        "date_start": start,
        "id": 126276 + i,
        "name": f"paas_{i} & <co>",
        "need_upgrade": i % 3 == 0,
        "servers": [{"id": 126273 + i, "uuid": 195339 + i}],
        "size": size,
        "snapshot_profile": None,
        "state": "running" if i % 4 else "halted",
        "type": kind,
    }


def expected(records):
    """The figures every decoder must reproduce, computed from the records themselves."""
    return {
        "records": len(records),
        "id_sum": sum(r["id"] for r in records),
        "name_len_sum": sum(len(r["name"]) for r in records),
        "server_id_sum": sum(s["id"] for r in records for s in r["servers"]),
        "commitment_nils": sum(r["date_end_commitment"] is None for r in records),
        "upgrades": sum(r["need_upgrade"] for r in records),
        "members": sum(len(r) for r in records),
        "datetimes": sum(isinstance(v, dt.datetime) for r in records for v in r.values()),
    }


def payload(n):
    records = [rec(i) for i in range(n)]
    body = xmlrpc.client.dumps((records,), methodresponse=True, allow_none=True)
    return body.encode("utf-8"), expected(records)


def default_out():
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "target", "bench-data")


def file_name(n):
    return f"paas_list_{n}.xml"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=default_out(), help="output directory (default: target/bench-data)")
    ap.add_argument("sizes", nargs="*", type=int, default=list(DEFAULT_SIZES))
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "manifest.json")
    try:
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        manifest = {}
    for n in args.sizes:
        if n < 1:
            ap.error(f"N must be at least 1, got {n}")
        body, exp = payload(n)
        path = os.path.join(args.out, file_name(n))
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(body)
        os.replace(tmp, path)
        manifest[str(n)] = {
            "file": file_name(n),
            "bytes": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "expect": exp,
        }
        print(f"wrote {path}: {len(body)} bytes, sha256 {manifest[str(n)]['sha256'][:16]}...", file=sys.stderr)
    manifest["generator"] = {
        "python": sys.version.split()[0],
        "method": "xmlrpc.client.dumps(([rec(i) for i in range(N)],), methodresponse=True, allow_none=True)",
    }
    tmp = manifest_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, manifest_path)


if __name__ == "__main__":
    main()
