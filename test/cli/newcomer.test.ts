// The newcomer's path from the issue, as a test: start `coffer server --dev` as a child process,
// paste its export line, create an EC key, sign a file, export the public key as PEM and check
// the signature with the real openssl. Then SIGTERM the server: it drains and exits 0.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { CLI, freePort, runCli } from './cli-harness.js';

const run = promisify(execFile);

async function hasOpenssl(): Promise<boolean> {
  try {
    await run('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
}

test("newcomer's path: coffer server --dev, key create, sign, public PEM, openssl verifies; SIGTERM exits 0", { timeout: 180_000 }, async (t) => {
  if (!(await hasOpenssl())) {
    if (process.env.CI === 'true') assert.fail('openssl is required for the newcomer test');
    t.skip('openssl not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'coffer-newcomer-'));
  const port = await freePort();
  const server = spawn(process.execPath, [CLI, 'server', '--dev', '--data', join(dir, 'data'), '--port', String(port)], { cwd: dir, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
  let stdout = '';
  let stderr = '';
  server.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  try {
    // What the newcomer does: read the banner until the export line, and paste it.
    const exportLine = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no export line within 120 s; stdout:\n${stdout}\nstderr:\n${stderr}`)), 120_000);
      server.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /^\s*export (COFFER_ADDR=\S+ COFFER_TOKEN=\S+)\s*$/m.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      server.on('exit', (code) => reject(new Error(`server exited ${code} before printing the export line:\n${stderr}`)));
    });
    const env: NodeJS.ProcessEnv = { XDG_CONFIG_HOME: join(dir, 'config') };
    for (const assignment of exportLine.split(' ')) {
      const eq = assignment.indexOf('=');
      env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
    }
    assert.equal(env.COFFER_ADDR, `http://127.0.0.1:${port}`);
    assert.match(env.COFFER_TOKEN ?? '', /^cft_/);

    const created = await runCli(['key', 'create', '--type', 'ec', '--curve', 'P-256', '--label', 'newcomer', '--usage', 'sign', '--output', 'json'], { env, cwd: dir });
    assert.equal(created.code, 0, created.stderr);
    const pair = JSON.parse(created.stdout.toString()) as { privateKey: { uid: string }; publicKey: { uid: string } };

    const file = join(dir, 'artifact.txt');
    const sig = join(dir, 'artifact.sig');
    const pem = join(dir, 'pub.pem');
    writeFileSync(file, 'my first signed release\n');
    const signed = await runCli(['key', 'sign', '--key', pair.privateKey.uid, '-i', file, '-o', sig], { env, cwd: dir });
    assert.equal(signed.code, 0, signed.stderr);
    const exported = await runCli(['key', 'public', '--key', pair.publicKey.uid, '--format', 'pem', '-o', pem], { env, cwd: dir });
    assert.equal(exported.code, 0, exported.stderr);

    // ECDSA-SHA256 with a DER signature: what openssl dgst expects.
    const verified = await run('openssl', ['dgst', '-sha256', '-verify', pem, '-signature', sig, file]);
    assert.match(verified.stdout, /Verified OK/);
    writeFileSync(file, 'my first signed release, tampered\n');
    await assert.rejects(run('openssl', ['dgst', '-sha256', '-verify', pem, '-signature', sig, file]), (e: { stdout?: string }) => /Verification failure/.test(e.stdout ?? ''));
  } finally {
    server.kill('SIGTERM');
    const code = await exited;
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, `server exit code after SIGTERM; stderr:\n${stderr}`);
  }
});
