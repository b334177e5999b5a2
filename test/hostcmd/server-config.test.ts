// The [hostcmd] section and the port's life with the server: options validated, the port started
// and printed in dev mode and stopped with the server, TLS with a self-signed certificate made by
// the real openssl CLI, and a configured account whose password file is wrong refusing to start.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/server.js';
import { hostClient } from './client.js';

const dir = mkdtempSync(join(tmpdir(), 'coffer-hostcmd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('[hostcmd] options are parsed with their defaults; unknown keys, half a TLS pair and a long header are refused', () => {
  const d = parseConfig('');
  assert.deepEqual({ port: d.hostcmd.port, header: d.hostcmd.headerLength, enabled: d.hostcmd.enabled }, { port: 1500, header: 4, enabled: undefined });
  const c = parseConfig('[hostcmd]\nenabled = true\nport = 0\nheader_length = 2\naccount = "switch"\npassword_file = "pw"\npartition = "payments"\n', dir);
  assert.equal(c.hostcmd.passwordFile, join(dir, 'pw'));
  assert.equal(c.hostcmd.account, 'switch');
  assert.throws(() => parseConfig('[hostcmd]\nheadr_length = 2\n'), /unknown option hostcmd.headr_length/);
  assert.throws(() => parseConfig('[hostcmd]\ntls_cert = "c.pem"\n'), /both tls_cert and tls_key/);
  assert.throws(() => parseConfig('[hostcmd]\nheader_length = 40\n'), /header_length/);
  assert.throws(() => parseConfig('[hostcmd]\nport = 70000\n'), /hostcmd.port/);
});

function devConfig(extra: string, data: string) {
  const cfg = parseConfig(`[listen]\nport = 0\n[storage]\nbackend = "memory"\ndata_dir = "${data}"\n[log]\nlevel = "silent"\n[pkcs11]\nenabled = false\n${extra}`);
  return cfg;
}

test('dev mode starts the port as the dev user, prints it, and stops it with the server', async () => {
  const lines: string[] = [];
  const s = await startServer({ config: devConfig('[hostcmd]\nport = 0\n', join(dir, 'dev')), dev: true, print: (l) => lines.push(l) });
  const port = s.hostcmd?.port;
  assert.ok(port, 'the host-command port is running');
  assert.ok(lines.some((l) => l.includes('Payment host commands') && l.includes(`:${port}`) && l.includes("'dev'")), 'the banner prints the port and its account');
  const c = await hostClient(port);
  assert.match(await c.send('HDR1NC'), /^HDR1ND00/);
  c.close();
  await s.close();
  await assert.rejects(
    new Promise<void>((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port }, () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', reject);
    }),
    /ECONNREFUSED/,
    'the port is closed with the server',
  );
});

test('TLS on the port with a self-signed certificate from openssl; a 2-byte header; a plain TCP client gets no answer', async () => {
  const key = join(dir, 'hc.key');
  const cert = join(dir, 'hc.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  const s = await startServer({ config: devConfig(`[hostcmd]\nport = 0\nheader_length = 2\ntls_cert = "${cert}"\ntls_key = "${key}"\n`, join(dir, 'tls')), dev: true, print: () => {} });
  try {
    const port = s.hostcmd?.port as number;
    assert.match(s.hostcmd?.address ?? '', /^tls:\/\//);
    const c = await hostClient(port, { ca: readFileSync(cert) });
    assert.match(await c.send('H1NC'), /^H1ND00/);
    c.close();
    const plain = await hostClient(port);
    plain.raw(Buffer.from([0, 4, 0x48, 0x31, 0x4e, 0x43]));
    await plain.closed();
  } finally {
    await s.close();
  }
});

test('a configured account with a wrong password file stops the server at start, naming the section', async () => {
  const pw = join(dir, 'wrong-password');
  writeFileSync(pw, 'not the password\n');
  await assert.rejects(startServer({ config: devConfig(`[hostcmd]\nenabled = true\nport = 0\naccount = "dev"\npassword_file = "${pw}"\n`, join(dir, 'wrong')), dev: true, print: () => {} }), /\[hostcmd\] account dev cannot log in: wrong name or password/);
  await assert.rejects(startServer({ config: devConfig('[hostcmd]\nenabled = true\nport = 0\naccount = "switch"\n', join(dir, 'nopw')), dev: true, print: () => {} }), /\[hostcmd\] needs account and password_file/);
});
