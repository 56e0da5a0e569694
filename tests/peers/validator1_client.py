"""validator1 reference client: Python's xmlrpc.client runs the eight validator1 methods and one
system.multicall of all of them against the URL given as argv[1], checks every answer, and prints
'validator1: N passed, 0 failed' (exit 0) or the first mismatch (exit 1)."""
import datetime
import random
import sys
import xmlrpc.client

URL = sys.argv[1]
rng = random.Random(20000529)
proxy = xmlrpc.client.ServerProxy(URL, allow_none=True, use_builtin_types=True)
passed = 0


def check(name, got, want):
    global passed
    if got != want:
        print(f"validator1.{name}: got {got!r}, want {want!r}", file=sys.stderr)
        sys.exit(1)
    passed += 1


def cases():
    """Yields (method, params, expected) for every validator1 check."""
    structs = [{"moe": rng.randint(-100, 100), "larry": rng.randint(-100, 100), "curly": rng.randint(-100, 100),
                "extra": "x" * i} for i in range(rng.randint(3, 12))]
    yield "arrayOfStructsTest", [structs], sum(s["curly"] for s in structs)
    for text, want in [
        ("h'fd>onc>>l>>rw&bpu>q>e<v&gxs<ytjzkami<", (3, 7, 2, 1, 0)),
        ("t'&>>zf\"md>yr>xlcev<h<\"k&j<og\"w&&>\">>uai\"np&s>>q'&b<>\"&&&", (4, 10, 9, 2, 6)),
    ]:
        yield "countTheEntities", [text], dict(zip(
            ["ctLeftAngleBrackets", "ctRightAngleBrackets", "ctAmpersands", "ctApostrophes", "ctQuotes"], want))
    noise = "".join(rng.choice("0123456789<>&'\"") for _ in range(100))
    yield "countTheEntities", [noise], {
        "ctLeftAngleBrackets": noise.count("<"), "ctRightAngleBrackets": noise.count(">"),
        "ctAmpersands": noise.count("&"), "ctApostrophes": noise.count("'"), "ctQuotes": noise.count('"')}
    s = {"moe": rng.randint(-1000, 1000), "larry": rng.randint(-1000, 1000), "curly": rng.randint(-1000, 1000),
         "homer": 7}
    yield "easyStructTest", [s], s["moe"] + s["larry"] + s["curly"]
    nested = {"sub1": {"bar": 13}, "sub2": 14, "sub3": {"foo": 1, "baz": 2}, "sub4": {"ss": {"sss": {"ssss": "sssss"}}}}
    yield "echoStructTest", [nested], nested
    many = [rng.randint(-2**31, 2**31 - 1), True, "a string & <tag> 'é' \u20ac", 3.25,
            datetime.datetime(1998, 7, 17, 14, 8, 55), b"\x00\x01binary\xff"]
    yield "manyTypesTest", many, many
    arr = ["item%d" % rng.randint(0, 10**6) for _ in range(rng.randint(100, 200))]
    yield "moderateSizeArrayCheck", [arr], arr[0] + arr[-1]
    cal = {}
    for y in ("2000", "2001"):
        cal[y] = {}
        for m in ("03", "04"):
            cal[y][m] = {}
            for d in ("01", "02", "03", "04", "05"):
                cal[y][m][d] = {"moe": rng.randint(0, 99), "larry": rng.randint(0, 99), "curly": rng.randint(0, 99)}
    day = cal["2000"]["04"]["01"]
    yield "nestedStructTest", [cal], day["moe"] + day["larry"] + day["curly"]
    n = rng.randint(-2147483, 2147483)
    yield "simpleStructReturnTest", [n], {"times10": n * 10, "times100": n * 100, "times1000": n * 1000}


all_cases = list(cases())
for method, params, want in all_cases:
    got = getattr(proxy, "validator1." + method)(*params)
    check(method, got, want)

multi = xmlrpc.client.MultiCall(proxy)
for method, params, _ in all_cases:
    getattr(multi, "validator1." + method)(*params)
results = list(multi())
check("system.multicall(count)", len(results), len(all_cases))
for (method, _, want), got in zip(all_cases, results):
    check("system.multicall(" + method + ")", got, want)

print(f"validator1: {passed} passed, 0 failed")
