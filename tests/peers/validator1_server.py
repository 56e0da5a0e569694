"""validator1 reference peer: Python's SimpleXMLRPCServer with the eight validator1 methods,
multicall and introspection. Binds 127.0.0.1 on a free port and prints the port on stdout."""
import sys
from xmlrpc.server import SimpleXMLRPCServer, SimpleXMLRPCRequestHandler


class Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/", "/RPC2")
    def log_message(self, *args):
        pass


def arrayOfStructsTest(items):
    return sum(s["curly"] for s in items)


def countTheEntities(s):
    return {
        "ctLeftAngleBrackets": s.count("<"),
        "ctRightAngleBrackets": s.count(">"),
        "ctAmpersands": s.count("&"),
        "ctApostrophes": s.count("'"),
        "ctQuotes": s.count('"'),
    }


def easyStructTest(s):
    return s["moe"] + s["larry"] + s["curly"]


def echoStructTest(s):
    return s


def manyTypesTest(n, b, s, d, dt, b64):
    return [n, b, s, d, dt, b64]


def moderateSizeArrayCheck(items):
    return items[0] + items[-1]


def nestedStructTest(s):
    day = s["2000"]["04"]["01"]
    return day["moe"] + day["larry"] + day["curly"]


def simpleStructReturnTest(n):
    return {"times10": n * 10, "times100": n * 100, "times1000": n * 1000}


def main():
    server = SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=Handler, allow_none=True,
                                use_builtin_types=True, logRequests=False)
    for f in (arrayOfStructsTest, countTheEntities, easyStructTest, echoStructTest, manyTypesTest,
              moderateSizeArrayCheck, nestedStructTest, simpleStructReturnTest):
        server.register_function(f, "validator1." + f.__name__)
    server.register_multicall_functions()
    server.register_introspection_functions()
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
