// Payment key exchange (issue 7 "Keys"; attacks.md C-10): TR-31 / X9.143 key block export and import
// under a K0/K1 key block protection key (KBPK), the partition's own KBPK, and keys held outside as
// key blocks under it ({ keyBlock }), opened per call and never stored. Every header field is bound by
// the block's MAC and becomes a fixed attribute; a block never carries a key out of its policy.

import { createHash, createPrivateKey } from 'node:crypto';
import { HsmError } from '../errors.js';
import { type Tr31Header, type Tr31Version, defaultMode, EXPORTABILITY, parseHeader, USAGE_RULES } from '../mechanisms/payment/tr31-header.js';
import { unwrapKeyBlock, VERSION_KBPK, wrapKeyBlock } from '../mechanisms/payment/tr31.js';
import type { KeyFacts } from '../keytypes/types.js';
import { checkConsistency, newAttributes } from '../policy/validator.js';
import { SecretBytes } from '../secret.js';
import type { Session } from '../sessions.js';
import type { Attributes, KeyType, LoadedKey, StoredObject, Template } from '../types.js';
import { checkKeyUsable, checkPrivateMaterial, type KeyRef, type ModuleCore, now, type Resolved, withFacts } from './core.js';

/** A key held outside the module as a TR-31 block under the partition's own KBPK (issue 7 "Keys"). */
export interface KeyBlockRef {
  keyBlock: string;
}
export type PaymentKeyRef = KeyRef | KeyBlockRef;

export function isKeyBlockRef(ref: unknown): ref is KeyBlockRef {
  return typeof ref === 'object' && ref !== null && typeof (ref as KeyBlockRef).keyBlock === 'string';
}

/** The label of the partition's own KBPK; with local, trusted and K0 it cannot be forged by a user (only officers set trusted). */
export const PARTITION_KBPK_LABEL = 'coffer.partition-kbpk';

/** Exportability from least to most permissive (X9.143 Table 10): a block may narrow it, never widen it. */
const EXPORT_RANK = { N: 0, E: 1, S: 2 } as const;

const KBPK_USAGES = ['K0', 'K1'];

/** TR-31 algorithm letter of a key type (X9.143 Table 7). */
function algorithmOf(keyType: KeyType | undefined): string {
  if (keyType === 'aes') return 'A';
  if (keyType === 'des2' || keyType === 'des3') return 'T';
  throw new HsmError('KEY_TYPE_INCONSISTENT', 'key blocks carry TDES and AES keys');
}

/** Usage × algorithm × mode must be one X9.143 allows (Tables 6-8): a P0 key is never an RSA key or a MAC-only key. */
function checkHeaderPolicy(usage: string, algorithm: string, mode: string): void {
  const rule = USAGE_RULES[usage];
  if (!rule) throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', `key usage ${usage} is not one Coffer holds`);
  if (!rule.algorithms.includes(algorithm)) throw new HsmError('KEY_TYPE_INCONSISTENT', `a ${usage} key is not algorithm ${algorithm}`);
  if (!rule.modes.includes(mode)) throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', `a ${usage} key has no mode of use ${mode}`);
}

/** The key type a header and key length describe; single-length DES (8 bytes) has no key type here (C-11 step 4). */
function keyTypeOf(h: Tr31Header, length: number): KeyType {
  if (h.algorithm === 'T' && length === 16) return 'des2';
  if (h.algorithm === 'T' && length === 24) return 'des3';
  if (h.algorithm === 'A' && (length === 16 || length === 24 || length === 32)) return 'aes';
  if (h.algorithm === 'R') return 'rsa';
  throw new HsmError('KEY_SIZE_RANGE', `no ${h.algorithm} key of ${length} bytes`);
}

/** The usage flags a header's usage and mode give the new object (generic use is confined by keyUsage anyway). */
function usageFlags(h: Tr31Header, officer: boolean): Template {
  const m = h.mode;
  switch (h.usage[0]) {
    case 'K': {
      // attacks.md A-12: an imported key wraps only when an officer made it trusted; an officer's import does exactly that.
      const wrap = officer && 'BEN'.includes(m);
      const unwrap = 'BDN'.includes(m);
      return wrap ? { wrap, unwrap, trusted: true } : unwrap ? { unwrap } : {};
    }
    case 'M':
      return { sign: 'CGN'.includes(m), verify: 'CVN'.includes(m) };
    case 'D':
      return { encrypt: 'BEN'.includes(m), decrypt: 'BDN'.includes(m) };
    case 'S':
      return { sign: true };
    default:
      return {};
  }
}

/** Attributes of a key that arrives as a block: every header field is fixed on the object. */
function blockTemplate(h: Tr31Header, keyType: KeyType, officer: boolean): Template {
  const tpl: Template = {
    class: keyType === 'rsa' ? 'private-key' : 'secret-key',
    keyType,
    keyUsage: h.usage,
    modeOfUse: h.mode,
    exportability: h.exportability,
    keyVersionNumber: h.keyVersion,
    ...usageFlags(h, officer),
  };
  return tpl;
}

/** Keys of resolved { keyBlock } references: loaded from the module's key cache, or opened for this call. */
const TRANSIENT = new WeakMap<Resolved, LoadedKey>();

/** The key of a resolved { keyBlock } reference; undefined for stored keys. */
export function transientKey(_core: ModuleCore, r: Resolved): LoadedKey | undefined {
  return TRANSIENT.get(r);
}

/** Forgets the call's hold on a { keyBlock } key (the key cache owns and zeroes it). */
export function dropTransient(r: Resolved): void {
  TRANSIENT.delete(r);
}

interface Opened {
  header: Tr31Header;
  keyType: KeyType;
  secret: SecretBytes;
  kbpk: Resolved;
}

export interface ExportInput {
  key: KeyRef;
  /** A K0/K1 trusted key, or 'partition' for the partition's own KBPK. */
  kbpk: KeyRef | 'partition';
  version: 'B' | 'D';
  /** Narrower than the object's if given (E → N, S → E or N); never wider. */
  exportability?: 'E' | 'N' | 'S';
  optionalBlocks?: { id: string; data: string }[];
}

export interface ImportInput {
  kbpk: KeyRef | 'partition';
  keyBlock: string;
  label?: string;
  /** Session object (false) or stored (default true). */
  token?: boolean;
}

export class PaymentKeys {
  /** partition → uid of its KBPK, found once by its marks. */
  readonly #kbpks = new Map<string, string>();

  constructor(private readonly core: ModuleCore) {}

  /** The partition KBPK's uid, or undefined: a local, trusted K0 AES key with the well-known label (found once, then remembered). */
  #partitionKbpk(s: Session, rescan = false): string | undefined {
    const p = s.partition ?? '';
    const known = this.#kbpks.get(p);
    if (known && !rescan) return known;
    const o = this.core.guardStore(() => this.core.vault.listObjects(p)).find((x) => x.attrs.label === PARTITION_KBPK_LABEL && x.attrs.local && x.attrs.trusted && x.attrs.keyUsage === 'K0');
    if (o) this.#kbpks.set(p, o.uid);
    else this.#kbpks.delete(p);
    return o?.uid;
  }

  /** A KBPK fit for `direction` under `version`: K0/K1, officer-trusted, the usage flag and mode for it, the right type. */
  #kbpk(s: Session, ref: KeyRef | 'partition', direction: 'wrap' | 'unwrap', version: Tr31Version): Resolved {
    const uid = ref === 'partition' ? this.#partitionKbpk(s) : ref;
    if (uid === undefined) throw new HsmError('KEY_HANDLE_INVALID', 'this partition has no KBPK yet (paymentCreatePartitionKbpk)');
    let r: Resolved;
    try {
      r = this.core.resolve(s, uid, 'KEY_HANDLE_INVALID');
    } catch (e) {
      // The remembered partition KBPK is gone (destroyed): look again once.
      const again = ref === 'partition' ? this.#partitionKbpk(s, true) : undefined;
      if (again === undefined) throw e;
      r = this.core.resolve(s, again, 'KEY_HANDLE_INVALID');
    }
    const a = r.object.attrs;
    if (a.class !== 'secret-key' || !a.keyUsage || !KBPK_USAGES.includes(a.keyUsage)) throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', 'a KBPK has key usage K0 or K1');
    if (!a.trusted) throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', 'a KBPK is a key the officer trusts');
    if (!a[direction]) throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', `the KBPK's ${direction} attribute is false`);
    const mode = a.modeOfUse ?? 'B';
    if (!(direction === 'wrap' ? 'BEN' : 'BDN').includes(mode)) throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', `the KBPK's mode of use ${mode} forbids ${direction}`);
    checkKeyUsable(r.object, direction);
    if (!a.keyType || !VERSION_KBPK[version].includes(a.keyType)) throw new HsmError('WRAPPING_KEY_TYPE_INCONSISTENT', `version ${version} takes a ${VERSION_KBPK[version].join('/')} KBPK`);
    return r;
  }

  /** Versions A and C (key variant binding) only where the partition's officer allowed them (attacks.md C-10). */
  #checkVersion(s: Session, v: Tr31Version): void {
    if ((v === 'A' || v === 'C') && !this.core.partitionOf(s).tr31LegacyImport) {
      throw new HsmError('MECHANISM_NOT_APPROVED', 'TR-31 versions A and C are refused in this partition (tr31LegacyImport is off)');
    }
  }

  /** Officer: creates the partition's own KBPK (AES-256, K0, generated inside, never exportable). */
  async createPartitionKbpk(session: string): Promise<string> {
    const s = this.core.session(session, 'officer');
    const op = 'payment.kbpk.create';
    try {
      this.core.partitionOf(s);
      if (this.#partitionKbpk(s, true)) throw new HsmError('ALREADY_EXISTS', 'the partition already has a KBPK');
    } catch (e) {
      throw this.core.refused(s, op, undefined, e);
    }
    const kt = this.core.keyTypeOf('aes');
    const gen = await kt.generate!({ keyType: 'aes', valueLen: 32 });
    const tpl: Template = { label: PARTITION_KBPK_LABEL, keyUsage: 'K0', modeOfUse: 'B', exportability: 'N', wrap: true, unwrap: true, trusted: true, token: true, destroyable: false };
    const attrs = withFacts(newAttributes('generate', tpl, 'secret-key', 'aes', { local: true }), kt.facts({ secret: gen.secret }));
    checkConsistency(attrs);
    const object = this.core.newObject(s, attrs, undefined);
    this.core.persist(s, object, new Map([[1, gen.secret]]), { actor: s.user, partition: s.partition, op, target: object.uid, outcome: 'ok', detail: 'AES-256 K0' }, false);
    this.#kbpks.set(s.partition ?? '', object.uid);
    return object.uid;
  }

  /** Officer: the partition's key block policy. tr31LegacyImport allows importing versions A and C. */
  async setPartitionPolicy(session: string, input: { tr31LegacyImport: boolean }): Promise<void> {
    const s = this.core.session(session, 'officer');
    const op = 'payment.policy.set';
    try {
      if (typeof input?.tr31LegacyImport !== 'boolean') throw new HsmError('ARGUMENTS_BAD', 'tr31LegacyImport is a boolean');
      const p = this.core.partitionOf(s);
      this.core.guardStore(() =>
        this.core.vault.transaction(() => {
          this.core.vault.putPartition({ ...p, tr31LegacyImport: input.tr31LegacyImport });
          this.core.vault.appendAudit({ actor: s.user, partition: p.name, op, target: p.name, outcome: 'ok', detail: `tr31LegacyImport=${input.tr31LegacyImport}` });
        }),
      );
    } catch (e) {
      throw this.core.refused(s, op, undefined, e);
    }
  }

  /** Export as a TR-31 block (B or D) under a KBPK: the key must be exportable (E or S), never N (attacks.md C-10). */
  async exportKeyBlock(session: string, input: ExportInput): Promise<string> {
    const s = this.core.session(session, 'user');
    const op = 'payment.keyblock.export';
    let kr: Resolved | undefined;
    let header: Omit<Tr31Header, 'optionalBlocks'> & { optionalBlocks: Tr31Header['optionalBlocks'] };
    let kb: Resolved;
    try {
      if (input?.version !== 'B' && input?.version !== 'D') throw new HsmError('MECHANISM_PARAM_INVALID', 'export makes versions B and D only');
      kr = this.core.resolve(s, input.key, 'KEY_HANDLE_INVALID');
      kb = this.#kbpk(s, input.kbpk, 'wrap', input.version);
      const a = kr.object.attrs;
      if (kr.object.uid === kb.object.uid) throw new HsmError('KEY_NOT_WRAPPABLE', 'a KBPK does not export itself');
      if (a.class !== 'secret-key' || !a.keyUsage) throw new HsmError('KEY_NOT_WRAPPABLE', 'key blocks carry payment keys (a secret key with a keyUsage)');
      checkKeyUsable(kr.object, 'wrap');
      const own = a.exportability ?? 'N';
      if (own === 'N') throw new HsmError('KEY_UNEXTRACTABLE', 'the key is not exportable (exportability N)');
      const wanted = input.exportability ?? own;
      if (!(EXPORTABILITY as readonly string[]).includes(wanted) || EXPORT_RANK[wanted] > EXPORT_RANK[own]) throw new HsmError('KEY_UNEXTRACTABLE', `a block cannot make an exportability-${own} key ${String(wanted)}`);
      // DESIGN §3: a key is wrapped only by a key at least as strong.
      if (this.core.strength(a) > this.core.strength(kb.object.attrs)) throw new HsmError('WRAPPING_KEY_TYPE_INCONSISTENT', 'the KBPK is weaker than the key');
      const algorithm = algorithmOf(a.keyType);
      const mode = a.modeOfUse ?? defaultMode(a.keyUsage);
      checkHeaderPolicy(a.keyUsage, algorithm, mode);
      const kvn = a.keyVersionNumber ?? '00';
      if (!/^[0-9A-Za-z]{2}$/.test(kvn)) throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'keyVersionNumber is two letters or digits');
      const blocks = input.optionalBlocks ?? [];
      if (!Array.isArray(blocks) || blocks.length > 20 || blocks.some((b) => typeof b?.id !== 'string' || typeof b.data !== 'string' || b.id === 'PB')) {
        throw new HsmError('MECHANISM_PARAM_INVALID', 'optionalBlocks: up to 20 { id, data } (PB is added by the module)');
      }
      header = { version: input.version, usage: a.keyUsage, algorithm, mode, keyVersion: kvn, exportability: wanted, reserved: '00', optionalBlocks: blocks.map((b) => ({ id: b.id, data: b.data })) };
    } catch (e) {
      throw this.core.refused(s, op, kr?.object.uid, e);
    }
    const key = this.core.load(s, kr, kr.object.meta.currentVersion);
    const kbpk = this.core.load(s, kb, kb.object.meta.currentVersion);
    this.core.cache.acquire(key);
    this.core.cache.acquire(kbpk);
    const value = key.secret ? SecretBytes.from(key.secret.insecureBytes()) : SecretBytes.adopt(key.keyObject!.export());
    try {
      const block = wrapKeyBlock(kbpk, { header, key: value });
      this.core.usage.count(kr, op);
      this.core.audit({ actor: s.user, partition: s.partition, op, target: kr.object.uid, outcome: 'ok', detail: `version ${header.version} under ${kb.object.uid}` });
      return block;
    } catch (e) {
      throw this.core.refused(s, op, kr.object.uid, e);
    } finally {
      value.destroy();
      this.core.cache.release(key);
      this.core.cache.release(kbpk);
    }
  }

  /**
   * Verifies and opens a block under `kbpk` and applies the policy to its header: usage × algorithm ×
   * mode as X9.143 allows, no key stronger than the KBPK, versions A/C only where allowed. The caller
   * owns the returned secret.
   */
  #open(s: Session, kbpkRef: KeyRef | 'partition', block: unknown, officer: boolean): Opened {
    if (typeof block !== 'string') throw new HsmError('ARGUMENTS_BAD', 'keyBlock is an ASCII string');
    const { header } = parseHeader(block);
    this.#checkVersion(s, header.version);
    const kb = this.#kbpk(s, kbpkRef, 'unwrap', header.version);
    const kbpk = this.core.load(s, kb, kb.object.meta.currentVersion);
    this.core.cache.acquire(kbpk);
    let secret: SecretBytes | undefined;
    try {
      ({ key: secret } = unwrapKeyBlock(kbpk, block));
      checkHeaderPolicy(header.usage, header.algorithm, header.mode);
      // X9.143:2021 §6.2 table 1, key version number: 'c' + digit marks a key component, which is never a key by itself (C-08).
      if (header.keyVersion[0] === 'c') throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', 'the block carries a key component, not a key');
      if (officer && !KBPK_USAGES.includes(header.usage)) throw new HsmError('USER_TYPE_INVALID', 'an officer imports key-encryption keys (K0/K1) only');
      const keyType = keyTypeOf(header, secret.length);
      return { header, keyType, secret, kbpk: kb };
    } catch (e) {
      secret?.destroy();
      throw e;
    } finally {
      this.core.cache.release(kbpk);
    }
  }

  /** Imports a key block as a new object whose fixed attributes are the header's fields; returns its uid. */
  async importKeyBlock(session: string, input: ImportInput): Promise<string> {
    const s = this.core.session(session, 'user', 'officer');
    const op = 'payment.keyblock.import';
    let opened: Opened | undefined;
    try {
      if (input?.label !== undefined && typeof input.label !== 'string') throw new HsmError('ARGUMENTS_BAD', 'label is a string');
      if (input?.token !== undefined && typeof input.token !== 'boolean') throw new HsmError('ARGUMENTS_BAD', 'token is a boolean');
      opened = this.#open(s, input?.kbpk, input?.keyBlock, s.role === 'officer');
      const { header, keyType, kbpk } = opened;
      const kt = this.core.keyTypeOf(keyType);
      let secret = opened.secret;
      let publicData: Uint8Array | undefined;
      if (keyType === 'rsa') {
        // X9.143 (algorithm R): an RSA private key travels as PKCS#1 RSAPrivateKey DER; Coffer holds PKCS#8.
        const pkcs8 = createPrivateKey({ key: Buffer.from(secret.insecureBytes()), format: 'der', type: 'pkcs1' }).export({ format: 'der', type: 'pkcs8' });
        secret.destroy();
        secret = SecretBytes.adopt(pkcs8);
        opened.secret = secret;
      }
      let facts: KeyFacts;
      if (keyType === 'rsa') {
        // FIPS 140-3 IG 10.3.A: an imported private key passes the pairwise-consistency test.
        ({ publicData, facts } = await checkPrivateMaterial(kt, secret, undefined));
      } else {
        facts = kt.facts({ secret });
        kt.load('import', 1, { secret }).secret?.destroy(); // refuses what the key type refuses (equal TDES halves)
      }
      const tpl: Template = { ...blockTemplate(header, keyType, s.role === 'officer'), label: input.label ?? '', token: input.token ?? true };
      const attrs: Attributes = withFacts(newAttributes('unwrap', tpl, tpl.class ?? 'secret-key', keyType, { local: false }), facts);
      // DESIGN §3: a block cannot carry a key stronger than the key that protects it.
      if (this.core.strength(attrs) > this.core.strength(kbpk.object.attrs)) throw new HsmError('WRAPPING_KEY_TYPE_INCONSISTENT', 'the key is stronger than its KBPK');
      checkConsistency(attrs);
      const object = this.core.newObject(s, attrs, publicData);
      const detail = `version ${header.version} ${header.usage}/${header.algorithm}/${header.mode} exportability ${header.exportability} under ${kbpk.object.uid}`;
      this.core.persist(s, object, new Map([[1, secret]]), { actor: s.user, partition: s.partition, op, target: object.uid, outcome: 'ok', detail });
      opened = undefined; // the material now belongs to the object
      return object.uid;
    } catch (e) {
      opened?.secret.destroy();
      throw this.core.refused(s, op, undefined, e);
    }
  }

  /**
   * A { keyBlock } reference under the partition's KBPK for one payment call: a synthetic, never-stored
   * object with the header's attributes, so the caller's checks (usage, mode, type) are exactly those of
   * a stored key. The opened key sits in the module's key cache under the SHA-256 of the whole block and
   * the KBPK's uid and revision (DESIGN §5: a switch presents the same blocks again and again); the KBPK
   * is resolved and checked on every call, so a destroyed or disabled KBPK stops its blocks at once.
   */
  openReference(s: Session, ref: KeyBlockRef): Resolved {
    if (s.role !== 'user') throw new HsmError('USER_TYPE_INVALID', `the ${s.role} role cannot use keys`);
    const block = ref.keyBlock;
    const { header } = parseHeader(block);
    this.#checkVersion(s, header.version);
    const kb = this.#kbpk(s, 'partition', 'unwrap', header.version);
    // Not secret: the block is ciphertext; its hash names it in the cache and in audit records.
    const uid = `keyblock:${createHash('sha256').update(block).digest('hex')}`;
    const cacheKey = `${uid}:${kb.object.uid}:${kb.object.revision}`;
    let loaded = this.core.cache.get(cacheKey);
    if (!loaded) {
      const { keyType, secret } = this.#open(s, 'partition', block, false);
      try {
        if (keyType === 'rsa') throw new HsmError('KEY_TYPE_INCONSISTENT', 'payment keys are TDES or AES secret keys');
        loaded = this.core.keyTypeOf(keyType).load(uid, 1, { secret });
        this.core.cache.set(cacheKey, loaded);
      } finally {
        if (loaded?.secret !== secret) secret.destroy();
      }
    }
    const keyType = loaded.keyType;
    checkHeaderPolicy(header.usage, header.algorithm, header.mode);
    const attrs = withFacts(newAttributes('unwrap', { ...blockTemplate(header, keyType, false), token: false }, 'secret-key', keyType, { local: false }), { valueLen: loaded.bits / 8 });
    const t = now();
    const object: StoredObject = {
      uid: uid.slice(0, 41),
      partition: s.partition ?? '',
      attrs,
      meta: { state: 'enabled', aliases: [], tags: {}, owner: s.user, createdAt: t, updatedAt: t, currentVersion: 1, usage: {} },
      versions: [{ version: 1, createdAt: t }],
      revision: 0,
    };
    const r: Resolved = { object, sessionOwned: true };
    TRANSIENT.set(r, loaded);
    return r;
  }
}

const GROUPS = new WeakMap<ModuleCore, PaymentKeys>();

/** The module's PaymentKeys group (created with Hsm; made here on first use otherwise). */
export function paymentKeysOf(core: ModuleCore): PaymentKeys {
  let g = GROUPS.get(core);
  if (!g) {
    g = new PaymentKeys(core);
    GROUPS.set(core, g);
  }
  return g;
}

/** For module/payment.ts: a { keyBlock } reference opened under the partition's KBPK (see openReference). */
export function openKeyBlockReference(core: ModuleCore, s: Session, ref: KeyBlockRef): Resolved {
  return paymentKeysOf(core).openReference(s, ref);
}
