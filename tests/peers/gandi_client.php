<?php
// The seed document's PHP client, runnable. The seed uses PEAR's XML_RPC2, which no reachable
// registry ships (Debian has no package for it and PEAR's channel is not reachable). When PHP's
// xmlrpc extension is loaded, XML_RPC2 picks its "XMLRPCext" backend, which encodes with
// xmlrpc_encode_request(), decodes with xmlrpc_decode() and checks xmlrpc_is_fault(): this
// client uses exactly those functions (Debian php-xmlrpc), with PHP's own http stream for the
// POST where XML_RPC2 would use HTTP_Request2.
//
// Usage: php gandi_client.php URL [APIKEY]   (APIKEY defaults to the seed's placeholder key)
// Output: see gandi_client.py (the format is shared by every peer in this folder).

if (!function_exists('xmlrpc_encode_request')) {
    fwrite(STDERR, "error: PHP's xmlrpc extension is missing (Debian php-xmlrpc): run .ci/install-peers\n");
    exit(1);
}

$url = $argv[1];
$apikey = $argv[2] ?? 'my 24-character API key';

function call(string $url, string $method, array $params)
{
    $request = xmlrpc_encode_request($method, $params, ['escaping' => 'markup', 'encoding' => 'UTF-8']);
    $context = stream_context_create(['http' => [
        'method' => 'POST',
        'header' => "Content-Type: text/xml\r\nUser-Agent: gandish-php-peer\r\n",
        'content' => $request,
        'ignore_errors' => true,
    ]]);
    $body = @file_get_contents($url, false, $context);
    if ($body === false) {
        fwrite(STDERR, "error: POST to $url failed: " . (error_get_last()['message'] ?? '?') . "\n");
        exit(1);
    }
    $result = xmlrpc_decode($body, 'UTF-8');
    // Neither method returns a bare nil, so null means the response could not be decoded.
    if ($result === null) {
        fwrite(STDERR, "error: xmlrpc_decode could not read the response: $body\n");
        exit(1);
    }
    if (is_array($result) && xmlrpc_is_fault($result)) {
        printf("fault=%d \"%s\"\n", $result['faultCode'], $result['faultString']);
        exit(2);
    }
    return $result;
}

function show($v): string
{
    if (is_bool($v)) return $v ? 'true' : 'false';
    if (is_int($v)) return (string)$v;
    if (is_string($v)) return '"' . $v . '"';
    if ($v === null) return 'nil';
    if (is_object($v) && ($v->xmlrpc_type ?? '') === 'datetime') return 'dateTime:' . $v->scalar;
    return 'other:' . gettype($v);
}

$version = call($url, 'version.info', [$apikey]);
echo 'api_version=', show($version['api_version']), "\n";
$instances = call($url, 'paas.list', [$apikey]);
echo 'paas.count=', count($instances), "\n";
if (count($instances) > 0) {
    $first = $instances[0];
    foreach (['id', 'name', 'size', 'date_end', 'date_end_commitment', 'need_upgrade'] as $field) {
        echo "paas[0].$field=", array_key_exists($field, $first) ? show($first[$field]) : 'missing', "\n";
    }
    echo 'paas[0].servers[0].id=', show($first['servers'][0]['id']), "\n";
}
