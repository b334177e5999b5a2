// Real client: nginx terminating TLS with its private key in Coffer (ssl_certificate_key
// "engine:pkcs11:<uri>", libp11's engine configured with init = 1 in OPENSSL_CONF), two workers
// each with its own connection; HTTPS requests verified against the root CA made in Coffer.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { background, freePort, haveEngineTools, issueChain, waitForPort, writeEngineConf } from './client-support.js';
import { p11Fixture, type P11Fixture } from './p11-fixture.js';

const NGINX = '/usr/sbin/nginx';
let f: P11Fixture;

before(async () => {
  f = await p11Fixture();
});
after(async () => {
  await f.close();
});

const haveTools = (t: { skip: (why: string) => void }): boolean => haveEngineTools(t, [NGINX, 'nginx']);

function fetchOnce(port: number, ca: string | undefined): Promise<{ status: number; body: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/', servername: 'localhost', ...(ca ? { ca } : {}), agent: false, timeout: 20_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, authorized: (res.socket as { authorized?: boolean }).authorized === true }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 20 s (can the workers reach the socket?)')));
    req.on('error', reject);
  });
}

test('nginx serves HTTPS with its EC key in Coffer: requests over fresh connections verify against the root and get the page', async (t) => {
  if (!haveTools(t)) return;
  const conf = writeEngineConf(f);
  const chain = await issueChain(f, conf, { keyType: 'EC:secp384r1', label: 'ng-root', id: 'b1' }, { keyType: 'EC:prime256v1', label: 'ng-web', id: 'b2' });
  // nginx needs the engine initialized by the config itself (clients.md §4.6).
  const initConf = join(f.dir, 'openssl-pkcs11-init.cnf');
  writeFileSync(initConf, readFileSync(conf, 'utf8').replace('init = 0', 'init = 1'));
  const prefix = join(f.dir, 'nginx');
  mkdirSync(join(prefix, 'html'), { recursive: true });
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  writeFileSync(join(prefix, 'html', 'index.html'), 'served with a key in Coffer\n');
  const port = await freePort();
  // Run as root (CI), the workers run as www-data, and the docs' advice is what lets them reach
  // the socket: its group and its directory's group are www-data's, with group access (0660/0710).
  // Without that the handshake hangs after the ClientHello.
  let user = '';
  if (process.getuid?.() === 0) {
    const gid = Number(execFileSync('id', ['-g', 'www-data'], { encoding: 'utf8' }).trim());
    chownSync(f.dir, 0, gid);
    chmodSync(f.dir, 0o710);
    chownSync(f.socket, 0, gid);
    user = 'user www-data;\n';
  }
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `${user}worker_processes 2;
daemon off;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')};
env P11_KIT_SERVER_ADDRESS;
env OPENSSL_CONF;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, 'tmp')}/body;
  proxy_temp_path ${join(prefix, 'tmp')}/proxy;
  fastcgi_temp_path ${join(prefix, 'tmp')}/fastcgi;
  uwsgi_temp_path ${join(prefix, 'tmp')}/uwsgi;
  scgi_temp_path ${join(prefix, 'tmp')}/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_protocols TLSv1.3;
    ssl_certificate ${chain.leaf};
    ssl_certificate_key "engine:pkcs11:pkcs11:token=p1;object=ng-web;type=private";
    root ${join(prefix, 'html')};
  }
}
`,
  );
  const nginx = background(f, NGINX, ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', join(prefix, 'nginx.conf')], { OPENSSL_CONF: initConf });
  try {
    await waitForPort(port);
    const ca = readFileSync(chain.root, 'utf8');
    for (let i = 0; i < 4; i++) {
      const r = await fetchOnce(port, ca);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'served with a key in Coffer\n');
      assert.ok(r.authorized, 'the chain verified against the root');
    }
    // A client that does not trust the root refuses the server.
    await assert.rejects(fetchOnce(port, undefined), /unable to (verify|get local issuer)/);
  } catch (e) {
    let log = '';
    try {
      log = readFileSync(join(prefix, 'error.log'), 'utf8');
    } catch {}
    throw new Error(`${(e as Error).message}\nnginx: ${nginx.output()}\n${log}`);
  } finally {
    await nginx.stop();
  }
});
