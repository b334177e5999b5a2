// The composition root: opens the boundary on the configured store, unseals it (key file) or
// sets it up (dev mode), starts the REST front end with metrics, and shuts down cleanly on
// SIGTERM/SIGINT (drain in-flight requests, then close the store).

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Hsm } from '../boundary/api.js';
import { type HostCmdServer, startHostCmdServer } from '../frontends/hostcmd/server.js';
import { type Pkcs11Server, startPkcs11Server } from '../frontends/pkcs11/server.js';
import { buildRestApp } from '../frontends/rest/app.js';
import { ALL_ROUTES } from '../frontends/rest/routes/index.js';
import { ACCESS_KEY_ROUTES } from '../frontends/kms/access-key-routes.js';
import { registerKms } from '../frontends/kms/app.js';
import type { TokenStore } from '../frontends/rest/tokens.js';
import type { ServerConfig } from './config.js';
import { type DevSetup, setUpDev } from './dev.js';
import { readOrCreateKeyFile } from './key-file.js';
import { Metrics } from './metrics.js';
import { watchTamperSensor } from './tamper-sensor.js';

export interface RunningServer {
  hsm: Hsm;
  app: FastifyInstance;
  tokens: TokenStore;
  address: string;
  /** The PKCS#11 socket, when [pkcs11] is enabled. */
  pkcs11?: Pkcs11Server;
  /** The payment host-command port, when [hostcmd] is enabled (docs/hostcmd.md). */
  hostcmd?: HostCmdServer;
  dev?: DevSetup;
  close(): Promise<void>;
}

export interface ServerStartOptions {
  config: ServerConfig;
  dev?: boolean;
  /** Where banners and export lines go (default stderr/stdout). */
  print?: (line: string) => void;
  /** Test-only: force this self-test to fail at start (a mechanism, 'software-integrity', 'random-health'). */
  forceSelfTestFailure?: string;
}

function ignoreError(fn: () => void): void {
  try {
    fn();
  } catch {
    // expected: DEVICE_ERROR after the pending audit records are written
  }
}

const PURGE_INTERVAL_MS = 3_600_000;

export async function startServer(opts: ServerStartOptions): Promise<RunningServer> {
  const { config } = opts;
  const print = opts.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  mkdirSync(config.storage.dataDir, { recursive: true, mode: 0o700 });
  const store = config.storage.backend === 'memory' ? { kind: 'memory' as const } : { kind: 'sqlite' as const, path: join(config.storage.dataDir, 'coffer.db') };
  const keyFile = config.seal.keyFile ?? (opts.dev ? join(config.storage.dataDir, 'master.key') : undefined);
  // Production enforces the software-integrity test; dev mode only warns unless configured.
  const check = config.integrity.check ?? (opts.dev ? 'warn' : 'enforce');
  const hsm = await Hsm.open({
    store,
    cacheSize: config.security.keyCacheSize,
    lockoutThreshold: config.security.lockoutThreshold,
    sessionIdleMs: config.security.sessionIdleSeconds * 1000,
    ...(check === 'off' ? {} : { integrity: { enforce: check === 'enforce' } }),
    tamperResponse: config.tamper.response,
    ...(store.kind === 'sqlite' ? { auditArchivePath: join(config.storage.dataDir, `audit-before-erase-${Date.now()}.jsonl`) } : {}),
    ...(opts.forceSelfTestFailure ? { forceSelfTestFailure: opts.forceSelfTestFailure } : {}),
  });
  let dev: DevSetup | undefined;
  if (hsm.status().state === 'error') print(`ERROR: the module is in the error state (${hsm.status().error}); only /v1/sys/health answers`);
  if (keyFile) {
    const { key } = readOrCreateKeyFile(keyFile);
    try {
      // In the error state the key only lets the failure reach the audit log; the module still refuses.
      if (hsm.status().state === 'error') ignoreError(() => hsm.unseal(key));
      else if (opts.dev) dev = await setUpDev(hsm, key, config.storage.dataDir);
      else if (hsm.status().state === 'sealed') hsm.unseal(key);
    } finally {
      key.destroy();
    }
  }
  const metrics = new Metrics(() => {
    const s = hsm.status();
    return { sessions: s.sessions, cached_keys: s.cachedKeys, unsealed: s.state === 'unsealed' ? 1 : 0, error_state: s.state === 'error' ? 1 : 0 };
  });
  const https = config.tls
    ? {
        key: readFileSync(config.tls.key),
        cert: readFileSync(config.tls.cert),
        ...(config.tls.clientCa ? { ca: readFileSync(config.tls.clientCa), requestCert: true } : {}),
      }
    : undefined;
  const { app, tokens } = buildRestApp({
    hsm,
    routes: [...ALL_ROUTES, ...ACCESS_KEY_ROUTES],
    bodyLimit: config.limits.bodyBytes,
    jsonDepth: config.limits.jsonDepth,
    rateLimit: { perSecond: config.limits.ratePerSecond, burst: config.limits.rateBurst },
    tokenTtlMs: config.limits.tokenTtlSeconds * 1000,
    logger: { level: config.log.level, redact: ['req.headers.authorization', 'req.headers.cookie'] },
    ...(https ? { https } : {}),
    observe: (o) => metrics.observe(o),
  });
  // The AWS-KMS endpoint shares the REST listener: POST / with X-Amz-Target (docs/kms.md).
  registerKms(app, hsm, { jsonDepth: config.limits.jsonDepth, rateLimit: { perSecond: config.limits.kmsRatePerSecond, burst: config.limits.kmsRateBurst } });
  if (config.metrics.enabled) {
    app.get('/metrics', async (_req, reply) => {
      reply.type('text/plain; version=0.0.4');
      return metrics.render();
    });
  }
  const address = await app.listen({ host: config.listen.address, port: config.listen.port });
  let pkcs11: Pkcs11Server | undefined;
  if (config.pkcs11.enabled) {
    // Dev mode: a bare-password PIN logs in as the dev accounts (docs/pkcs11.md).
    const devUser = dev?.credentials.accounts.find((a) => a.role === 'user')?.name;
    const devOfficer = dev?.credentials.accounts.find((a) => a.role === 'officer')?.name;
    const user = config.pkcs11.defaultUser ?? devUser;
    const officer = config.pkcs11.defaultOfficer ?? devOfficer;
    pkcs11 = await startPkcs11Server({
      hsm,
      socketPath: config.pkcs11.socket ?? join(config.storage.dataDir, 'pkcs11.sock'),
      partitions: config.pkcs11.partitions,
      defaultAccounts: { ...(user ? { user } : {}), ...(officer ? { officer } : {}) },
      mode: config.pkcs11.mode,
      log: (msg, fields) => app.log.warn(fields ?? {}, msg),
    });
  }
  let hostcmd: HostCmdServer | undefined;
  try {
    hostcmd = await startHostCmd(config, hsm, dev, (msg, fields) => app.log.warn(fields ?? {}, msg));
  } catch (e) {
    // A misconfigured port stops the start: release what is already listening.
    await pkcs11?.close();
    await app.close();
    hsm.close();
    throw e;
  }
  const purge = setInterval(() => {
    try {
      if (hsm.status().state === 'unsealed') hsm.purgeDueDeletions();
    } catch (e) {
      app.log.error({ code: (e as { code?: string }).code }, 'scheduled deletion sweep failed');
    }
  }, PURGE_INTERVAL_MS);
  purge.unref();
  if (dev) {
    const login = tokens.issue(dev.userSession);
    for (const l of dev.banner(address, login.token)) print(l);
    if (pkcs11) {
      print(` PKCS#11 (p11-kit-client.so; user PIN = the dev password, or <account>:<password>):`);
      print('');
      print(`   export P11_KIT_SERVER_ADDRESS=unix:path=${pkcs11.socketPath}`);
      print('');
    }
    if (hostcmd) {
      print(` Payment host commands (payShield framing, ${config.hostcmd.headerLength}-byte header, as '${config.hostcmd.account ?? dev.credentials.accounts.find((a) => a.role === 'user')?.name}'): ${hostcmd.address}`);
      print('');
    }
  }
  let closing: Promise<void> | undefined;
  const sensor = config.tamper.sensorFile
    ? watchTamperSensor(config.tamper.sensorFile, config.tamper.pollSeconds * 1000, (detail) => {
        const t = hsm.reportTamper(detail);
        app.log.error({ signal: t.signal, response: t.response, detail }, 'TAMPER: enclosure sensor fired');
      })
    : undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      sensor?.close();
      clearInterval(purge);
      await pkcs11?.close();
      await hostcmd?.close();
      await app.close(); // stops accepting, waits for in-flight requests
      hsm.close();
    })();
    return closing;
  };
  const running: RunningServer = { hsm, app, tokens, address, close };
  if (dev) running.dev = dev;
  if (pkcs11) running.pkcs11 = pkcs11;
  if (hostcmd) running.hostcmd = hostcmd;
  return running;
}

/**
 * The host-command port: configured account and password file, or in dev mode the dev user. Dev mode
 * turns it on by default and carries on without it if its port is taken (a second dev server);
 * a configured port that cannot start stops the server.
 */
async function startHostCmd(config: ServerConfig, hsm: Hsm, dev: DevSetup | undefined, log: (msg: string, fields?: Record<string, unknown>) => void): Promise<HostCmdServer | undefined> {
  const hc = config.hostcmd;
  if (!(hc.enabled ?? dev !== undefined)) return undefined;
  const devUser = dev?.credentials.accounts.find((a) => a.role === 'user');
  const user = hc.account ?? devUser?.name;
  const password = hc.passwordFile ? readFileSync(hc.passwordFile, 'utf8').replace(/\r?\n$/, '') : user === devUser?.name ? devUser?.password : undefined;
  if (!user || password === undefined) throw new Error('[hostcmd] needs account and password_file (the partition user the port acts as)');
  try {
    return await startHostCmdServer({
      hsm,
      host: hc.address,
      port: hc.port,
      headerLength: hc.headerLength,
      account: { user, password, ...(hc.partition ? { partition: hc.partition } : {}) },
      ...(hc.tlsCert && hc.tlsKey ? { tls: { cert: readFileSync(hc.tlsCert), key: readFileSync(hc.tlsKey) } } : {}),
      maxFrameBytes: hc.maxFrameBytes,
      log,
    });
  } catch (e) {
    if (hc.enabled === undefined && (e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      log('dev mode: the host-command port is in use; starting without it', { port: hc.port });
      return undefined;
    }
    throw e;
  }
}

/** Closes the server on SIGTERM/SIGINT, draining requests; a second signal exits at once. */
export function closeOnSignals(server: RunningServer, exit: (code: number) => void = process.exit): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      exit(1);
      return;
    }
    stopping = true;
    server.app.log.info({ signal }, 'shutting down: draining requests');
    server.close().then(
      () => exit(0),
      () => exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
