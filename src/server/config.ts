// Server configuration: a TOML file (docs/configuration.md lists every option and its default),
// validated into a typed object. Unknown keys and wrong types are refused at start-up with the
// offending key named, so a typo never silently falls back to a default.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'smol-toml';

export interface ServerConfig {
  listen: { address: string; port: number };
  tls?: { cert: string; key: string; clientCa?: string };
  storage: { backend: 'sqlite' | 'memory'; dataDir: string };
  /** Key file that unseals the store at start (dev mode, and the seam the Shamir ceremony replaces). */
  seal: { keyFile?: string };
  security: { lockoutThreshold: number; keyCacheSize: number; sessionIdleSeconds: number };
  limits: { bodyBytes: number; jsonDepth: number; ratePerSecond: number; rateBurst: number; tokenTtlSeconds: number; kmsRatePerSecond: number; kmsRateBurst: number };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  metrics: { enabled: boolean };
  /** Software-integrity self-test against dist/manifest.json: enforce (a missing or wrong manifest is the error state), warn, or off. Unset: enforce, and warn in dev mode. */
  integrity: { check?: 'enforce' | 'warn' | 'off' };
  /** Tamper response (seal | erase) and the enclosure sensor file whose appearance or change is the signal, polled every poll_seconds besides fs.watch. */
  tamper: { response: 'seal' | 'erase'; sensorFile?: string; pollSeconds: number };
  /** The PKCS#11 front end (p11-kit RPC on a unix socket); `socket` defaults to <data>/pkcs11.sock. */
  pkcs11: { enabled: boolean; socket?: string; mode: number; partitions: string[]; defaultUser?: string; defaultOfficer?: string };
  /** The payment host-command port (docs/hostcmd.md). Unset `enabled`: on in dev mode (as the dev user), off otherwise. */
  hostcmd: { enabled?: boolean; address: string; port: number; headerLength: number; account?: string; passwordFile?: string; partition?: string; tlsCert?: string; tlsKey?: string; maxFrameBytes: number };
}

export const DEFAULT_CONFIG: ServerConfig = {
  listen: { address: '127.0.0.1', port: 7700 },
  storage: { backend: 'sqlite', dataDir: './data' },
  seal: {},
  security: { lockoutThreshold: 5, keyCacheSize: 10_000, sessionIdleSeconds: 8 * 3600 },
  limits: { bodyBytes: 2 * 1024 * 1024, jsonDepth: 32, ratePerSecond: 1000, rateBurst: 2000, tokenTtlSeconds: 3600, kmsRatePerSecond: 2000, kmsRateBurst: 4000 },
  log: { level: 'info' },
  metrics: { enabled: true },
  integrity: {},
  tamper: { response: 'seal', pollSeconds: 2 },
  pkcs11: { enabled: true, mode: 0o660, partitions: ['default'] },
  hostcmd: { address: '127.0.0.1', port: 1500, headerLength: 4, maxFrameBytes: 32_768 },
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Spec = { [k: string]: 'string' | 'port' | 'positive' | 'nonneg' | 'boolean' | 'names' | readonly string[] };

const SECTIONS: Record<string, Spec> = {
  listen: { address: 'string', port: 'port' },
  tls: { cert: 'string', key: 'string', client_ca: 'string' },
  storage: { backend: ['sqlite', 'memory'], data_dir: 'string' },
  seal: { key_file: 'string' },
  security: { lockout_threshold: 'positive', key_cache_size: 'positive', session_idle_seconds: 'positive' },
  limits: { body_bytes: 'positive', json_depth: 'positive', rate_per_second: 'nonneg', rate_burst: 'positive', token_ttl_seconds: 'positive', kms_rate_per_second: 'nonneg', kms_rate_burst: 'positive' },
  log: { level: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
  metrics: { enabled: 'boolean' },
  integrity: { check: ['enforce', 'warn', 'off'] },
  tamper: { response: ['seal', 'erase'], sensor_file: 'string', poll_seconds: 'positive' },
  pkcs11: { enabled: 'boolean', socket: 'string', mode: 'nonneg', partitions: 'names', default_user: 'string', default_officer: 'string' },
  hostcmd: { enabled: 'boolean', address: 'string', port: 'port', header_length: 'nonneg', account: 'string', password_file: 'string', partition: 'string', tls_cert: 'string', tls_key: 'string', max_frame_bytes: 'positive' },
};

function check(section: string, key: string, value: unknown): unknown {
  const spec = SECTIONS[section]?.[key];
  const where = `${section}.${key}`;
  if (spec === undefined) throw new ConfigError(`unknown option ${where}`);
  if (Array.isArray(spec)) {
    if (!spec.includes(value as string)) throw new ConfigError(`${where} must be one of ${spec.join(', ')}`);
    return value;
  }
  switch (spec) {
    case 'string':
      if (typeof value !== 'string' || value.length === 0) throw new ConfigError(`${where} must be a non-empty string`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw new ConfigError(`${where} must be true or false`);
      return value;
    case 'port':
      if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > 65535) throw new ConfigError(`${where} must be 0–65535`);
      return value;
    case 'positive':
      if (!Number.isSafeInteger(value) || (value as number) < 1) throw new ConfigError(`${where} must be a positive integer`);
      return value;
    case 'nonneg':
      if (!Number.isSafeInteger(value) || (value as number) < 0) throw new ConfigError(`${where} must be a non-negative integer`);
      return value;
    case 'names':
      if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v.length > 0)) throw new ConfigError(`${where} must be a non-empty list of names`);
      return value;
  }
  return value;
}

const camel = (s: string): string => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Parses TOML text into a full configuration; relative paths resolve against `baseDir`. */
export function parseConfig(text: string, baseDir = process.cwd()): ServerConfig {
  let raw: Record<string, unknown>;
  try {
    raw = parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`configuration is not valid TOML: ${(e as Error).message.split('\n')[0]}`);
  }
  const cfg = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, Record<string, unknown>>;
  for (const [section, body] of Object.entries(raw)) {
    if (!(section in SECTIONS)) throw new ConfigError(`unknown section [${section}]`);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ConfigError(`[${section}] must be a table`);
    cfg[section] ??= {};
    for (const [key, value] of Object.entries(body)) cfg[section]![camel(key)] = check(section, key, value);
  }
  const out = cfg as unknown as ServerConfig;
  if (out.tls && (!out.tls.cert || !out.tls.key)) throw new ConfigError('[tls] needs both cert and key');
  const abs = (p: string): string => resolve(baseDir, p);
  out.storage.dataDir = abs(out.storage.dataDir);
  if (out.seal.keyFile) out.seal.keyFile = abs(out.seal.keyFile);
  if (out.tamper.sensorFile) out.tamper.sensorFile = abs(out.tamper.sensorFile);
  if (out.pkcs11.socket) out.pkcs11.socket = abs(out.pkcs11.socket);
  if (out.pkcs11.mode > 0o777) throw new ConfigError('pkcs11.mode must be a file mode such as 0o660');
  const hc = out.hostcmd;
  if ((hc.tlsCert === undefined) !== (hc.tlsKey === undefined)) throw new ConfigError('[hostcmd] needs both tls_cert and tls_key, or neither');
  if (hc.headerLength > 32) throw new ConfigError('hostcmd.header_length must be 0–32');
  if (hc.maxFrameBytes > 65_535) throw new ConfigError('hostcmd.max_frame_bytes must be at most 65535 (a 2-byte length)');
  if (hc.passwordFile) hc.passwordFile = abs(hc.passwordFile);
  if (hc.tlsCert) hc.tlsCert = abs(hc.tlsCert);
  if (hc.tlsKey) hc.tlsKey = abs(hc.tlsKey);
  if (out.tls) {
    out.tls.cert = abs(out.tls.cert);
    out.tls.key = abs(out.tls.key);
    if (out.tls.clientCa) out.tls.clientCa = abs(out.tls.clientCa);
  }
  return out;
}

export function loadConfig(path: string): ServerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseConfig(text, dirname(resolve(path)));
}
