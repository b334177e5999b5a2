// SigV4 access keys for the AWS-KMS front end (docs/kms.md). SigV4 is an HMAC scheme, so the
// server must hold each secret: it is stored sealed as a usage-less generic-secret object in the
// owner's partition and used only here, to compute the HMAC chain; it leaves the boundary once, at creation.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { HsmError } from '../errors.js';
import { SecretBytes } from '../secret.js';
import { newAttributes } from '../policy/validator.js';
import type { Session } from '../sessions.js';
import type { Attributes } from '../types.js';
import { now, type ModuleCore } from './core.js';

/** The system record listing access keys (id, owner, uid of the sealed secret); backups carry it. */
export const ACCESS_KEY_INDEX = 'kms.access-keys';
const INDEX = ACCESS_KEY_INDEX;
const MAX_KEYS_PER_USER = 2; // as AWS IAM allows two access keys per user
const ID = /^CFR[A-Z2-7]{17}$/;
const SECRET_CHARS = 40;
/** Derived SigV4 signing keys kept (one per access key, day, region and service); oldest dropped first. */
const SIGNING_KEY_CACHE = 256;

interface AccessKeyRecord {
  id: string;
  user: string;
  partition: string;
  uid: string;
  createdAt: string;
}

export interface AccessKeyInfo {
  accessKeyId: string;
  user: string;
  createdAt: string;
}

/** The pieces of a SigV4 request the front end canonicalised; the boundary supplies the key. */
export interface SigV4Claim {
  accessKeyId: string;
  /** YYYYMMDD from the credential scope. */
  date: string;
  region: string;
  service: string;
  /** AWS4-HMAC-SHA256 string to sign, built from the received request. */
  stringToSign: string;
  /** The hex signature the client sent. */
  signature: string;
}

export class AccessKeys {
  /** accessKeyId → the session the key's requests run in, reused while it lives. */
  readonly #sessions = new Map<string, string>();
  /**
   * `id date region service` → the derived SigV4 signing key. It is a day-, region- and service-scoped
   * HMAC key, not the secret, and saves unsealing the secret on every request (the per-request
   * unseal was most of SigV4's cost: docs/performance.md). Dropped when the key is deleted and at seal.
   */
  readonly #signingKeys = new Map<string, SecretBytes>();

  constructor(private readonly core: ModuleCore) {
    core.onSeal.push(() => {
      this.#sessions.clear();
      this.#dropSigningKeys(() => true);
    });
  }

  #dropSigningKeys(match: (cacheKey: string) => boolean): void {
    for (const [k, v] of this.#signingKeys) {
      if (!match(k)) continue;
      v.destroy();
      this.#signingKeys.delete(k);
    }
  }

  /** The SigV4 signing key for the claim's scope, derived from the sealed secret on first use (AWS SigV4, "Derive a signing key"). */
  #signingKey(rec: AccessKeyRecord, claim: SigV4Claim): SecretBytes | undefined {
    const cacheKey = `${rec.id}\n${claim.date}\n${claim.region}\n${claim.service}`;
    const hit = this.#signingKeys.get(cacheKey);
    if (hit) return hit;
    const object = this.core.guardStore(() => this.core.vault.getObject(rec.uid));
    if (!object || object.partition !== rec.partition) return undefined;
    const secret = this.core.guardStore(() => this.core.vault.loadSecret(object, 1));
    if (!secret) return undefined;
    try {
      const kSecret = Buffer.concat([Buffer.from('AWS4', 'ascii'), secret.insecureBytes()]);
      const kDate = createHmac('sha256', kSecret).update(claim.date).digest();
      kSecret.fill(0);
      const kRegion = createHmac('sha256', kDate).update(claim.region).digest();
      const kService = createHmac('sha256', kRegion).update(claim.service).digest();
      const kSigning = createHmac('sha256', kService).update('aws4_request').digest();
      for (const b of [kDate, kRegion, kService]) b.fill(0);
      const key = SecretBytes.from(kSigning);
      kSigning.fill(0);
      if (this.#signingKeys.size >= SIGNING_KEY_CACHE) {
        const oldest = this.#signingKeys.keys().next().value;
        if (oldest !== undefined) this.#dropSigningKeys((k) => k === oldest);
      }
      this.#signingKeys.set(cacheKey, key);
      return key;
    } finally {
      secret.destroy();
    }
  }

  /** A new access key for the calling partition user; the secret is returned this once and never again. */
  async createAccessKey(session: string): Promise<{ accessKeyId: string; secretAccessKey: SecretBytes; createdAt: string }> {
    const s = this.core.session(session, 'user');
    const partition = this.core.partitionOf(s).name;
    const index = this.#index();
    if (index.filter((k) => k.user === s.user).length >= MAX_KEYS_PER_USER) {
      throw this.core.refused(s, 'kms.access-key.create', undefined, new HsmError('LIMIT_EXCEEDED', `at most ${MAX_KEYS_PER_USER} access keys per account`));
    }
    const id = `CFR${base32(randomBytes(11)).slice(0, 17)}`;
    // 30 random bytes as 40 base64 characters: the shape of an AWS secret access key.
    const secretText = SecretBytes.from(Buffer.from(randomBytes(30).toString('base64'), 'ascii'));
    const attrs = usageless(id);
    const object = this.core.newObject(s, attrs, undefined);
    const record: AccessKeyRecord = { id, user: s.user, partition, uid: object.uid, createdAt: now() };
    this.core.guardStore(() =>
      this.core.vault.transaction(() => {
        this.core.vault.putObject(object, new Map([[1, SecretBytes.from(secretText.insecureBytes())]]));
        this.core.vault.putSystemRecord(INDEX, JSON.stringify([...this.#index(), record]));
        this.core.vault.appendAudit({ actor: s.user, partition, op: 'kms.access-key.create', target: id, outcome: 'ok' });
      }),
    );
    return { accessKeyId: id, secretAccessKey: secretText, createdAt: record.createdAt };
  }

  /** The calling account's access keys (ids and dates, never secrets). */
  async listAccessKeys(session: string): Promise<AccessKeyInfo[]> {
    const s = this.core.session(session, 'user');
    return this.#index()
      .filter((k) => k.user === s.user && k.partition === s.partition)
      .map((k) => ({ accessKeyId: k.id, user: k.user, createdAt: k.createdAt }));
  }

  async deleteAccessKey(session: string, accessKeyId: string): Promise<void> {
    const s = this.core.session(session, 'user');
    const index = this.#index();
    const rec = index.find((k) => k.id === accessKeyId && k.user === s.user && k.partition === s.partition);
    // attacks.md D-01: someone else's key id is indistinguishable from none.
    if (!rec) throw this.core.refused(s, 'kms.access-key.delete', undefined, new HsmError('OBJECT_NOT_FOUND', 'no such access key'));
    this.core.guardStore(() =>
      this.core.vault.transaction(() => {
        if (this.core.vault.getObject(rec.uid)) this.core.vault.deleteObject(rec.uid);
        this.core.vault.putSystemRecord(INDEX, JSON.stringify(index.filter((k) => k.id !== rec.id)));
        this.core.vault.appendAudit({ actor: s.user, partition: s.partition, op: 'kms.access-key.delete', target: rec.id, outcome: 'ok' });
      }),
    );
    const h = this.#sessions.get(rec.id);
    if (h) this.core.sessions.close(h);
    this.#sessions.delete(rec.id);
    this.#dropSigningKeys((k) => k.startsWith(`${rec.id}\n`));
  }

  /**
   * Checks a SigV4 signature with the access key's secret, inside the boundary, and returns the
   * session its owner's requests run in. Any mismatch (unknown id, wrong scope, wrong signature)
   * is the same refusal, so the answer is no oracle for which access key ids exist.
   */
  async verifySigV4(claim: SigV4Claim): Promise<{ session: string; user: string; partition: string }> {
    this.core.checkReady();
    if (!isClaim(claim)) throw new HsmError('UNAUTHENTICATED', 'malformed signature');
    const rec = ID.test(claim.accessKeyId) ? this.#index().find((k) => k.id === claim.accessKeyId) : undefined;
    const kSigning = rec ? this.#signingKey(rec, claim) : undefined;
    let ok = false;
    if (kSigning) {
      const expected = createHmac('sha256', kSigning.insecureBytes()).update(claim.stringToSign).digest();
      const got = Buffer.from(claim.signature, 'hex');
      ok = got.length === expected.length && timingSafeEqual(got, expected);
    }
    const user = rec ? this.core.vault.getUser(rec.user) : undefined;
    if (!ok || !rec || !user || user.locked || user.partition !== rec.partition) {
      this.core.audit({ actor: rec?.user ?? 'kms', partition: rec?.partition, op: 'kms.sigv4', target: claim.accessKeyId.slice(0, 32), outcome: 'refused', code: 'UNAUTHENTICATED' });
      throw new HsmError('UNAUTHENTICATED', 'the request signature does not match');
    }
    return { session: this.#sessionFor(rec, user.role).handle, user: rec.user, partition: rec.partition };
  }

  #sessionFor(rec: AccessKeyRecord, role: Session['role']): Session {
    const h = this.#sessions.get(rec.id);
    if (h) {
      try {
        return this.core.sessions.get(h);
      } catch {
        this.#sessions.delete(rec.id); // expired or closed (account locked or deleted, D-15): open a fresh one below
      }
    }
    const s = this.core.sessions.open(rec.user, role, rec.partition);
    this.#sessions.set(rec.id, s.handle);
    return s;
  }

  #index(): AccessKeyRecord[] {
    const r = this.core.guardStore(() => this.core.vault.getSystemRecord(INDEX));
    return r ? (JSON.parse(r.body) as AccessKeyRecord[]) : [];
  }
}

/** A sealed generic secret no operation may use: no usage, not extractable, not modifiable, copyable or destroyable through the object API. */
function usageless(id: string): Attributes {
  const none = { sign: false, verify: false, encrypt: false, decrypt: false, wrap: false, unwrap: false, derive: false, encapsulate: false, decapsulate: false };
  const tpl = { ...none, label: `coffer:kms-access-key:${id}`, modifiable: false, copyable: false, destroyable: false, sensitive: true, extractable: false };
  return { ...newAttributes('generate', tpl, 'secret-key', 'generic-secret', { local: true }), valueLen: SECRET_CHARS };
}

function isClaim(c: SigV4Claim): boolean {
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.accessKeyId === 'string' &&
    /^\d{8}$/.test(c.date) &&
    typeof c.region === 'string' &&
    c.region.length <= 64 &&
    typeof c.service === 'string' &&
    c.service.length <= 64 &&
    typeof c.stringToSign === 'string' &&
    c.stringToSign.length <= 4096 &&
    typeof c.signature === 'string' &&
    /^[0-9a-f]{64}$/.test(c.signature)
  );
}

function base32(b: Uint8Array): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const x of b) {
    acc = (acc << 8) | x;
    bits += 8;
    while (bits >= 5) {
      out += A[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}
