// The Shamir ceremony (DESIGN §3 "Seal, unseal, quorum"): initialisation splits a master key made
// inside into N shares with threshold M; unsealing takes M shares over separate calls; re-keying
// gives new shares of the same key; rotation gives a new key and new shares. Invariants: the master
// key never leaves; each share leaves once (clear, or encrypted to its custodian); partial shares
// are SecretBytes, zeroed when used, on timeout and at seal; only the current N shares are accepted.

import { randomBytes } from 'node:crypto';
import { type Custodian, type CustodianKey, checkCustodian } from '../ceremony/custodian-seal.js';
import { combineShares, findCheck, MAX_SHARES, shareCheck, splitMasterKey } from '../ceremony/shamir.js';
import { HsmError, isHsmError } from '../errors.js';
import { SecretBytes } from '../secret.js';
import { decodeShare, issueShares, type ShareOut } from '../ceremony/share-io.js';
import { type ModuleCore, now } from './core.js';

export type { Custodian } from '../ceremony/custodian-seal.js';

/** The system record naming the current shares: their count, threshold and one check each. */
const RECORD = 'ceremony';

interface CeremonyRecord {
  version: 1;
  shares: number;
  threshold: number;
  /** shareCheck() of each current share, in output order. */
  checks: string[];
  /** +1 at each rekey or rotation: which generation of shares is current. */
  epoch: number;
  createdAt: string;
}

export interface ShareSpec {
  /** N: how many shares (1–16). */
  shares: number;
  /** M: how many rebuild the key (1–N). */
  threshold: number;
  /** Custodian i receives share i encrypted to it; a missing or null entry leaves that share clear. */
  custodians?: readonly (Custodian | null | undefined)[];
}

export type { ShareOut } from '../ceremony/share-io.js';

export interface SharesIssued {
  shares: ShareOut[];
  threshold: number;
  epoch: number;
}

export interface UnsealProgress {
  progress: number;
  threshold: number;
  unsealed: boolean;
}

export interface RekeyProgress {
  nonce: string;
  progress: number;
  /** Current shares needed to authorise the rekey. */
  threshold: number;
  /** The new share count and threshold the rekey will issue. */
  newShares: number;
  newThreshold: number;
  complete: boolean;
  /** Only on the call that completes the rekey. */
  issued?: SharesIssued;
}

export interface CeremonyStatus {
  initialized: boolean;
  state: ModuleCore['state'];
  /** Absent when the module was initialised with a plain master key (dev mode, library use). */
  shares?: number;
  threshold?: number;
  epoch?: number;
  unsealProgress: number;
  rekey?: Omit<RekeyProgress, 'complete' | 'issued'>;
}

interface Progress {
  shares: Map<string, SecretBytes>;
  timer: NodeJS.Timeout;
}

interface Rekey extends Progress {
  nonce: string;
  target: ShareSpec;
}

export class Ceremony {
  #unseal: Progress | undefined;
  #rekey: Rekey | undefined;
  /** Shares refused while sealed (nothing can be audited then); audited at the next unseal. */
  #refusedWhileSealed = 0;

  constructor(private readonly core: ModuleCore) {
    core.onSeal.push(() => {
      this.#drop('unseal');
      this.#drop('rekey');
    });
  }

  /**
   * Initialises an empty module: a fresh 256-bit master key, split into N shares (threshold M),
   * the vault, the first admin and the share checks in one transaction. The module is left
   * SEALED, so the custodians prove at once that their shares unseal it.
   */
  async initializeWithShares(opts: ShareSpec & { admin: { name: string; password: string } }): Promise<SharesIssued> {
    const c = this.core;
    c.checkNotError();
    if (c.state !== 'uninitialized') throw new HsmError('ALREADY_INITIALIZED');
    if (typeof opts !== 'object' || opts === null || typeof opts.admin !== 'object' || opts.admin === null) throw new HsmError('ARGUMENTS_BAD', 'admin is required');
    const custodians = checkSpec(opts);
    const master = SecretBytes.random(32);
    try {
      const shares = await splitMasterKey(master, opts.shares, opts.threshold);
      try {
        const record = newRecord(shares, opts.threshold, 1);
        // Sealed to the custodians before anything commits: a failure here leaves the module empty.
        const issued = await issueShares(shares, custodians);
        await c.initialize(master, { name: opts.admin.name, password: opts.admin.password }, () =>
          c.vault.putSystemRecord(RECORD, JSON.stringify(record)),
        );
        c.audit({ actor: 'system', op: 'ceremony.init', target: opts.admin.name, outcome: 'ok', detail: `${opts.threshold} of ${opts.shares} shares` });
        c.seal();
        return { shares: issued, threshold: opts.threshold, epoch: 1 };
      } finally {
        for (const s of shares) s.destroy();
      }
    } finally {
      master.destroy();
    }
  }

  /** One custodian's share towards unsealing (no login: nobody can log in while sealed). */
  async submitUnsealShare(share: unknown): Promise<UnsealProgress> {
    const c = this.core;
    c.checkNotError();
    if (c.state === 'uninitialized') throw new HsmError('NOT_INITIALIZED');
    // Unverified while sealed (no MAC key): a forged record can at worst refuse good shares or
    // let bad ones count; the combined key is then checked against the header, and unseal
    // verifies this record with every other row.
    const rec = this.#record(false);
    if (c.state === 'unsealed') return { progress: 0, threshold: rec?.threshold ?? 0, unsealed: true };
    if (!rec) throw new HsmError('SHARE_INVALID', 'this module was not initialised with shares');
    let p: Progress;
    try {
      p = this.#accept('unseal', rec, share);
    } catch (e) {
      this.#refusedWhileSealed++;
      throw e;
    }
    if (p.shares.size < rec.threshold) return { progress: p.shares.size, threshold: rec.threshold, unsealed: false };
    const master = await this.#combine('unseal', rec);
    try {
      c.unseal(master);
    } finally {
      master.destroy();
    }
    const refused = this.#refusedWhileSealed;
    this.#refusedWhileSealed = 0;
    c.audit({ actor: 'system', op: 'ceremony.unseal', outcome: 'ok', detail: `${rec.threshold} of ${rec.shares} shares${refused ? `; ${refused} invalid share submissions refused while sealed` : ''}` });
    return { progress: rec.threshold, threshold: rec.threshold, unsealed: true };
  }

  /** Seal on an admin's request (REST, CLI); the library's Hsm.seal() stays for the host process. */
  sealModule(session: string): void {
    const s = this.core.session(session, 'admin');
    this.core.audit({ actor: s.user, op: 'ceremony.seal', outcome: 'ok' });
    this.core.seal();
  }

  /** Starts a rekey (admin): new N and M for the same master key, once M current shares are submitted. */
  rekeyInit(session: string, spec: ShareSpec): RekeyProgress {
    const c = this.core;
    const s = c.session(session, 'admin');
    const rec = this.#record(true);
    if (!rec) throw new HsmError('SHARE_INVALID', 'this module was not initialised with shares');
    checkSpec(spec);
    this.#drop('rekey');
    const nonce = randomBytes(16).toString('hex');
    const target: ShareSpec = { shares: spec.shares, threshold: spec.threshold };
    if (spec.custodians) target.custodians = spec.custodians;
    this.#rekey = { nonce, target, shares: new Map(), timer: this.#timer('rekey') };
    c.audit({ actor: s.user, op: 'ceremony.rekey-init', outcome: 'ok', detail: `to ${spec.threshold} of ${spec.shares}; nonce ${nonce}` });
    return this.#rekeyProgress(rec, false);
  }

  rekeyCancel(session: string): void {
    const s = this.core.session(session, 'admin');
    if (this.#rekey) this.core.audit({ actor: s.user, op: 'ceremony.rekey-cancel', outcome: 'ok', detail: `nonce ${this.#rekey.nonce}` });
    this.#drop('rekey');
  }

  /**
   * One current share towards the rekey started with `nonce` (no login: the shares are the
   * authority, as for unsealing). The call that completes it returns the new shares, once.
   */
  async submitRekeyShare(args: { share: unknown; nonce: unknown }): Promise<RekeyProgress> {
    const c = this.core;
    c.checkReady();
    const rec = this.#record(true);
    const r = this.#rekey;
    if (!rec || !r) throw new HsmError('ARGUMENTS_BAD', 'no rekey in progress');
    if (typeof args !== 'object' || args === null || args.nonce !== r.nonce) throw new HsmError('ARGUMENTS_BAD', 'the nonce does not name the rekey in progress');
    try {
      this.#accept('rekey', rec, args.share);
    } catch (e) {
      if (isHsmError(e)) c.audit({ actor: 'system', op: 'ceremony.rekey-share', outcome: 'refused', code: e.code });
      throw e;
    }
    if (r.shares.size < rec.threshold) return this.#rekeyProgress(rec, false);
    const custodians = checkSpec(r.target);
    const master = await this.#combine('rekey', rec);
    try {
      const shares = await splitMasterKey(master, r.target.shares, r.target.threshold);
      try {
        const next = newRecord(shares, r.target.threshold, rec.epoch + 1);
        const issued = await issueShares(shares, custodians);
        c.guardStore(() =>
          c.vault.transaction(() => {
            c.vault.putSystemRecord(RECORD, JSON.stringify(next));
            c.vault.appendAudit({ actor: 'system', op: 'ceremony.rekey', outcome: 'ok', detail: `${next.threshold} of ${next.shares} shares, epoch ${next.epoch}` });
          }),
        );
        return { ...this.#rekeyProgress(rec, true, r), issued: { shares: issued, threshold: next.threshold, epoch: next.epoch } };
      } finally {
        for (const s of shares) s.destroy();
      }
    } finally {
      master.destroy();
    }
  }

  /**
   * A new master key (admin, unsealed): every partition key re-wrapped and every row re-tagged in
   * one transaction with the new share checks; the old shares stop working. N and M default to
   * the current ones. If the response is lost, the new shares are lost with it: see docs/ceremony.md.
   */
  async rotateMasterKey(session: string, spec?: Partial<ShareSpec>): Promise<SharesIssued> {
    const c = this.core;
    const s = c.session(session, 'admin');
    const rec = this.#record(true);
    const full: ShareSpec = { shares: spec?.shares ?? rec?.shares ?? 1, threshold: spec?.threshold ?? rec?.threshold ?? 1 };
    if (spec?.custodians) full.custodians = spec.custodians;
    const custodians = checkSpec(full);
    const master = SecretBytes.random(32);
    try {
      const shares = await splitMasterKey(master, full.shares, full.threshold);
      try {
        const next = newRecord(shares, full.threshold, (rec?.epoch ?? 0) + 1);
        const issued = await issueShares(shares, custodians);
        c.guardStore(() =>
          c.vault.rotateMasterKey(master, () => {
            c.vault.putSystemRecord(RECORD, JSON.stringify(next));
            c.vault.appendAudit({ actor: s.user, op: 'ceremony.rotate-master-key', outcome: 'ok', detail: `${next.threshold} of ${next.shares} shares, epoch ${next.epoch}` });
          }),
        );
        this.#drop('rekey'); // its shares were of the old key
        return { shares: issued, threshold: next.threshold, epoch: next.epoch };
      } finally {
        for (const x of shares) x.destroy();
      }
    } finally {
      master.destroy();
    }
  }

  /** What an operator (or a load balancer) may know without logging in: no share, no check. */
  ceremonyStatus(): CeremonyStatus {
    const c = this.core;
    const rec = c.state === 'uninitialized' ? undefined : this.#record(c.state === 'unsealed');
    const out: CeremonyStatus = { initialized: c.state !== 'uninitialized', state: c.state, unsealProgress: this.#unseal?.shares.size ?? 0 };
    if (rec) {
      out.shares = rec.shares;
      out.threshold = rec.threshold;
      out.epoch = rec.epoch;
      if (this.#rekey) {
        const { complete: _c, issued: _i, ...rk } = this.#rekeyProgress(rec, false);
        out.rekey = rk;
      }
    }
    return out;
  }

  // ---- progress ------------------------------------------------------------------------------

  /** Checks one share against the current checks and adds it (a duplicate counts once). */
  #accept(kind: 'unseal' | 'rekey', rec: CeremonyRecord, input: unknown): Progress {
    const share = decodeShare(input, 'coffer unseal --identity / passphrase');
    const check = shareCheck(share);
    if (findCheck(rec.checks, check) < 0) {
      share.destroy();
      throw new HsmError('SHARE_INVALID', 'not one of the current shares of this module');
    }
    let p = kind === 'unseal' ? this.#unseal : this.#rekey;
    if (!p) {
      if (kind === 'rekey') throw new HsmError('ARGUMENTS_BAD', 'no rekey in progress');
      p = { shares: new Map(), timer: this.#timer('unseal') };
      this.#unseal = p;
    }
    if (p.shares.has(check)) share.destroy();
    else p.shares.set(check, share);
    return p;
  }

  /** Takes the collected shares out of the progress (so a concurrent call cannot reuse them) and rebuilds the key. */
  async #combine(kind: 'unseal' | 'rekey', rec: CeremonyRecord): Promise<SecretBytes> {
    const p = kind === 'unseal' ? this.#unseal : this.#rekey;
    const parts = [...(p?.shares.values() ?? [])];
    p?.shares.clear();
    this.#drop(kind);
    let master: SecretBytes;
    try {
      master = await combineShares(parts, rec.threshold);
    } finally {
      for (const s of parts) s.destroy();
    }
    // Every share matched a stored check, so only a forged record (or a bug) gets here with a
    // wrong key: refuse, never unseal or reshare with it.
    if (!this.core.vault.matchesMasterKey(master)) {
      master.destroy();
      throw new HsmError('SHARE_INVALID', 'the shares do not reconstruct the master key');
    }
    return master;
  }

  #timer(kind: 'unseal' | 'rekey'): NodeJS.Timeout {
    const t = setTimeout(() => this.#drop(kind), this.core.shareTimeoutMs);
    t.unref();
    return t;
  }

  #drop(kind: 'unseal' | 'rekey'): void {
    const p = kind === 'unseal' ? this.#unseal : this.#rekey;
    if (!p) return;
    clearTimeout(p.timer);
    for (const s of p.shares.values()) s.destroy();
    p.shares.clear();
    if (kind === 'unseal') this.#unseal = undefined;
    else this.#rekey = undefined;
  }

  #rekeyProgress(rec: CeremonyRecord, complete: boolean, r: Rekey | undefined = this.#rekey): RekeyProgress {
    if (!r) throw new TypeError('no rekey');
    return {
      nonce: r.nonce,
      progress: complete ? rec.threshold : r.shares.size,
      threshold: rec.threshold,
      newShares: r.target.shares,
      newThreshold: r.target.threshold,
      complete,
    };
  }

  /** The current record: verified when unsealed, a peek (unverified) when sealed. */
  #record(verified: boolean): CeremonyRecord | undefined {
    const c = this.core;
    const body = verified ? c.guardStore(() => c.vault.getSystemRecord(RECORD))?.body : c.vault.peekSystemRecord(RECORD);
    if (body === undefined) return undefined;
    try {
      const r = JSON.parse(body) as CeremonyRecord;
      if (r.version === 1 && Number.isSafeInteger(r.threshold) && Array.isArray(r.checks) && r.checks.length === r.shares) return r;
    } catch {
      // fall through: an unreadable record is treated as tamper below
    }
    throw new HsmError('TAMPER_DETECTED', 'ceremony record unreadable');
  }
}

function checkSpec(spec: ShareSpec): (CustodianKey | undefined)[] {
  if (typeof spec !== 'object' || spec === null) throw new HsmError('ARGUMENTS_BAD', 'shares and threshold are required');
  const { shares: n, threshold: m } = spec;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SHARES) throw new HsmError('ARGUMENTS_BAD', `shares must be 1 to ${MAX_SHARES}`);
  if (!Number.isSafeInteger(m) || m < 1 || m > n) throw new HsmError('ARGUMENTS_BAD', 'threshold must be 1 to the number of shares');
  const list = spec.custodians ?? [];
  if (!Array.isArray(list) || list.length > n) throw new HsmError('ARGUMENTS_BAD', 'at most one custodian per share');
  return list.map((c, i) => (c === null || c === undefined ? undefined : checkCustodian(c, i + 1)));
}

function newRecord(shares: readonly SecretBytes[], threshold: number, epoch: number): CeremonyRecord {
  return { version: 1, shares: shares.length, threshold, checks: shares.map(shareCheck), epoch, createdAt: now() };
}

