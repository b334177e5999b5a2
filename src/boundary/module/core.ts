// The module's shared state and the steps every operation shares: the guard pipeline, object
// resolution, sealing-aware persistence, the key cache and auditing. The Hsm facade (hsm.ts) and
// the operation groups (accounts, objects, key management, operations) are built on it.

import { randomBytes } from 'node:crypto';
import { checkPasswordPolicy, DEFAULT_SCRYPT, hashPassword, type ScryptCost} from '../auth/passwords.js';
import { HsmError, isHsmError } from '../errors.js';
import { KeyCache } from '../key-cache.js';
import { keyTypeDescriptor } from '../keytypes/registry.js';
import type { KeyFacts, KeyTypeDescriptor, KeyTypeMaterial } from '../keytypes/types.js';
import { ALL_MECHANISMS, mechanism as lookupMechanism } from '../mechanisms/registry.js';
import { PAYMENT_SELF_TESTS } from '../mechanisms/payment/self-tests.js';
import type { MechanismDescriptor, MechanismParams, Operation } from '../mechanisms/types.js';
import { checkConsistency, checkSettable, checkTemplateShape, hasAnyUsage, mergeBound, newAttributes} from '../policy/validator.js';
import { SecretBytes } from '../secret.js';
import { type Session, SessionTable } from '../sessions.js';
import type { AuditEvent, AuditRecord, Vault } from '../store/types.js';
import type { VaultOptions } from '../store/vault.js';
import { AuditTrail } from './audit-trail.js';
import { UsageCounters } from './usage-counters.js';
import { type ApprovalFacts, serviceApproval } from './approval.js';
import type { IntegrityOptions } from './integrity.js';
import { runModuleSelfTests, type SelfTestResult } from './self-tests.js';
import { flushPendingAudit, respondToTamper, type TamperResponse, type TamperSignal, type TamperStatus } from './tamper.js';
import type { Attributes, KeyType, LoadedKey, PartitionRecord, Role, StoredObject, Template, UsageAttribute, UserRecord } from '../types.js';

export type ModuleState = 'uninitialized' | 'sealed' | 'unsealed' | 'error';

export interface HsmOptions {
  store: VaultOptions;
  /** Unseal an initialised store with this master key at open. Dev and tests only; an empty store still needs initialize(), which creates the first admin. */
  masterKey?: SecretBytes;
  /** Unsealed keys kept in memory at most (default 10,000). */
  cacheSize?: number;
  /** Failed logins before an account locks (default 5). */
  lockoutThreshold?: number;
  /** Idle time after which a session ends (default 8 hours). */
  sessionIdleMs?: number;
  scrypt?: ScryptCost;
  /** A signed audit checkpoint after every this many records (default 100; docs/audit.md). */
  auditCheckpointEvery?: number;
  /** How often per-key usage counters are written to the store (default 5 s; a crash loses at most one interval). */
  usageFlushMs?: number;
  /** Test-only: make this self-test fail, to prove the error state: a mechanism name, 'software-integrity' or 'random-health'. */
  forceSelfTestFailure?: string;
  /** Unseal and rekey share progress is forgotten this long after its first share (default 10 minutes). */
  shareTimeoutMs?: number;
  /** Software-integrity self-test against the build manifest (module/integrity.ts); omitted: not run (library use, unit tests). */
  integrity?: IntegrityOptions;
  /** What a tamper signal does (DESIGN §3): 'seal' forgets every key and ends sessions; 'erase' also destroys the stored key hierarchy. Default 'seal'. */
  tamperResponse?: TamperResponse;
  /** Where an erase first copies the audit records as JSON Lines (they hold no secrets); omitted: the records go with the store. */
  auditArchivePath?: string;
}

export interface ModuleStatus {
  state: ModuleState;
  /** Which self-test or integrity check failed, in the error state. */
  error?: string;
  selfTests: SelfTestResult;
  /** The last tamper signal this process saw and what was done about it. */
  tamper?: TamperStatus;
  /** Conditions that do not stop service but an operator should see (dev: no integrity manifest). */
  warnings?: string[];
  sessions: number;
  cachedKeys: number;
}

export interface ObjectInfo extends Attributes {
  uid: string;
  partition: string;
  state: StoredObject['meta']['state'];
  deletionDate?: string;
  currentVersion: number;
  versions: number[];
  aliases: string[];
  tags: Record<string, string>;
  owner: string;
  createdAt: string;
  peer?: string;
  /** Uses per operation ('sign', 'decrypt.failed' …), including counts not yet flushed to the store. */
  usage: Record<string, number>;
}

export interface LoginResult {
  session: string;
  role: Role;
  partition?: string;
}

export type KeyRef = string;

export interface Resolved {
  object: StoredObject;
  sessionOwned: boolean;
}

export interface Guarded {
  session: Session;
  resolved: Resolved;
  mech: MechanismDescriptor;
  version: number;
}

export const UID_BYTES = 16;
export const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const PARTITION = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const ALIAS = /^[A-Za-z0-9][A-Za-z0-9/_.-]{0,255}$/;
export const MAX_DATA = 1024 * 1024;
export const MAX_RANDOM = 64 * 1024;
export const MIN_DERIVED_BYTES = 14;
export const DAY_MS = 86_400_000;

export const GENERATOR: Record<KeyType, string> = {
  aes: 'AES-KEY-GEN',
  des2: 'DES2-KEY-GEN',
  des3: 'DES3-KEY-GEN',
  'generic-secret': 'GENERIC-SECRET-KEY-GEN',
  rsa: 'RSA-PKCS-KEY-PAIR-GEN',
  ec: 'EC-KEY-PAIR-GEN',
  'ec-edwards': 'EC-EDWARDS-KEY-PAIR-GEN',
  'ec-montgomery': 'EC-MONTGOMERY-KEY-PAIR-GEN',
  'ml-dsa': 'ML-DSA-KEY-PAIR-GEN',
  'ml-kem': 'ML-KEM-KEY-PAIR-GEN',
  'slh-dsa': 'SLH-DSA-KEY-PAIR-GEN',
};

export const MIRROR: Partial<Record<UsageAttribute, UsageAttribute>> = {
  sign: 'verify',
  verify: 'sign',
  decrypt: 'encrypt',
  encrypt: 'decrypt',
  unwrap: 'wrap',
  wrap: 'unwrap',
  decapsulate: 'encapsulate',
  encapsulate: 'decapsulate',
};

export function bytes(v: unknown, what: string, max = MAX_DATA): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new HsmError('ARGUMENTS_BAD', `${what} must be bytes`);
  if (v.length > max) throw new HsmError('DATA_LEN_RANGE', `${what} longer than ${max} bytes`);
  return v;
}

export function params(v: unknown): MechanismParams {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HsmError('MECHANISM_PARAM_INVALID', 'params must be an object');
  // Each MechanismParams field has one type, checked once here for every mechanism (attacks.md
  // a null where bytes belong is a bad parameter, not a TypeError inside a mechanism
  // (test/property/fuzz.test.ts found `dsaContext: null` crashing EdDSA).
  for (const [name, type] of Object.entries(PARAM_TYPES)) {
    const x = (v as Record<string, unknown>)[name];
    if (x === undefined) continue;
    const ok = type === 'bytes' ? x instanceof Uint8Array : type === 'int' ? Number.isSafeInteger(x) : typeof x === type;
    if (!ok) throw new HsmError('MECHANISM_PARAM_INVALID', `${name} must be ${type === 'int' ? 'an integer' : type}`);
  }
  return v as MechanismParams;
}

const PARAM_TYPES: Record<keyof MechanismParams, 'bytes' | 'int' | 'string' | 'boolean'> = {
  iv: 'bytes',
  aad: 'bytes',
  tagLength: 'int',
  hash: 'string',
  mgfHash: 'string',
  label: 'bytes',
  saltLength: 'int',
  signatureFormat: 'string',
  prehashed: 'boolean',
  publicData: 'bytes',
  salt: 'bytes',
  info: 'bytes',
  context: 'bytes',
  length: 'int',
  dsaContext: 'bytes',
  deterministic: 'boolean',
};

export function now(): string {
  return new Date().toISOString();
}

export function factsOf(a: Attributes): KeyFacts {
  const f: KeyFacts = {};
  if (a.valueLen !== undefined) f.valueLen = a.valueLen;
  if (a.modulusBits !== undefined) f.modulusBits = a.modulusBits;
  if (a.publicExponent !== undefined) f.publicExponent = a.publicExponent;
  if (a.curve !== undefined) f.curve = a.curve;
  if (a.parameterSet !== undefined) f.parameterSet = a.parameterSet;
  return f;
}

export function withFacts(a: Attributes, f: KeyFacts): Attributes {
  return { ...a, ...Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) };
}

export class ModuleCore {
  readonly vault: Vault;
  readonly cache: KeyCache;
  readonly sessions: SessionTable;
  readonly lockout: number;
  readonly scrypt: ScryptCost;
  readonly shareTimeoutMs: number;
  /** Run at every seal, before the keys go: operation groups drop what they hold (ceremony share progress …). */
  readonly onSeal: (() => void)[] = [];
  state: ModuleState;
  error: string | undefined;
  selfTests: SelfTestResult = { passed: 0, failed: [] };
  tamperState: TamperStatus | undefined;
  selfTesting = false;
  warnings: string[] = [];
  readonly options: HsmOptions;
  /** Audit events that happened while the store was sealed (a start-up self-test failure): written when a master key is next presented. */
  readonly pendingAudit: AuditEvent[] = [];
  /** Per-partition alias → uid index, built on first use and dropped on alias changes. */
  readonly aliases = new Map<string, Map<string, string>>();
  /** The audit key and its signed checkpoints (module/audit-trail.ts). */
  readonly auditTrail: AuditTrail;
  /** Per-key use counts, kept in memory and flushed in batches (module/usage-counters.ts). */
  readonly usage: UsageCounters;

  constructor(vault: Vault, options: HsmOptions) {
    this.vault = vault;
    this.cache = new KeyCache(options.cacheSize ?? 10_000);
    this.sessions = new SessionTable(options.sessionIdleMs ?? 8 * 3_600_000);
    this.lockout = options.lockoutThreshold ?? 5;
    this.scrypt = options.scrypt ?? DEFAULT_SCRYPT;
    this.shareTimeoutMs = options.shareTimeoutMs ?? 600_000;
    this.auditTrail = new AuditTrail(vault, options.auditCheckpointEvery ?? 100);
    this.usage = new UsageCounters(vault, (fn) => this.guardStore(fn), options.usageFlushMs ?? 5_000);
    this.state = vault.initialized ? 'sealed' : 'uninitialized';
    this.options = options;
  }

  /** Pre-operational (at open) or on-demand self-tests; any failure latches the error state (module/self-tests.ts). */
  async runSelfTests(forceFailure: string | undefined, onDemand = false): Promise<SelfTestResult> {
    return runModuleSelfTests(this, forceFailure, onDemand);
  }

  enterError(why: string): void {
    const first = this.state !== 'error';
    this.state = 'error';
    this.error ??= why;
    this.cache.clear();
    this.sessions.closeAll();
    // FIPS 140-3 §7.11: the error state is an audited event; while sealed it waits for a master key.
    if (first) this.auditOrDefer({ actor: 'system', op: 'module.error', outcome: 'failed', code: 'DEVICE_ERROR', detail: why });
  }

  auditOrDefer(event: AuditEvent): void {
    try {
      if (this.vault.unsealed) {
        this.vault.appendAudit(event);
        return;
      }
    } catch {
      // A store that cannot take the record (tampered, closed) leaves it pending like a sealed one.
    }
    this.pendingAudit.push(event);
  }

  /** Tamper signal → the configured response (module/tamper.ts). */
  respondToTamper(signal: TamperSignal, detail: string): TamperStatus {
    return respondToTamper(this, signal, detail);
  }

  checkNotError(): void {
    if (this.state === 'error') throw new HsmError('DEVICE_ERROR', this.error);
  }

  checkReady(): void {
    this.checkNotError();
    // attacks.md E-11: no cryptographic output while the on-demand self-tests run.
    if (this.selfTesting) throw new HsmError('DEVICE_ERROR', 'self-tests are running; retry');
    if (this.state === 'uninitialized') throw new HsmError('NOT_INITIALIZED');
    if (this.state === 'sealed') throw new HsmError('SEALED');
  }

  /** Store reads can find tamper while serving; the module then stops serving (DESIGN §3 tamper). */
  guardStore<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (isHsmError(e, 'TAMPER_DETECTED')) {
        this.enterError(e.message);
        this.vault.seal();
        this.respondToTamper(/rollback/.test(e.detail ?? e.message) ? 'rollback' : 'store-integrity', e.detail ?? e.message);
      }
      throw e;
    }
  }

  audit(event: AuditEvent): AuditRecord | undefined {
    if (!this.vault.unsealed) return undefined;
    return this.guardStore(() => this.vault.appendAudit(event));
  }

  session(handle: string, ...roles: Role[]): Session {
    this.checkReady();
    const s = this.sessions.get(handle);
    if (roles.length > 0 && !roles.includes(s.role)) {
      this.audit({ actor: s.user, partition: s.partition, op: 'authorise', outcome: 'refused', code: 'USER_TYPE_INVALID', detail: `role ${s.role}` });
      throw new HsmError('USER_TYPE_INVALID', `the ${s.role} role may not do that`);
    }
    return s;
  }

  manageableUser(s: Session, name: string): UserRecord {
    const u = typeof name === 'string' ? this.vault.getUser(name) : undefined;
    // An officer sees only its partition's users; anything else is "no such account".
    if (!u || (s.role === 'officer' && (u.partition !== s.partition || u.role !== 'user'))) throw new HsmError('USER_NOT_FOUND');
    return u;
  }


  partitionOf(s: Session): PartitionRecord {
    const p = s.partition ? this.vault.getPartition(s.partition) : undefined;
    if (!p) throw new HsmError('USER_TYPE_INVALID', 'this account belongs to no partition');
    return p;
  }

  aliasIndex(partition: string): Map<string, string> {
    let idx = this.aliases.get(partition);
    if (!idx) {
      idx = new Map();
      for (const o of this.vault.listObjects(partition)) for (const a of o.meta.aliases) idx.set(a, o.uid);
      this.aliases.set(partition, idx);
    }
    return idx;
  }

  /** Finds an object by uid or `alias/<name>` in the session's partition; anything else does not exist for this caller. */
  resolve(s: Session, ref: KeyRef, missing: 'KEY_HANDLE_INVALID' | 'OBJECT_NOT_FOUND'): Resolved {
    // Appliance roles (admin, auditor) address no objects at all: that is a role refusal, not a missing key.
    if (!s.partition) throw new HsmError('USER_TYPE_INVALID', `the ${s.role} role cannot use keys`);
    if (typeof ref !== 'string' || ref.length === 0 || ref.length > 300) throw new HsmError(missing);
    const own = s.objects.get(ref);
    if (own) return { object: own.object, sessionOwned: true };
    const uid = ref.startsWith('alias/') ? this.aliasIndex(s.partition).get(ref.slice(6)) : ref;
    const o = uid ? this.guardStore(() => this.vault.getObject(uid)) : undefined;
    // attacks.md D-01: another partition's object is indistinguishable from no object.
    if (!o || o.partition !== s.partition) throw new HsmError(missing);
    return { object: o, sessionOwned: false };
  }

  /** #resolve for an operation outside the guard pipeline: a miss is audited too (attacks.md §0, D-01). */
  resolveFor(s: Session, ref: KeyRef, missing: 'KEY_HANDLE_INVALID' | 'OBJECT_NOT_FOUND', op: string): Resolved {
    try {
      return this.resolve(s, ref, missing);
    } catch (e) {
      throw this.refused(s, op, undefined, e);
    }
  }

  persist(s: Session, object: StoredObject, material: Map<number, SecretBytes> | undefined, event: AuditEvent | undefined, sessionOwned = !object.attrs.token): void {
    if (sessionOwned) {
      const existing = s.objects.get(object.uid);
      const merged = existing?.material ?? new Map<number, SecretBytes>();
      if (material) for (const [v, m] of material) merged.set(v, m);
      s.objects.set(object.uid, { object, material: merged });
      if (event) this.audit(event);
      return;
    }
    this.guardStore(() =>
      this.vault.transaction(() => {
        this.vault.putObject(object, material);
        if (event) this.vault.appendAudit(event);
      }),
    );
    if (material) for (const m of material.values()) m.destroy();
  }

  newObject(s: Session, attrs: Attributes, publicData: Uint8Array | undefined): StoredObject {
    const t = now();
    const version = publicData ? { version: 1, createdAt: t, publicData } : { version: 1, createdAt: t };
    return {
      uid: randomBytes(UID_BYTES).toString('hex'),
      partition: s.partition!,
      attrs,
      meta: { state: 'enabled', aliases: [], tags: {}, owner: s.user, createdAt: t, updatedAt: t, currentVersion: 1, usage: {} },
      versions: [version],
      revision: 1,
    };
  }

  keyTypeOf(keyType: KeyType | undefined): KeyTypeDescriptor {
    const kt = keyType ? keyTypeDescriptor(keyType) : undefined;
    if (!kt) throw new HsmError(keyType ? 'ATTRIBUTE_VALUE_INVALID' : 'TEMPLATE_INCOMPLETE', keyType ? `key type ${keyType} is not supported` : 'keyType is required');
    return kt;
  }

  secretOf(s: Session, r: Resolved, version: number): SecretBytes | undefined {
    if (r.sessionOwned) {
      const m = s.objects.get(r.object.uid)?.material.get(version);
      return m ? SecretBytes.from(m.insecureBytes()) : undefined;
    }
    return this.guardStore(() => this.vault.loadSecret(r.object, version));
  }

  /** The usable key for one version, from the bounded cache or unsealed once and parsed once. */
  load(s: Session, r: Resolved, version: number): LoadedKey {
    const o = r.object;
    const cacheKey = KeyCache.key(o.uid, version, o.revision);
    const hit = this.cache.get(cacheKey);
    if (hit) return hit;
    const v = o.versions.find((x) => x.version === version);
    if (!v) throw new HsmError('KEY_HANDLE_INVALID', `no version ${version}`);
    const kt = this.keyTypeOf(o.attrs.keyType);
    const secret = o.attrs.class === 'public-key' ? undefined : this.secretOf(s, r, version);
    try {
      const material: KeyTypeMaterial = {};
      if (secret) material.secret = secret;
      if (v.publicData) material.publicData = v.publicData;
      if (o.attrs.parameterSet) material.parameterSet = o.attrs.parameterSet;
      const loaded = kt.load(o.uid, version, material);
      this.cache.set(cacheKey, loaded);
      if (secret && loaded.secret !== secret) secret.destroy();
      return loaded;
    } catch (e) {
      secret?.destroy();
      throw e;
    }
  }

  /** Audits a refusal (attacks.md §0: every refused call leaves a record) and hands the error on. */
  refused(s: Session, op: string, target: string | undefined, e: unknown): unknown {
    if (isHsmError(e)) {
      const ev: AuditEvent = { actor: s.user, op, outcome: 'refused', code: e.code };
      if (s.partition) ev.partition = s.partition;
      if (target) ev.target = target;
      if (e.detail) ev.detail = e.detail;
      try {
        this.audit(ev);
      } catch {
        // The refusal stands even if the audit write fails; the store error surfaces on the next write.
      }
    }
    return e;
  }

  generatorFor(name: string | undefined, keyType: KeyType | undefined, op: Operation): { mech: MechanismDescriptor; keyType: KeyType } {
    const mech = lookupMechanism(name ?? (keyType ? GENERATOR[keyType] : 'AES-KEY-GEN'));
    if (!mech.operations.includes(op)) throw new HsmError('MECHANISM_INVALID', `${mech.name} does not ${op}`);
    const kt = keyType ?? mech.keyTypes[0];
    if (!kt || !mech.keyTypes.includes(kt)) throw new HsmError('TEMPLATE_INCONSISTENT', `${mech.name} does not make ${keyType} keys`);
    return { mech, keyType: kt };
  }

  checkApproved(s: Session, mech: MechanismDescriptor): void {
    if (mech.disabledByDefault) throw new HsmError('MECHANISM_INVALID', `${mech.name} is disabled`);
    if (!mech.approved && this.partitionOf(s).fipsApprovedOnly) throw new HsmError('MECHANISM_NOT_APPROVED', mech.name);
  }

  /** Approval of a key about to be made (curve, size): a fipsApprovedOnly partition refuses what is not approved. */
  checkKeyApproved(s: Session, mech: MechanismDescriptor, attrs: ApprovalFacts, op: Operation): boolean {
    const a = serviceApproval(mech, attrs, op);
    if (!a.approved && s.partition && this.partitionOf(s).fipsApprovedOnly) throw new HsmError('MECHANISM_NOT_APPROVED', a.reason);
    return a.approved;
  }

  /** The guard's approval step with the call's parameters: the approved-service indicator (attacks.md E-09). */
  approval(g: Guarded, op: Operation, p: MechanismParams): boolean {
    const a = serviceApproval(g.mech, g.resolved.object.attrs, op, p);
    if (!a.approved && this.partitionOf(g.session).fipsApprovedOnly) throw this.refused(g.session, op, g.resolved.object.uid, new HsmError('MECHANISM_NOT_APPROVED', a.reason));
    return a.approved;
  }

  info(o: StoredObject): ObjectInfo {
    const info: ObjectInfo = {
      ...o.attrs,
      uid: o.uid,
      partition: o.partition,
      state: o.meta.state,
      currentVersion: o.meta.currentVersion,
      versions: o.versions.map((v) => v.version),
      aliases: [...o.meta.aliases],
      tags: { ...o.meta.tags },
      owner: o.meta.owner,
      createdAt: o.meta.createdAt,
      usage: this.usage.of(o),
    };
    if (o.meta.deletionDate) info.deletionDate = o.meta.deletionDate;
    if (o.meta.peer) info.peer = o.meta.peer;
    return info;
  }

  destroy(s: Session | undefined, r: Resolved, actor: string): void {
    const o = r.object;
    this.cache.forget(o.uid);
    if (o.meta.aliases.length > 0) this.aliases.delete(o.partition);
    if (r.sessionOwned && s) {
      const so = s.objects.get(o.uid);
      for (const m of so?.material.values() ?? []) m.destroy();
      s.objects.delete(o.uid);
      return;
    }
    this.guardStore(() =>
      this.vault.transaction(() => {
        this.vault.deleteObject(o.uid);
        this.vault.appendAudit({ actor, partition: o.partition, op: 'object.destroy', target: o.uid, outcome: 'ok' });
      }),
    );
  }


  updateMeta(s: Session, ref: KeyRef, op: string, change: (o: StoredObject) => StoredObject, material?: Map<number, SecretBytes>): StoredObject {
    const r = this.resolveFor(s, ref, 'KEY_HANDLE_INVALID', op);
    try {
      const next = change(r.object);
      next.revision = r.object.revision + 1;
      next.meta.updatedAt = now();
      this.cache.forget(next.uid);
      this.persist(s, next, material, { actor: s.user, partition: s.partition, op, target: next.uid, outcome: 'ok' }, r.sessionOwned);
      return next;
    } catch (e) {
      throw this.refused(s, op, r.object.uid, e);
    }
  }


  /**
   * Steps 1–8 of the pipeline for an operation on a key. The order is fixed so that the same
   * misuse gets the same code from every front end.
   */
  guard(session: string, op: Operation, ref: KeyRef, mechName: string, keyVersion: number | undefined): Guarded {
    this.checkReady(); // 1. state
    if (typeof mechName !== 'string') throw new HsmError('ARGUMENTS_BAD', 'mechanism is required'); // 2. arguments
    const s = this.sessions.get(session); // 3. session
    let r: Resolved | undefined;
    try {
      r = this.resolve(s, ref, 'KEY_HANDLE_INVALID'); // 4. object
      if (s.role !== 'user') throw new HsmError('USER_TYPE_INVALID', `the ${s.role} role cannot use keys`); // 5. authorisation
      const a = r.object.attrs;
      const mech = lookupMechanism(mechName);
      const usage = mech.usage?.[op] ?? (DEFAULT_USAGE_BY_OP[op] as UsageAttribute | undefined);
      if (usage && !a[usage]) throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', `the key's ${usage} attribute is false`); // 6. usage
      checkKeyUsable(r.object, op);
      // A TR-31 payment usage confines the key to its payment function (attacks.md C-07): only MAC keys sign/verify, KEKs wrap, data keys encrypt.
      if (a.keyUsage && !(GENERIC_OPS_BY_KEY_USAGE[a.keyUsage[0]] ?? []).includes(op)) throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', `a ${a.keyUsage} key is for payment functions only`);
      if (!mech.operations.includes(op)) throw new HsmError('MECHANISM_INVALID', `${mech.name} does not ${op}`); // 7. allowed mechanism
      if (a.allowedMechanisms && !a.allowedMechanisms.includes(mech.name.toUpperCase())) throw new HsmError('MECHANISM_INVALID', `${mech.name} is not allowed for this key`);
      this.checkApproved(s, mech);
      if (!a.keyType || !mech.keyTypes.includes(a.keyType)) throw new HsmError('KEY_TYPE_INCONSISTENT', `${mech.name} takes ${mech.keyTypes.join('/')} keys`); // 8. key type/size
      if (mech.keyBits) {
        const bits = keyBits(a);
        if (bits !== undefined && (bits < mech.keyBits.min || bits > mech.keyBits.max)) throw new HsmError('KEY_SIZE_RANGE');
      }
      const version = keyVersion ?? r.object.meta.currentVersion;
      if (!Number.isSafeInteger(version) || !r.object.versions.some((v) => v.version === version)) throw new HsmError('ARGUMENTS_BAD', 'no such key version');
      return { session: s, resolved: r, mech, version };
    } catch (e) {
      throw this.refused(s, op, r?.object.uid, e);
    }
  }

  /** Step 9 and 10: runs the mechanism with the unsealed key and audits per the key's policy. */
  async execute<T>(g: Guarded, op: Operation, fn: (key: LoadedKey) => Promise<T>): Promise<T> {
    const key = this.load(g.session, g.resolved, g.version);
    this.cache.acquire(key);
    const o = g.resolved.object;
    this.usage.count(g.resolved, op); // always, whatever auditUse says (issue 4)
    try {
      const out = await fn(key);
      if (o.attrs.auditUse) this.audit({ actor: g.session.user, partition: o.partition, op, target: o.uid, outcome: 'ok', detail: g.mech.name });
      return out;
    } catch (e) {
      // The caller gets the uniform code; the audit log gets the cause (DESIGN §3).
      const ev: AuditEvent = { actor: g.session.user, partition: o.partition, op, target: o.uid, outcome: 'failed', detail: g.mech.name };
      this.usage.count(g.resolved, `${op}.failed`);
      if (isHsmError(e)) ev.code = e.code;
      else ev.detail = `${g.mech.name}: ${(e as Error)?.name ?? 'error'}`;
      this.audit(ev);
      const uniform = UNIFORM_FAILURE[op];
      if (uniform && !isHsmError(e, 'MECHANISM_PARAM_INVALID')) throw new HsmError(uniform);
      throw e;
    } finally {
      this.cache.release(key);
    }
  }

  strength(a: Attributes): number {
    return this.keyTypeOf(a.keyType).strength(factsOf(a));
  }

  /** Template of a key made inside from other key material (derive, encapsulate, decapsulate). */
  derivedTemplate(s: Session, template: Template, bound: Template | undefined): { tpl: Template; kt: KeyTypeDescriptor; length: number } {
    const callerTpl = checkTemplateShape(template ?? {});
    if ((callerTpl.class ?? 'secret-key') !== 'secret-key') throw new HsmError('TEMPLATE_INCONSISTENT', 'a derived key is a secret key');
    checkSettable('derive', callerTpl, 'secret-key', s.role);
    const tpl = mergeBound({ ...callerTpl, class: 'secret-key', keyType: callerTpl.keyType ?? 'generic-secret' }, bound);
    const kt = this.keyTypeOf(tpl.keyType);
    if (kt.kind !== 'secret') throw new HsmError('TEMPLATE_INCONSISTENT', 'a derived key is a secret key');
    const spec = kt.normalizeSpec(tpl.valueLen !== undefined ? { keyType: kt.keyType, valueLen: tpl.valueLen } : { keyType: kt.keyType });
    // attacks.md A-16: HKDF and ECDH outputs of length n are prefixes of longer ones, so 1-byte keys
    // brute-forced one length at a time rebuild a full derived key; 112 bits is SP 800-131A's floor.
    if ((spec.valueLen ?? 32) < MIN_DERIVED_BYTES) throw new HsmError('KEY_SIZE_RANGE', `a derived key has at least ${MIN_DERIVED_BYTES} bytes`);
    return { tpl, kt, length: spec.valueLen ?? 32 };
  }

  storeDerived(s: Session, op: string, base: StoredObject, tpl: Template, kt: KeyTypeDescriptor, secret: SecretBytes, mechName: string): string {
    try {
      kt.load('derived', 1, { secret }).secret?.destroy();
      const { valueLen: _v, ...rest } = tpl;
      const attrs = withFacts(newAttributes('derive', rest, 'secret-key', kt.keyType, { local: false, base: base.attrs }), kt.facts({ secret }));
      checkConsistency(attrs);
      const object = this.newObject(s, attrs, undefined);
      this.persist(s, object, new Map([[1, secret]]), { actor: s.user, partition: s.partition, op, target: object.uid, outcome: 'ok', detail: `from ${base.uid} with ${mechName}` });
      return object.uid;
    } catch (e) {
      secret.destroy();
      throw this.refused(s, op, base.uid, e);
    }
  }


  /** After initialise and unseal: the audit key is loaded (created on a store's first unseal) and counters start flushing. */
  openAuditTrail(): void {
    this.guardStore(() => this.auditTrail.open());
    this.usage.start();
  }

  /**
   * Before seal and close: counters flushed, then `op` recorded with a signed checkpoint covering
   * it. Never stops the seal: a store that cannot take the record is already a tamper case.
   */
  closeAuditTrail(op: string): void {
    this.usage.stop();
    try {
      if (this.vault.unsealed) {
        this.guardStore(() => this.usage.flush());
        this.guardStore(() => this.auditTrail.appendClosed({ actor: 'system', op, outcome: 'ok' }));
      }
    } catch {
      // Sealing goes ahead regardless; the failure itself surfaced through guardStore.
    } finally {
      this.auditTrail.forget();
    }
  }

  status(): ModuleStatus {
    const s: ModuleStatus = { state: this.state, selfTests: { ...this.selfTests }, sessions: this.sessions.size, cachedKeys: this.cache.size };
    if (this.error) s.error = this.error;
    if (this.tamperState) s.tamper = { ...this.tamperState };
    if (this.warnings.length > 0) s.warnings = [...this.warnings];
    return s;
  }

  /** Creates the store's key hierarchy from `masterKey` and the first admin account. */
  async initialize(masterKey: SecretBytes, admin: { name: string; password: string }, within?: () => void): Promise<void> {
    this.checkNotError();
    if (this.state !== 'uninitialized') throw new HsmError('ALREADY_INITIALIZED');
    checkName(admin.name);
    checkPasswordPolicy(admin.password);
    const hash = await hashPassword(admin.password, this.scrypt);
    this.vault.initialize(masterKey);
    this.state = 'unsealed';
    this.vault.transaction(() => {
      this.vault.putUser({ name: admin.name, role: 'admin', passwordHash: hash, failedLogins: 0, locked: false, createdAt: now() });
      this.vault.appendAudit({ actor: 'system', op: 'module.initialize', target: admin.name, outcome: 'ok' });
      within?.(); // the ceremony's share check commits with the first admin, or neither does
    });
    this.openAuditTrail();
  }

  unseal(masterKey: SecretBytes): void {
    if (this.state === 'error') {
      flushPendingAudit(this, masterKey); // the record of the failure is written; the module still refuses
      this.checkNotError();
    }
    if (this.state === 'uninitialized') throw new HsmError('NOT_INITIALIZED');
    if (this.state === 'unsealed') return;
    try {
      this.vault.unseal(masterKey);
    } catch (e) {
      if (isHsmError(e, 'TAMPER_DETECTED')) {
        this.enterError(e.message);
        this.respondToTamper(/rollback/.test(e.detail ?? e.message) ? 'rollback' : 'store-integrity', e.detail ?? e.message);
      }
      throw e;
    }
    this.state = 'unsealed';
    this.openAuditTrail();
    this.audit({ actor: 'system', op: 'module.unseal', outcome: 'ok' });
    for (const ev of this.pendingAudit.splice(0)) this.audit(ev); // events seen while sealed (tamper signals)
  }

  seal(): void {
    for (const hook of this.onSeal) hook();
    if (this.state !== 'unsealed') return;
    this.closeAuditTrail('module.seal');
    this.sessions.closeAll();
    this.cache.clear();
    this.vault.seal();
    this.state = 'sealed';
  }

  close(): void {
    if (this.state === 'unsealed') this.closeAuditTrail('module.close');
    this.sessions.closeAll();
    this.cache.clear();
    this.vault.close();
  }
}

export let processSelfTests: Promise<SelfTestResult> | undefined;

/** Caches the process's first clean known-answer run (module/self-tests.ts reads and sets it). */
export function cachedProcessSelfTests(run: () => Promise<SelfTestResult>): Promise<SelfTestResult> {
  processSelfTests ??= run();
  return processSelfTests;
}

/** Every mechanism's known-answer test, then a random-source health check. */
export async function runAllSelfTests(forceFailure: string | undefined): Promise<SelfTestResult> {
  const failed: string[] = [];
  let passed = 0;
  for (const m of ALL_MECHANISMS) {
    try {
      if (forceFailure !== undefined && m.name === forceFailure) throw new Error('forced failure');
      await m.selfTest();
      passed++;
    } catch {
      failed.push(m.name);
    }
  }
  // The payment primitives are not registry mechanisms but handle PINs and keys all the same (issue 7).
  for (const p of PAYMENT_SELF_TESTS) {
    try {
      if (forceFailure !== undefined && p.name === forceFailure) throw new Error('forced failure');
      p.run();
      passed++;
    } catch {
      failed.push(p.name);
    }
  }
  // Random source health (FIPS 140-3 IG 10.3.A-style): start-up draws must differ and not be all zero.
  const draws = [randomBytes(32), randomBytes(32), randomBytes(32)];
  if (forceFailure === 'random-health') draws[1] = draws[0]!; // test-only: a stuck source
  if (draws[0]!.equals(draws[1]!) || draws[1]!.equals(draws[2]!) || draws.some((d) => d.every((b) => b === 0))) failed.push('random-health');
  else passed++;
  return { passed, failed };
}

export const DEFAULT_USAGE_BY_OP: Partial<Record<Operation, UsageAttribute>> = {
  encrypt: 'encrypt',
  decrypt: 'decrypt',
  sign: 'sign',
  verify: 'verify',
  wrap: 'wrap',
  unwrap: 'unwrap',
  derive: 'derive',
  encapsulate: 'encapsulate',
  decapsulate: 'decapsulate',
};

/** Operations whose every failure, whatever the cause, gets one code (DESIGN §3; attacks.md B-01, B-05, B-06). */
export const UNIFORM_FAILURE: Partial<Record<Operation, 'DECRYPT_FAILED' | 'UNWRAP_FAILED' | 'DECAPSULATE_FAILED'>> = {
  decrypt: 'DECRYPT_FAILED',
  unwrap: 'UNWRAP_FAILED',
  decapsulate: 'DECAPSULATE_FAILED',
};

/** A precomputed hash so logins for unknown accounts cost the same as real ones. */
export const DUMMY_HASH = `scrypt$${DEFAULT_SCRYPT.N}$${DEFAULT_SCRYPT.r}$${DEFAULT_SCRYPT.p}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`;

export function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) throw new HsmError('ARGUMENTS_BAD', 'account names are 1–64 letters, digits and . _ @ -');
}

/** Generic operations a payment key may reach by the first letter of its TR-31 usage; P, V, C, E, B keys none. */
const GENERIC_OPS_BY_KEY_USAGE: Record<string, readonly Operation[]> = { M: ['sign', 'verify'], K: ['wrap', 'unwrap'], D: ['encrypt', 'decrypt'], S: ['sign', 'verify'] };

/** Today's UTC date as YYYY-MM-DD, rebuilt only when a UTC day boundary has passed (checkKeyUsable runs on every call). */
let today = { date: '', until: 0 };
function todayUtc(): string {
  const now = Date.now();
  if (now >= today.until || now < today.until - 86_400_000) {
    const d = new Date(now);
    today = { date: d.toISOString().slice(0, 10), until: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) };
  }
  return today.date;
}

/** Key state and validity dates: originating uses need an enabled key inside its dates (SP 800-57 §5.3). */
export function checkKeyUsable(o: StoredObject, op: Operation): void {
  if (o.meta.state !== 'enabled') throw new HsmError('KEY_STATE_INVALID', `the key is ${o.meta.state}`);
  const { startDate, endDate } = o.attrs;
  if (!startDate && !endDate) return; // most keys have no validity window: no clock read at all
  const originating = op === 'encrypt' || op === 'sign' || op === 'wrap' || op === 'encapsulate' || op === 'derive';
  if (startDate && todayUtc() < startDate) throw new HsmError('KEY_STATE_INVALID', 'before the key start date');
  if (originating && endDate && todayUtc() > endDate) throw new HsmError('KEY_STATE_INVALID', 'after the key end date');
}

export function keyBits(a: Attributes): number | undefined {
  if (a.valueLen !== undefined) return a.valueLen * 8;
  return a.modulusBits;
}

/** Both halves of a pair get matching usages when only one half names any (sign ↔ verify …). */
export function mirrorUsages(pub: Template, priv: Template): void {
  // The silent half gets exactly the partners of the other's usages, and every other usage
  // false, so its class defaults never add one (an ECDH pair's public half must not get verify).
  const copy = (from: Template, to: Template): void => {
    for (const [u, m] of Object.entries(MIRROR) as [UsageAttribute, UsageAttribute][]) {
      if ((to as Record<string, unknown>)[m] === undefined) (to as Record<string, unknown>)[m] = from[u] === true;
    }
  };
  if (hasAnyUsage(priv) && !hasAnyUsage(pub)) copy(priv, pub);
  else if (hasAnyUsage(pub) && !hasAnyUsage(priv)) copy(pub, priv);
}

export function fitLength(secret: SecretBytes, length: number): SecretBytes {
  if (secret.length === length) return secret;
  if (secret.length < length) {
    secret.destroy();
    throw new HsmError('KEY_SIZE_RANGE', 'the shared secret is shorter than the requested key');
  }
  const cut = SecretBytes.from(secret.insecureBytes().subarray(0, length));
  secret.destroy();
  return cut;
}

/**
 * Checks imported private material (clear import or unwrap): it parses, its public half is
 * derived from it, and the pair passes the pairwise-consistency test (FIPS 140-3 IG 10.3.A).
 */
export async function checkPrivateMaterial(kt: KeyTypeDescriptor, secret: SecretBytes, parameterSet: string | undefined): Promise<{ publicData: Uint8Array | undefined; facts: KeyFacts }> {
  const publicData = kt.publicFromPrivate?.(secret, parameterSet);
  const material: KeyTypeMaterial = { secret };
  if (publicData) material.publicData = publicData;
  if (parameterSet) material.parameterSet = parameterSet;
  const priv = kt.load('import', 1, material);
  try {
    if (publicData && kt.pairwiseTest) await kt.pairwiseTest(priv, kt.load('import', 1, parameterSet ? { publicData, parameterSet } : { publicData }));
  } finally {
    if (priv.secret !== secret) priv.secret?.destroy();
  }
  return { publicData, facts: kt.facts(material) };
}

