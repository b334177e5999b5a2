
import { HsmError } from '../errors.js';
import { ALIAS, DAY_MS, now, type KeyRef, type ModuleCore } from './core.js';
import { quorumGate, registerQuorumExecutor } from './quorum-requests.js';
import type { SecretBytes } from '../secret.js';
import type { Session } from '../sessions.js';
import type { StoredObject } from '../types.js';

export class KeyManagement {
  constructor(private readonly core: ModuleCore) {
    // Scheduling a deletion is destroying with a delay: the same key.destroy quorum applies (attacks.md D-14 (8)).
    registerQuorumExecutor(core, 'key.destroy', (s, op) => this.#schedule(s, op.uid as string, op.days as number), 'schedule-deletion');
  }


  async setKeyState(session: string, ref: KeyRef, state: 'enabled' | 'disabled'): Promise<void> {
    const s = this.core.session(session, 'user');
    if (state !== 'enabled' && state !== 'disabled') throw new HsmError('ARGUMENTS_BAD', 'state is enabled or disabled');
    this.core.updateMeta(s, ref, `key.${state === 'enabled' ? 'enable' : 'disable'}`, (o) => {
      if (o.meta.state === 'pending-deletion') throw new HsmError('KEY_STATE_INVALID', 'cancel the deletion first');
      return { ...o, meta: { ...o.meta, state } };
    });
  }

  /** Schedules destruction after a waiting period of 7–30 days (default 30), as the big KMS services do. */
  async scheduleDeletion(session: string, ref: KeyRef, days = 30): Promise<string> {
    const s = this.core.session(session, 'user');
    if (!Number.isSafeInteger(days) || days < 7 || days > 30) throw new HsmError('ARGUMENTS_BAD', 'the waiting period is 7 to 30 days');
    const r = this.core.resolveFor(s, ref, 'KEY_HANDLE_INVALID', 'key.schedule-deletion');
    if (!r.object.attrs.destroyable) throw this.core.refused(s, 'key.schedule-deletion', r.object.uid, new HsmError('ACTION_PROHIBITED', 'the object is not destroyable'));
    if (!r.sessionOwned) quorumGate(this.core, s, 'key.destroy', { action: 'schedule-deletion', uid: r.object.uid, days }, { partition: r.object.partition });
    return this.#schedule(s, r.object.uid, days);
  }

  #schedule(s: Session, ref: KeyRef, days: number): string {
    const date = new Date(Date.now() + days * DAY_MS).toISOString();
    this.core.updateMeta(s, ref, 'key.schedule-deletion', (o) => {
      if (!o.attrs.destroyable) throw new HsmError('ACTION_PROHIBITED', 'the object is not destroyable');
      return { ...o, meta: { ...o.meta, state: 'pending-deletion', deletionDate: date } };
    });
    return date;
  }

  async cancelDeletion(session: string, ref: KeyRef): Promise<void> {
    const s = this.core.session(session, 'user');
    this.core.updateMeta(s, ref, 'key.cancel-deletion', (o) => {
      if (o.meta.state !== 'pending-deletion') throw new HsmError('KEY_STATE_INVALID', 'no deletion is pending');
      const { deletionDate: _drop, ...meta } = o.meta;
      return { ...o, meta: { ...meta, state: 'disabled' } };
    });
  }

  /** Destroys every key whose deletion date has passed; returns how many. Run periodically by the server. */
  purgeDueDeletions(at = new Date()): number {
    this.core.checkReady();
    let n = 0;
    for (const p of this.core.vault.listPartitions()) {
      for (const o of this.core.vault.listObjects(p.name)) {
        if (o.meta.state === 'pending-deletion' && o.meta.deletionDate && new Date(o.meta.deletionDate) <= at) {
          this.core.destroy(undefined, { object: o, sessionOwned: false }, 'system');
          n++;
        }
      }
    }
    return n;
  }

  /** Appends a new key version (secret keys); new operations use it, old versions still decrypt and verify. */
  async rotateKey(session: string, ref: KeyRef): Promise<number> {
    const s = this.core.session(session, 'user');
    const r = this.core.resolve(s, ref, 'KEY_HANDLE_INVALID');
    const o = r.object;
    if (o.attrs.class !== 'secret-key') throw this.core.refused(s, 'key.rotate', o.uid, new HsmError('KEY_TYPE_INCONSISTENT', 'rotation applies to secret keys; make a new pair for asymmetric keys'));
    const secret = await this.#generateLike(o);
    const version = Math.max(...o.versions.map((v) => v.version)) + 1;
    this.core.updateMeta(
      s,
      ref,
      'key.rotate',
      (cur) => ({ ...cur, versions: [...cur.versions, { version, createdAt: now(), rotation: 'on-demand' }], meta: { ...cur.meta, currentVersion: version } }),
      new Map([[version, secret]]),
    );
    return version;
  }

  async #generateLike(o: StoredObject): Promise<SecretBytes> {
    const kt = this.core.keyTypeOf(o.attrs.keyType);
    const spec = kt.normalizeSpec(o.attrs.valueLen !== undefined ? { keyType: kt.keyType, valueLen: o.attrs.valueLen } : { keyType: kt.keyType });
    return (await kt.generate!(spec)).secret;
  }

  /**
   * Automatic rotation (AWS KMS EnableKeyRotation): every `periodDays` (90–2560) a new version;
   * `null` turns it off. Stored keys of AES type only, as AWS rotates symmetric encryption keys only.
   */
  async setRotationPeriod(session: string, ref: KeyRef, periodDays: number | null, at = new Date()): Promise<void> {
    const s = this.core.session(session, 'user');
    if (periodDays !== null && (!Number.isSafeInteger(periodDays) || periodDays < 90 || periodDays > 2560)) throw new HsmError('ARGUMENTS_BAD', 'the rotation period is 90 to 2560 days');
    this.core.updateMeta(s, ref, periodDays === null ? 'key.rotation.disable' : 'key.rotation.enable', (o) => {
      if (o.attrs.class !== 'secret-key' || o.attrs.keyType !== 'aes' || !o.attrs.token) throw new HsmError('KEY_TYPE_INCONSISTENT', 'automatic rotation applies to stored AES keys');
      if (o.meta.state === 'pending-deletion') throw new HsmError('KEY_STATE_INVALID', 'the key is pending deletion');
      const { rotation: _drop, ...meta } = o.meta;
      if (periodDays === null) return { ...o, meta };
      return { ...o, meta: { ...meta, rotation: { periodDays, nextRotation: new Date(at.getTime() + periodDays * DAY_MS).toISOString() } } };
    });
  }

  /** The rotation schedule and the versions made by rotation (version 1 is the original). */
  async rotationStatus(session: string, ref: KeyRef): Promise<{ periodDays?: number; nextRotation?: string; rotations: { version: number; createdAt: string; rotation: 'automatic' | 'on-demand' }[] }> {
    const s = this.core.session(session, 'user');
    const o = this.core.resolve(s, ref, 'KEY_HANDLE_INVALID').object;
    const rotations = o.versions.filter((v) => v.version > 1).map((v) => ({ version: v.version, createdAt: v.createdAt, rotation: v.rotation ?? 'on-demand' }));
    return o.meta.rotation ? { periodDays: o.meta.rotation.periodDays, nextRotation: o.meta.rotation.nextRotation, rotations } : { rotations };
  }

  /** Rotates every enabled key whose automatic rotation is due; returns how many. Run periodically by the server. */
  async rotateDueKeys(at = new Date()): Promise<number> {
    this.core.checkReady();
    let n = 0;
    for (const p of this.core.guardStore(() => this.core.vault.listPartitions())) {
      for (const o of this.core.guardStore(() => this.core.vault.listObjects(p.name))) {
        const r = o.meta.rotation;
        if (!r || o.meta.state !== 'enabled' || new Date(r.nextRotation) > at) continue;
        const secret = await this.#generateLike(o);
        // Re-read: the key may have changed while the new value was generated.
        const cur = this.core.guardStore(() => this.core.vault.getObject(o.uid));
        if (!cur || cur.revision !== o.revision) {
          secret.destroy();
          continue;
        }
        const version = Math.max(...cur.versions.map((v) => v.version)) + 1;
        const t = now();
        const next: StoredObject = {
          ...cur,
          versions: [...cur.versions, { version, createdAt: t, rotation: 'automatic' }],
          meta: { ...cur.meta, currentVersion: version, updatedAt: t, rotation: { periodDays: r.periodDays, nextRotation: new Date(at.getTime() + r.periodDays * DAY_MS).toISOString() } },
          revision: cur.revision + 1,
        };
        this.core.cache.forget(o.uid);
        try {
          this.core.guardStore(() =>
            this.core.vault.transaction(() => {
              this.core.vault.putObject(next, new Map([[version, secret]]));
              this.core.vault.appendAudit({ actor: 'system', partition: o.partition, op: 'key.rotate.automatic', target: o.uid, outcome: 'ok', detail: `version ${version}` });
            }),
          );
        } finally {
          secret.destroy();
        }
        n++;
      }
    }
    return n;
  }

  async setAliases(session: string, ref: KeyRef, aliases: string[]): Promise<void> {
    const s = this.core.session(session, 'user');
    if (!Array.isArray(aliases) || aliases.length > 32 || !aliases.every((a) => typeof a === 'string' && ALIAS.test(a))) {
      throw new HsmError('ARGUMENTS_BAD', 'aliases: up to 32 names of letters, digits and / _ . -');
    }
    const idx = this.core.aliasIndex(s.partition!);
    const r = this.core.resolve(s, ref, 'KEY_HANDLE_INVALID');
    for (const a of aliases) {
      const holder = idx.get(a);
      if (holder !== undefined && holder !== r.object.uid) throw new HsmError('ALREADY_EXISTS', `alias ${a}`);
    }
    this.core.updateMeta(s, r.object.uid, 'key.aliases', (o) => ({ ...o, meta: { ...o.meta, aliases: [...new Set(aliases)] } }));
    this.core.aliases.delete(s.partition!);
  }

  async setTags(session: string, ref: KeyRef, tags: Record<string, string>): Promise<void> {
    const s = this.core.session(session, 'user');
    if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) throw new HsmError('ARGUMENTS_BAD', 'tags are a string map');
    const entries = Object.entries(tags);
    if (entries.length > 50 || !entries.every(([k, v]) => typeof v === 'string' && k.length > 0 && k.length <= 128 && v.length <= 256)) {
      throw new HsmError('ARGUMENTS_BAD', 'up to 50 tags, keys ≤128 and values ≤256 characters');
    }
    this.core.updateMeta(s, ref, 'key.tags', (o) => ({ ...o, meta: { ...o.meta, tags: Object.fromEntries(entries) } }));
  }
}
