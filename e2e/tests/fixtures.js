// A fresh Dialoog per test: its own port, data folder and SQLite database.
import { test as base, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const targetDir = process.env.CARGO_TARGET_DIR || resolve(here, '../../target');
const binary = process.env.DIALOOG_BIN || join(targetDir, 'debug', 'dialoog');

/** A port nobody listens on right now. */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitReady(url, child, stderr) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`dialoog exited early (${child.exitCode}):\n${stderr()}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`dialoog did not become ready within 15 s:\n${stderr()}`);
}

export const test = base.extend({
  server: async ({}, use) => {
    const port = await freePort();
    const data = mkdtempSync(join(tmpdir(), 'dialoog-e2e-'));
    const url = `http://127.0.0.1:${port}`;
    let log = '';
    const child = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`, '--data', data], {
      env: { ...process.env, DIALOOG_PUBLIC_URL: url, DIALOOG_DATABASE_URL: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (d) => { log += d.toString(); });
    try {
      await waitReady(url, child, () => log);
      await use({ url });
    } finally {
      child.kill('SIGTERM');
      rmSync(data, { recursive: true, force: true });
    }
  },
});

/** A real Mastodon API server (mastodon-mock) on a free port, with its demo
 * accounts (ada, grace, …). */
export async function startMastodon() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dialoog-e2e-mastodon-'));
  const child = spawn('python3', ['-m', 'mastodon_mock', 'serve', '--in-memory', '--demo',
    '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warning'], {
    env: { ...process.env, TMPDIR: dir }, stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/api/v1/instance`)).ok) {
        return { url, stop: () => { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); } };
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  throw new Error('the Mastodon test server (python3 -m mastodon_mock) did not start; pip install mastodon-mock');
}

export { expect };
