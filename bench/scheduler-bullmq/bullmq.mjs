// The scheduler benchmark's load on BullMQ (delayed jobs on Redis), for a
// side-by-side with `dialoog bench scheduler`.
//
// N jobs fall due at RATE per second from three seconds after the start.
// Each is added as a delayed job with its own id; workers take due jobs and
// make the publish call (an HTTP POST with an Idempotency-Key) to a
// loopback endpoint in this process, which notes when the call arrives.
// The lag is that moment minus the job's due time, as in Dialoog's bench.
//
// Usage: node bullmq.mjs [--items 10000] [--rate 1000] [--concurrency 32]
//        [--workers 1] [--redis 127.0.0.1:6379]
// Prints one JSON line, the same shape as `dialoog bench scheduler`.
import { Queue, Worker } from "bullmq";
import IORedis from "ioredis";
import http from "node:http";

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const items = Number(option("items", "10000"));
const rate = Number(option("rate", "1000"));
const concurrency = Number(option("concurrency", "32"));
const workers = Number(option("workers", "1"));
const [host, port] = option("redis", "127.0.0.1:6379").split(":");
// Each queue and worker has its own Redis connection.
const redis = () => new IORedis({ host, port: Number(port), maxRetriesPerRequest: null });

// The loopback "network": first arrival per key, and calls that came again.
const first = new Map();
let again = 0;
const server = http.createServer((req, res) => {
  const at = Date.now();
  const key = req.headers["idempotency-key"] ?? "";
  req.resume();
  req.on("end", () => {
    if (first.has(key)) again += 1;
    else first.set(key, at);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ id: String(first.size) }));
  });
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const endpoint = `http://127.0.0.1:${server.address().port}/api/v1/statuses`;

const name = `dialoog-bench-${process.pid}`;
const queue = new Queue(name, { connection: redis() });
await queue.obliterate({ force: true }).catch(() => {});

const running = [];
for (let w = 0; w < workers; w++) {
  running.push(
    new Worker(
      name,
      async (job) => {
        const r = await fetch(endpoint, {
          method: "POST",
          headers: { "content-type": "application/json", "idempotency-key": job.id },
          body: JSON.stringify({ status: job.data.text }),
        });
        await r.arrayBuffer();
        if (!r.ok) throw new Error(`publish answered ${r.status}`);
      },
      { connection: redis(), concurrency },
    ),
  );
}

const start = Date.now() + 3000;
const due = (i) => start + Math.floor((i * 1000) / rate);
let late = 0;
for (let i = 0; i < items; i += 500) {
  const chunk = [];
  const now = Date.now();
  for (let j = i; j < Math.min(items, i + 500); j++) {
    if (due(j) < now) late += 1;
    chunk.push({
      name: "publish",
      data: { text: `Bench post ${j}` },
      opts: { jobId: `bench-${j}`, delay: Math.max(0, due(j) - now), removeOnComplete: true },
    });
  }
  await queue.addBulk(chunk);
}

const deadline = due(items - 1) + 60_000;
while (first.size < items && Date.now() < deadline) {
  await new Promise((ok) => setTimeout(ok, 50));
}
await new Promise((ok) => setTimeout(ok, 500));

const lags = [];
let last = start;
for (const [key, at] of first) {
  const i = Number(key.replace("bench-", ""));
  if (Number.isInteger(i)) {
    lags.push(at - due(i));
    last = Math.max(last, at);
  }
}
lags.sort((a, b) => a - b);
const pct = (p) => lags[Math.min(lags.length - 1, Math.floor(lags.length * p))];
const seconds = (last - start) / 1000;

await Promise.all(running.map((w) => w.close()));
await queue.obliterate({ force: true }).catch(() => {});
await queue.close();
server.close();

if (lags.length !== items) {
  console.error(`only ${lags.length} of ${items} jobs were processed in time`);
  process.exit(1);
}
console.log(
  JSON.stringify({
    what: "scheduler",
    system: "bullmq",
    backend: "redis",
    dispatchers: workers,
    items,
    rate,
    seconds: Math.round(seconds * 10000) / 10000,
    items_per_second: Math.round(items / Math.max(seconds, 0.001)),
    p50_ms: pct(0.5),
    p99_ms: pct(0.99),
    max_ms: lags[lags.length - 1],
    duplicates: again,
    created_late: late,
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
  }),
);
process.exit(0);
