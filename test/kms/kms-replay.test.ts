// SigV4 replay and tampering at the HTTP level: a request signed once (with @smithy/signature-v4,
// as the SDK signs) is accepted once; the same bytes sent again, or with the body changed, are refused.

import assert from 'node:assert/strict';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import type { FastifyInstance } from 'fastify';
import { registerKms } from '../../src/frontends/kms/app.js';
import { buildRestApp } from '../../src/frontends/rest/app.js';
import { type TestHsm, testHsm } from '../support/hsm.js';

type Source = string | ArrayBuffer | ArrayBufferView;

function bytes(d: Source): string | Uint8Array {
  if (typeof d === 'string') return d;
  return ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);
}

/** The HashConstructor @smithy/signature-v4 takes, over node:crypto. */
class Sha256 {
  readonly #h: Hash | Hmac;
  constructor(secret?: Source) {
    this.#h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Source): void {
    this.#h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#h.digest());
  }
}

let t: TestHsm;
let app: FastifyInstance;
let url: URL;
let signer: SignatureV4;

before(async () => {
  t = await testHsm();
  ({ app } = buildRestApp({ hsm: t.hsm }));
  registerKms(app, t.hsm);
  url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
  const k = await t.hsm.createAccessKey(t.user);
  const secretAccessKey = Buffer.from(k.secretAccessKey.insecureBytes()).toString('ascii');
  k.secretAccessKey.destroy();
  signer = new SignatureV4({ credentials: { accessKeyId: k.accessKeyId, secretAccessKey }, region: 'eu-west-1', service: 'kms', sha256: Sha256 });
});

after(async () => {
  await app?.close();
  await t?.close();
});

async function signed(body: string): Promise<Record<string, string>> {
  const req = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.GenerateRandom' },
    body,
  });
  return req.headers as Record<string, string>;
}

async function send(headers: Record<string, string>, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const { host: _host, ...rest } = headers;
  const r = await fetch(url, { method: 'POST', headers: rest, body });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

test('a signed request is accepted once; a replay and a changed body are InvalidSignatureException', async () => {
  const body = JSON.stringify({ NumberOfBytes: 16 });
  const headers = await signed(body);
  const first = await send(headers, body);
  assert.equal(first.status, 200, JSON.stringify(first.json));
  assert.equal(Buffer.from(first.json.Plaintext as string, 'base64').length, 16);
  const replay = await send(headers, body);
  assert.equal(replay.status, 400);
  assert.equal(replay.json.__type, 'InvalidSignatureException');

  const h2 = await signed(body);
  const tampered = await send(h2, JSON.stringify({ NumberOfBytes: 17 }));
  assert.equal(tampered.json.__type, 'InvalidSignatureException');
});

test('unsigned and wrongly typed requests get AWS error shapes', async () => {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.GenerateRandom' }, body: '{}' });
  assert.equal(r.status, 403);
  assert.equal(((await r.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException');
  const u = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.NoSuchThing' }, body: '{}' });
  assert.equal(((await u.json()) as { __type: string }).__type, 'UnknownOperationException');
  const n = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.CreateGrant' }, body: '{}' });
  assert.equal(((await n.json()) as { __type: string }).__type, 'UnsupportedOperationException');
});
