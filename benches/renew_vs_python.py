#!/usr/bin/env python3
"""std/renew against the loop a user would otherwise write (issue 6, "Measure it"; targets: at
least 6x faster than a sequential Python xmlrpc.client loop, and at least 60% of the ideal
instances x latency / workers).

What it does, all on 127.0.0.1, every process started and stopped here:
 1. builds the gandish binary (`cargo build --bin gandish`, or `--release`), unless --no-build;
 2. for each side, starts a fresh sandbox: `gandish sandbox --listen 127.0.0.1:0 --dataset empty
    --instances 1000 --latency 20 --op-seconds 0 --seed 1` (every call takes 20 ms more), and
    reads its URL and key from the stderr banner;
 3. Python side: lists the instances (paged, 500 a page), keeps those ending within the window,
    and renews them one after the other with `paas.renew(key, id, {'duration': '12m'})`;
 4. gandish side: `gandish run std/renew within_days=W duration=12m parallel=8 rate=0
    journal=TMP` (rate=0: no client-side limit, since the sandbox has none; the default of
    15 calls/s would be the bottleneck, by design, against the real Gandi);
 5. checks each side before trusting its time: `sandbox.ledger` must hold exactly one
    paas_vm_renew per instance in the window, and none for the others;
 6. prints both times, the ratio, the ideal (renewals x latency / workers) and the share of the
    ideal reached; exits 1 if a check failed, 3 if a target was missed.

The window (default 400 days) takes in every generated instance (they end between 30 days ago
and a year ahead), so both sides renew all 1000.

With --op-seconds N (N > 0) it measures instead the main job under the real service's two
constraints, operations that take time and a rate limit (issue 11, "Measure it"; targets: at most
1.1 calls per renewal, wall time within 1.25x the rate floor, at least 20x the loop below):
 - gandish side: `gandish run std/renew within_days=W duration=12m journal=TMP` with its defaults
   (15 calls/s, 8 submitters), against a sandbox whose operations take N s; its calls are counted
   with `sandbox.stats`;
 - Python side, at the same time against its own sandbox: the loop gandi.cli runs, renewing one
   instance and then calling `operation.info` on each of its operations once a second until all
   are DONE. It is sequential, so its time grows linearly: it is timed on the first
   --python-sample (30) due instances and scaled up to all of them, and the output says so;
 - the rate floor is gandish's calls / 15 per second + N (the last operation's time).

Usage: python3 benches/renew_vs_python.py [--instances 1000] [--latency 20] [--workers 8]
                                          [--within-days 400] [--release] [--no-build] [--json]
       python3 benches/renew_vs_python.py --op-seconds 10 [--python-sample 30] [--release] ...
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benches"))
import sandbox_vs_python as common  # noqa: E402  (shares the sandbox start and stop helpers)
TARGET_RATIO = 6.0
TARGET_IDEAL_SHARE = 0.60
# The pipelined mode (--op-seconds > 0).
DEFAULT_RATE = 15
TARGET_CALLS_PER_RENEWAL = 1.1
TARGET_FLOOR_SHARE = 1.25
TARGET_PIPELINE_RATIO = 20.0


BenchError = common.BenchError


def build(release):
    cmd = ["cargo", "build", "--bin", "gandish"] + (["--release"] if release else [])
    print("building: " + " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, cwd=ROOT, check=True)


def binary(release):
    exe = os.path.join(ROOT, "target", "release" if release else "debug", "gandish")
    if not os.access(exe, os.X_OK):
        raise BenchError(f"{exe} is missing (build it, or drop --no-build)")
    return exe


def start_sandbox(exe, args, op_seconds=0):
    """Starts a fresh sandbox on a free port; returns (process, URL, key)."""
    return common.launch_sandbox([exe, "sandbox", "--listen", "127.0.0.1:0", "--dataset", "empty",
                                  "--instances", str(args.instances), "--latency", str(args.latency),
                                  "--op-seconds", str(op_seconds), "--seed", "1"])


def paris_now():
    """Now in Europe/Paris as naive local time (the API's dates), without tz data: CET/CEST by
    the EU rule (last Sunday of March / October, 01:00 UTC)."""
    utc = datetime.now(timezone.utc).replace(tzinfo=None)

    def last_sunday(year, month):
        d = datetime(year, month + 1, 1) - timedelta(days=1) if month < 12 else datetime(year, 12, 31)
        return d - timedelta(days=(d.weekday() + 1) % 7)

    start = last_sunday(utc.year, 3).replace(hour=1)
    end = last_sunday(utc.year, 10).replace(hour=1)
    return utc + timedelta(hours=2 if start <= utc < end else 1)


def as_naive(dt):
    return datetime.strptime(dt.value, "%Y%m%dT%H:%M:%S")


def list_all(api, key):
    items, page = [], 0
    while True:
        got = api.paas.list(key, {"items_per_page": 500, "page": page})
        items.extend(got)
        if len(got) < 500:
            return items
        page += 1


def python_side(url, key, within_days):
    """The plain loop; returns (seconds, ids renewed)."""
    api = xmlrpc.client.ServerProxy(url, allow_none=True)
    start = time.perf_counter()
    cutoff = paris_now() + timedelta(days=within_days)
    due = [p["id"] for p in list_all(api, key) if as_naive(p["date_end"]) <= cutoff]
    for paas_id in due:
        api.paas.renew(key, paas_id, {"duration": "12m"})
    return time.perf_counter() - start, due


def gandish_side(exe, url, key, args, journal):
    env = dict(os.environ, GANDI_API_KEY=key)
    env.pop("GANDI_URL", None)
    cmd = [exe, "--no-config", "--url", url, "-q", "run", "std/renew",
           f"within_days={args.within_days}", "duration=12m", f"parallel={args.workers}", "rate=0",
           f"journal={journal}"]
    start = time.perf_counter()
    out = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    took = time.perf_counter() - start
    if out.returncode != 0:
        raise BenchError(f"gandish run std/renew exited {out.returncode}: {out.stderr.strip()}")
    summary = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    return took, summary


def check_ledger(url, key, expected, side):
    api = xmlrpc.client.ServerProxy(url, allow_none=True)
    counts = {}
    for e in api.sandbox.ledger(key):
        if e["type"] == "paas_vm_renew":
            counts[e["paas_id"]] = counts.get(e["paas_id"], 0) + 1
    if set(counts) != set(expected) or any(n != 1 for n in counts.values()):
        twice = [i for i, n in counts.items() if n != 1]
        missing = sorted(set(expected) - set(counts))
        extra = sorted(set(counts) - set(expected))
        raise BenchError(f"{side}: ledger wrong: {len(missing)} missing, {len(extra)} not due, "
                         f"{len(twice)} renewed more than once")


def gandi_cli_side(url, key, within_days, sample, result):
    """gandi.cli's way: renew, then operation.info on each of its ops every 1 s until all are
    DONE; one instance after the other. Times the first `sample` due instances."""
    api = xmlrpc.client.ServerProxy(url, allow_none=True)
    cutoff = paris_now() + timedelta(days=within_days)
    due = [p["id"] for p in list_all(api, key) if as_naive(p["date_end"]) <= cutoff]
    start = time.perf_counter()
    for paas_id in due[:sample]:
        ops = api.paas.renew(key, paas_id, {"duration": "12m"})
        while True:
            steps = [api.operation.info(key, op["id"])["step"] for op in ops]
            if any(s in ("ERROR", "CANCEL", "SUPPORT") for s in steps):
                raise BenchError(f"python: an operation of instance {paas_id} ended in {steps}")
            if all(s == "DONE" for s in steps):
                break
            time.sleep(1)
    result["seconds"] = time.perf_counter() - start
    result["sampled"] = min(sample, len(due))
    result["due"] = len(due)


def sandbox_calls(url, key):
    """Calls the sandbox received, by `sandbox.stats`, less that call itself."""
    stats = xmlrpc.client.ServerProxy(url, allow_none=True).sandbox.stats(key)
    return sum(stats["calls"].values()) - 1, stats


def pipeline_main(args, exe):
    import threading
    sandbox_exe = args.sandbox_bin or exe
    py_proc, py_url, py_key = start_sandbox(sandbox_exe, args, args.op_seconds)
    g_proc, g_url, g_key = start_sandbox(sandbox_exe, args, args.op_seconds)
    try:
        py = {}
        errors = []

        def run_py():
            try:
                gandi_cli_side(py_url, py_key, args.within_days, args.python_sample, py)
            except Exception as e:  # reported below, after the gandish side
                errors.append(e)

        thread = threading.Thread(target=run_py)
        thread.start()
        env = dict(os.environ, GANDI_API_KEY=g_key)
        env.pop("GANDI_URL", None)
        with tempfile.TemporaryDirectory(prefix="gandish-bench-") as tmp:
            cmd = [exe, "--no-config", "--url", g_url, "-q", "run", "std/renew",
                   f"within_days={args.within_days}", "duration=12m",
                   f"journal={os.path.join(tmp, 'renew.journal')}"]
            start = time.perf_counter()
            out = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            g_time = time.perf_counter() - start
        if out.returncode != 0:
            raise BenchError(f"gandish run std/renew exited {out.returncode}: {out.stderr.strip()}")
        calls, stats = sandbox_calls(g_url, g_key)
        # Each renewal's operations reach DONE before the run ends; the ledger then holds them.
        api = xmlrpc.client.ServerProxy(g_url, allow_none=True)
        renewed = len({e["paas_id"] for e in api.sandbox.ledger(g_key) if e["type"] == "paas_vm_renew"})
        thread.join()
        if errors:
            raise errors[0]
    finally:
        common.stop(py_proc)
        common.stop(g_proc)
    if renewed != py["due"]:
        raise BenchError(f"gandish renewed {renewed} instances, {py['due']} were due")
    per_renewal = calls / renewed
    floor = calls / DEFAULT_RATE + args.op_seconds
    py_scaled = py["seconds"] / py["sampled"] * renewed
    ratio = py_scaled / g_time
    figures = {
        "instances": args.instances,
        "renewed": renewed,
        "op_seconds": args.op_seconds,
        "latency_ms": args.latency,
        "binary": "release" if args.release else "debug",
        "gandish_s": round(g_time, 3),
        "gandish_calls": calls,
        "gandish_calls_by_method": stats["calls"],
        "peak_pending_ops": stats["peak_pending_ops"],
        "calls_per_renewal": round(per_renewal, 3),
        "rate_floor_s": round(floor, 3),
        "share_of_floor": round(g_time / floor, 3),
        "python_sample": py["sampled"],
        "python_sample_s": round(py["seconds"], 3),
        "python_scaled_s": round(py_scaled, 1),
        "ratio": round(ratio, 1),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"renewals:         {renewed} of {args.instances} instances; operations take {args.op_seconds} s, "
              f"{args.latency} ms latency per call")
        print(f"gandish renew:    {g_time:8.1f} s  (defaults: {DEFAULT_RATE} calls/s, {figures['binary']} build)")
        print(f"  calls:          {calls} = {per_renewal:.3f} per renewal (target <= {TARGET_CALLS_PER_RENEWAL}); "
              f"peak {stats['peak_pending_ops']} operations pending at once")
        print(f"  rate floor:     {floor:8.1f} s  (calls / {DEFAULT_RATE} per s + {args.op_seconds} s); "
              f"wall = {g_time / floor:.2f}x the floor (target <= {TARGET_FLOOR_SHARE})")
        print(f"gandi.cli loop:   {py['seconds']:8.1f} s for the first {py['sampled']} renewals (renew, then "
              f"operation.info each 1 s until DONE), scaled to {renewed}: {py_scaled:.0f} s")
        print(f"ratio:            {ratio:8.1f} x  (target >= {TARGET_PIPELINE_RATIO:.0f}x)")
    met = (per_renewal <= TARGET_CALLS_PER_RENEWAL and g_time / floor <= TARGET_FLOOR_SHARE
           and ratio >= TARGET_PIPELINE_RATIO)
    return 0 if met else 3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--latency", type=int, default=20, help="ms added to every call")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--within-days", type=int, default=400)
    ap.add_argument("--release", action="store_true", help="use (and build) the release binary")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--sandbox-bin", help="serve the sandbox with this gandish binary (e.g. a release "
                    "build from elsewhere); both sides use the same sandbox")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--op-seconds", type=int, default=0,
                    help="operations take this long: measure the pipelined main job (see above)")
    ap.add_argument("--python-sample", type=int, default=30,
                    help="with --op-seconds: renewals the gandi.cli-style loop is timed on")
    args = ap.parse_args()
    try:
        if not args.no_build:
            build(args.release)
        exe = binary(args.release)
        if args.op_seconds > 0:
            return pipeline_main(args, exe)

        sandbox_exe = args.sandbox_bin or exe
        proc, url, key = start_sandbox(sandbox_exe, args)
        try:
            py_time, due = python_side(url, key, args.within_days)
            check_ledger(url, key, due, "python")
        finally:
            common.stop(proc)

        proc, url, key = start_sandbox(sandbox_exe, args)
        try:
            with tempfile.TemporaryDirectory(prefix="gandish-bench-") as tmp:
                g_time, summary = gandish_side(exe, url, key, args, os.path.join(tmp, "renew.journal"))
            check_ledger(url, key, due, "gandish")
        finally:
            common.stop(proc)
    except (BenchError, subprocess.CalledProcessError, OSError, xmlrpc.client.Error) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    ideal = len(due) * args.latency / 1000.0 / args.workers
    ratio = py_time / g_time
    share = ideal / g_time
    figures = {
        "instances": args.instances,
        "renewed": len(due),
        "latency_ms": args.latency,
        "workers": args.workers,
        "binary": "release" if args.release else "debug",
        "python_s": round(py_time, 3),
        "gandish_s": round(g_time, 3),
        "ratio": round(ratio, 2),
        "ideal_s": round(ideal, 3),
        "share_of_ideal": round(share, 3),
        "gandish_summary": summary,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"renewals:        {len(due)} of {args.instances} instances, {args.latency} ms latency per call")
        print(f"python loop:     {py_time:8.3f} s  (sequential xmlrpc.client)")
        print(f"gandish renew:   {g_time:8.3f} s  ({args.workers} workers, {figures['binary']} build)")
        print(f"ratio:           {ratio:8.2f} x  (target >= {TARGET_RATIO:.0f}x)")
        print(f"ideal:           {ideal:8.3f} s  (renewals x latency / workers); reached "
              f"{share * 100:.0f}% (target >= {TARGET_IDEAL_SHARE * 100:.0f}%)")
        print(f"gandish said:    {summary}")
    return 0 if ratio >= TARGET_RATIO and share >= TARGET_IDEAL_SHARE else 3


if __name__ == "__main__":
    sys.exit(main())
