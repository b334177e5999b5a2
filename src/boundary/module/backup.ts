// Backup, restore and cloning (docs/backup.md; attacks.md D-18). Export (admin, quorum-gated)
// writes every partition, account and key version into one file sealed under a fresh backup key,
// which leaves only as Shamir shares (and sealed under this module's master key); the file is
// opened again and checked before the call returns. Restore (admin, quorum-gated) needs an empty
// module and the backup's own shares, or this module's master key; it writes everything in one
// transaction, re-sealing each secret under the target's partition keys, or writes nothing.

import { type Custodian, type CustodianKey, checkCustodian } from '../ceremony/custodian-seal.js';
import { combineShares, findCheck, MAX_SHARES, splitMasterKey } from '../ceremony/shamir.js';
import { HsmError } from '../errors.js';
import { SecretBytes } from '../secret.js';
import {
  BACKUP_KEY_BYTES,
  type BackupContents,
  type BackupCounts,
  type BackupHeader,
  backupKeyAad,
  backupShareCheck,
  type ChainHead,
  decodePayload,
  destroyMaterial,
  encodePayload,
  newBackupId,
  type OpenedBackup,
  openPayload,
  type ParsedBackup,
  parseBackup,
  payloadDigest,
  sameDigest,
  sealBackup,
} from '../store/backup-format.js';
import type { Session } from '../sessions.js';
import type { PartitionRecord, Role, StoredObject, UserRecord } from '../types.js';
import { ACCESS_KEY_INDEX } from './access-keys.js';
import { isSystemPartition } from './audit-trail.js';
import { decodeShare, issueShares, type ShareOut } from '../ceremony/share-io.js';
import { type ModuleCore, NAME, now, PARTITION } from './core.js';
import { type JsonValue, quorumGate } from './quorum-requests.js';

export type { BackupCounts, ChainHead } from '../store/backup-format.js';

export interface BackupExportOptions {
  /** N backup shares (1–16); default: the module's own ceremony N, or 1. */
  shares?: number;
  /** M of them open the backup; default: the module's own ceremony M, or 1. */
  threshold?: number;
  /** Custodian i receives backup share i encrypted to it (as in the master-key ceremony). */
  custodians?: readonly (Custodian | null | undefined)[];
}

export interface BackupExported {
  /** The backup file: ciphertext apart from a header of counts (docs/backup.md, "File format"). */
  backup: Uint8Array;
  backupId: string;
  createdAt: string;
  counts: BackupCounts;
  /** The audit record that announced this backup (its seq and hash): the backup commits to the chain up to it. */
  chainHead: ChainHead;
  /** The backup key's shares, each output once. */
  shares: ShareOut[];
  threshold: number;
  /** The file was read back, opened with the shares and compared (counts, payload digest) before this returned. */
  verified: true;
}

export interface BackupRestoreOptions {
  backup: Uint8Array;
  /** M of the backup's shares (clear, base64 or bytes). Without them only a module with the source's master key can open it. */
  shares?: readonly unknown[];
}

export interface BackupRestored {
  backupId: string;
  createdAt: string;
  counts: BackupCounts;
  /** The source's audit chain head, as recorded in this module's 'backup.restore' audit record. */
  sourceChainHead: ChainHead;
  /** What opened the backup. */
  keySource: 'shares' | 'master-key';
  /** Accounts of the backup not restored because this module has an account of that name (the target's is kept). */
  skippedUsers: string[];
}

/** What the clear header says, readable without any key (coffer backup inspect). */
export interface BackupDescription {
  backupId: string;
  createdAt: string;
  counts: BackupCounts;
  chainHead: ChainHead;
  shares: { count: number; threshold: number };
  /** True when a module holding the source's master key can open it without shares. */
  masterKeyWrapped: boolean;
}

export function describeBackup(file: Uint8Array): BackupDescription {
  const h = parseBackup(file).header;
  return {
    backupId: h.backupId,
    createdAt: h.createdAt,
    counts: { ...h.counts },
    chainHead: { ...h.chainHead },
    shares: { count: h.keys.shares.count, threshold: h.keys.shares.threshold },
    masterKeyWrapped: h.keys.master !== undefined,
  };
}

const ROLES: readonly Role[] = ['admin', 'auditor', 'officer', 'user'];
const UID = /^[A-Za-z0-9._-]{1,300}$/;

export class Backup {
  constructor(private readonly core: ModuleCore) {}

  async exportBackup(session: string, opts: BackupExportOptions = {}): Promise<BackupExported> {
    const c = this.core;
    const s = c.session(session, 'admin');
    try {
      if (typeof opts !== 'object' || opts === null) throw new HsmError('ARGUMENTS_BAD', 'options must be an object');
      const { n, m, custodians } = this.#spec(opts);
      // attacks.md D-18: with a backup.export quorum this opens a request (QUORUM_REQUIRED); once
      // approved, the same admin re-issues the identical call and the approval is consumed. No
      // executor: the shares must reach the requester, never rest in a request record.
      quorumGate(c, s, 'backup.export', { shares: n, threshold: m, custodians: custodianView(opts.custodians) });
      return await this.#export(s, n, m, custodians);
    } catch (e) {
      throw c.refused(s, 'backup.export', undefined, e);
    }
  }

  async restoreBackup(session: string, opts: BackupRestoreOptions): Promise<BackupRestored> {
    const c = this.core;
    const s = c.session(session, 'admin');
    try {
      if (typeof opts !== 'object' || opts === null) throw new HsmError('ARGUMENTS_BAD', 'backup is required');
      this.#requireEmpty();
      const parsed = parseBackup(opts.backup);
      const { key, keySource } = await this.#backupKey(parsed, opts.shares);
      let opened: OpenedBackup;
      try {
        const payload = openPayload(parsed, key);
        try {
          opened = decodePayload(payload);
        } finally {
          payload.destroy();
        }
      } finally {
        key.destroy();
      }
      try {
        checkContents(opened, parsed.header);
        // Gated last, so an approval is consumed only by a restore that will commit. Approvers see
        // which backup (id, date, counts) and how it was opened.
        const h = parsed.header;
        quorumGate(c, s, 'backup.restore', { backupId: h.backupId, createdAt: h.createdAt, counts: { ...h.counts }, keySource });
        return this.#write(s, parsed.header, opened, keySource);
      } finally {
        destroyMaterial(opened.material);
      }
    } catch (e) {
      throw c.refused(s, 'backup.restore', undefined, e);
    }
  }

  // ---- export --------------------------------------------------------------------------------

  async #export(s: Session, n: number, m: number, custodians: (CustodianKey | undefined)[]): Promise<BackupExported> {
    const c = this.core;
    const backupId = newBackupId();
    const createdAt = now();
    c.guardStore(() => c.usage.flush()); // the backup carries current use counts
    // Reads are synchronous from here to encodePayload: nothing else runs in between, so the
    // snapshot is consistent, and it follows the audit record that announces it.
    const announce = c.guardStore(() => c.vault.appendAudit({ actor: s.user, op: 'backup.snapshot', target: backupId, outcome: 'ok' }));
    const chainHead: ChainHead = { seq: announce.seq, hash: announce.hash };
    const snap = c.guardStore(() => this.#snapshot());
    // The access-key index travels too: without it the restored access-key secrets verify nothing.
    const kmsAccessKeys = c.guardStore(() => c.vault.getSystemRecord(ACCESS_KEY_INDEX))?.body;
    const counts: BackupCounts = { partitions: snap.partitions.length, users: snap.users.length, objects: snap.objects.length, versions: 0 };
    for (const o of snap.objects) counts.versions += o.secrets.size;
    let payload: SecretBytes;
    try {
      payload = encodePayload({ partitions: snap.partitions, users: snap.users, chainHead, counts, ...(kmsAccessKeys ? { kmsAccessKeys } : {}) }, snap.objects);
    } finally {
      for (const o of snap.objects) for (const x of o.secrets.values()) x.destroy();
    }
    const key = SecretBytes.random(BACKUP_KEY_BYTES);
    try {
      const digest = payloadDigest(payload);
      const shares = await splitMasterKey(key, n, m);
      try {
        const header: Omit<BackupHeader, 'iv' | 'cipher'> = {
          format: 1,
          backupId,
          createdAt,
          counts,
          chainHead,
          keys: {
            shares: { count: n, threshold: m, checks: shares.map(backupShareCheck) },
            master: Buffer.from(c.guardStore(() => c.vault.sealBackupKey(key, backupKeyAad(backupId)))).toString('base64'),
          },
        };
        const file = sealBackup(header, payload, key);
        await this.#verify(file, shares.slice(0, m), key, digest, counts);
        const issued = await issueShares(shares, custodians);
        c.audit({ actor: s.user, op: 'backup.export', target: backupId, outcome: 'ok', detail: `${describe(counts)}; ${m} of ${n} backup shares` });
        return { backup: new Uint8Array(file), backupId, createdAt, counts, chainHead, shares: issued, threshold: m, verified: true };
      } finally {
        for (const x of shares) x.destroy();
      }
    } finally {
      key.destroy();
      payload.destroy();
    }
  }

  #snapshot(): { partitions: PartitionRecord[]; users: UserRecord[]; objects: { object: StoredObject; secrets: Map<number, SecretBytes> }[] } {
    const v = this.core.vault;
    // The hidden system partition (the audit key) is this module's own: a target keeps its own.
    const partitions = v.listPartitions().filter((p) => !isSystemPartition(p.name));
    const users = v.listUsers();
    const objects: { object: StoredObject; secrets: Map<number, SecretBytes> }[] = [];
    try {
      for (const p of partitions) {
        for (const object of v.listObjects(p.name)) {
          const secrets = new Map<number, SecretBytes>();
          objects.push({ object, secrets });
          for (const ver of object.versions) {
            const secret = v.loadSecret(object, ver.version);
            if (secret) secrets.set(ver.version, secret);
          }
        }
      }
    } catch (e) {
      for (const o of objects) for (const x of o.secrets.values()) x.destroy();
      throw e;
    }
    return { partitions, users, objects };
  }

  /** Export verifies before it says success: the file is parsed, opened with a threshold of its own shares and compared. */
  async #verify(file: Uint8Array, shares: SecretBytes[], key: SecretBytes, digest: string, counts: BackupCounts): Promise<void> {
    const fail = (why: string): HsmError => new HsmError('DEVICE_ERROR', `the backup failed its verification (${why}); nothing was exported`);
    const parsed = parseBackup(file);
    const rebuilt = await combineShares(shares, shares.length);
    try {
      if (!rebuilt.equals(key)) throw fail('shares');
      const wrapped = parsed.header.keys.master;
      const unwrapped = wrapped ? this.core.vault.openBackupKey(Buffer.from(wrapped, 'base64'), backupKeyAad(parsed.header.backupId)) : undefined;
      try {
        if (!unwrapped?.equals(key)) throw fail('master-key wrap');
      } finally {
        unwrapped?.destroy();
      }
      const payload = openPayload(parsed, rebuilt);
      try {
        if (!sameDigest(payloadDigest(payload), digest)) throw fail('digest');
        const opened = decodePayload(payload);
        try {
          const got = opened.contents.counts;
          let versions = 0;
          for (const m of opened.material.values()) versions += m.size;
          if (
            opened.contents.partitions.length !== counts.partitions ||
            opened.contents.users.length !== counts.users ||
            opened.contents.objects.length !== counts.objects ||
            versions !== counts.versions ||
            describe(got) !== describe(counts)
          ) {
            throw fail('counts');
          }
        } finally {
          destroyMaterial(opened.material);
        }
      } finally {
        payload.destroy();
      }
    } finally {
      rebuilt.destroy();
    }
  }

  /** N, M and custodians, defaulting to the module's own ceremony N and M. */
  #spec(opts: BackupExportOptions): { n: number; m: number; custodians: (CustodianKey | undefined)[] } {
    let dn = 1;
    let dm = 1;
    const rec = this.core.guardStore(() => this.core.vault.getSystemRecord('ceremony'));
    if (rec) {
      try {
        const r = JSON.parse(rec.body) as { shares?: unknown; threshold?: unknown };
        if (Number.isSafeInteger(r.shares) && Number.isSafeInteger(r.threshold)) {
          dn = r.shares as number;
          dm = r.threshold as number;
        }
      } catch {
        // defaults stay 1 of 1; the ceremony module reports its own record's state
      }
    }
    const n = opts.shares ?? (opts.threshold !== undefined ? Math.max(dn, opts.threshold) : dn);
    const m = opts.threshold ?? Math.min(dm, n);
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SHARES) throw new HsmError('ARGUMENTS_BAD', `shares must be 1 to ${MAX_SHARES}`);
    if (!Number.isSafeInteger(m) || m < 1 || m > n) throw new HsmError('ARGUMENTS_BAD', 'threshold must be 1 to the number of shares');
    const list = opts.custodians ?? [];
    if (!Array.isArray(list) || list.length > n) throw new HsmError('ARGUMENTS_BAD', 'at most one custodian per share');
    return { n, m, custodians: list.map((x, i) => (x === null || x === undefined ? undefined : checkCustodian(x, i + 1))) };
  }

  // ---- restore -------------------------------------------------------------------------------

  /** Restore never merges: a module holding any partition or key is refused (docs/backup.md). */
  #requireEmpty(): void {
    const v = this.core.vault;
    const partitions = this.core.guardStore(() => v.listPartitions()).filter((p) => !isSystemPartition(p.name));
    if (partitions.length > 0) throw new HsmError('ALREADY_EXISTS', 'restore needs an empty module: this one holds partitions');
  }

  async #backupKey(p: ParsedBackup, input: readonly unknown[] | undefined): Promise<{ key: SecretBytes; keySource: BackupRestored['keySource'] }> {
    const spec = p.header.keys.shares;
    if (input !== undefined && !(Array.isArray(input) && input.length === 0)) {
      if (!Array.isArray(input) || input.length > MAX_SHARES) throw new HsmError('ARGUMENTS_BAD', 'shares must be a list of at most 16');
      const got = new Map<string, SecretBytes>();
      try {
        for (const raw of input) {
          const share = decodeShare(raw);
          const check = backupShareCheck(share);
          if (findCheck(spec.checks, check) < 0) {
            share.destroy();
            throw new HsmError('SHARE_INVALID', 'not one of the shares of this backup');
          }
          if (got.has(check)) share.destroy();
          else got.set(check, share);
        }
        if (got.size < spec.threshold) throw new HsmError('SHARE_INVALID', `${got.size} distinct backup shares given, ${spec.threshold} needed`);
        return { key: await combineShares([...got.values()], spec.threshold), keySource: 'shares' };
      } finally {
        for (const x of got.values()) x.destroy();
      }
    }
    const wrapped = p.header.keys.master;
    const key = wrapped ? this.core.vault.openBackupKey(Buffer.from(wrapped, 'base64'), backupKeyAad(p.header.backupId)) : undefined;
    // attacks.md D-18: another module (another master key) opens a backup only with its own shares.
    if (!key) throw new HsmError('ARGUMENTS_BAD', `this module's master key is not the backup's: give ${spec.threshold} of the backup's ${spec.count} shares`);
    return { key, keySource: 'master-key' };
  }

  #write(s: Session, header: BackupHeader, opened: OpenedBackup, keySource: BackupRestored['keySource']): BackupRestored {
    const c = this.core;
    const { contents, material } = opened;
    const skippedUsers: string[] = [];
    c.guardStore(() =>
      c.vault.transaction(() => {
        // Each putPartition makes a fresh partition key under THIS module's master key, and each
        // putObject seals the secrets under it: nothing of the source's key hierarchy is reused.
        for (const p of contents.partitions) c.vault.putPartition(p);
        for (const u of contents.users) {
          if (c.vault.getUser(u.name)) skippedUsers.push(u.name);
          else c.vault.putUser(u);
        }
        for (const o of contents.objects) c.vault.putObject(o.object, material.get(o.object.uid));
        const accessKeys = restoredAccessKeys(contents.kmsAccessKeys, new Set(contents.objects.map((o) => o.object.uid)));
        if (accessKeys.length > 0) c.vault.putSystemRecord(ACCESS_KEY_INDEX, JSON.stringify(accessKeys));
        c.vault.appendAudit({
          actor: s.user,
          op: 'backup.restore',
          target: header.backupId,
          outcome: 'ok',
          detail: `backup of ${header.createdAt} via ${keySource}; ${describe(header.counts)}; source chain head ${header.chainHead.seq}:${header.chainHead.hash}${skippedUsers.length ? `; kept existing accounts ${skippedUsers.join(',')}` : ''}`,
        });
      }),
    );
    c.cache.clear();
    c.aliases.clear();
    return {
      backupId: header.backupId,
      createdAt: header.createdAt,
      counts: { ...header.counts },
      sourceChainHead: { ...header.chainHead },
      keySource,
      skippedUsers,
    };
  }
}

/** The backup's access-key index entries whose sealed secret was restored with it (restore needs an empty module, so there is no index to merge with). */
function restoredAccessKeys(index: unknown, restored: Set<string>): unknown[] {
  if (typeof index !== 'string') return [];
  let list: unknown;
  try {
    list = JSON.parse(index);
  } catch {
    throw new HsmError('BACKUP_INVALID', 'the access-key index is not JSON');
  }
  if (!Array.isArray(list)) throw new HsmError('BACKUP_INVALID', 'the access-key index is not a list');
  return list.filter((k) => typeof k === 'object' && k !== null && restored.has((k as { uid?: unknown }).uid as string));
}

/** What approvers of an export see of its custodians: kinds and public keys, never a passphrase. */
function custodianView(list: BackupExportOptions['custodians']): JsonValue[] {
  const out: JsonValue[] = [];
  for (const x of Array.isArray(list) ? list : []) {
    if (typeof x !== 'object' || x === null) out.push(null);
    else if (x.kind === 'passphrase') out.push({ kind: 'passphrase' });
    else out.push({ kind: String(x.kind), publicKey: x.publicKey instanceof Uint8Array ? Buffer.from(x.publicKey).toString('base64') : '' });
  }
  return out;
}

function describe(c: BackupCounts): string {
  return `${c.partitions} partitions, ${c.users} accounts, ${c.objects} objects, ${c.versions} key versions`;
}

/** The authenticated contents must also be coherent before anything is written (a forger may hold the shares). */
function checkContents(opened: OpenedBackup, header: BackupHeader): void {
  const bad = (why: string): HsmError => new HsmError('BACKUP_INVALID', why);
  const ct: BackupContents = opened.contents;
  const partitions = new Set<string>();
  for (const p of ct.partitions) {
    if (typeof p?.name !== 'string' || !PARTITION.test(p.name) || partitions.has(p.name)) throw bad('partition record');
    partitions.add(p.name);
  }
  const users = new Set<string>();
  for (const u of ct.users) {
    if (typeof u?.name !== 'string' || !NAME.test(u.name) || users.has(u.name) || !ROLES.includes(u.role) || typeof u.passwordHash !== 'string') throw bad('account record');
    if ((u.role === 'officer' || u.role === 'user') !== (u.partition !== undefined && partitions.has(u.partition))) throw bad('account partition');
    users.add(u.name);
  }
  const uids = new Set<string>();
  let versions = 0;
  for (const { object: o } of ct.objects) {
    if (!UID.test(o.uid) || uids.has(o.uid) || !partitions.has(o.partition) || !Array.isArray(o.versions) || !Number.isSafeInteger(o.revision)) throw bad('object record');
    if (typeof o.attrs !== 'object' || o.attrs === null || typeof o.meta !== 'object' || o.meta === null) throw bad('object record');
    uids.add(o.uid);
    const mat = opened.material.get(o.uid) ?? new Map();
    for (const v of mat.keys()) if (!o.versions.some((x) => x?.version === v)) throw bad('material for a version the object lacks');
    versions += mat.size;
  }
  const got: BackupCounts = { partitions: partitions.size, users: users.size, objects: uids.size, versions };
  if (describe(got) !== describe(header.counts) || describe(got) !== describe(ct.counts ?? got)) throw bad('counts differ from the header');
  if (ct.chainHead?.seq !== header.chainHead.seq || ct.chainHead?.hash !== header.chainHead.hash) throw bad('chain head differs from the header');
}

