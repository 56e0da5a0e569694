#!/usr/bin/env python3
"""The fair Python-vs-Rust decode side-by-side of xml-rpc.md §6.3.

1. Same bytes: the payloads of benches/fixtures.py (generated if missing), checked against the
   sha256 recorded in target/bench-data/manifest.json.
2. Same end product: Python `xmlrpc.client.loads(data, use_builtin_types=True)`; Rust gandish's
   `decode_response` into its `Value` tree, and the same followed by `from_value` into typed
   `Vec<Paas>` (plus the other Rust rows of the bench, for reference).
3. Correctness gate before any timing: both sides write canonical JSON (sorted keys, compact
   separators, dates as YYYYMMDDTHH:MM:SS) and Python's must be byte-identical to gandish's, for
   the Value tree and for the typed structs alike.
4. Timing: Python in-process with time.perf_counter, GC on (and off with --gc-off too), warm-up then
   K iterations, dropping each result outside the clock; Rust by its bench binary
   (`cargo bench --bench decode -- --json`), built here with `cargo bench --no-run`. Python and
   Rust alternate in --rounds rounds per size (the machine is shared) and the timings are pooled.
5. One table with min/median/p90, MB/s and ratios, plus the CPU, Python, expat, rustc and crate
   versions.

Usage: python3 benches/side_by_side.py [--sizes 10,1000,10000] [--budget SECS] [--rounds R]
                                       [--gc-off] [--json OUT]
"""

import argparse
import base64
import datetime as dt
import gc
import hashlib
import json
import os
import platform
import pyexpat
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import fixtures  # noqa: E402  (benches/fixtures.py)

TARGET_VS_PYTHON = 10.0
TARGET_VS_CRATE = 1.5
TARGET_VS_RAW = 0.60


def canonical(obj):
    """Python's decoded value as canonical JSON text (xml-rpc.md §6.3 step 3)."""

    def conv(v):
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if isinstance(v, dt.datetime):
            return v.strftime("%Y%m%dT%H:%M:%S")
        if isinstance(v, (bytes, bytearray)):
            return base64.b64encode(bytes(v)).decode("ascii")
        return v

    return json.dumps(conv(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def python_decode(data):
    params, _method = xmlrpc.client.loads(data, use_builtin_types=True)
    return params[0]


def load_fixtures(sizes, data_dir):
    manifest_path = os.path.join(data_dir, "manifest.json")

    def read():
        try:
            with open(manifest_path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    manifest = read()
    missing = [n for n in sizes if str(n) not in manifest
               or not os.path.isfile(os.path.join(data_dir, fixtures.file_name(n)))]
    if missing:
        fixtures.main(["--out", data_dir] + [str(n) for n in missing])
        manifest = read()
    out = {}
    for n in sizes:
        entry = manifest[str(n)]
        path = os.path.join(data_dir, entry["file"])
        with open(path, "rb") as f:
            data = f.read()
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            sys.exit(f"{path}: sha256 {digest} differs from the manifest's {entry['sha256']}; regenerate it")
        out[n] = (path, data, entry)
    return out


def build_rust_bench():
    """Builds the bench binary (bench profile, thin LTO) and returns its path."""
    cmd = ["cargo", "bench", "--bench", "decode", "--no-run", "--message-format=json-render-diagnostics"]
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, check=True, text=True)
    exe = None
    for line in proc.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "decode" \
                and msg.get("executable"):
            exe = msg["executable"]
    if not exe:
        sys.exit("cargo did not report the decode bench executable")
    return exe


def gate(exe, sizes, fx):
    """Asserts that Python and gandish produce byte-identical canonical JSON for every payload."""
    for n in sizes:
        path, data, entry = fx[n]
        py = canonical(python_decode(data))
        for mode in ([], ["--typed"]):
            with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
                out = tmp.name
            try:
                subprocess.run([exe, "--canonical", out, "--input", path] + mode, check=True)
                with open(out, encoding="utf-8") as f:
                    rs = f.read()
            finally:
                os.unlink(out)
            if py != rs:
                at = next((i for i, (a, b) in enumerate(zip(py, rs)) if a != b), min(len(py), len(rs)))
                sys.exit(f"N={n}{' typed' if mode else ''}: canonical JSON differs at character {at}:\n"
                         f"  python: {py[max(0, at - 60):at + 60]!r}\n  rust:   {rs[max(0, at - 60):at + 60]!r}\n"
                         "no timing for a decoder that disagrees")
        records = json.loads(py)
        if len(records) != entry["expect"]["records"]:
            sys.exit(f"N={n}: {len(records)} records decoded, {entry['expect']['records']} expected")
        print(f"N={n}: canonical JSON identical for Value and typed ({len(py)} chars, sha256 "
              f"{hashlib.sha256(py.encode()).hexdigest()[:16]}...)", file=sys.stderr)


def time_python(data, budget, gc_on, min_iters):
    """Timings (ms) of `loads`, after one warm-up run; each result is freed outside the clock."""
    was = gc.isenabled()
    (gc.enable if gc_on else gc.disable)()
    try:
        t0 = time.perf_counter()
        r = python_decode(data)
        one = time.perf_counter() - t0
        del r
        iters = max(min_iters, min(200, int(budget / max(one, 1e-6))))
        samples = []
        for _ in range(iters):
            t0 = time.perf_counter()
            r = python_decode(data)
            samples.append((time.perf_counter() - t0) * 1e3)
            del r
    finally:
        (gc.enable if was else gc.disable)()
    return samples


def stats(samples):
    samples = sorted(samples)
    return {
        "iters": len(samples),
        "min_ms": samples[0],
        "median_ms": statistics.median(samples),
        "p90_ms": samples[round((len(samples) - 1) * 0.9)],
    }


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def tool_version(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,1000,10000")
    ap.add_argument("--budget", type=float, default=3.0, help="timed seconds per decoder and size (default 3)")
    ap.add_argument("--gc-off", action="store_true", help="also time Python with the GC disabled")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternate Python and Rust this many times per size, pooling the timings (default 3)")
    ap.add_argument("--data", default=fixtures.default_out())
    ap.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.rounds < 1 or args.budget <= 0:
        ap.error("--rounds must be at least 1 and --budget positive")

    fx = load_fixtures(sizes, args.data)
    exe = build_rust_bench()
    gate(exe, sizes, fx)

    # The machine is shared: alternate Python and Rust in rounds, so that both meet the same load.
    rows = []
    rust = {}
    share = args.budget / args.rounds
    for n in sizes:
        _path, data, _entry = fx[n]
        pools = {}  # decoder key -> (label, samples)
        for _ in range(args.rounds):
            pools.setdefault("python", ("Python loads(use_builtin_types)", []))[1].extend(
                time_python(data, share, True, max(2, -(-5 // args.rounds))))
            if args.gc_off:
                pools.setdefault("python-nogc", ("  same, GC off", []))[1].extend(
                    time_python(data, share, False, max(2, -(-5 // args.rounds))))
            rust = json.loads(subprocess.run(
                [exe, "--json", "--data", args.data, "--sizes", str(n), "--budget", str(share)],
                stdout=subprocess.PIPE, check=True, text=True).stdout)
            for r in rust["results"]:
                pools.setdefault(r["decoder"], (r["label"], []))[1].extend(r["samples_ms"])
        for key, (label, samples) in pools.items():
            rows.append(dict(n=n, decoder=key, label=label, **stats(samples)))

    env = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "expat": pyexpat.EXPAT_VERSION,
        "rustc": tool_version(["rustc", "--version"]),
        "crates": rust.get("crates", {}),
        "rust_profile": rust.get("profile"),
    }
    print(f"\nCPU: {env['cpu']} ({env['cores']} logical cores, shared)")
    print(f"Python {env['python']} / {env['expat']}; {env['rustc']}; "
          + ", ".join(f"{k} {v}" for k, v in sorted(env["crates"].items())))
    verdicts = []
    for n in sizes:
        size = len(fx[n][1])
        mine = [r for r in rows if r["n"] == n]
        by = {r["decoder"]: r for r in mine}
        py = by["python"]["median_ms"]
        raw = by.get("raw", {}).get("median_ms")
        print(f"\nN={n}  ({size / 1e6:.2f} MB, {n} records; same bytes, canonical JSON checked equal)")
        print(f"{'decoder':<34}{'min ms':>10}{'median ms':>11}{'p90 ms':>10}{'MB/s':>9}"
              f"{'x Python':>10}{'vs raw':>8}{'iters':>7}")
        for r in mine:
            r["bytes"] = size
            r["mb_per_s"] = size / 1e6 / (r["median_ms"] / 1e3)
            r["x_python"] = py / r["median_ms"]
            vs_raw = f"{100 * raw / r['median_ms']:.0f}%" if raw else "-"
            print(f"{r['label']:<34}{r['min_ms']:>10.3f}{r['median_ms']:>11.3f}{r['p90_ms']:>10.3f}"
                  f"{r['mb_per_s']:>9.1f}{r['x_python']:>9.1f}x{vs_raw:>8}{r['iters']:>7}")
        crates = [by[k] for k in ("dxr", "xmlrpc") if k in by]
        best = min(crates, key=lambda r: r["median_ms"]) if crates else None
        for key in ("gandish", "typed"):
            g = by.get(key)
            if not g:
                continue
            checks = [("vs Python", g["x_python"], TARGET_VS_PYTHON, "x")]
            if best:
                checks.append((f"vs faster crate ({best['decoder']})", best["median_ms"] / g["median_ms"],
                               TARGET_VS_CRATE, "x"))
            if raw:
                checks.append(("vs raw scan", raw / g["median_ms"], TARGET_VS_RAW, "%"))
            for name, got, want, unit in checks:
                ok = got >= want
                shown = f"{got:.2f}x (target >= {want}x)" if unit == "x" else \
                    f"{100 * got:.0f}% (target >= {100 * want:.0f}%)"
                print(f"  {g['label']} {name}: {shown} {'OK' if ok else 'MISSED'}")
                verdicts.append(dict(n=n, decoder=key, check=name, value=got, target=want, ok=ok))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"env": env, "rows": rows, "targets": verdicts}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
