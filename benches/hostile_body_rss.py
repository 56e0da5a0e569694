#!/usr/bin/env python3
"""Peak memory of `gandish call` on hostile reply bodies, against the reply body cap (issue 13,
"Memory"), and the size of the largest real reply that cap must leave room for.

What it does, all on 127.0.0.1, every process started and stopped here:
 1. builds the release binary (`cargo build --release --bin gandish`), unless --no-build or
    --gandish names a binary;
 2. serves, from a thread of this script, replies no real server sends: an endless chunked body,
    a gzip bomb sent with `Content-Encoding: gzip` (4x the cap once inflated, about 260 KB on the
    wire) and the same bomb without the header (a raw gzip body, inflated by the XML-RPC decoder
    rather than the HTTP layer);
 3. runs `gandish call` against each, one process at a time, and reads the peak resident set of
    that process from `os.wait4` (ru_maxrss), next to a call with a small reply as the baseline;
 4. starts `gandish sandbox --instances 500 --extended-fields` and measures the largest real
    `paas.list` page (items_per_page=500, the API's maximum) in bytes, and the peak RSS of
    `gandish call` fetching it.

Every hostile call must fail with exit status 4 and name the cap ("body larger than"); the script exits 1
otherwise. Nothing is timed.

Usage: python3 benches/hostile_body_rss.py [--gandish PATH] [--no-build] [--json]
"""

import argparse
import gzip
import json
import os
import re
import socket
import subprocess
import sys
import threading
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAP = 64 << 20  # the client's default reply body cap (Limits::default().max_body)
PREFIX = b"<?xml version='1.0'?><methodResponse><params><param><value><string>"


def bomb_bytes(inflated):
    """A gzip member of PREFIX and `inflated` zero bytes, compressed in pieces."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [c.compress(PREFIX)]
    zeros = b"0" * (1 << 20)
    for _ in range(inflated >> 20):
        parts.append(c.compress(zeros))
    parts.append(c.flush())
    return b"".join(parts)


class Hostile:
    """A raw HTTP/1.1 server answering each request by its path: /endless, /bomb, /rawgzip, /small."""

    def __init__(self):
        self.bomb = bomb_bytes(4 * CAP)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn):
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                data = conn.recv(65536)
                if not data:
                    return
                head += data
            path = head.split(b" ", 2)[1].decode()
            if path == "/endless":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n")
                chunk = b"a" * 65536
                frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
                conn.sendall(b"%x\r\n%s\r\n" % (len(PREFIX), PREFIX))
                while True:
                    conn.sendall(frame)
            elif path in ("/bomb", "/rawgzip"):
                enc = b"Content-Encoding: gzip\r\n" if path == "/bomb" else b""
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n" + enc
                             + b"Content-Length: %d\r\n\r\n" % len(self.bomb) + self.bomb)
            else:
                body = PREFIX + b"ok</string></value></param></params></methodResponse>"
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n"
                             % len(body) + body)
        except OSError:
            pass  # the client hung up, as it should once the cap is reached
        finally:
            conn.close()


def peak_rss(cmd, env=None):
    """Runs `cmd`; returns (exit status, stdout, stderr, peak RSS in KiB)."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, out, err.decode(errors="replace"), usage.ru_maxrss


def largest_page(gandish):
    """The bytes of paas.list with 500 extended items from the sandbox, and the RSS of fetching it."""
    proc = subprocess.Popen([gandish, "--no-config", "sandbox", "--listen", "127.0.0.1:0", "--dataset",
                             "empty", "--instances", "500", "--extended-fields"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        url = key = None
        while key is None:
            line = proc.stderr.readline()
            if not line:
                raise SystemExit("the sandbox ended before printing its URL and key")
            m = re.search(r"listening on (http://\S+)", line)
            url = m.group(1) if m else url
            k = re.match(r"API key: (.*)$", line.rstrip("\n"))
            key = k.group(1) if k and url else None
        body = ("<?xml version='1.0'?><methodCall><methodName>paas.list</methodName><params>"
                f"<param><value><string>{key}</string></value></param><param><value><struct><member>"
                "<name>items_per_page</name><value><int>500</int></value></member></struct></value>"
                "</param></params></methodCall>").encode()
        host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()
        with socket.create_connection((host, int(port))) as s:
            s.sendall(b"POST /xmlrpc/ HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nConnection: close\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
            raw = b""
            while True:
                data = s.recv(1 << 20)
                if not data:
                    break
                raw += data
        head, _, reply = raw.partition(b"\r\n\r\n")
        if b"chunked" in head.lower():
            raise SystemExit("expected a Content-Length reply from the sandbox")
        items = reply.count(b"<name>date_end_commitment</name>")
        env = dict(os.environ, GANDI_API_KEY=key)
        status, out, err, rss = peak_rss([gandish, "--no-config", "call", "--url", url,
                                          "paas.list", '{"items_per_page": 500}'], env)
        if status != 0:
            raise SystemExit(f"paas.list through gandish failed ({status}): {err}")
        return len(reply), items, rss
    finally:
        proc.terminate()
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gandish", help="the binary to measure (default: target/release/gandish, built)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    gandish = a.gandish
    if gandish is None:
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
        gandish = os.path.join(target, "release", "gandish")
        if not a.no_build:
            subprocess.run(["cargo", "build", "--release", "--bin", "gandish"], cwd=ROOT, check=True)

    server = Hostile()
    results = {"cap_bytes": CAP, "bomb_wire_bytes": len(server.bomb)}
    failed = False
    for case in ["small", "endless", "bomb", "rawgzip"]:
        url = f"http://127.0.0.1:{server.port}/{case}"
        status, out, err, rss = peak_rss([gandish, "--no-config", "call", "--url", url, "x"],
                                         dict(os.environ, GANDI_API_KEY="hostile-body-bench-key"))
        results[f"{case}_peak_rss_kib"] = rss
        want_ok = case == "small"
        if want_ok != (status == 0) or (not want_ok and (status != 4 or "larger than" not in err)):
            print(f"{case}: unexpected exit {status}: {err.strip()}", file=sys.stderr)
            failed = True
    page_bytes, items, page_rss = largest_page(gandish)
    results.update(largest_page_bytes=page_bytes, largest_page_items=items, largest_page_peak_rss_kib=page_rss)

    base = results["small_peak_rss_kib"]
    if a.json:
        print(json.dumps(results, indent=2))
    else:
        mib = lambda kib: kib / 1024
        print(f"reply body cap: {CAP >> 20} MiB; bomb on the wire: {len(server.bomb)} bytes")
        print(f"baseline (small reply): peak RSS {mib(base):.1f} MiB")
        for case in ["endless", "bomb", "rawgzip"]:
            rss = results[f"{case}_peak_rss_kib"]
            print(f"{case:8}: peak RSS {mib(rss):6.1f} MiB, {mib(rss - base):6.1f} MiB over the baseline, "
                  f"{(rss - base) * 1024 / CAP:.2f}x the cap")
        print(f"largest real paas.list page: {page_bytes} bytes ({page_bytes / CAP * 100:.1f}% of the cap), "
              f"{items} items; fetching it through gandish: peak RSS {mib(page_rss):.1f} MiB")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
