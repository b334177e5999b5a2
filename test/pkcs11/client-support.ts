// Support for the real-client tests (p11tool, OpenSSL engine, osslsigncode, Java): running a
// client with extra environment against the fixture's socket, a background server process
// that is always killed by its pid, and an OpenSSL config that loads libp11's pkcs11 engine
// over p11-kit-client.so. Nothing here talks to Coffer except through those clients.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { P11_KIT_CLIENT, type P11Fixture, type Run, requireTool, USER_PIN } from './p11-fixture.js';

export const OPENSSL = '/usr/bin/openssl';
export const PKCS11_TOOL = '/usr/bin/pkcs11-tool';
export const ENGINE = '/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so';
/** OpenSC's logging module: forwards to PKCS11SPY and records every call with its CKR. */
export const PKCS11_SPY = '/usr/lib/x86_64-linux-gnu/pkcs11-spy.so';

export function clientEnv(f: P11Fixture, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, P11_KIT_SERVER_ADDRESS: `unix:path=${f.socket}`, ...extra };
}

/** Runs a client to completion; never rejects (the exit code is part of the result). */
export function runEnv(f: P11Fixture, cmd: string, args: string[], extra: Record<string, string> = {}, input?: string | Uint8Array, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: clientEnv(f, extra), encoding: 'utf8', timeout: 60_000, maxBuffer: 16 << 20, cwd }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input === undefined ? undefined : typeof input === 'string' ? input : Buffer.from(input));
  });
}

/** pkcs11-tool logged in as the fixture's user. */
export function p11user(f: P11Fixture, ...args: string[]): Promise<Run> {
  return runEnv(f, PKCS11_TOOL, ['--module', P11_KIT_CLIENT, '--login', '--pin', USER_PIN, ...args]);
}

/** A long-running client (s_server): started in its own process group, stopped by its pid. */
export interface Background {
  child: ChildProcess;
  output(): string;
  /** Resolves once the output matches `pattern`; rejects after `ms` or if the process exits first. */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

export function background(f: P11Fixture, cmd: string, args: string[], extra: Record<string, string> = {}): Background {
  const child = spawn(cmd, args, { env: clientEnv(f, extra), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return {
    child,
    output: () => out,
    waitFor: async (pattern, ms = 30_000) => {
      const until = Date.now() + ms;
      while (!pattern.test(out)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${cmd} exited before ${pattern}: ${out}`);
        if (Date.now() > until) throw new Error(`${cmd}: no ${pattern} within ${ms} ms: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        // A server stuck in a call gets SIGKILL after 10 s, so a test never hangs on its cleanup.
        const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(hard);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Waits until something accepts TCP connections on 127.0.0.1:port (or fails after `ms`). */
export async function waitForPort(port: number, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listening on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * An openssl.cnf that loads libp11's engine with p11-kit-client.so as its module (clients.md
 * §4.4 (a)) plus the certificate extensions the tests use; returns its path. `init = 0`: the
 * openssl CLI initializes the engine itself when given `-engine pkcs11`.
 */
export function writeEngineConf(f: P11Fixture, name = 'openssl-pkcs11.cnf'): string {
  const path = join(f.dir, name);
  writeFileSync(
    path,
    `openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = ${ENGINE}
MODULE_PATH = ${P11_KIT_CLIENT}
PIN = ${USER_PIN}
init = 0
[req]
distinguished_name = req_dn
[req_dn]
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[v3_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,codeSigning,emailProtection
subjectAltName = DNS:localhost,IP:127.0.0.1
`,
  );
  return path;
}

/** A free TCP port on 127.0.0.1 (bind to 0, read it, close). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Paths of a two-level chain whose keys are both in Coffer. */
export interface Chain {
  root: string;
  leaf: string;
}

/**
 * Generates two key pairs in Coffer with pkcs11-tool (key types as pkcs11-tool spells them,
 * e.g. `rsa:3072`, `EC:prime256v1`), then with the engine: a self-signed root CA over the first
 * and a leaf for localhost over the second, signed by the root's key in Coffer.
 */
export async function issueChain(f: P11Fixture, conf: string, root: { keyType: string; label: string; id: string }, leaf: { keyType: string; label: string; id: string }): Promise<Chain> {
  const file = (name: string): string => join(f.dir, name);
  const uri = (label: string) => `pkcs11:token=p1;object=${label};type=private`;
  const must = (r: Run, what: string): void => {
    if (r.code !== 0) throw new Error(`${what}: ${r.stdout}${r.stderr}`);
  };
  for (const k of [root, leaf]) must(await p11user(f, '--keypairgen', '--key-type', k.keyType, '--label', k.label, '--id', k.id, '--usage-sign'), `generate ${k.label}`);
  const ossl = (...args: string[]) => runEnv(f, OPENSSL, args, { OPENSSL_CONF: conf });
  const rootPem = file(`${root.label}.pem`);
  const leafPem = file(`${leaf.label}.pem`);
  must(await ossl('req', '-new', '-x509', '-days', '30', '-engine', 'pkcs11', '-keyform', 'engine', '-key', uri(root.label), '-subj', '/CN=Coffer Test Root CA', '-sha256', '-extensions', 'v3_ca', '-out', rootPem), 'root');
  must(await ossl('req', '-new', '-engine', 'pkcs11', '-keyform', 'engine', '-key', uri(leaf.label), '-subj', '/CN=localhost', '-out', file(`${leaf.label}.csr`)), 'csr');
  must(await ossl('x509', '-req', '-in', file(`${leaf.label}.csr`), '-engine', 'pkcs11', '-CA', rootPem, '-CAkeyform', 'engine', '-CAkey', uri(root.label), '-CAcreateserial', '-days', '30', '-sha256', '-extfile', conf, '-extensions', 'v3_leaf', '-out', leafPem), 'leaf');
  return { root: rootPem, leaf: leafPem };
}

/**
 * The tools every OpenSSL-engine client test needs (p11-kit's client module, pkcs11-tool, openssl,
 * libp11's engine) plus `more` as [path, Debian package]: true when all are there; a missing one
 * fails under CI and skips loudly elsewhere (requireTool).
 */
export function haveEngineTools(t: { skip: (why: string) => void }, ...more: [path: string, pkg: string][]): boolean {
  const s = t.skip.bind(t);
  const tools: [string, string][] = [[P11_KIT_CLIENT, 'p11-kit-modules'], [PKCS11_TOOL, 'opensc'], [OPENSSL, 'openssl'], [ENGINE, 'libengine-pkcs11-openssl'], ...more];
  return tools.every(([path, pkg]) => requireTool(path, pkg, s));
}

