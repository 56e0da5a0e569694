// The seed document's Node.js client (the npm xmlrpc package, installed into ./node_modules by
// .ci/install-peers), runnable.
//
// Usage: node gandi_client.js URL [APIKEY]   (APIKEY defaults to the seed's placeholder key)
// Output: see gandi_client.py (the format is shared by every peer in this folder).
//
// The package reads <nil/> as null without options. It reads <i8> as a *string* (it has no
// 64-bit integers), so an i8 prints as "123" here: that is the library's behaviour, shown as is.
'use strict'
const path = require('path')
let xmlrpc
try {
  xmlrpc = require(path.join(__dirname, 'node', 'node_modules', 'xmlrpc'))
} catch (e) {
  console.error('error: the npm xmlrpc package is missing from tests/peers/node/node_modules: run .ci/install-peers')
  process.exit(1)
}

const url = new URL(process.argv[2])
const apikey = process.argv[3] || 'my 24-character API key'

// The seed uses createSecureClient({host, port, path}) against https; the test server is http.
const api = xmlrpc.createClient({ host: url.hostname, port: Number(url.port), path: url.pathname })

const pad = (n, w) => String(n).padStart(w, '0')
function show (v) {
  if (v === true || v === false) return String(v)
  if (typeof v === 'number' && Number.isInteger(v)) return String(v)
  if (typeof v === 'string') return '"' + v + '"'
  if (v === null) return 'nil'
  // The package turns a zoneless dateTime into a Date in local time; read it back the same way.
  if (v instanceof Date) {
    return 'dateTime:' + pad(v.getFullYear(), 4) + pad(v.getMonth() + 1, 2) + pad(v.getDate(), 2) +
      'T' + pad(v.getHours(), 2) + ':' + pad(v.getMinutes(), 2) + ':' + pad(v.getSeconds(), 2)
  }
  return 'other:' + typeof v
}

function call (method, params) {
  return new Promise((resolve) => {
    api.methodCall(method, params, (error, value) => {
      if (error && error.faultCode !== undefined) {
        console.log('fault=' + error.faultCode + ' "' + error.faultString + '"')
        process.exit(2)
      }
      if (error) {
        console.error('error: ' + error.message)
        process.exit(1)
      }
      resolve(value)
    })
  })
}

async function main () {
  const version = await call('version.info', [apikey])
  console.log('api_version=' + show(version.api_version))
  const instances = await call('paas.list', [apikey])
  console.log('paas.count=' + instances.length)
  if (instances.length > 0) {
    const first = instances[0]
    for (const field of ['id', 'name', 'size', 'date_end', 'date_end_commitment', 'need_upgrade']) {
      console.log('paas[0].' + field + '=' + show(first[field]))
    }
    console.log('paas[0].servers[0].id=' + show(first.servers[0].id))
  }
}
main()
