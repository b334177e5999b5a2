// The ceremony from the command line against a real server started without a key file: it waits
// uninitialised, `coffer init` issues shares (one to an X25519 custodian), `coffer unseal` takes
// them from a file or stdin (never argv), seal-status shows progress, `coffer seal` needs an
// admin, `coffer rotate-master-key` issues new shares and the old ones are refused (exit 5).

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CONFIG } from '../../src/server/config.js';
import { startServer } from '../../src/server/server.js';
import { runCli } from './cli-harness.js';

const PASSWORD = 'correct horse battery staple';

test('coffer init / unseal / seal-status / seal / rotate-master-key against a server with no key file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-cli-ceremony-'));
  // integrity 'off': a tsc-only build has no current dist/manifest.json (the server's integrity tests cover that check).
  const running = await startServer({
    config: { ...DEFAULT_CONFIG, listen: { address: '127.0.0.1', port: 0 }, storage: { backend: 'sqlite', dataDir: join(dir, 'data') }, log: { level: 'silent' }, integrity: { check: 'off' } },
    print: () => {},
  });
  const env = { COFFER_ADDR: running.address, XDG_CONFIG_HOME: join(dir, 'config') };
  const cli = (args: string[], input?: string) => runCli(args, { env, input: input ?? '', cwd: dir });
  try {
    assert.equal(running.hsm.status().state, 'uninitialized', 'no key file: the server waits for init');
    const health = await fetch(`${running.address}/v1/sys/health`);
    assert.equal(health.status, 501);

    const x = generateKeyPairSync('x25519');
    writeFileSync(join(dir, 'alice.pub.pem'), x.publicKey.export({ format: 'pem', type: 'spki' }));
    writeFileSync(join(dir, 'alice.pem'), x.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const init = await cli(['init', '--shares', '3', '--threshold', '2', '--password-stdin', '--custodian-key', 'alice.pub.pem', '--out-dir', 'shares', '--output', 'json'], `${PASSWORD}\n`);
    assert.equal(init.code, 0, init.stderr);
    const files = (JSON.parse(init.stdout.toString()) as { files: { encoding: string; file: string }[] }).files;
    assert.deepEqual(files.map((f) => f.encoding), ['x25519', 'clear', 'clear']);
    assert.equal(statSync(join(dir, 'shares', 'share-1.txt')).mode & 0o777, 0o600);
    assert.equal((await cli(['init', '--shares', '1', '--threshold', '1', '--password-stdin'], `${PASSWORD}\n`)).code, 5, 'a second init is refused');

    // The encrypted share needs its identity; without it the CLI says so and sends nothing.
    const noId = await cli(['unseal', '--share-file', 'shares/share-1.txt']);
    assert.equal(noId.code, 2);
    assert.match(noId.stderr, /--identity/);
    const first = await cli(['unseal', '--share-file', 'shares/share-1.txt', '--identity', 'alice.pem', '--output', 'json']);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(JSON.parse(first.stdout.toString()), { progress: 1, threshold: 2, unsealed: false });
    const status = await cli(['seal-status', '--output', 'json']);
    assert.equal((JSON.parse(status.stdout.toString()) as { unsealProgress: number }).unsealProgress, 1);
    const corrupted = Buffer.from(readFileSync(join(dir, 'shares', 'share-2.txt'), 'utf8').trim(), 'base64');
    corrupted[5]! ^= 1;
    const bad = await cli(['unseal'], corrupted.toString('base64'));
    assert.equal(bad.code, 5);
    assert.match(bad.stderr, /SHARE_INVALID/);
    const second = await cli(['unseal'], readFileSync(join(dir, 'shares', 'share-3.txt'), 'utf8'));
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout.toString(), /Unsealed/);

    assert.equal((await cli(['seal'])).code, 3, 'sealing needs a login');
    const login = await cli(['login', '--user', 'admin', '--password-stdin'], `${PASSWORD}\n`);
    assert.equal(login.code, 0, login.stderr);
    const rotated = await cli(['rotate-master-key', '--out-dir', 'shares2', '--output', 'json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal((await cli(['seal'])).code, 0);
    assert.equal(running.hsm.status().state, 'sealed');
    const old = await cli(['unseal', '--share-file', 'shares/share-2.txt']);
    assert.equal(old.code, 5, 'the old shares stop working after rotation');
    // Rotation kept the current 2-of-3 and sent share 1 clear this time (no custodian given).
    for (const i of [1, 3]) assert.equal((await cli(['unseal', '--share-file', `shares2/share-${i}.txt`])).code, 0);
    assert.equal(running.hsm.status().state, 'unsealed');
  } finally {
    await running.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
