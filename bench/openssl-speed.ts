// Runs `openssl speed` and reads its summary table, the baseline the benchmark compares Coffer
// against on the same machine in the same run (DESIGN §5). Parsing is pure and tested against
// saved output of this machine's OpenSSL 3.0 (test/bench/fixtures/); a line it cannot find throws.

import { execFile } from 'node:child_process';

export interface SignVerifyRate {
  sign: number;
  verify: number;
}

/** The asymmetric rows `openssl speed rsa2048 ecdsap256 ed25519` prints, keyed by its algorithm names. */
export const ASYM_ROWS = {
  // "rsa 2048 bits 0.000222s 0.000018s   4507.0  55625.2"
  rsa2048: /^rsa 2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)\s*$/m,
  // " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  25719.3  19969.7"
  ecdsap256: /^\s*256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)\s*$/m,
  // " 253 bits EdDSA (Ed25519)   0.0000s   0.0001s  34039.7   9329.3"
  ed25519: /^\s*253 bits EdDSA \(Ed25519\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)\s*$/m,
} as const;

export type AsymAlgorithm = keyof typeof ASYM_ROWS;

/** sign/s and verify/s of one algorithm (with -multi N, openssl already sums the children). */
export function parseAsymSpeed(output: string, algorithm: AsymAlgorithm): SignVerifyRate {
  const m = ASYM_ROWS[algorithm].exec(output);
  if (!m) throw new Error(`openssl speed output has no ${algorithm} row`);
  return { sign: Number(m[1]), verify: Number(m[2]) };
}

/**
 * Operations per second of one cipher at one block size, from a run with `-evp <cipher> -bytes
 * <n>`. openssl reports thousands of bytes per second ("239347.18k"), so ops/s = k·1000 / n.
 */
export function parseCipherSpeed(output: string, cipher: string, bytes: number): number {
  const escaped = cipher.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  const row = new RegExp(`^${escaped}\\s+((?:[\\d.]+k\\s*)+)$`, 'mi').exec(output);
  if (!row) throw new Error(`openssl speed output has no ${cipher} row`);
  const columns = row[1]!.trim().split(/\s+/);
  // Single-process runs print a "type  64 bytes  1024 bytes" header; -multi runs do not.
  const header = /^type\s+(.*)$/m.exec(output);
  const sizes = header ? [...header[1]!.matchAll(/(\d+) bytes/g)].map((h) => Number(h[1])) : [bytes];
  const i = sizes.indexOf(bytes);
  if (i < 0 || sizes.length !== columns.length) throw new Error(`openssl speed output has no ${bytes}-byte column`);
  return (Number.parseFloat(columns[i]!) * 1000) / bytes;
}

/** Runs `openssl speed <args>` and returns its stdout (the summary table). */
export function runOpensslSpeed(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('openssl', ['speed', ...args], { maxBuffer: 16 << 20 }, (err, stdout) => {
      if (err) reject(new Error(`openssl speed ${args.join(' ')} failed: ${err.message}`));
      else resolve(stdout);
    });
  });
}

/** How to get one benchmark row's baseline: the `openssl speed` arguments and what to read back. */
export interface BaselineSpec {
  args: readonly string[];
  parse(output: string): number;
}

/** Baselines keyed by the benchmark's row names (bench/run.ts). */
export const BASELINES: Readonly<Record<string, BaselineSpec>> = {
  'sign RSA-2048 SHA256-RSA-PKCS': { args: ['rsa2048'], parse: (o) => parseAsymSpeed(o, 'rsa2048').sign },
  'sign ECDSA P-256 ECDSA-SHA256': { args: ['ecdsap256'], parse: (o) => parseAsymSpeed(o, 'ecdsap256').sign },
  'sign Ed25519 EDDSA': { args: ['ed25519'], parse: (o) => parseAsymSpeed(o, 'ed25519').sign },
  'encrypt AES-256-GCM 64 B': {
    args: ['-evp', 'aes-256-gcm', '-bytes', '64'],
    parse: (o) => parseCipherSpeed(o, 'AES-256-GCM', 64),
  },
  'encrypt AES-256-GCM 1 KiB': {
    args: ['-evp', 'aes-256-gcm', '-bytes', '1024'],
    parse: (o) => parseCipherSpeed(o, 'AES-256-GCM', 1024),
  },
};

/**
 * One row's openssl figure, with `processes` processes (one per core) for `seconds` per
 * direction: `openssl speed -multi <processes> -seconds <seconds> <args>`.
 */
export async function opensslRate(spec: BaselineSpec, processes: number, seconds: number): Promise<number> {
  return spec.parse(await runOpensslSpeed(['-multi', String(processes), '-seconds', String(seconds), ...spec.args]));
}

export function opensslVersion(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('openssl', ['version'], (err, stdout) => (err ? reject(err) : resolve(stdout.trim())));
  });
}
