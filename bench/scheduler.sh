#!/usr/bin/env bash
# The scheduler benchmark for BENCHMARKS.md, all in one run: dispatch lag
# (due time to the publish call arriving at a loopback network) with posts
# falling due at RATE per second, for Dialoog on SQLite, on PostgreSQL, on
# PostgreSQL with two dispatcher processes, and for the same load on a
# BullMQ delayed-job queue on Redis. One JSON line each.
#
# Usage: bench/scheduler.sh [ITEMS] [RATE]
# Environment: DIALOOG_BIN (default target/release/dialoog, built when
# missing), BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres),
# BENCH_REDIS (default 127.0.0.1:6379).
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-10000}
rate=${2:-1000}
bin=${DIALOOG_BIN:-${CARGO_TARGET_DIR:-target}/release/dialoog}
pg=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
redis=${BENCH_REDIS:-127.0.0.1:6379}

if [ ! -x "$bin" ]; then
  cargo build --release -p dialoog >&2
fi
if [ ! -d bench/scheduler-bullmq/node_modules ]; then
  (cd bench/scheduler-bullmq && npm ci --silent >&2)
fi

export DIALOOG_LOG=error
"$bin" bench scheduler --items "$items" --rate "$rate"
"$bin" bench scheduler --items "$items" --rate "$rate" --database-url "$pg"
"$bin" bench scheduler --items "$items" --rate "$rate" --database-url "$pg" --dispatchers 2
node bench/scheduler-bullmq/bullmq.mjs --items "$items" --rate "$rate" --redis "$redis"
