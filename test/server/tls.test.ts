// TLS and mutual TLS on the REST listener, with certificates the real openssl CLI makes:
// a client that trusts the CA gets health over HTTPS; with client_ca set, a client without a
// certificate signed by that CA is refused at the handshake.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CONFIG, type ServerConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/server.js';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server certificate for 127.0.0.1, and a client certificate, all P-256. */
function makePki(dir: string): void {
  const ext = join(dir, 'san.cnf');
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Coffer test CA', '-days', '2');
  for (const who of ['server', 'client']) {
    openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who}`);
    openssl(dir, 'x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.pem`, '-days', '2', ...(who === 'server' ? ['-extfile', ext] : []));
  }
}

function get(url: string, opts: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...opts, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

function config(dir: string, clientCa: boolean): ServerConfig {
  const c = structuredClone(DEFAULT_CONFIG);
  c.listen.port = 0;
  c.storage.dataDir = join(dir, `data-${clientCa}`);
  c.log.level = 'silent';
  c.pkcs11 = { ...c.pkcs11, enabled: false };
  c.tls = { cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), ...(clientCa ? { clientCa: join(dir, 'ca.pem') } : {}) };
  return c;
}

test('TLS: health over HTTPS with the server certificate; mTLS refuses a client without a certificate from the CA', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-tls-'));
  try {
    makePki(dir);
    const ca = readFileSync(join(dir, 'ca.pem'));
    const tls = await startServer({ config: config(dir, false), dev: true, print: () => {} });
    try {
      assert.match(tls.address, /^https:/);
      assert.equal(await get(`${tls.address}/v1/sys/health`, { ca }), 200);
    } finally {
      await tls.close();
    }
    const mtls = await startServer({ config: config(dir, true), dev: true, print: () => {} });
    try {
      await assert.rejects(get(`${mtls.address}/v1/sys/health`, { ca }), 'no client certificate: the handshake fails');
      const cert = readFileSync(join(dir, 'client.pem'));
      const key = readFileSync(join(dir, 'client.key'));
      assert.equal(await get(`${mtls.address}/v1/sys/health`, { ca, cert, key }), 200, 'a client certificate from the CA is let in');
      openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'stranger.key', '-out', 'stranger.pem', '-subj', '/CN=stranger', '-days', '2');
      await assert.rejects(
        get(`${mtls.address}/v1/sys/health`, { ca, cert: readFileSync(join(dir, 'stranger.pem')), key: readFileSync(join(dir, 'stranger.key')) }),
        'a self-signed client certificate is refused',
      );
    } finally {
      await mtls.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
