// `coffer payment …` against a real dev server: a two-custodian key forming (components read from
// stdin, never from argv, never printed) confirmed by the officer, the partition KBPK, TR-31 export to a file and import back
// with the same check value, a grant, and usage errors.

import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, startTestServer, type TestServer } from './cli-harness.js';

let s: TestServer;
const envs: Record<string, NodeJS.ProcessEnv> = {};

async function tokenFor(user: string, password: string): Promise<string> {
  const r = await fetch(`${s.addr}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password }) });
  assert.equal(r.status, 200, `login ${user}`);
  return ((await r.json()) as { token: string }).token;
}

before(async () => {
  s = await startTestServer();
  envs.admin = { ...s.env, COFFER_TOKEN: await tokenFor('admin', s.password('admin')) };
  envs.officer = { ...s.env, COFFER_TOKEN: await tokenFor('officer', s.password('officer')) };
  envs.dev = s.env;
  const mk = await runCli(['user', 'create', '--name', 'carol', '--role', 'user', '--partition', 'default', '--password-stdin'], { env: envs.admin, input: 'correct horse battery staple' });
  assert.equal(mk.code, 0, mk.stderr);
  envs.carol = { ...s.env, COFFER_TOKEN: await tokenFor('carol', 'correct horse battery staple') };
});
after(async () => s.close());

const C1 = '6BC8A1E6B5232A9E6EA8BAA4C45EDCC8';
const C2 = '796DF7C1C27634196E2FA2943E80C257';

function json(r: { code: number | null; stdout: Buffer; stderr: string }): Record<string, unknown> {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.toString()) as Record<string, unknown>;
}

test('coffer payment: two custodians form a ZPK from components, an officer confirms its check value; it travels as a TR-31 block and comes back with the same check value', async () => {
  const begin = json(await runCli(['payment', 'component', 'begin', '--key-type', 'des2', '--usage', 'P0', '--components', '2', '--label', 'zpk-cli', '--exportability', 'E', '--output', 'json'], { env: envs.officer }));
  const forming = String(begin.forming);
  const one = await runCli(['payment', 'component', 'enter', forming, '--component-stdin'], { env: envs.dev, input: `${C1}\n` });
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout.toString(), /Component check value: [0-9A-F]{6} +\(1 entered, 1 to go\)/);
  assert.ok(!one.stdout.toString().includes(C1) && !one.stderr.includes(C1), 'the component is never echoed');
  const twice = await runCli(['payment', 'component', 'enter', forming, '--component-stdin'], { env: envs.dev, input: C2 });
  assert.equal(twice.code, 5, 'C-08: the same custodian twice is refused');
  assert.match(twice.stderr, /ACCESS_DENIED/);
  const two = json(await runCli(['payment', 'component', 'enter', forming, '--component-stdin', '--output', 'json'], { env: envs.carol, input: C2 }));
  const xor = Buffer.from(Buffer.from(C1, 'hex').map((b, i) => b ^ Buffer.from(C2, 'hex')[i]!));
  const kcv = createCipheriv('des-ede-ecb', xor, null).setAutoPadding(false).update(Buffer.alloc(8)).subarray(0, 3).toString('hex').toUpperCase();
  assert.equal(two.keyKcv, kcv);
  const key = String(two.key);
  assert.equal((await runCli(['payment', 'kbpk', 'create'], { env: envs.officer })).code, 0);

  // C-08: not usable until an officer who entered no component confirms the check value.
  const early = await runCli(['payment', 'key', 'export', '--key', key, '--kbpk', 'partition', '--version', 'D'], { env: envs.dev });
  assert.equal(early.code, 4, 'use before confirm: no such key yet');
  assert.match(early.stderr, /KEY_HANDLE_INVALID/);
  const byCustodian = await runCli(['payment', 'component', 'confirm', forming, '--kcv', kcv], { env: envs.carol });
  assert.equal(byCustodian.code, 5, 'a custodian confirming');
  assert.match(byCustodian.stderr, /USER_TYPE_INVALID/);
  const wrongKcv = await runCli(['payment', 'component', 'confirm', forming, '--kcv', kcv === '000000' ? '000001' : '000000'], { env: envs.officer });
  assert.equal(wrongKcv.code, 5, 'a wrong KCV');
  assert.match(wrongKcv.stderr, /DATA_INVALID/);
  const badKcv = await runCli(['payment', 'component', 'confirm', forming, '--kcv', 'XYZ'], { env: envs.officer });
  assert.equal(badKcv.code, 2);
  assert.match(badKcv.stderr, /KCV_FORMAT/);
  const confirmed = await runCli(['payment', 'component', 'confirm', forming, '--kcv', kcv.toLowerCase()], { env: envs.officer });
  assert.equal(confirmed.code, 0, confirmed.stderr);
  assert.equal(confirmed.stdout.toString().trim(), `Key confirmed and usable: ${key}   check value ${kcv}`);

  const file = join(s.dir, 'zpk.tr31');
  const ex = await runCli(['payment', 'key', 'export', '--key', key, '--kbpk', 'partition', '--version', 'D', '-o', file], { env: envs.dev });
  assert.equal(ex.code, 0, ex.stderr);
  assert.match(readFileSync(file, 'utf8'), /^D\d{4}P0T/);
  assert.equal(statSync(file).mode & 0o777, 0o600, 'the block file is private');
  const byBlock = await runCli(['payment', 'kcv', '--key-block', file], { env: envs.dev });
  assert.equal(byBlock.stdout.toString().trim(), kcv, 'the block itself is a key reference');
  const im = json(await runCli(['payment', 'key', 'import', '--kbpk', 'partition', '-i', file, '--label', 'zpk-back', '--output', 'json'], { env: envs.dev }));
  assert.equal(im.kcv, kcv);
  assert.notEqual(im.key, key);
});

test('coffer payment grant and usage errors', async () => {
  const denied = await runCli(['payment', 'grant', 'dev', 'issuer'], { env: envs.dev });
  assert.equal(denied.code, 5, denied.stderr);
  const ok = await runCli(['payment', 'grant', 'dev', 'issuer'], { env: envs.officer });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout.toString(), /Granted issuer to dev/);
  assert.equal((await runCli(['payment', 'key', 'export', '--kbpk', 'partition'], { env: envs.dev })).code, 2, 'no --key');
  const bad = await runCli(['payment', 'component', 'enter', 'x', '--component-stdin'], { env: envs.dev, input: 'not hex' });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /COMPONENT_FORMAT/);
});
