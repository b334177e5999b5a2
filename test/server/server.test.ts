import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG, type ServerConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/server.js';

const CLI = resolve(fileURLToPath(import.meta.url), '../../../src/cli/main.js');

function devConfig(dataDir: string): ServerConfig {
  const c = structuredClone(DEFAULT_CONFIG);
  c.listen.port = 0;
  c.storage.dataDir = dataDir;
  c.log.level = 'silent';
  return c;
}

async function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

test('dev mode: first start initialises and writes 0600 credentials; a restart reuses the same data', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-dev-'));
  try {
    const lines: string[] = [];
    const first = await startServer({ config: devConfig(dir), dev: true, print: (l) => lines.push(l) });
    assert.equal(first.dev?.created, true);
    assert.ok(lines.some((l) => l.includes('INSECURE')), 'the banner says the key file is insecure');
    const exportLine = lines.find((l) => l.includes('export COFFER_ADDR='));
    assert.match(exportLine ?? '', /export COFFER_ADDR=http:\/\/127\.0\.0\.1:\d+ COFFER_TOKEN=cft_[A-Za-z0-9_-]+/);
    assert.equal(statSync(join(dir, 'dev-credentials.json')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'master.key')).mode & 0o777, 0o600);
    const token = /COFFER_TOKEN=(\S+)/.exec(exportLine!)![1]!;
    const who = await fetch(`${first.address}/v1/auth/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(await who.json(), { user: 'dev', role: 'user', partition: 'default' });
    const health = await fetch(`${first.address}/v1/sys/health`);
    assert.equal(health.status, 200);
    const metrics = await (await fetch(`${first.address}/metrics`)).text();
    assert.match(metrics, /coffer_http_requests_total\{route="\/v1\/sys\/health",method="GET",status="200"\} 1/);
    assert.match(metrics, /coffer_http_request_duration_seconds_bucket/);
    assert.match(metrics, /coffer_sessions \d+/);
    await first.close();

    const again: string[] = [];
    const second = await startServer({ config: devConfig(dir), dev: true, print: (l) => again.push(l) });
    assert.equal(second.dev?.created, false);
    const creds = JSON.parse(readFileSync(join(dir, 'dev-credentials.json'), 'utf8')) as { accounts: { name: string; password: string }[] };
    for (const a of creds.accounts) assert.ok(!again.some((l) => l.includes(a.password)), `${a.name}'s password is printed only on the first start`);
    const admin = creds.accounts.find((a) => a.name === 'admin')!;
    const login = await fetch(`${second.address}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'admin', password: admin.password }) });
    assert.equal(login.status, 200, 'accounts survive the restart');
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGTERM drains an in-flight request, then the process exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-sigterm-'));
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'server', '--dev', '--data', dir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    await new Promise<void>((ok, fail) => {
      const t = setTimeout(() => fail(new Error(`server did not start: ${out}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('COFFER_TOKEN=')) {
          clearTimeout(t);
          ok();
        }
      });
    });
    const creds = JSON.parse(readFileSync(join(dir, 'dev-credentials.json'), 'utf8')) as { accounts: { name: string; password: string }[] };
    const dev = creds.accounts.find((a) => a.name === 'dev')!;
    // A login runs scrypt for tens of milliseconds: the signal lands while it is in flight.
    const received = new Promise<void>((ok) => {
      const onData = (d: Buffer): void => {
        if (d.toString().includes('"msg":"incoming request"')) {
          child.stdout.off('data', onData);
          ok();
        }
      };
      child.stdout.on('data', onData);
    });
    const inflight = fetch(`http://127.0.0.1:${port}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'dev', password: dev.password }) });
    await received; // the server has the request: it is in flight, not merely on its way
    const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
    const signalled = Date.now();
    child.kill('SIGTERM');
    const res = await inflight;
    assert.equal(res.status, 200, 'the in-flight request completed');
    assert.equal(res.headers.get('connection'), 'close', 'an answer sent while draining closes its keep-alive connection');
    assert.equal(await exited, 0);
    // The client's keep-alive connection must not hold shutdown for fastify's 72 s keep-alive timeout.
    assert.ok(Date.now() - signalled < 15_000, `exited ${Date.now() - signalled} ms after the signal`);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/v1/sys/health`), 'no longer listening');
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
