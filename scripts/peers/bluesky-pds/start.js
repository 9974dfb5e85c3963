// A real Bluesky PDS (@atproto/pds) with its own in-memory PLC directory
// (@did-plc/server), both on 127.0.0.1 only, for Dialoog's connector tests.
//
//   PLC_PORT=2582 PDS_PORT=2583 PDS_DATA_DIRECTORY=/tmp/pds node start.js
//
// Prints one line "ready" when both answer; exits non-zero with the reason
// when something fails. Optional: PDS_BLOBSTORE_DISK_LOCATION (default
// $PDS_DATA_DIRECTORY/blobs), PDS_ADMIN_PASSWORD, PDS_JWT_SECRET,
// PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX (generated when unset),
// EXIT_WITH_STDIN=1 (stop when stdin closes, i.e. when the parent is gone),
// LOG_ENABLED=true with LOG_DESTINATION=<file> for the PDS's own logs.
'use strict'

const crypto = require('node:crypto')
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')

const LOOPBACK = '127.0.0.1'

function fail(reason) {
  process.stderr.write(`FAILED: ${reason}\n`)
  process.exit(1)
}

// Force every listen() onto loopback: the PDS and the PLC call listen(port)
// without a host, which binds all interfaces.
const originalListen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const first = args[0]
  const isPort = (p) => typeof p === 'number' || (typeof p === 'string' && /^\d+$/.test(p))
  if (isPort(first)) {
    // listen(port[, host][, backlog][, callback])
    if (typeof args[1] === 'string') args[1] = LOOPBACK
    else args.splice(1, 0, LOOPBACK)
  } else if (first === undefined || typeof first === 'function') {
    // listen([callback]): a random port
    args.splice(0, 0, 0, LOOPBACK)
  } else if (first !== null && typeof first === 'object' && first.path === undefined &&
    first.fd === undefined && first.handle === undefined && first._handle === undefined) {
    // listen({ port, host, ... })
    args[0] = { ...first, host: LOOPBACK }
  }
  return originalListen.apply(this, args)
}

function port(name, fallback) {
  const raw = process.env[name] ?? String(fallback)
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`${name} is not a port: ${raw}`)
  return n
}

const plcPort = port('PLC_PORT', 2582)
const pdsPort = port('PDS_PORT', 2583)
const dataDir = process.env.PDS_DATA_DIRECTORY
if (!dataDir) fail('PDS_DATA_DIRECTORY is not set (a folder for the PDS\'s SQLite files)')
const blobDir = process.env.PDS_BLOBSTORE_DISK_LOCATION || path.join(dataDir, 'blobs')

const env = process.env
const secret = () => crypto.randomBytes(32).toString('hex')
env.PDS_PORT = String(pdsPort)
env.PDS_HOSTNAME = 'localhost'
env.PDS_DEV_MODE = 'true'
env.PDS_DATA_DIRECTORY = dataDir
env.PDS_BLOBSTORE_DISK_LOCATION = blobDir
env.PDS_JWT_SECRET ||= secret()
env.PDS_DPOP_SECRET ||= secret()
env.PDS_ADMIN_PASSWORD ||= secret()
env.PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX ||= secret()
env.PDS_DID_PLC_URL = `http://${LOOPBACK}:${plcPort}`
env.PDS_SERVICE_HANDLE_DOMAINS = '.test'
env.PDS_INVITE_REQUIRED = 'false'
env.PDS_CRAWLERS = ''

let plc
let pds
async function stop(code) {
  try {
    if (pds) await pds.destroy()
    if (plc) await plc.destroy()
  } finally {
    process.exit(code)
  }
}
process.on('SIGTERM', () => stop(0))
process.on('SIGINT', () => stop(0))
if (env.EXIT_WITH_STDIN === '1') {
  process.stdin.on('end', () => stop(0))
  process.stdin.on('error', () => stop(0))
  process.stdin.resume()
}

;(async () => {
  fs.mkdirSync(dataDir, { recursive: true })
  fs.mkdirSync(blobDir, { recursive: true })

  const { PlcServer, Database: PlcDatabase } = require('@did-plc/server')
  plc = PlcServer.create({ db: PlcDatabase.mock(), port: plcPort })
  await plc.start()

  const atproto = require('@atproto/pds')
  const cfg = atproto.readEnv()
  pds = await atproto.PDS.create(atproto.envToCfg(cfg), atproto.envToSecrets(cfg))
  await pds.start()

  const health = await fetch(`http://${LOOPBACK}:${pdsPort}/xrpc/_health`)
  if (!health.ok) throw new Error(`the PDS's health check answered ${health.status}`)
  process.stdout.write('ready\n')
})().catch((e) => fail(e && e.stack ? e.stack : String(e)))
