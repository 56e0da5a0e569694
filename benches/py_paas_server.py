#!/usr/bin/env python3
"""Python's own XML-RPC server holding fixed Gandi PaaS data, the baseline of
benches/sandbox_vs_python.py.

It loads a pickle written by that script ({"key", "paas_list", "paas_info"}: the values the
sandbox answered) and serves exactly those values:
  paas.info(key, id)   -> the stored info of that id (fault 537542 for another id)
  paas.list(key[, o])  -> the stored list (the options are accepted and ignored)
Both check the key (fault 510150 otherwise), as the sandbox does.

Modes:
  threaded  ThreadingMixIn + SimpleXMLRPCServer, HTTP/1.1 keep-alive: Python's best case
  plain     the stock SimpleXMLRPCServer: one thread, HTTP/1.0, one connection per call

It binds 127.0.0.1 on a free port, prints "listening on http://127.0.0.1:PORT/RPC2" on stdout
once ready, and serves until SIGTERM or SIGINT.
"""

import argparse
import pickle
import signal
import socketserver
import sys
import threading
from xmlrpc.client import Fault
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer


class KeepAliveHandler(SimpleXMLRPCRequestHandler):
    """The stock handler, answering in HTTP/1.1 so connections are kept alive."""

    protocol_version = "HTTP/1.1"


class ThreadedServer(socketserver.ThreadingMixIn, SimpleXMLRPCServer):
    """One thread per connection (the sandbox's server runs an epoll event loop with about one
    worker per CPU on Linux, and a thread per connection elsewhere)."""

    daemon_threads = True


def build(mode, data):
    if mode == "threaded":
        server = ThreadedServer(("127.0.0.1", 0), requestHandler=KeepAliveHandler,
                                logRequests=False, allow_none=True)
    elif mode == "plain":
        server = SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False, allow_none=True)
    else:
        raise SystemExit(f"unknown mode {mode!r} (expected threaded or plain)")
    key = data["key"]
    infos = data["paas_info"]
    items = data["paas_list"]

    def check_key(k):
        if k != key:
            raise Fault(510150, "Error on object : OBJECT_ACCOUNT (CAUSE_NORIGHT) [Invalid API key]")

    def paas_info(k, paas_id):
        check_key(k)
        try:
            return infos[paas_id]
        except (KeyError, TypeError):
            raise Fault(537542, f"Error on object : OBJECT_PAAS (CAUSE_NOTFOUND) [Paas '{paas_id}' doesn't exist.]")

    def paas_list(k, options=None):
        check_key(k)
        return items

    server.register_function(paas_info, "paas.info")
    server.register_function(paas_list, "paas.list")
    return server


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="pickle written by sandbox_vs_python.py")
    p.add_argument("--mode", choices=["threaded", "plain"], default="threaded")
    a = p.parse_args()
    with open(a.data, "rb") as f:
        data = pickle.load(f)
    server = build(a.mode, data)

    def stop(*_):
        # shutdown() waits for serve_forever to return, so call it off the main thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}/RPC2", flush=True)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
