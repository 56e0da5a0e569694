#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from the test suite.

It extracts the XML-RPC documents and value fragments written as string literals in tests/*.rs
and src/xmlrpc/*.rs, the JSON arguments of the `gandish call` tests, and wraps call documents
into HTTP requests for the server target (plus a few hand-written HTTP edge cases). File names
are the SHA-1 of the content, so rerunning the script adds nothing twice.

Usage: fuzz/seed-corpus.py            (from anywhere; paths are relative to this file)
"""

import gzip
import hashlib
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
SOURCES = sorted((ROOT / "tests").glob("*.rs")) + sorted((ROOT / "src" / "xmlrpc").glob("*.rs"))
MAX_SEED = 4096  # bytes; larger literals are skipped (the fuzzer grows inputs itself)

# "..." and b"..." (with escapes) and r"..." / r#"..."# (raw) string literals.
LITERAL = re.compile(r'(?:b?r(#*)"(.*?)"\1)|(?:b?"((?:[^"\\]|\\.)*)")', re.S)


def unescape(body):
    """The value of a Rust (byte) string literal body, as bytes."""
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        n = body[i + 1]
        if n == "\n":  # line continuation: skip the newline and the next line's indent
            i += 2
            while i < len(body) and body[i] in " \t\n":
                i += 1
            continue
        simple = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\", '"': b'"', "'": b"'", "0": b"\0"}
        if n in simple:
            out += simple[n]
            i += 2
        elif n == "x":
            out.append(int(body[i + 2 : i + 4], 16))
            i += 4
        elif n == "u":
            end = body.index("}", i)
            out += chr(int(body[i + 3 : end], 16)).encode("utf-8", "surrogatepass")
            i = end + 1
        else:
            out += ("\\" + n).encode()
            i += 2
    return bytes(out)


def literals():
    for path in SOURCES:
        text = path.read_text()
        for m in LITERAL.finditer(text):
            raw = m.group(2)
            yield raw.encode() if raw is not None else unescape(m.group(3))


def http(body, extra=b""):
    head = b"POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
    return head + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body


def main():
    seeds = {t: set() for t in ["decode_response", "decode_call", "server_request", "json_args"]}
    for lit in literals():
        # Skip long literals and format strings (`{}`, `{name}`, `{0}`): they are templates.
        if len(lit) > MAX_SEED or re.search(rb"\{[A-Za-z0-9_.:?]*\}", lit):
            continue
        if b"<methodResponse" in lit:
            seeds["decode_response"].add(lit)
        if b"<methodCall" in lit:
            seeds["decode_call"].add(lit)
            seeds["server_request"].add(http(lit))
        if lit.lstrip().startswith(b"<value"):
            seeds["decode_response"].add(
                b"<methodResponse><params><param>" + lit + b"</param></params></methodResponse>"
            )
            seeds["decode_call"].add(
                b"<methodCall><methodName>m</methodName><params><param>" + lit + b"</param></params></methodCall>"
            )
        stripped = lit.strip()
        if stripped[:1] in (b"[", b"{") and b"<" not in stripped and len(stripped) > 1:
            seeds["json_args"].add(lit)
    for j in [b"42", b"-7", b"2.5", b"1e3", b"true", b"null", b'"text"', b"[]", b"{}",
              b'{"$datetime": "20111014T14:36:30"}', b'{"$base64": "AAEC/w=="}',
              b'{"a": [1, {"b": null}], "c": "\\u00e9"}', b"99999999999999999999"]:
        seeds["json_args"].add(j)

    call = (b"<?xml version=\"1.0\"?><methodCall><methodName>echo</methodName><params>"
            b"<param><value><i4>41</i4></value></param><param><value>x</value></param></params></methodCall>")
    multicall = (b"<methodCall><methodName>system.multicall</methodName><params><param><value><array><data>"
                 b"<value><struct><member><name>methodName</name><value>echo</value></member>"
                 b"<member><name>params</name><value><array><data><value>1</value></data></array></value></member>"
                 b"</struct></value>"
                 b"<value><struct><member><name>methodName</name><value>system.multicall</value></member>"
                 b"</struct></value>"
                 b"<value><struct><member><name>methodName</name><value>fault</value></member>"
                 b"<member><name>params</name><value><array><data><value><int>4</int></value>"
                 b"<value>no</value></data></array></value></member></struct></value>"
                 b"</data></array></value></param></params></methodCall>")
    seeds["server_request"].update([
        http(call),
        http(call) + http(call),  # pipelined
        http(multicall),
        http(b"<methodCall><methodName>system.listMethods</methodName></methodCall>"),
        http(b"<methodCall><methodName>first</methodName></methodCall>"),
        http(gzip.compress(call, mtime=0), b"Content-Encoding: gzip\r\nAccept-Encoding: gzip\r\n"),
        http(call, b"Expect: 100-continue\r\n"),
        http(call, b"Connection: close\r\n"),
        http(b"<methodCall><methodName>echo</methodName><params><param><value>" + b"y" * 1500
             + b"</value></param></params></methodCall>", b"Accept-Encoding: gzip\r\n"),
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /nowhere HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\nhello",
        b"POST / HTTP/2.0\r\n\r\n",
        b"POST / HTTP/1.1\r\n folded\r\n\r\n",
        http(b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><methodCall><methodName>echo</methodName></methodCall>"),
    ])

    total = 0
    for target, items in seeds.items():
        d = CORPUS / target
        d.mkdir(parents=True, exist_ok=True)
        for item in sorted(items):
            (d / hashlib.sha1(item).hexdigest()).write_bytes(item)
            total += len(item)
        print(f"{target}: {len(items)} seeds")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
