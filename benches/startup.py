#!/usr/bin/env python3
"""Startup time: `gandish eval '1+1'` next to `python3 -c 'import xmlrpc.client'`, in one run.

Usage: python3 benches/startup.py [path/to/gandish]   (default: target/release/gandish;
build it first with `cargo build --release`).

Uses hyperfine when it is installed (its JSON export gives the medians), else a timing loop of
its own (N runs each, interleaved, after warm-up). Prints each median, and the ratio; the target
is gandish at least 5x faster than the Python import, and under 10 ms median.

gandish runs with GANDISH_CONFIG pointing at an empty config file and no key,
so nothing touches the network: `1+1` makes no API call.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 200
WARMUP = 20


def commands(gandish):
    return [
        ("gandish eval '1+1'", [gandish, "eval", "1+1"]),
        ("python3 -c 'import xmlrpc.client'", ["python3", "-c", "import xmlrpc.client"]),
    ]


def env():
    e = dict(os.environ)
    for k in ("GANDI_API_KEY", "GANDI_URL", "GANDISH_ENV"):
        e.pop(k, None)
    # An empty configuration file: read and parsed, as a real one would be.
    path = os.path.join(tempfile.gettempdir(), "gandish-startup-empty-config.toml")
    open(path, "w").close()
    e["GANDISH_CONFIG"] = path
    return e


def with_hyperfine(cmds):
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    args = ["hyperfine", "-N", "--warmup", str(WARMUP), "--runs", str(RUNS), "--export-json", out]
    for _, argv in cmds:
        args.append(" ".join(a if " " not in a and "'" not in a else "'" + a + "'" for a in argv))
    subprocess.run(args, check=True, env=env(), stdout=sys.stderr)
    with open(out) as f:
        results = json.load(f)["results"]
    os.unlink(out)
    return [r["median"] for r in results]


def with_loop(cmds):
    e = env()
    times = [[] for _ in cmds]
    for i in range(WARMUP + RUNS):
        for j, (_, argv) in enumerate(cmds):
            t0 = time.perf_counter()
            subprocess.run(argv, env=e, stdout=subprocess.DEVNULL, check=True)
            if i >= WARMUP:
                times[j].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def main():
    gandish = sys.argv[1] if len(sys.argv) > 1 else "target/release/gandish"
    if not os.path.exists(gandish):
        sys.exit(f"{gandish} not found; run `cargo build --release` first")
    out = subprocess.run([gandish, "eval", "1+1"], env=env(), capture_output=True, text=True)
    if out.stdout != "2\n":
        sys.exit(f"gandish eval '1+1' printed {out.stdout!r} {out.stderr!r}")
    cmds = commands(gandish)
    tool = "hyperfine" if shutil.which("hyperfine") else "python timing loop"
    medians = with_hyperfine(cmds) if tool == "hyperfine" else with_loop(cmds)
    print(f"startup, median of {RUNS} runs ({tool}):")
    for (name, _), m in zip(cmds, medians):
        print(f"  {name:<36} {m * 1000:8.2f} ms")
    ratio = medians[1] / medians[0]
    print(f"  ratio: gandish is {ratio:.1f}x faster (target >= 5x, gandish < 10 ms)")


if __name__ == "__main__":
    main()
