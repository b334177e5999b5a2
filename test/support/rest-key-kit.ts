// A set of keys made over REST in one partition, one for every kind of key operation, plus a
// well-formed request for each `/v1/keys/:id…` route against them. Role and fuzz tests use it to
// aim at real keys with requests that would succeed, so a refusal proves the rule under test.

import assert from 'node:assert/strict';
import type { RouteDef } from '../../src/frontends/rest/route.js';
import type { RawReply, RestServer } from './rest-server.js';

export interface KeyKit {
  aes: string;
  hmac: string;
  ecPrivate: string;
  ecPublic: string;
  kek: string;
  extractable: string;
  deriveBase: string;
  kemPublic: string;
  kemPrivate: string;
  /** A key the lifecycle routes may schedule, cancel and destroy. */
  victim: string;
  /** Outputs of the kit's own keys, for the verify/decrypt/decapsulate requests. */
  envelope: string;
  signature: string;
  mac: string;
  kemCiphertext: string;
}

const b64 = (s: string | Uint8Array): string => Buffer.from(s).toString('base64');

function ok(r: RawReply, what: string): Record<string, unknown> {
  assert.ok(r.status >= 200 && r.status < 300, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
  return (r.json ?? {}) as Record<string, unknown>;
}

const uidOf = (v: unknown): string => (v as { uid: string }).uid;

/** Makes the kit with `token` (a partition user); `officerToken` imports the trusted wrapping key. */
export async function makeKeyKit(srv: RestServer, token: string, officerToken: string): Promise<KeyKit> {
  const gen = async (template: Record<string, unknown>) => ok(await srv.call('POST', '/v1/keys', token, { template }), `generate ${JSON.stringify(template)}`);
  const aes = uidOf((await gen({ keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true })).key);
  const hmac = uidOf((await gen({ keyType: 'generic-secret', valueLen: 32, sign: true, verify: true })).key);
  const ec = await gen({ keyType: 'ec', curve: 'P-256', sign: true });
  const extractable = uidOf((await gen({ keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true, extractable: true })).key);
  const deriveBase = uidOf((await gen({ keyType: 'generic-secret', valueLen: 32, derive: true })).key);
  const kem = await gen({ keyType: 'ml-kem', parameterSet: 'ML-KEM-768', decapsulate: true });
  const victim = uidOf((await gen({ keyType: 'aes', valueLen: 16, encrypt: true, decrypt: true })).key);
  // Clear-imported keys may wrap only when an officer marks them trusted (attacks.md A-12).
  const kekBody = { template: { class: 'secret-key', keyType: 'aes', value: b64(Buffer.alloc(32, 7)), wrap: true, unwrap: true, trusted: true } };
  const kek = uidOf(ok(await srv.call('POST', '/v1/keys/import', officerToken, kekBody), 'import kek').key);

  const kit = { aes, hmac, ecPrivate: uidOf(ec.privateKey), ecPublic: uidOf(ec.publicKey), kek, extractable, deriveBase, kemPublic: uidOf(kem.publicKey), kemPrivate: uidOf(kem.privateKey), victim };
  const envelope = ok(await srv.call('POST', `/v1/keys/${aes}/encrypt`, token, { mechanism: 'AES-GCM', plaintext: b64('kit') }), 'encrypt').ciphertext as string;
  const signature = ok(await srv.call('POST', `/v1/keys/${kit.ecPrivate}/sign`, token, { mechanism: 'ECDSA-SHA256', data: b64('kit') }), 'sign').signature as string;
  const mac = ok(await srv.call('POST', `/v1/keys/${hmac}/mac`, token, { mechanism: 'HMAC-SHA256', data: b64('kit') }), 'mac').mac as string;
  const kemCiphertext = ok(await srv.call('POST', `/v1/keys/${kit.kemPublic}/encapsulate`, token, { mechanism: 'ML-KEM', template: DERIVED }), 'encapsulate')
    .ciphertext as string;
  return { ...kit, envelope, signature, mac, kemCiphertext };
}

const DERIVED = { keyType: 'generic-secret', valueLen: 32, sign: true };

export interface KeyRequest {
  /** The key id that goes into `:id`. */
  id: string;
  body?: Record<string, unknown>;
  query?: string;
  /** Runs after the others: it changes or ends the key's life. */
  late?: number;
}

/**
 * A well-formed request for a `/v1/keys/:id…` route against the kit, or undefined for a route
 * this table does not know yet (a new route: add it here).
 */
export function keyRequest(route: RouteDef, kit: KeyKit): KeyRequest | undefined {
  const op = `${route.method} ${route.url.replace('/v1/keys/:id', '')}`;
  switch (op) {
    case 'GET ':
      return { id: kit.aes };
    case 'PATCH ':
      return { id: kit.aes, body: { state: 'enabled' } };
    case 'POST /rotate':
      return { id: kit.aes };
    case 'PUT /aliases':
      return { id: kit.aes, body: { aliases: ['kit-aes'] } };
    case 'PUT /tags':
      return { id: kit.aes, body: { tags: { team: 'kit' } } };
    case 'GET /public':
      return { id: kit.ecPublic, query: '?format=jwk' };
    case 'POST /encrypt':
      return { id: kit.aes, body: { mechanism: 'AES-GCM', plaintext: b64('hello') } };
    case 'POST /decrypt':
      return { id: kit.aes, body: { ciphertext: kit.envelope } };
    case 'POST /sign':
      return { id: kit.ecPrivate, body: { mechanism: 'ECDSA-SHA256', data: b64('hello') } };
    case 'POST /verify':
      return { id: kit.ecPublic, body: { mechanism: 'ECDSA-SHA256', data: b64('kit'), signature: kit.signature } };
    case 'POST /mac':
      return { id: kit.hmac, body: { mechanism: 'HMAC-SHA256', data: b64('hello') } };
    case 'POST /mac-verify':
      return { id: kit.hmac, body: { mechanism: 'HMAC-SHA256', data: b64('kit'), mac: kit.mac } };
    case 'POST /wrap':
      return { id: kit.kek, body: { key: kit.extractable, mechanism: 'AES-KWP' } };
    case 'POST /derive':
      return { id: kit.deriveBase, body: { mechanism: 'HKDF', params: { hash: 'SHA-256', salt: b64('s'), info: b64('i') }, template: DERIVED } };
    case 'POST /encapsulate':
      return { id: kit.kemPublic, body: { mechanism: 'ML-KEM', template: DERIVED } };
    case 'POST /decapsulate':
      return { id: kit.kemPrivate, body: { mechanism: 'ML-KEM', ciphertext: kit.kemCiphertext, template: DERIVED } };
    case 'POST /schedule-deletion':
      return { id: kit.victim, body: { days: 7 }, late: 1 };
    case 'POST /cancel-deletion':
      return { id: kit.victim, late: 2 };
    case 'DELETE ':
      return { id: kit.victim, late: 3 };
    default:
      return undefined;
  }
}

/** Every route addressing one key through `:id`. */
export function keyIdRoutes(routes: readonly RouteDef[]): RouteDef[] {
  return routes.filter((r) => r.url.startsWith('/v1/keys/:id'));
}

/** Sends a KeyRequest over `route` with `token`. */
export function sendKeyRequest(srv: RestServer, route: RouteDef, req: KeyRequest, token: string, id = req.id): Promise<RawReply> {
  const path = route.url.replace(':id', encodeURIComponent(id)) + (req.query ?? '');
  return srv.call(route.method, path, token, req.body);
}
