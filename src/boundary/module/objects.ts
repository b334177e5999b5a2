
import { HsmError } from '../errors.js';
import type { KeyFacts, KeyTypeMaterial } from '../keytypes/types.js';
import { checkConsistency, checkSettable, checkTemplateShape, matchesTemplate, newAttributes, changedAttributes } from '../policy/validator.js';
import { SecretBytes } from '../secret.js';
import type { AuditEvent } from '../store/types.js';
import type { ObjectClass, StoredObject, Template } from '../types.js';
import { checkPrivateMaterial, mirrorUsages, now, withFacts, type KeyRef, type ObjectInfo, type ModuleCore } from './core.js';
import { quorumGate, registerQuorumExecutor } from './quorum-requests.js';
import type { Session } from '../sessions.js';

export class Objects {
  constructor(private readonly core: ModuleCore) {
    // An approved key.destroy request runs here as its requester (module/quorum.ts).
    registerQuorumExecutor(core, 'key.destroy', (s, op) => this.#destroy(s, op.uid as string), 'destroy');
  }


  /** Clear import (C_CreateObject): secret keys, private keys, public keys, certificates, data. */
  async createObject(session: string, template: Template): Promise<string> {
    const s = this.core.session(session, 'user', 'officer');
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
      this.core.partitionOf(s);
    } catch (e) {
      throw this.core.refused(s, 'object.create', undefined, e);
    }
    let publicData: Uint8Array | undefined;
    let secret: SecretBytes | undefined;
    let facts: KeyFacts = {};
    try {
      if (cls === 'secret-key' || cls === 'private-key' || cls === 'public-key') {
        const kt = this.core.keyTypeOf(tpl.keyType);
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
        if (tpl.certificate?.[0] !== 0x30) throw new HsmError('TEMPLATE_INCOMPLETE', 'certificate (DER) is required');
        publicData = Uint8Array.from(tpl.certificate);
      } else if (cls === 'data') {
        secret = SecretBytes.from(tpl.value ?? new Uint8Array(0));
      }
      const attrs = withFacts(newAttributes('create', tpl, cls, tpl.keyType, { local: false }), facts);
      checkConsistency(attrs);
      const object = this.core.newObject(s, attrs, publicData);
      this.core.persist(s, object, secret ? new Map([[1, secret]]) : undefined, { actor: s.user, partition: s.partition, op: 'object.create', target: object.uid, outcome: 'ok', detail: cls });
      return object.uid;
    } catch (e) {
      secret?.destroy();
      throw this.core.refused(s, 'object.create', undefined, e);
    }
  }

  async generateKey(session: string, input: { mechanism?: string; template: Template }): Promise<string> {
    const s = this.core.session(session, 'user');
    try {
      const tpl = checkTemplateShape(input?.template ?? {});
      const { mech, keyType } = this.core.generatorFor(input?.mechanism, tpl.keyType, 'generate');
      this.core.checkApproved(s, mech);
      if (tpl.class !== undefined && tpl.class !== 'secret-key') throw new HsmError('TEMPLATE_INCONSISTENT', 'generateKey makes secret keys');
      checkSettable('generate', tpl, 'secret-key', s.role);
      const kt = this.core.keyTypeOf(keyType);
      const spec = kt.normalizeSpec(tpl.valueLen !== undefined ? { keyType, valueLen: tpl.valueLen } : { keyType });
      const gen = await kt.generate!(spec);
      const attrs = withFacts(newAttributes('generate', tpl, 'secret-key', keyType, { local: true }), kt.facts({ secret: gen.secret }));
      checkConsistency(attrs);
      const object = this.core.newObject(s, attrs, undefined);
      this.core.persist(s, object, new Map([[1, gen.secret]]), { actor: s.user, partition: s.partition, op: 'key.generate', target: object.uid, outcome: 'ok', detail: mech.name });
      return object.uid;
    } catch (e) {
      throw this.core.refused(s, 'key.generate', undefined, e);
    }
  }

  async generateKeyPair(session: string, input: { mechanism?: string; publicTemplate?: Template; privateTemplate?: Template }): Promise<{ publicKey: string; privateKey: string }> {
    const s = this.core.session(session, 'user');
    try {
      const pubTpl = checkTemplateShape(input?.publicTemplate ?? {});
      const privTpl = checkTemplateShape(input?.privateTemplate ?? {});
      if (pubTpl.keyType && privTpl.keyType && pubTpl.keyType !== privTpl.keyType) throw new HsmError('TEMPLATE_INCONSISTENT', 'the two halves differ in keyType');
      const { mech, keyType } = this.core.generatorFor(input?.mechanism, privTpl.keyType ?? pubTpl.keyType, 'generate-pair');
      this.core.checkApproved(s, mech);
      if ((pubTpl.class ?? 'public-key') !== 'public-key' || (privTpl.class ?? 'private-key') !== 'private-key') throw new HsmError('TEMPLATE_INCONSISTENT', 'class does not match the half');
      checkSettable('generate', pubTpl, 'public-key', s.role);
      checkSettable('generate', privTpl, 'private-key', s.role);
      mirrorUsages(pubTpl, privTpl);
      const kt = this.core.keyTypeOf(keyType);
      const merged = { ...pubTpl, ...privTpl };
      const spec = kt.normalizeSpec({
        keyType,
        ...(merged.modulusBits !== undefined ? { modulusBits: merged.modulusBits } : {}),
        ...(merged.publicExponent !== undefined ? { publicExponent: merged.publicExponent } : {}),
        ...(merged.curve !== undefined ? { curve: merged.curve } : {}),
        ...(merged.parameterSet !== undefined ? { parameterSet: merged.parameterSet } : {}),
      });
      // An approved generator on a curve or size that is not approved (secp256k1, RSA-1024): refused in fipsApprovedOnly partitions.
      this.core.checkKeyApproved(s, mech, { keyType, ...(spec.curve ? { curve: spec.curve } : {}), ...(spec.modulusBits ? { modulusBits: spec.modulusBits } : {}) }, 'generate-pair');
      // Refuse an inconsistent template before paying for the generation (RSA-4096 takes seconds).
      checkConsistency(newAttributes('generate', privTpl, 'private-key', keyType, { local: true }), newAttributes('generate', pubTpl, 'public-key', keyType, { local: true }));
      const pair = await kt.generatePair!(spec);
      const priv = kt.load('generated', 1, { secret: pair.secret, publicData: pair.publicData });
      const pub = kt.load('generated', 1, { publicData: pair.publicData });
      try {
        await kt.pairwiseTest?.(priv, pub);
      } catch {
        pair.secret.destroy();
        this.core.enterError(`pairwise-consistency test failed for a generated ${keyType} pair`);
        throw new HsmError('DEVICE_ERROR', 'pairwise-consistency test failed');
      } finally {
        if (priv.secret !== pair.secret) priv.secret?.destroy();
      }
      const facts = kt.facts({ publicData: pair.publicData });
      const privAttrs = withFacts(newAttributes('generate', privTpl, 'private-key', keyType, { local: true }), facts);
      const pubAttrs = withFacts(newAttributes('generate', pubTpl, 'public-key', keyType, { local: true }), facts);
      checkConsistency(privAttrs, pubAttrs);
      checkConsistency(pubAttrs, privAttrs);
      const privObj = this.core.newObject(s, privAttrs, pair.publicData);
      const pubObj = this.core.newObject(s, pubAttrs, pair.publicData);
      privObj.meta.peer = pubObj.uid;
      pubObj.meta.peer = privObj.uid;
      const ev = (o: StoredObject): AuditEvent => ({ actor: s.user, partition: s.partition, op: 'key.generate', target: o.uid, outcome: 'ok', detail: mech.name });
      if (privAttrs.token && pubAttrs.token) {
        this.core.guardStore(() =>
          this.core.vault.transaction(() => {
            this.core.vault.putObject(privObj, new Map([[1, pair.secret]]));
            this.core.vault.putObject(pubObj);
            this.core.vault.appendAudit(ev(privObj));
            this.core.vault.appendAudit(ev(pubObj));
          }),
        );
        pair.secret.destroy();
      } else {
        this.core.persist(s, privObj, new Map([[1, pair.secret]]), ev(privObj));
        this.core.persist(s, pubObj, undefined, ev(pubObj));
      }
      return { publicKey: pubObj.uid, privateKey: privObj.uid };
    } catch (e) {
      throw this.core.refused(s, 'key.generate', undefined, e);
    }
  }

  async getAttributes(session: string, ref: KeyRef): Promise<ObjectInfo> {
    const s = this.core.session(session, 'user', 'officer');
    return this.core.info(this.core.resolve(s, ref, 'OBJECT_NOT_FOUND').object);
  }

  /** Uids of the partition's objects matching every attribute in `filter` (and session objects). */
  async findObjects(session: string, filter: Template = {}): Promise<string[]> {
    const s = this.core.session(session, 'user', 'officer');
    const tpl = checkTemplateShape(filter);
    const stored = this.core.guardStore(() => this.core.vault.listObjects(s.partition!));
    const all = [...stored, ...[...s.objects.values()].map((o) => o.object)];
    return all.filter((o) => o.meta.state !== 'destroyed' && matchesTemplate(o.attrs, tpl)).map((o) => o.uid);
  }

  async getPublicKey(session: string, ref: KeyRef): Promise<Uint8Array> {
    const s = this.core.session(session, 'user', 'officer');
    const o = this.core.resolveFor(s, ref, 'KEY_HANDLE_INVALID', 'object.public-key').object;
    const v = o.versions.find((x) => x.version === o.meta.currentVersion);
    if ((o.attrs.class !== 'public-key' && o.attrs.class !== 'private-key') || !v?.publicData) {
      throw this.core.refused(s, 'object.public-key', o.uid, new HsmError('KEY_TYPE_INCONSISTENT', 'not an asymmetric key'));
    }
    return Uint8Array.from(v.publicData);
  }

  /** A certificate object's DER (public data, like a public key). */
  async getCertificate(session: string, ref: KeyRef): Promise<Uint8Array> {
    const s = this.core.session(session, 'user', 'officer');
    const o = this.core.resolveFor(s, ref, 'OBJECT_NOT_FOUND', 'object.certificate').object;
    const v = o.versions.find((x) => x.version === o.meta.currentVersion);
    if (o.attrs.class !== 'certificate' || !v?.publicData) {
      throw this.core.refused(s, 'object.certificate', o.uid, new HsmError('OBJECT_NOT_FOUND', 'not a certificate'));
    }
    return Uint8Array.from(v.publicData);
  }

  async setAttributes(session: string, ref: KeyRef, template: Template): Promise<void> {
    const s = this.core.session(session, 'user', 'officer');
    const r = this.core.resolveFor(s, ref, 'OBJECT_NOT_FOUND', 'object.set');
    try {
      const tpl = checkTemplateShape(template);
      const next = changedAttributes('set', r.object.attrs, tpl, s.role);
      checkConsistency(next);
      const updated: StoredObject = { ...r.object, attrs: next, revision: r.object.revision + 1, meta: { ...r.object.meta, updatedAt: now() } };
      this.core.cache.forget(updated.uid);
      this.core.persist(s, updated, undefined, { actor: s.user, partition: s.partition, op: 'object.set', target: updated.uid, outcome: 'ok', detail: Object.keys(tpl).join(',') }, r.sessionOwned);
    } catch (e) {
      throw this.core.refused(s, 'object.set', r.object.uid, e);
    }
  }

  async copyObject(session: string, ref: KeyRef, template: Template = {}): Promise<string> {
    const s = this.core.session(session, 'user');
    const r = this.core.resolveFor(s, ref, 'OBJECT_NOT_FOUND', 'object.copy');
    const material = new Map<number, SecretBytes>();
    try {
      const tpl = checkTemplateShape(template);
      const attrs = changedAttributes('copy', r.object.attrs, tpl, s.role);
      checkConsistency(attrs);
      for (const v of r.object.versions) {
        const m = this.core.secretOf(s, r, v.version);
        if (m) material.set(v.version, m);
      }
      const copy = this.core.newObject(s, attrs, undefined);
      copy.versions = r.object.versions.map((v) => ({ ...v }));
      copy.meta.currentVersion = r.object.meta.currentVersion;
      this.core.persist(s, copy, material, { actor: s.user, partition: s.partition, op: 'object.copy', target: copy.uid, outcome: 'ok', detail: `from ${r.object.uid}` });
      return copy.uid;
    } catch (e) {
      for (const m of material.values()) m.destroy();
      throw this.core.refused(s, 'object.copy', r.object.uid, e);
    }
  }

  async destroyObject(session: string, ref: KeyRef): Promise<void> {
    const s = this.core.session(session, 'user');
    this.#destroy(s, ref, true);
  }

  #destroy(s: Session, ref: KeyRef, gated = false): void {
    const r = this.core.resolveFor(s, ref, 'OBJECT_NOT_FOUND', 'object.destroy');
    if (!r.object.attrs.destroyable) throw this.core.refused(s, 'object.destroy', r.object.uid, new HsmError('ACTION_PROHIBITED', 'the object is not destroyable'));
    // Session objects die with their session anyway; token objects may need a quorum (per-partition key.destroy).
    if (gated && !r.sessionOwned) quorumGate(this.core, s, 'key.destroy', { action: 'destroy', uid: r.object.uid }, { partition: r.object.partition });
    this.core.destroy(s, r, s.user);
  }
}
