#!/usr/bin/env python3
"""Throughput of state-changing calls on `gandish sandbox --state FILE` (every acknowledged change
is saved to FILE first), against the same sandbox without a state file.

It starts the release sandbox (demo dataset plus --instances generated ones, so the saved state
is realistically large) on 127.0.0.1, once with `--state` in a temporary directory and once
without, and loads each with examples/loadgen.rs posting `sandbox.zone.set_txt(key, fqdn, value)`
(a call that changes the state and always answers the same) over --connections keep-alive
connections for --seconds. It then checks that the file holds the change and prints calls/s.

Usage: python3 benches/state_file_saves.py [--connections 64] [--seconds 5] [--instances 500]
"""

import argparse
import json
import os
import sys
import tempfile
import xmlrpc.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox_vs_python as common  # noqa: E402  (shares the process and loadgen helpers)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--instances", type=int, default=500)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    args.gzip = False
    if not args.no_build:
        common.build()

    notes = common.machine_notes()  # before any load of ours
    with tempfile.TemporaryDirectory(prefix="gandish-state-") as tmp:
        state = os.path.join(tmp, "state.json")
        results = {}
        for name, extra in (("with --state", ["--state", state]), ("in memory", [])):
            proc, url, key = common.start_sandbox(args, extra)
            try:
                body = xmlrpc.client.dumps((key, "bench.example.com", "token=0123"), "sandbox.zone.set_txt")
                body_file = os.path.join(tmp, "call.xml")
                with open(body_file, "w", encoding="utf-8") as f:
                    f.write(body)
                results[name] = common.load(url, body_file, proc.pid, args)
            finally:
                common.stop(proc)
        with open(state, encoding="utf-8") as f:
            saved = json.load(f)
        if saved.get("txt", {}).get("bench.example.com") != ["token=0123"]:
            raise common.BenchError("the state file does not hold the TXT record the calls set")
        size = os.path.getsize(state)

    print(f"machine: {notes.get('cpu', '?')}, {notes['cpus']} CPUs, load average {notes.get('loadavg_1min', 0):.2f}; "
          f"{args.connections} connections, {args.seconds} s per phase; state file {size} bytes")
    print(f"{'sandbox.zone.set_txt':<22}{'calls/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'srv CPU us/call':>17}")
    for name, r in results.items():
        print(f"{name:<22}{r['calls_per_sec']:>10.1f}{r['p50_us'] / 1000:>9.2f}{r['p99_us'] / 1000:>9.2f}"
              f"{r['server_cpu_us_per_call']:>17.1f}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except common.BenchError as e:
        print(f"state_file_saves: {e}", file=sys.stderr)
        sys.exit(1)
