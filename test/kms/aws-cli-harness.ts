// Test support for driving the real AWS CLI v2 (Debian's `awscli`, /usr/bin/aws) against a dev
// server with `--endpoint-url`: a dev server, an access key of its user, an environment that
// reads no AWS configuration of the machine, and the command runner with its parsed-JSON form.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../cli/cli-harness.js';

/**
 * The Debian package's binary by full path: a pip-installed AWS CLI v1 earlier on PATH (as on
 * some developer machines) has other defaults and output, and is not what these tests are about.
 */
export const AWS = '/usr/bin/aws';
/** The CLI's exit code for an error the service returned (AWS CLI v2 "Return codes"). */
export const SERVICE_ERROR = 254;
/** Python start-up alone is ~1 s per command; a loaded 2-core host can make that several. */
const COMMAND_TIMEOUT_MS = 60_000;

export interface AwsResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface AwsCli {
  server: TestServer;
  /** Scratch directory, also the CLI's HOME. */
  dir: string;
  /** The CLI's environment; a test may replace it (e.g. with a wrong secret) and put it back. */
  env: NodeJS.ProcessEnv;
  /** `aws kms <args> --endpoint-url … --region us-east-1 --output json`; never rejects on a non-zero exit. */
  aws(args: readonly string[]): Promise<AwsResult>;
  /** A command that must succeed: its parsed JSON output ({} when it prints nothing). */
  ok(args: readonly string[]): Promise<Record<string, unknown>>;
  /** Writes bytes to a file in the scratch directory and returns the `fileb://` argument for it. */
  fileb(name: string, bytes: Uint8Array): string;
  close(): Promise<void>;
}

/** Runs a child to completion with the CLI's timeout. */
export function runChild(cmd: string, args: readonly string[], opts: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<AwsResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

export async function startAwsCli(prefix: string): Promise<AwsCli> {
  assert.ok(existsSync(AWS), `${AWS} is missing: install the Debian package awscli (.ci/run does)`);
  const server = await startTestServer();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const k = await server.running.hsm.createAccessKey(server.running.dev!.userSession);
  const secret = Buffer.from(k.secretAccessKey.insecureBytes()).toString('ascii');
  k.secretAccessKey.destroy();
  const cli: AwsCli = {
    server,
    dir,
    env: {
      PATH: process.env.PATH,
      HOME: dir, // the CLI may cache under ~/.aws: keep it in the scratch directory
      AWS_ACCESS_KEY_ID: k.accessKeyId,
      AWS_SECRET_ACCESS_KEY: secret,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
      AWS_MAX_ATTEMPTS: '1', // a refused request is reported, not retried
    },
    aws: (args) => runChild(AWS, ['kms', ...args, '--endpoint-url', server.addr, '--region', 'us-east-1', '--output', 'json'], { env: cli.env, cwd: dir }),
    async ok(args) {
      const r = await cli.aws(args);
      assert.equal(r.code, 0, `aws kms ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout.trim() === '' ? {} : (JSON.parse(r.stdout) as Record<string, unknown>);
    },
    fileb(name, bytes) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      return `fileb://${path}`;
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cli;
}

/** A base64 blob from the CLI's JSON output. */
export function b64(v: unknown): Buffer {
  assert.equal(typeof v, 'string', 'a base64 blob in the JSON output');
  return Buffer.from(v as string, 'base64');
}
