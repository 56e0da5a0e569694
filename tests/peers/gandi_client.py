"""The seed document's Python client (xmlrpc.client, the Python 3 name of xmlrpclib), runnable.

Usage: python3 gandi_client.py URL [APIKEY]   (APIKEY defaults to the seed's placeholder key)

Calls version.info(apikey) then paas.list(apikey) and prints, one per line, the fields the
interop test checks (the output format is shared by every peer in this folder, see
tests/peers_interop.rs): int -> 1, string -> "text", boolean -> true, nil -> nil,
dateTime -> dateTime:YYYYMMDDTHH:MM:SS. A fault prints `fault=CODE "STRING"` and exits 2;
any other error goes to stderr with exit 1.
"""
import sys
import xmlrpc.client

url = sys.argv[1]
apikey = sys.argv[2] if len(sys.argv) > 2 else 'my 24-character API key'

# The seed's snippet: api = xmlrpclib.ServerProxy(URL); version = api.version.info(apikey).
# Python reads <nil/> and <i8> without options (allow_none only matters for sending None).
api = xmlrpc.client.ServerProxy(url)


def show(v):
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v + '"'
    if v is None:
        return 'nil'
    if isinstance(v, xmlrpc.client.DateTime):
        return 'dateTime:' + v.value
    return 'other:' + type(v).__name__


try:
    version = api.version.info(apikey)
    print('api_version=' + show(version['api_version']))
    instances = api.paas.list(apikey)
except xmlrpc.client.Fault as fault:
    print(f'fault={fault.faultCode} "{fault.faultString}"')
    sys.exit(2)
except Exception as e:  # transport or parse error: say what it was
    print(f'error: {type(e).__name__}: {e}', file=sys.stderr)
    sys.exit(1)

print('paas.count=' + str(len(instances)))
if instances:
    first = instances[0]
    for field in ('id', 'name', 'size', 'date_end', 'date_end_commitment', 'need_upgrade'):
        print(f'paas[0].{field}=' + show(first[field]))
    print('paas[0].servers[0].id=' + show(first['servers'][0]['id']))
