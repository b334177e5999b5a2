// The module: lifecycle (initialise, unseal, seal, error state), accounts and sessions, and
// every object and key operation, each run through one guard pipeline in the fixed order of
// DESIGN §3 (state → arguments → session → object → authorisation → usage attribute → allowed
// mechanism → key type/size → execute → audit). Front ends reach it only through api.ts.

import { randomBytes } from 'node:crypto';
import { checkPasswordPolicy, DEFAULT_SCRYPT, hashPassword, type ScryptCost, verifyPassword } from './auth/passwords.js';
import { HsmError, isHsmError } from './errors.js';
import { KeyCache } from './key-cache.js';
import { keyTypeDescriptor } from './keytypes/registry.js';
import type { KeyFacts, KeyTypeDescriptor, KeyTypeMaterial } from './keytypes/types.js';
import { ALL_MECHANISMS, mechanism as lookupMechanism } from './mechanisms/registry.js';
import type { MechanismDescriptor, MechanismParams, Operation } from './mechanisms/types.js';
import { checkConsistency, checkSettable, checkTemplateShape, hasAnyUsage, matchesTemplate, mergeBound, newAttributes, changedAttributes } from './policy/validator.js';
import { SecretBytes } from './secret.js';
import { type Session, SessionTable } from './sessions.js';
import type { AuditEvent, AuditRecord, Vault } from './store/types.js';
import { openVault, type VaultOptions } from './store/vault.js';
import type { Attributes, KeyType, LoadedKey, ObjectClass, PartitionRecord, Role, StoredObject, Template, UsageAttribute, UserRecord } from './types.js';

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
  /** Test-only: make this mechanism's self-test fail, to prove the error state. */
  forceSelfTestFailure?: string;
}

export interface ModuleStatus {
  state: ModuleState;
  /** Which self-test or integrity check failed, in the error state. */
  error?: string;
  selfTests: { passed: number; failed: string[] };
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
}

export interface LoginResult {
  session: string;
  role: Role;
  partition?: string;
}

type KeyRef = string;

interface Resolved {
  object: StoredObject;
  sessionOwned: boolean;
}

interface Guarded {
  session: Session;
  resolved: Resolved;
  mech: MechanismDescriptor;
  version: number;
}

const UID_BYTES = 16;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const PARTITION = /^[a-z0-9][a-z0-9-]{0,62}$/;
const ALIAS = /^[A-Za-z0-9][A-Za-z0-9/_.-]{0,255}$/;
const MAX_DATA = 1024 * 1024;
const MAX_RANDOM = 64 * 1024;
const MIN_DERIVED_BYTES = 14;
const DAY_MS = 86_400_000;

const GENERATOR: Record<KeyType, string> = {
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

const MIRROR: Partial<Record<UsageAttribute, UsageAttribute>> = {
  sign: 'verify',
  verify: 'sign',
  decrypt: 'encrypt',
  encrypt: 'decrypt',
  unwrap: 'wrap',
  wrap: 'unwrap',
  decapsulate: 'encapsulate',
  encapsulate: 'decapsulate',
};

function bytes(v: unknown, what: string, max = MAX_DATA): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new HsmError('ARGUMENTS_BAD', `${what} must be bytes`);
  if (v.length > max) throw new HsmError('DATA_LEN_RANGE', `${what} longer than ${max} bytes`);
  return v;
}

function params(v: unknown): MechanismParams {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HsmError('MECHANISM_PARAM_INVALID', 'params must be an object');
  return v as MechanismParams;
}

function now(): string {
  return new Date().toISOString();
}

function factsOf(a: Attributes): KeyFacts {
  const f: KeyFacts = {};
  if (a.valueLen !== undefined) f.valueLen = a.valueLen;
  if (a.modulusBits !== undefined) f.modulusBits = a.modulusBits;
  if (a.publicExponent !== undefined) f.publicExponent = a.publicExponent;
  if (a.curve !== undefined) f.curve = a.curve;
  if (a.parameterSet !== undefined) f.parameterSet = a.parameterSet;
  return f;
}

function withFacts(a: Attributes, f: KeyFacts): Attributes {
  return { ...a, ...Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) };
}

export class Hsm {
  readonly #vault: Vault;
  readonly #cache: KeyCache;
  readonly #sessions: SessionTable;
  readonly #lockout: number;
  readonly #scrypt: ScryptCost;
  #state: ModuleState;
  #error: string | undefined;
  #selfTests: { passed: number; failed: string[] } = { passed: 0, failed: [] };
  /** Per-partition alias → uid index, built on first use and dropped on alias changes. */
  readonly #aliases = new Map<string, Map<string, string>>();

  private constructor(vault: Vault, options: HsmOptions) {
    this.#vault = vault;
    this.#cache = new KeyCache(options.cacheSize ?? 10_000);
    this.#sessions = new SessionTable(options.sessionIdleMs ?? 8 * 3_600_000);
    this.#lockout = options.lockoutThreshold ?? 5;
    this.#scrypt = options.scrypt ?? DEFAULT_SCRYPT;
    this.#state = vault.initialized ? 'sealed' : 'uninitialized';
  }

  /** Opens the store, runs every self-test before service, and unseals an initialised store if given a master key. */
  static async open(options: HsmOptions): Promise<Hsm> {
    const hsm = new Hsm(openVault(options.store), options);
    await hsm.#runSelfTests(options.forceSelfTestFailure);
    // Only unseal: initialising here would leave an unsealed store with no account that could ever log in.
    if (options.masterKey && hsm.#state === 'sealed') hsm.unseal(options.masterKey);
    return hsm;
  }

  async #runSelfTests(forceFailure: string | undefined): Promise<void> {
    // The known-answer tests run once per process, before the first module serves (FIPS 140-3
    // pre-operational self-tests); modules opened later in the same process reuse the result.
    // A forced failure (tests only) always runs afresh.
    const results = forceFailure === undefined ? (processSelfTests ??= runAllSelfTests(undefined)) : runAllSelfTests(forceFailure);
    this.#selfTests = await results;
    if (this.#selfTests.failed.length > 0) this.#enterError(`self-test failed: ${this.#selfTests.failed.join(', ')}`);
  }

  #enterError(why: string): void {
    this.#state = 'error';
    this.#error = why;
    this.#cache.clear();
    this.#sessions.closeAll();
  }

  // ───────────────────────── lifecycle ─────────────────────────

  status(): ModuleStatus {
    const s: ModuleStatus = { state: this.#state, selfTests: { ...this.#selfTests }, sessions: this.#sessions.size, cachedKeys: this.#cache.size };
    if (this.#error) s.error = this.#error;
    return s;
  }

  /** Creates the store's key hierarchy from `masterKey` and the first admin account. */
  async initialize(masterKey: SecretBytes, admin: { name: string; password: string }): Promise<void> {
    this.#checkNotError();
    if (this.#state !== 'uninitialized') throw new HsmError('ALREADY_INITIALIZED');
    checkName(admin.name);
    checkPasswordPolicy(admin.password);
    const hash = await hashPassword(admin.password, this.#scrypt);
    this.#vault.initialize(masterKey);
    this.#state = 'unsealed';
    this.#vault.transaction(() => {
      this.#vault.putUser({ name: admin.name, role: 'admin', passwordHash: hash, failedLogins: 0, locked: false, createdAt: now() });
      this.#vault.appendAudit({ actor: 'system', op: 'module.initialize', target: admin.name, outcome: 'ok' });
    });
  }

  unseal(masterKey: SecretBytes): void {
    this.#checkNotError();
    if (this.#state === 'uninitialized') throw new HsmError('NOT_INITIALIZED');
    if (this.#state === 'unsealed') return;
    try {
      this.#vault.unseal(masterKey);
    } catch (e) {
      if (isHsmError(e, 'TAMPER_DETECTED')) this.#enterError(e.message);
      throw e;
    }
    this.#state = 'unsealed';
    this.#audit({ actor: 'system', op: 'module.unseal', outcome: 'ok' });
  }

  seal(): void {
    if (this.#state !== 'unsealed') return;
    this.#audit({ actor: 'system', op: 'module.seal', outcome: 'ok' });
    this.#sessions.closeAll();
    this.#cache.clear();
    this.#vault.seal();
    this.#state = 'sealed';
  }

  close(): void {
    this.#sessions.closeAll();
    this.#cache.clear();
    this.#vault.close();
  }

  #checkNotError(): void {
    if (this.#state === 'error') throw new HsmError('DEVICE_ERROR', this.#error);
  }

  #checkReady(): void {
    this.#checkNotError();
    if (this.#state === 'uninitialized') throw new HsmError('NOT_INITIALIZED');
    if (this.#state === 'sealed') throw new HsmError('SEALED');
  }

  /** Store reads can find tamper while serving; the module then stops serving (DESIGN §3 tamper). */
  #guardStore<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (isHsmError(e, 'TAMPER_DETECTED')) {
        this.#enterError(e.message);
        this.#vault.seal();
      }
      throw e;
    }
  }

  #audit(event: AuditEvent): AuditRecord | undefined {
    if (!this.#vault.unsealed) return undefined;
    return this.#guardStore(() => this.#vault.appendAudit(event));
  }

  // ───────────────────────── accounts and sessions ─────────────────────────

  async login(input: { user: string; password: string }): Promise<LoginResult> {
    this.#checkReady();
    if (typeof input?.user !== 'string' || typeof input.password !== 'string') throw new HsmError('ARGUMENTS_BAD', 'user and password are required');
    const user = NAME.test(input.user) ? this.#guardStore(() => this.#vault.getUser(input.user)) : undefined;
    if (!user) {
      await verifyPassword(input.password, DUMMY_HASH); // same cost as a real check: no account enumeration by timing
      this.#audit({ actor: input.user.slice(0, 64), op: 'login', outcome: 'refused', code: 'PIN_INCORRECT', detail: 'no such account' });
      throw new HsmError('PIN_INCORRECT');
    }
    if (user.locked) {
      this.#audit({ actor: user.name, op: 'login', outcome: 'refused', code: 'PIN_LOCKED' });
      throw new HsmError('PIN_LOCKED');
    }
    const ok = await verifyPassword(input.password, user.passwordHash);
    // Re-read: another login may have counted a failure while scrypt ran.
    const fresh = this.#vault.getUser(user.name) ?? user;
    if (!ok) {
      const failed = fresh.failedLogins + 1;
      const locked = failed >= this.#lockout;
      this.#vault.transaction(() => {
        this.#vault.putUser({ ...fresh, failedLogins: failed, locked });
        this.#vault.appendAudit({ actor: user.name, op: 'login', outcome: 'refused', code: locked ? 'PIN_LOCKED' : 'PIN_INCORRECT', detail: `failure ${failed} of ${this.#lockout}` });
      });
      if (locked) this.#sessions.closeUser(user.name);
      throw new HsmError(locked ? 'PIN_LOCKED' : 'PIN_INCORRECT');
    }
    if (fresh.locked) throw new HsmError('PIN_LOCKED');
    this.#vault.transaction(() => {
      if (fresh.failedLogins !== 0) this.#vault.putUser({ ...fresh, failedLogins: 0 });
      this.#vault.appendAudit({ actor: user.name, partition: user.partition, op: 'login', outcome: 'ok' });
    });
    const s = this.#sessions.open(user.name, user.role, user.partition);
    const result: LoginResult = { session: s.handle, role: user.role };
    if (user.partition) result.partition = user.partition;
    return result;
  }

  logout(session: string): void {
    const s = this.#sessions.get(session);
    for (const uid of s.objects.keys()) this.#cache.forget(uid);
    this.#sessions.close(s.handle);
    this.#audit({ actor: s.user, partition: s.partition, op: 'logout', outcome: 'ok' });
  }

  /** Who a session is: for front ends that show it. */
  whoami(session: string): { user: string; role: Role; partition?: string } {
    this.#checkReady();
    const s = this.#sessions.get(session);
    return s.partition ? { user: s.user, role: s.role, partition: s.partition } : { user: s.user, role: s.role };
  }

  #session(handle: string, ...roles: Role[]): Session {
    this.#checkReady();
    const s = this.#sessions.get(handle);
    if (roles.length > 0 && !roles.includes(s.role)) {
      this.#audit({ actor: s.user, partition: s.partition, op: 'authorise', outcome: 'refused', code: 'USER_TYPE_INVALID', detail: `role ${s.role}` });
      throw new HsmError('USER_TYPE_INVALID', `the ${s.role} role may not do that`);
    }
    return s;
  }

  createPartition(session: string, input: { name: string; label?: string; fipsApprovedOnly?: boolean }): PartitionRecord {
    const s = this.#session(session, 'admin');
    if (typeof input?.name !== 'string' || !PARTITION.test(input.name)) throw new HsmError('ARGUMENTS_BAD', 'partition names are lower-case letters, digits and dashes');
    if (this.#vault.getPartition(input.name)) throw new HsmError('ALREADY_EXISTS', `partition ${input.name}`);
    const p: PartitionRecord = { name: input.name, label: typeof input.label === 'string' ? input.label.slice(0, 64) : input.name, createdAt: now(), fipsApprovedOnly: input.fipsApprovedOnly === true };
    this.#vault.transaction(() => {
      this.#vault.putPartition(p);
      this.#vault.appendAudit({ actor: s.user, op: 'partition.create', target: p.name, outcome: 'ok' });
    });
    return p;
  }

  listPartitions(session: string): PartitionRecord[] {
    const s = this.#session(session);
    const all = this.#guardStore(() => this.#vault.listPartitions());
    return s.role === 'admin' || s.role === 'auditor' ? all : all.filter((p) => p.name === s.partition);
  }

  async createUser(session: string, input: { name: string; password: string; role: Role; partition?: string }): Promise<void> {
    const s = this.#session(session, 'admin', 'officer');
    checkName(input?.name);
    checkPasswordPolicy(input.password);
    const role = input.role;
    if (!['admin', 'auditor', 'officer', 'user'].includes(role)) throw new HsmError('ARGUMENTS_BAD', 'role must be admin, auditor, officer or user');
    const partitionRole = role === 'officer' || role === 'user';
    if (s.role === 'officer' && (role !== 'user' || input.partition !== s.partition)) {
      throw new HsmError('USER_TYPE_INVALID', 'an officer creates users of its own partition only');
    }
    if (partitionRole && (typeof input.partition !== 'string' || !this.#vault.getPartition(input.partition))) throw new HsmError('PARTITION_NOT_FOUND');
    if (!partitionRole && input.partition !== undefined) throw new HsmError('ARGUMENTS_BAD', 'appliance roles belong to no partition');
    if (this.#vault.getUser(input.name)) throw new HsmError('ALREADY_EXISTS', `account ${input.name}`);
    const hash = await hashPassword(input.password, this.#scrypt);
    const u: UserRecord = { name: input.name, role, passwordHash: hash, failedLogins: 0, locked: false, createdAt: now() };
    if (partitionRole) u.partition = input.partition!;
    this.#vault.transaction(() => {
      this.#vault.putUser(u);
      this.#vault.appendAudit({ actor: s.user, partition: u.partition, op: 'user.create', target: u.name, outcome: 'ok', detail: `role ${role}` });
    });
  }

  listUsers(session: string): Omit<UserRecord, 'passwordHash'>[] {
    const s = this.#session(session, 'admin', 'officer');
    return this.#vault
      .listUsers()
      .filter((u) => s.role === 'admin' || u.partition === s.partition)
      .map(({ passwordHash: _omit, ...rest }) => rest);
  }

  #manageableUser(s: Session, name: string): UserRecord {
    const u = typeof name === 'string' ? this.#vault.getUser(name) : undefined;
    // An officer sees only its partition's users; anything else is "no such account".
    if (!u || (s.role === 'officer' && (u.partition !== s.partition || u.role !== 'user'))) throw new HsmError('USER_NOT_FOUND');
    return u;
  }

  deleteUser(session: string, name: string): void {
    const s = this.#session(session, 'admin', 'officer');
    const u = this.#manageableUser(s, name);
    if (u.name === s.user) throw new HsmError('ACTION_PROHIBITED', 'an account cannot delete itself');
    this.#vault.transaction(() => {
      this.#vault.deleteUser(u.name);
      this.#vault.appendAudit({ actor: s.user, partition: u.partition, op: 'user.delete', target: u.name, outcome: 'ok' });
    });
    this.#sessions.closeUser(u.name);
  }

  unlockUser(session: string, name: string): void {
    const s = this.#session(session, 'admin', 'officer');
    const u = this.#manageableUser(s, name);
    this.#vault.transaction(() => {
      this.#vault.putUser({ ...u, locked: false, failedLogins: 0 });
      this.#vault.appendAudit({ actor: s.user, partition: u.partition, op: 'user.unlock', target: u.name, outcome: 'ok' });
    });
  }

  async changePassword(session: string, input: { name?: string; password: string }): Promise<void> {
    const s = this.#session(session);
    const target = input.name ?? s.user;
    const u = target === s.user ? this.#vault.getUser(s.user) : s.role === 'admin' || s.role === 'officer' ? this.#manageableUser(s, target) : undefined;
    if (!u) throw new HsmError('USER_NOT_FOUND');
    checkPasswordPolicy(input.password);
    const hash = await hashPassword(input.password, this.#scrypt);
    this.#vault.transaction(() => {
      this.#vault.putUser({ ...u, passwordHash: hash, failedLogins: 0, locked: false });
      this.#vault.appendAudit({ actor: s.user, partition: u.partition, op: 'user.password', target: u.name, outcome: 'ok' });
    });
    if (u.name !== s.user) this.#sessions.closeUser(u.name);
  }

  listAudit(session: string, fromSeq = 1, limit = 1000): AuditRecord[] {
    this.#session(session, 'auditor');
    if (!Number.isSafeInteger(fromSeq) || fromSeq < 1 || !Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new HsmError('ARGUMENTS_BAD', 'fromSeq ≥ 1, 1 ≤ limit ≤ 10000');
    return this.#guardStore(() => this.#vault.listAudit(fromSeq, limit));
  }

  // ───────────────────────── objects ─────────────────────────

  #partitionOf(s: Session): PartitionRecord {
    const p = s.partition ? this.#vault.getPartition(s.partition) : undefined;
    if (!p) throw new HsmError('USER_TYPE_INVALID', 'this account belongs to no partition');
    return p;
  }

  #aliasIndex(partition: string): Map<string, string> {
    let idx = this.#aliases.get(partition);
    if (!idx) {
      idx = new Map();
      for (const o of this.#vault.listObjects(partition)) for (const a of o.meta.aliases) idx.set(a, o.uid);
      this.#aliases.set(partition, idx);
    }
    return idx;
  }

  /** Finds an object by uid or `alias/<name>` in the session's partition; anything else does not exist for this caller. */
  #resolve(s: Session, ref: KeyRef, missing: 'KEY_HANDLE_INVALID' | 'OBJECT_NOT_FOUND'): Resolved {
    // Appliance roles (admin, auditor) address no objects at all: that is a role refusal, not a missing key.
    if (!s.partition) throw new HsmError('USER_TYPE_INVALID', `the ${s.role} role cannot use keys`);
    if (typeof ref !== 'string' || ref.length === 0 || ref.length > 300) throw new HsmError(missing);
    const own = s.objects.get(ref);
    if (own) return { object: own.object, sessionOwned: true };
    const uid = ref.startsWith('alias/') ? this.#aliasIndex(s.partition).get(ref.slice(6)) : ref;
    const o = uid ? this.#guardStore(() => this.#vault.getObject(uid)) : undefined;
    // attacks.md D-01: another partition's object is indistinguishable from no object.
    if (!o || o.partition !== s.partition) throw new HsmError(missing);
    return { object: o, sessionOwned: false };
  }

  /** #resolve for an operation outside the guard pipeline: a miss is audited too (attacks.md §0, D-01). */
  #resolveFor(s: Session, ref: KeyRef, missing: 'KEY_HANDLE_INVALID' | 'OBJECT_NOT_FOUND', op: string): Resolved {
    try {
      return this.#resolve(s, ref, missing);
    } catch (e) {
      throw this.#refused(s, op, undefined, e);
    }
  }

  #persist(s: Session, object: StoredObject, material: Map<number, SecretBytes> | undefined, event: AuditEvent | undefined, sessionOwned = !object.attrs.token): void {
    if (sessionOwned) {
      const existing = s.objects.get(object.uid);
      const merged = existing?.material ?? new Map<number, SecretBytes>();
      if (material) for (const [v, m] of material) merged.set(v, m);
      s.objects.set(object.uid, { object, material: merged });
      if (event) this.#audit(event);
      return;
    }
    this.#guardStore(() =>
      this.#vault.transaction(() => {
        this.#vault.putObject(object, material);
        if (event) this.#vault.appendAudit(event);
      }),
    );
    if (material) for (const m of material.values()) m.destroy();
  }

  #newObject(s: Session, attrs: Attributes, publicData: Uint8Array | undefined): StoredObject {
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

  #keyTypeOf(keyType: KeyType | undefined): KeyTypeDescriptor {
    const kt = keyType ? keyTypeDescriptor(keyType) : undefined;
    if (!kt) throw new HsmError(keyType ? 'ATTRIBUTE_VALUE_INVALID' : 'TEMPLATE_INCOMPLETE', keyType ? `key type ${keyType} is not supported` : 'keyType is required');
    return kt;
  }

  #secretOf(s: Session, r: Resolved, version: number): SecretBytes | undefined {
    if (r.sessionOwned) {
      const m = s.objects.get(r.object.uid)?.material.get(version);
      return m ? SecretBytes.from(m.insecureBytes()) : undefined;
    }
    return this.#guardStore(() => this.#vault.loadSecret(r.object, version));
  }

  /** The usable key for one version, from the bounded cache or unsealed once and parsed once. */
  #load(s: Session, r: Resolved, version: number): LoadedKey {
    const o = r.object;
    const cacheKey = KeyCache.key(o.uid, version, o.revision);
    const hit = this.#cache.get(cacheKey);
    if (hit) return hit;
    const v = o.versions.find((x) => x.version === version);
    if (!v) throw new HsmError('KEY_HANDLE_INVALID', `no version ${version}`);
    const kt = this.#keyTypeOf(o.attrs.keyType);
    const secret = o.attrs.class === 'public-key' ? undefined : this.#secretOf(s, r, version);
    try {
      const material: KeyTypeMaterial = {};
      if (secret) material.secret = secret;
      if (v.publicData) material.publicData = v.publicData;
      if (o.attrs.parameterSet) material.parameterSet = o.attrs.parameterSet;
      const loaded = kt.load(o.uid, version, material);
      this.#cache.set(cacheKey, loaded);
      if (secret && loaded.secret !== secret) secret.destroy();
      return loaded;
    } catch (e) {
      secret?.destroy();
      throw e;
    }
  }

  /** Clear import (C_CreateObject): secret keys, private keys, public keys, certificates, data. */
  async createObject(session: string, template: Template): Promise<string> {
    const s = this.#session(session, 'user', 'officer');
    let tpl: Template;
    let cls: ObjectClass;
    try {
      // Template refusals are audited like every other (attacks.md §0; A-13 step 1, A-17).
      tpl = checkTemplateShape(template);
      if (!tpl.class) throw new HsmError('TEMPLATE_INCOMPLETE', 'class is required');
      cls = tpl.class;
      checkSettable('create', tpl, cls, s.role);
      if (s.role === 'officer' && !(tpl.trusted === true || cls === 'public-key' || cls === 'certificate')) {
        throw new HsmError('USER_TYPE_INVALID', 'an officer creates only trusted wrapping keys, public keys and certificates');
      }
      this.#partitionOf(s);
    } catch (e) {
      throw this.#refused(s, 'object.create', undefined, e);
    }
    let publicData: Uint8Array | undefined;
    let secret: SecretBytes | undefined;
    let facts: KeyFacts = {};
    try {
      if (cls === 'secret-key' || cls === 'private-key' || cls === 'public-key') {
        const kt = this.#keyTypeOf(tpl.keyType);
        if ((kt.kind === 'secret') !== (cls === 'secret-key')) throw new HsmError('TEMPLATE_INCONSISTENT', `${tpl.keyType} is not a ${cls} type`);
        if (cls === 'secret-key') {
          if (!tpl.value) throw new HsmError('TEMPLATE_INCOMPLETE', 'value is required');
          secret = SecretBytes.from(tpl.value);
          facts = kt.facts({ secret });
          kt.load('import', 1, { secret }).secret?.destroy();
        } else if (cls === 'private-key') {
          if (!tpl.privateKey) throw new HsmError('TEMPLATE_INCOMPLETE', 'privateKey is required');
          secret = SecretBytes.from(tpl.privateKey);
          ({ publicData, facts } = await checkPrivateMaterial(kt, secret, tpl.parameterSet));
        } else {
          if (!tpl.publicKey) throw new HsmError('TEMPLATE_INCOMPLETE', 'publicKey is required');
          publicData = Uint8Array.from(tpl.publicKey);
          const m: KeyTypeMaterial = tpl.parameterSet ? { publicData, parameterSet: tpl.parameterSet } : { publicData };
          kt.load('import', 1, m);
          facts = kt.facts(m);
        }
      } else if (cls === 'certificate') {
        if (!tpl.certificate || tpl.certificate[0] !== 0x30) throw new HsmError('TEMPLATE_INCOMPLETE', 'certificate (DER) is required');
        publicData = Uint8Array.from(tpl.certificate);
      } else if (cls === 'data') {
        secret = SecretBytes.from(tpl.value ?? new Uint8Array(0));
      }
      const attrs = withFacts(newAttributes('create', tpl, cls, tpl.keyType, { local: false }), facts);
      checkConsistency(attrs);
      const object = this.#newObject(s, attrs, publicData);
      this.#persist(s, object, secret ? new Map([[1, secret]]) : undefined, { actor: s.user, partition: s.partition, op: 'object.create', target: object.uid, outcome: 'ok', detail: cls });
      return object.uid;
    } catch (e) {
      secret?.destroy();
      throw this.#refused(s, 'object.create', undefined, e);
    }
  }

  /** Audits a refusal (attacks.md §0: every refused call leaves a record) and hands the error on. */
  #refused(s: Session, op: string, target: string | undefined, e: unknown): unknown {
    if (isHsmError(e)) {
      const ev: AuditEvent = { actor: s.user, op, outcome: 'refused', code: e.code };
      if (s.partition) ev.partition = s.partition;
      if (target) ev.target = target;
      if (e.detail) ev.detail = e.detail;
      try {
        this.#audit(ev);
      } catch {
        // The refusal stands even if the audit write fails; the store error surfaces on the next write.
      }
    }
    return e;
  }

  #generatorFor(name: string | undefined, keyType: KeyType | undefined, op: Operation): { mech: MechanismDescriptor; keyType: KeyType } {
    const mech = lookupMechanism(name ?? (keyType ? GENERATOR[keyType] : 'AES-KEY-GEN'));
    if (!mech.operations.includes(op)) throw new HsmError('MECHANISM_INVALID', `${mech.name} does not ${op}`);
    const kt = keyType ?? mech.keyTypes[0];
    if (!kt || !mech.keyTypes.includes(kt)) throw new HsmError('TEMPLATE_INCONSISTENT', `${mech.name} does not make ${keyType} keys`);
    return { mech, keyType: kt };
  }

  #checkApproved(s: Session, mech: MechanismDescriptor): void {
    if (mech.disabledByDefault) throw new HsmError('MECHANISM_INVALID', `${mech.name} is disabled`);
    if (!mech.approved && this.#partitionOf(s).fipsApprovedOnly) throw new HsmError('MECHANISM_NOT_APPROVED', mech.name);
  }

  async generateKey(session: string, input: { mechanism?: string; template: Template }): Promise<string> {
    const s = this.#session(session, 'user');
    try {
      const tpl = checkTemplateShape(input?.template ?? {});
      const { mech, keyType } = this.#generatorFor(input?.mechanism, tpl.keyType, 'generate');
      this.#checkApproved(s, mech);
      if (tpl.class !== undefined && tpl.class !== 'secret-key') throw new HsmError('TEMPLATE_INCONSISTENT', 'generateKey makes secret keys');
      checkSettable('generate', tpl, 'secret-key', s.role);
      const kt = this.#keyTypeOf(keyType);
      const spec = kt.normalizeSpec(tpl.valueLen !== undefined ? { keyType, valueLen: tpl.valueLen } : { keyType });
      const gen = await kt.generate!(spec);
      const attrs = withFacts(newAttributes('generate', tpl, 'secret-key', keyType, { local: true }), kt.facts({ secret: gen.secret }));
      checkConsistency(attrs);
      const object = this.#newObject(s, attrs, undefined);
      this.#persist(s, object, new Map([[1, gen.secret]]), { actor: s.user, partition: s.partition, op: 'key.generate', target: object.uid, outcome: 'ok', detail: mech.name });
      return object.uid;
    } catch (e) {
      throw this.#refused(s, 'key.generate', undefined, e);
    }
  }

  async generateKeyPair(session: string, input: { mechanism?: string; publicTemplate?: Template; privateTemplate?: Template }): Promise<{ publicKey: string; privateKey: string }> {
    const s = this.#session(session, 'user');
    try {
      const pubTpl = checkTemplateShape(input?.publicTemplate ?? {});
      const privTpl = checkTemplateShape(input?.privateTemplate ?? {});
      if (pubTpl.keyType && privTpl.keyType && pubTpl.keyType !== privTpl.keyType) throw new HsmError('TEMPLATE_INCONSISTENT', 'the two halves differ in keyType');
      const { mech, keyType } = this.#generatorFor(input?.mechanism, privTpl.keyType ?? pubTpl.keyType, 'generate-pair');
      this.#checkApproved(s, mech);
      if ((pubTpl.class ?? 'public-key') !== 'public-key' || (privTpl.class ?? 'private-key') !== 'private-key') throw new HsmError('TEMPLATE_INCONSISTENT', 'class does not match the half');
      checkSettable('generate', pubTpl, 'public-key', s.role);
      checkSettable('generate', privTpl, 'private-key', s.role);
      mirrorUsages(pubTpl, privTpl);
      const kt = this.#keyTypeOf(keyType);
      const merged = { ...pubTpl, ...privTpl };
      const spec = kt.normalizeSpec({
        keyType,
        ...(merged.modulusBits !== undefined ? { modulusBits: merged.modulusBits } : {}),
        ...(merged.publicExponent !== undefined ? { publicExponent: merged.publicExponent } : {}),
        ...(merged.curve !== undefined ? { curve: merged.curve } : {}),
        ...(merged.parameterSet !== undefined ? { parameterSet: merged.parameterSet } : {}),
      });
      const pair = await kt.generatePair!(spec);
      const priv = kt.load('generated', 1, { secret: pair.secret, publicData: pair.publicData });
      const pub = kt.load('generated', 1, { publicData: pair.publicData });
      try {
        await kt.pairwiseTest?.(priv, pub);
      } catch {
        pair.secret.destroy();
        this.#enterError(`pairwise-consistency test failed for a generated ${keyType} pair`);
        throw new HsmError('DEVICE_ERROR', 'pairwise-consistency test failed');
      } finally {
        if (priv.secret !== pair.secret) priv.secret?.destroy();
      }
      const facts = kt.facts({ publicData: pair.publicData });
      const privAttrs = withFacts(newAttributes('generate', privTpl, 'private-key', keyType, { local: true }), facts);
      const pubAttrs = withFacts(newAttributes('generate', pubTpl, 'public-key', keyType, { local: true }), facts);
      checkConsistency(privAttrs, pubAttrs);
      checkConsistency(pubAttrs, privAttrs);
      const privObj = this.#newObject(s, privAttrs, pair.publicData);
      const pubObj = this.#newObject(s, pubAttrs, pair.publicData);
      privObj.meta.peer = pubObj.uid;
      pubObj.meta.peer = privObj.uid;
      const ev = (o: StoredObject): AuditEvent => ({ actor: s.user, partition: s.partition, op: 'key.generate', target: o.uid, outcome: 'ok', detail: mech.name });
      if (privAttrs.token && pubAttrs.token) {
        this.#guardStore(() =>
          this.#vault.transaction(() => {
            this.#vault.putObject(privObj, new Map([[1, pair.secret]]));
            this.#vault.putObject(pubObj);
            this.#vault.appendAudit(ev(privObj));
            this.#vault.appendAudit(ev(pubObj));
          }),
        );
        pair.secret.destroy();
      } else {
        this.#persist(s, privObj, new Map([[1, pair.secret]]), ev(privObj));
        this.#persist(s, pubObj, undefined, ev(pubObj));
      }
      return { publicKey: pubObj.uid, privateKey: privObj.uid };
    } catch (e) {
      throw this.#refused(s, 'key.generate', undefined, e);
    }
  }

  #info(o: StoredObject): ObjectInfo {
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
    };
    if (o.meta.deletionDate) info.deletionDate = o.meta.deletionDate;
    if (o.meta.peer) info.peer = o.meta.peer;
    return info;
  }

  async getAttributes(session: string, ref: KeyRef): Promise<ObjectInfo> {
    const s = this.#session(session, 'user', 'officer');
    return this.#info(this.#resolve(s, ref, 'OBJECT_NOT_FOUND').object);
  }

  /** Uids of the partition's objects matching every attribute in `filter` (and session objects). */
  async findObjects(session: string, filter: Template = {}): Promise<string[]> {
    const s = this.#session(session, 'user', 'officer');
    const tpl = checkTemplateShape(filter);
    const stored = this.#guardStore(() => this.#vault.listObjects(s.partition!));
    const all = [...stored, ...[...s.objects.values()].map((o) => o.object)];
    return all.filter((o) => o.meta.state !== 'destroyed' && matchesTemplate(o.attrs, tpl)).map((o) => o.uid);
  }

  async getPublicKey(session: string, ref: KeyRef): Promise<Uint8Array> {
    const s = this.#session(session, 'user', 'officer');
    const o = this.#resolveFor(s, ref, 'KEY_HANDLE_INVALID', 'object.public-key').object;
    const v = o.versions.find((x) => x.version === o.meta.currentVersion);
    if ((o.attrs.class !== 'public-key' && o.attrs.class !== 'private-key') || !v?.publicData) {
      throw this.#refused(s, 'object.public-key', o.uid, new HsmError('KEY_TYPE_INCONSISTENT', 'not an asymmetric key'));
    }
    return Uint8Array.from(v.publicData);
  }

  async setAttributes(session: string, ref: KeyRef, template: Template): Promise<void> {
    const s = this.#session(session, 'user', 'officer');
    const r = this.#resolveFor(s, ref, 'OBJECT_NOT_FOUND', 'object.set');
    try {
      const tpl = checkTemplateShape(template);
      const next = changedAttributes('set', r.object.attrs, tpl, s.role);
      checkConsistency(next);
      const updated: StoredObject = { ...r.object, attrs: next, revision: r.object.revision + 1, meta: { ...r.object.meta, updatedAt: now() } };
      this.#cache.forget(updated.uid);
      this.#persist(s, updated, undefined, { actor: s.user, partition: s.partition, op: 'object.set', target: updated.uid, outcome: 'ok', detail: Object.keys(tpl).join(',') }, r.sessionOwned);
    } catch (e) {
      throw this.#refused(s, 'object.set', r.object.uid, e);
    }
  }

  async copyObject(session: string, ref: KeyRef, template: Template = {}): Promise<string> {
    const s = this.#session(session, 'user');
    const r = this.#resolveFor(s, ref, 'OBJECT_NOT_FOUND', 'object.copy');
    const material = new Map<number, SecretBytes>();
    try {
      const tpl = checkTemplateShape(template);
      const attrs = changedAttributes('copy', r.object.attrs, tpl, s.role);
      checkConsistency(attrs);
      for (const v of r.object.versions) {
        const m = this.#secretOf(s, r, v.version);
        if (m) material.set(v.version, m);
      }
      const copy = this.#newObject(s, attrs, undefined);
      copy.versions = r.object.versions.map((v) => ({ ...v }));
      copy.meta.currentVersion = r.object.meta.currentVersion;
      this.#persist(s, copy, material, { actor: s.user, partition: s.partition, op: 'object.copy', target: copy.uid, outcome: 'ok', detail: `from ${r.object.uid}` });
      return copy.uid;
    } catch (e) {
      for (const m of material.values()) m.destroy();
      throw this.#refused(s, 'object.copy', r.object.uid, e);
    }
  }

  async destroyObject(session: string, ref: KeyRef): Promise<void> {
    const s = this.#session(session, 'user');
    const r = this.#resolveFor(s, ref, 'OBJECT_NOT_FOUND', 'object.destroy');
    if (!r.object.attrs.destroyable) throw this.#refused(s, 'object.destroy', r.object.uid, new HsmError('ACTION_PROHIBITED', 'the object is not destroyable'));
    this.#destroy(s, r, s.user);
  }

  #destroy(s: Session | undefined, r: Resolved, actor: string): void {
    const o = r.object;
    this.#cache.forget(o.uid);
    if (o.meta.aliases.length > 0) this.#aliases.delete(o.partition);
    if (r.sessionOwned && s) {
      const so = s.objects.get(o.uid);
      for (const m of so?.material.values() ?? []) m.destroy();
      s.objects.delete(o.uid);
      return;
    }
    this.#guardStore(() =>
      this.#vault.transaction(() => {
        this.#vault.deleteObject(o.uid);
        this.#vault.appendAudit({ actor, partition: o.partition, op: 'object.destroy', target: o.uid, outcome: 'ok' });
      }),
    );
  }

  // ───────────────────────── KMS-style key management ─────────────────────────

  #updateMeta(s: Session, ref: KeyRef, op: string, change: (o: StoredObject) => StoredObject, material?: Map<number, SecretBytes>): StoredObject {
    const r = this.#resolveFor(s, ref, 'KEY_HANDLE_INVALID', op);
    try {
      const next = change(r.object);
      next.revision = r.object.revision + 1;
      next.meta.updatedAt = now();
      this.#cache.forget(next.uid);
      this.#persist(s, next, material, { actor: s.user, partition: s.partition, op, target: next.uid, outcome: 'ok' }, r.sessionOwned);
      return next;
    } catch (e) {
      throw this.#refused(s, op, r.object.uid, e);
    }
  }

  async setKeyState(session: string, ref: KeyRef, state: 'enabled' | 'disabled'): Promise<void> {
    const s = this.#session(session, 'user');
    if (state !== 'enabled' && state !== 'disabled') throw new HsmError('ARGUMENTS_BAD', 'state is enabled or disabled');
    this.#updateMeta(s, ref, `key.${state === 'enabled' ? 'enable' : 'disable'}`, (o) => {
      if (o.meta.state === 'pending-deletion') throw new HsmError('KEY_STATE_INVALID', 'cancel the deletion first');
      return { ...o, meta: { ...o.meta, state } };
    });
  }

  /** Schedules destruction after a waiting period of 7–30 days (default 30), as the big KMS services do. */
  async scheduleDeletion(session: string, ref: KeyRef, days = 30): Promise<string> {
    const s = this.#session(session, 'user');
    if (!Number.isSafeInteger(days) || days < 7 || days > 30) throw new HsmError('ARGUMENTS_BAD', 'the waiting period is 7 to 30 days');
    const date = new Date(Date.now() + days * DAY_MS).toISOString();
    this.#updateMeta(s, ref, 'key.schedule-deletion', (o) => {
      if (!o.attrs.destroyable) throw new HsmError('ACTION_PROHIBITED', 'the object is not destroyable');
      return { ...o, meta: { ...o.meta, state: 'pending-deletion', deletionDate: date } };
    });
    return date;
  }

  async cancelDeletion(session: string, ref: KeyRef): Promise<void> {
    const s = this.#session(session, 'user');
    this.#updateMeta(s, ref, 'key.cancel-deletion', (o) => {
      if (o.meta.state !== 'pending-deletion') throw new HsmError('KEY_STATE_INVALID', 'no deletion is pending');
      const { deletionDate: _drop, ...meta } = o.meta;
      return { ...o, meta: { ...meta, state: 'disabled' } };
    });
  }

  /** Destroys every key whose deletion date has passed; returns how many. Run periodically by the server. */
  purgeDueDeletions(at = new Date()): number {
    this.#checkReady();
    let n = 0;
    for (const p of this.#vault.listPartitions()) {
      for (const o of this.#vault.listObjects(p.name)) {
        if (o.meta.state === 'pending-deletion' && o.meta.deletionDate && new Date(o.meta.deletionDate) <= at) {
          this.#destroy(undefined, { object: o, sessionOwned: false }, 'system');
          n++;
        }
      }
    }
    return n;
  }

  /** Appends a new key version (secret keys); new operations use it, old versions still decrypt and verify. */
  async rotateKey(session: string, ref: KeyRef): Promise<number> {
    const s = this.#session(session, 'user');
    const r = this.#resolve(s, ref, 'KEY_HANDLE_INVALID');
    const o = r.object;
    if (o.attrs.class !== 'secret-key') throw this.#refused(s, 'key.rotate', o.uid, new HsmError('KEY_TYPE_INCONSISTENT', 'rotation applies to secret keys; make a new pair for asymmetric keys'));
    const kt = this.#keyTypeOf(o.attrs.keyType);
    const spec = kt.normalizeSpec(o.attrs.valueLen !== undefined ? { keyType: kt.keyType, valueLen: o.attrs.valueLen } : { keyType: kt.keyType });
    const gen = await kt.generate!(spec);
    const version = Math.max(...o.versions.map((v) => v.version)) + 1;
    this.#updateMeta(
      s,
      ref,
      'key.rotate',
      (cur) => ({ ...cur, versions: [...cur.versions, { version, createdAt: now() }], meta: { ...cur.meta, currentVersion: version } }),
      new Map([[version, gen.secret]]),
    );
    return version;
  }

  async setAliases(session: string, ref: KeyRef, aliases: string[]): Promise<void> {
    const s = this.#session(session, 'user');
    if (!Array.isArray(aliases) || aliases.length > 32 || !aliases.every((a) => typeof a === 'string' && ALIAS.test(a))) {
      throw new HsmError('ARGUMENTS_BAD', 'aliases: up to 32 names of letters, digits and / _ . -');
    }
    const idx = this.#aliasIndex(s.partition!);
    const r = this.#resolve(s, ref, 'KEY_HANDLE_INVALID');
    for (const a of aliases) {
      const holder = idx.get(a);
      if (holder !== undefined && holder !== r.object.uid) throw new HsmError('ALREADY_EXISTS', `alias ${a}`);
    }
    this.#updateMeta(s, r.object.uid, 'key.aliases', (o) => ({ ...o, meta: { ...o.meta, aliases: [...new Set(aliases)] } }));
    this.#aliases.delete(s.partition!);
  }

  async setTags(session: string, ref: KeyRef, tags: Record<string, string>): Promise<void> {
    const s = this.#session(session, 'user');
    if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) throw new HsmError('ARGUMENTS_BAD', 'tags are a string map');
    const entries = Object.entries(tags);
    if (entries.length > 50 || !entries.every(([k, v]) => typeof v === 'string' && k.length > 0 && k.length <= 128 && v.length <= 256)) {
      throw new HsmError('ARGUMENTS_BAD', 'up to 50 tags, keys ≤128 and values ≤256 characters');
    }
    this.#updateMeta(s, ref, 'key.tags', (o) => ({ ...o, meta: { ...o.meta, tags: Object.fromEntries(entries) } }));
  }

  // ───────────────────────── the guard pipeline ─────────────────────────

  /**
   * Steps 1–8 of the pipeline for an operation on a key. The order is fixed so that the same
   * misuse gets the same code from every front end.
   */
  #guard(session: string, op: Operation, ref: KeyRef, mechName: string, keyVersion: number | undefined): Guarded {
    this.#checkReady(); // 1. state
    if (typeof mechName !== 'string') throw new HsmError('ARGUMENTS_BAD', 'mechanism is required'); // 2. arguments
    const s = this.#sessions.get(session); // 3. session
    let r: Resolved | undefined;
    try {
      r = this.#resolve(s, ref, 'KEY_HANDLE_INVALID'); // 4. object
      if (s.role !== 'user') throw new HsmError('USER_TYPE_INVALID', `the ${s.role} role cannot use keys`); // 5. authorisation
      const a = r.object.attrs;
      const mech = lookupMechanism(mechName);
      const usage = mech.usage?.[op] ?? (DEFAULT_USAGE_BY_OP[op] as UsageAttribute | undefined);
      if (usage && !a[usage]) throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', `the key's ${usage} attribute is false`); // 6. usage
      checkKeyUsable(r.object, op);
      if (!mech.operations.includes(op)) throw new HsmError('MECHANISM_INVALID', `${mech.name} does not ${op}`); // 7. allowed mechanism
      if (a.allowedMechanisms && !a.allowedMechanisms.includes(mech.name.toUpperCase())) throw new HsmError('MECHANISM_INVALID', `${mech.name} is not allowed for this key`);
      this.#checkApproved(s, mech);
      if (!a.keyType || !mech.keyTypes.includes(a.keyType)) throw new HsmError('KEY_TYPE_INCONSISTENT', `${mech.name} takes ${mech.keyTypes.join('/')} keys`); // 8. key type/size
      if (mech.keyBits) {
        const bits = keyBits(a);
        if (bits !== undefined && (bits < mech.keyBits.min || bits > mech.keyBits.max)) throw new HsmError('KEY_SIZE_RANGE');
      }
      const version = keyVersion ?? r.object.meta.currentVersion;
      if (!Number.isSafeInteger(version) || !r.object.versions.some((v) => v.version === version)) throw new HsmError('ARGUMENTS_BAD', 'no such key version');
      return { session: s, resolved: r, mech, version };
    } catch (e) {
      throw this.#refused(s, op, r?.object.uid, e);
    }
  }

  /** Step 9 and 10: runs the mechanism with the unsealed key and audits per the key's policy. */
  async #execute<T>(g: Guarded, op: Operation, fn: (key: LoadedKey) => Promise<T>): Promise<T> {
    const key = this.#load(g.session, g.resolved, g.version);
    this.#cache.acquire(key);
    const o = g.resolved.object;
    try {
      const out = await fn(key);
      if (o.attrs.auditUse) this.#audit({ actor: g.session.user, partition: o.partition, op, target: o.uid, outcome: 'ok', detail: g.mech.name });
      return out;
    } catch (e) {
      // The caller gets the uniform code; the audit log gets the cause (DESIGN §3).
      const ev: AuditEvent = { actor: g.session.user, partition: o.partition, op, target: o.uid, outcome: 'failed', detail: g.mech.name };
      if (isHsmError(e)) ev.code = e.code;
      else ev.detail = `${g.mech.name}: ${(e as Error)?.name ?? 'error'}`;
      this.#audit(ev);
      const uniform = UNIFORM_FAILURE[op];
      if (uniform && !isHsmError(e, 'MECHANISM_PARAM_INVALID')) throw new HsmError(uniform);
      throw e;
    } finally {
      this.#cache.release(key);
    }
  }

  async encrypt(session: string, input: { key: KeyRef; mechanism: string; data: Uint8Array; params?: MechanismParams }): Promise<{ data: Uint8Array; params?: MechanismParams; keyVersion: number }> {
    const g = this.#guard(session, 'encrypt', input?.key, input?.mechanism, undefined);
    const data = bytes(input.data, 'data');
    const p = params(input.params);
    const res = await this.#execute(g, 'encrypt', (k) => g.mech.impl.encrypt!(k, data, p));
    const out: { data: Uint8Array; params?: MechanismParams; keyVersion: number } = { data: res.output, keyVersion: g.version };
    if (res.params) out.params = res.params;
    return out;
  }

  async decrypt(session: string, input: { key: KeyRef; mechanism: string; data: Uint8Array; params?: MechanismParams; keyVersion?: number }): Promise<Uint8Array> {
    const g = this.#guard(session, 'decrypt', input?.key, input?.mechanism, input?.keyVersion);
    const data = bytes(input.data, 'data');
    const p = params(input.params);
    const res = await this.#execute(g, 'decrypt', (k) => g.mech.impl.decrypt!(k, data, p));
    if (res instanceof SecretBytes) {
      const copy = Uint8Array.from(res.insecureBytes());
      res.destroy();
      return copy;
    }
    return res;
  }

  async sign(session: string, input: { key: KeyRef; mechanism: string; data: Uint8Array; params?: MechanismParams }): Promise<{ signature: Uint8Array; keyVersion: number }> {
    const g = this.#guard(session, 'sign', input?.key, input?.mechanism, undefined);
    const data = bytes(input.data, 'data');
    const p = params(input.params);
    const signature = await this.#execute(g, 'sign', (k) => g.mech.impl.sign!(k, data, p));
    return { signature, keyVersion: g.version };
  }

  async verify(session: string, input: { key: KeyRef; mechanism: string; data: Uint8Array; signature: Uint8Array; params?: MechanismParams; keyVersion?: number }): Promise<boolean> {
    const g = this.#guard(session, 'verify', input?.key, input?.mechanism, input?.keyVersion);
    const data = bytes(input.data, 'data');
    const sig = bytes(input.signature, 'signature');
    const p = params(input.params);
    return this.#execute(g, 'verify', (k) => g.mech.impl.verify!(k, data, sig, p));
  }

  async digest(session: string, input: { mechanism: string; data: Uint8Array; params?: MechanismParams }): Promise<Uint8Array> {
    const s = this.#session(session);
    const mech = lookupMechanism(input?.mechanism);
    if (!mech.operations.includes('digest') || !mech.impl.digest) throw new HsmError('MECHANISM_INVALID', `${mech.name} is not a digest`);
    if (s.partition) this.#checkApproved(s, mech);
    return mech.impl.digest(bytes(input.data, 'data'), params(input.params));
  }

  randomBytes(session: string, length: number): Uint8Array {
    this.#session(session);
    if (!Number.isSafeInteger(length) || length < 1 || length > MAX_RANDOM) throw new HsmError('DATA_LEN_RANGE', `1 to ${MAX_RANDOM} bytes`);
    return randomBytes(length);
  }

  #strength(a: Attributes): number {
    return this.#keyTypeOf(a.keyType).strength(factsOf(a));
  }

  /** Exports a key encrypted under another (C_WrapKey): the only way key material leaves. */
  async wrapKey(session: string, input: { wrappingKey: KeyRef; key: KeyRef; mechanism: string; params?: MechanismParams }): Promise<{ wrapped: Uint8Array; params?: MechanismParams }> {
    const g = this.#guard(session, 'wrap', input?.wrappingKey, input?.mechanism, undefined);
    const s = g.session;
    const w = g.resolved.object;
    let target: Resolved | undefined;
    try {
      target = this.#resolve(s, input.key, 'KEY_HANDLE_INVALID');
      const t = target.object.attrs;
      if (t.class !== 'secret-key' && t.class !== 'private-key') throw new HsmError('KEY_NOT_WRAPPABLE', 'only secret and private keys are wrapped');
      if (!t.extractable) throw new HsmError('KEY_UNEXTRACTABLE');
      if (t.wrapWithTrusted && !w.attrs.trusted) throw new HsmError('KEY_NOT_WRAPPABLE', 'the key may be wrapped only under a trusted key'); // attacks.md A-13
      if (w.attrs.wrapTemplate && !matchesTemplate(t, w.attrs.wrapTemplate)) throw new HsmError('KEY_NOT_WRAPPABLE', "the key does not match the wrapping key's wrapTemplate");
      if (this.#strength(w.attrs) < this.#strength(t)) throw new HsmError('WRAPPING_KEY_TYPE_INCONSISTENT', 'the wrapping key is weaker than the key'); // A-10, SP 800-57 Pt 1 §5.6.1
      checkKeyUsable(target.object, 'wrap');
    } catch (e) {
      throw this.#refused(s, 'key.wrap', target?.object.uid ?? w.uid, e);
    }
    const p = params(input.params);
    const material = this.#secretOf(s, target, target.object.meta.currentVersion);
    if (!material) throw new HsmError('KEY_NOT_WRAPPABLE');
    try {
      const res = await this.#execute(g, 'wrap', (k) => g.mech.impl.wrap!(k, material, p));
      this.#audit({ actor: s.user, partition: s.partition, op: 'key.wrap', target: target.object.uid, outcome: 'ok', detail: `under ${w.uid} with ${g.mech.name}` });
      const out: { wrapped: Uint8Array; params?: MechanismParams } = { wrapped: res.output };
      if (res.params) out.params = res.params;
      return out;
    } finally {
      material.destroy();
    }
  }

  /** Imports a wrapped key (C_UnwrapKey). The new key is never local and never always-sensitive. */
  async unwrapKey(session: string, input: { unwrappingKey: KeyRef; mechanism: string; wrapped: Uint8Array; params?: MechanismParams; template: Template }): Promise<string> {
    const g = this.#guard(session, 'unwrap', input?.unwrappingKey, input?.mechanism, undefined);
    const s = g.session;
    let tpl: Template;
    let kt: KeyTypeDescriptor;
    try {
      const callerTpl = checkTemplateShape(input.template);
      const cls = callerTpl.class;
      if (cls !== 'secret-key' && cls !== 'private-key') throw new HsmError('TEMPLATE_INCOMPLETE', 'class secret-key or private-key is required');
      checkSettable('unwrap', callerTpl, cls, s.role);
      tpl = mergeBound(callerTpl, g.resolved.object.attrs.unwrapTemplate);
      kt = this.#keyTypeOf(tpl.keyType);
      if ((kt.kind === 'secret') !== (cls === 'secret-key')) throw new HsmError('TEMPLATE_INCONSISTENT', `${tpl.keyType} is not a ${cls} type`);
    } catch (e) {
      throw this.#refused(s, 'key.unwrap', g.resolved.object.uid, e);
    }
    const wrapped = bytes(input.wrapped, 'wrapped');
    const p = params(input.params);
    const secret = await this.#execute(g, 'unwrap', (k) => g.mech.impl.unwrap!(k, wrapped, p));
    try {
      const cls = tpl.class as ObjectClass;
      let publicData: Uint8Array | undefined;
      let facts: KeyFacts;
      try {
        if (cls === 'secret-key') {
          facts = kt.facts({ secret });
          if (tpl.valueLen !== undefined && facts.valueLen !== tpl.valueLen) throw new Error('length differs from the template');
          kt.load('unwrapped', 1, { secret }).secret?.destroy();
        } else {
          ({ publicData, facts } = await checkPrivateMaterial(kt, secret, tpl.parameterSet));
        }
      } catch {
        // Malformed plaintext is reported exactly like a failed decryption: one code (attacks.md B-06).
        this.#audit({ actor: s.user, partition: s.partition, op: 'key.unwrap', target: g.resolved.object.uid, outcome: 'failed', code: 'UNWRAP_FAILED', detail: 'unwrapped material is not a valid key of the template type' });
        throw new HsmError('UNWRAP_FAILED');
      }
      const { valueLen: _v, ...rest } = tpl;
      const attrs = withFacts(newAttributes('unwrap', rest, cls, tpl.keyType, { local: false }), facts);
      checkConsistency(attrs);
      const object = this.#newObject(s, attrs, publicData);
      this.#persist(s, object, new Map([[1, secret]]), { actor: s.user, partition: s.partition, op: 'key.unwrap', target: object.uid, outcome: 'ok', detail: `under ${g.resolved.object.uid} with ${g.mech.name}` });
      return object.uid;
    } catch (e) {
      secret.destroy();
      throw this.#refused(s, 'key.unwrap', g.resolved.object.uid, e);
    }
  }

  /** Template of a key made inside from other key material (derive, encapsulate, decapsulate). */
  #derivedTemplate(s: Session, template: Template, bound: Template | undefined): { tpl: Template; kt: KeyTypeDescriptor; length: number } {
    const callerTpl = checkTemplateShape(template ?? {});
    if ((callerTpl.class ?? 'secret-key') !== 'secret-key') throw new HsmError('TEMPLATE_INCONSISTENT', 'a derived key is a secret key');
    checkSettable('derive', callerTpl, 'secret-key', s.role);
    const tpl = mergeBound({ ...callerTpl, class: 'secret-key', keyType: callerTpl.keyType ?? 'generic-secret' }, bound);
    const kt = this.#keyTypeOf(tpl.keyType);
    if (kt.kind !== 'secret') throw new HsmError('TEMPLATE_INCONSISTENT', 'a derived key is a secret key');
    const spec = kt.normalizeSpec(tpl.valueLen !== undefined ? { keyType: kt.keyType, valueLen: tpl.valueLen } : { keyType: kt.keyType });
    // attacks.md A-16: HKDF and ECDH outputs of length n are prefixes of longer ones, so 1-byte keys
    // brute-forced one length at a time rebuild a full derived key; 112 bits is SP 800-131A's floor.
    if ((spec.valueLen ?? 32) < MIN_DERIVED_BYTES) throw new HsmError('KEY_SIZE_RANGE', `a derived key has at least ${MIN_DERIVED_BYTES} bytes`);
    return { tpl, kt, length: spec.valueLen ?? 32 };
  }

  #storeDerived(s: Session, op: string, base: StoredObject, tpl: Template, kt: KeyTypeDescriptor, secret: SecretBytes, mechName: string): string {
    try {
      kt.load('derived', 1, { secret }).secret?.destroy();
      const { valueLen: _v, ...rest } = tpl;
      const attrs = withFacts(newAttributes('derive', rest, 'secret-key', kt.keyType, { local: false, base: base.attrs }), kt.facts({ secret }));
      checkConsistency(attrs);
      const object = this.#newObject(s, attrs, undefined);
      this.#persist(s, object, new Map([[1, secret]]), { actor: s.user, partition: s.partition, op, target: object.uid, outcome: 'ok', detail: `from ${base.uid} with ${mechName}` });
      return object.uid;
    } catch (e) {
      secret.destroy();
      throw this.#refused(s, op, base.uid, e);
    }
  }

  async deriveKey(session: string, input: { baseKey: KeyRef; mechanism: string; params?: MechanismParams; template: Template }): Promise<string> {
    const g = this.#guard(session, 'derive', input?.baseKey, input?.mechanism, undefined);
    const base = g.resolved.object;
    let d: { tpl: Template; kt: KeyTypeDescriptor; length: number };
    try {
      d = this.#derivedTemplate(g.session, input.template, base.attrs.deriveTemplate);
    } catch (e) {
      throw this.#refused(g.session, 'key.derive', base.uid, e);
    }
    const p = params(input.params);
    const secret = await this.#execute(g, 'derive', (k) => g.mech.impl.derive!(k, p, d.length));
    return this.#storeDerived(g.session, 'key.derive', base, d.tpl, d.kt, secret, g.mech.name);
  }

  async encapsulate(session: string, input: { key: KeyRef; mechanism: string; params?: MechanismParams; template?: Template }): Promise<{ ciphertext: Uint8Array; key: string }> {
    const g = this.#guard(session, 'encapsulate', input?.key, input?.mechanism, undefined);
    const base = g.resolved.object;
    let d: { tpl: Template; kt: KeyTypeDescriptor; length: number };
    try {
      d = this.#derivedTemplate(g.session, input.template ?? {}, undefined);
    } catch (e) {
      throw this.#refused(g.session, 'key.encapsulate', base.uid, e);
    }
    const p = params(input.params);
    const enc = await this.#execute(g, 'encapsulate', (k) => g.mech.impl.encapsulate!(k, p));
    const secret = fitLength(enc.sharedSecret, d.length);
    const uid = this.#storeDerived(g.session, 'key.encapsulate', { ...base, attrs: { ...base.attrs, sensitive: true, extractable: false, alwaysSensitive: false, neverExtractable: false } }, d.tpl, d.kt, secret, g.mech.name);
    return { ciphertext: enc.ciphertext, key: uid };
  }

  async decapsulate(session: string, input: { key: KeyRef; mechanism: string; ciphertext: Uint8Array; params?: MechanismParams; template?: Template }): Promise<string> {
    const g = this.#guard(session, 'decapsulate', input?.key, input?.mechanism, undefined);
    const base = g.resolved.object;
    let d: { tpl: Template; kt: KeyTypeDescriptor; length: number };
    try {
      d = this.#derivedTemplate(g.session, input.template ?? {}, undefined);
    } catch (e) {
      throw this.#refused(g.session, 'key.decapsulate', base.uid, e);
    }
    const ct = bytes(input.ciphertext, 'ciphertext');
    const p = params(input.params);
    const shared = await this.#execute(g, 'decapsulate', (k) => g.mech.impl.decapsulate!(k, ct, p));
    // The encapsulator knows the secret too: the new key is never always-sensitive.
    const secret = fitLength(shared, d.length);
    return this.#storeDerived(g.session, 'key.decapsulate', { ...base, attrs: { ...base.attrs, alwaysSensitive: false, neverExtractable: false } }, d.tpl, d.kt, secret, g.mech.name);
  }
}

let processSelfTests: Promise<{ passed: number; failed: string[] }> | undefined;

/** Every mechanism's known-answer test, then a random-source health check. */
async function runAllSelfTests(forceFailure: string | undefined): Promise<{ passed: number; failed: string[] }> {
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
  // Random source health (FIPS 140-3 IG 10.3.A-style): start-up draws must differ and not be all zero.
  const draws = [randomBytes(32), randomBytes(32), randomBytes(32)];
  if (draws[0]!.equals(draws[1]!) || draws[1]!.equals(draws[2]!) || draws.some((d) => d.every((b) => b === 0))) failed.push('random-health');
  return { passed, failed };
}

const DEFAULT_USAGE_BY_OP: Partial<Record<Operation, UsageAttribute>> = {
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
const UNIFORM_FAILURE: Partial<Record<Operation, 'DECRYPT_FAILED' | 'UNWRAP_FAILED' | 'DECAPSULATE_FAILED'>> = {
  decrypt: 'DECRYPT_FAILED',
  unwrap: 'UNWRAP_FAILED',
  decapsulate: 'DECAPSULATE_FAILED',
};

/** A precomputed hash so logins for unknown accounts cost the same as real ones. */
const DUMMY_HASH = `scrypt$${DEFAULT_SCRYPT.N}$${DEFAULT_SCRYPT.r}$${DEFAULT_SCRYPT.p}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`;

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) throw new HsmError('ARGUMENTS_BAD', 'account names are 1–64 letters, digits and . _ @ -');
}

/** Key state and validity dates: originating uses need an enabled key inside its dates (SP 800-57 §5.3). */
function checkKeyUsable(o: StoredObject, op: Operation): void {
  if (o.meta.state !== 'enabled') throw new HsmError('KEY_STATE_INVALID', `the key is ${o.meta.state}`);
  const originating = op === 'encrypt' || op === 'sign' || op === 'wrap' || op === 'encapsulate' || op === 'derive';
  const today = new Date().toISOString().slice(0, 10);
  if (o.attrs.startDate && today < o.attrs.startDate) throw new HsmError('KEY_STATE_INVALID', 'before the key start date');
  if (originating && o.attrs.endDate && today > o.attrs.endDate) throw new HsmError('KEY_STATE_INVALID', 'after the key end date');
}

function keyBits(a: Attributes): number | undefined {
  if (a.valueLen !== undefined) return a.valueLen * 8;
  return a.modulusBits;
}

/** Both halves of a pair get matching usages when only one half names any (sign ↔ verify …). */
function mirrorUsages(pub: Template, priv: Template): void {
  const copy = (from: Template, to: Template): void => {
    for (const [u, m] of Object.entries(MIRROR) as [UsageAttribute, UsageAttribute][]) if (from[u] === true && to[m] === undefined) (to as Record<string, unknown>)[m] = true;
  };
  if (hasAnyUsage(priv) && !hasAnyUsage(pub)) copy(priv, pub);
  else if (hasAnyUsage(pub) && !hasAnyUsage(priv)) copy(pub, priv);
}

function fitLength(secret: SecretBytes, length: number): SecretBytes {
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
async function checkPrivateMaterial(kt: KeyTypeDescriptor, secret: SecretBytes, parameterSet: string | undefined): Promise<{ publicData: Uint8Array | undefined; facts: KeyFacts }> {
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
