// Cryptographic operations on keys, each through the guard pipeline (ModuleCore.guard and
// execute): encrypt, decrypt, sign, verify, digest, random, wrap, unwrap, derive, KEM.

import { randomBytes } from 'node:crypto';
import { HsmError } from '../errors.js';
import type { KeyFacts, KeyTypeDescriptor } from '../keytypes/types.js';
import { mechanism as lookupMechanism } from '../mechanisms/registry.js';
import type { MechanismParams } from '../mechanisms/types.js';
import { checkConsistency, checkSettable, checkTemplateShape, matchesTemplate, mergeBound, newAttributes } from '../policy/validator.js';
import { SecretBytes } from '../secret.js';
import type { ObjectClass, Template } from '../types.js';
import { MAX_RANDOM, bytes, checkKeyUsable, checkPrivateMaterial, fitLength, params, withFacts, type KeyRef, type Resolved, type ModuleCore } from './core.js';

export class Operations {
  constructor(private readonly core: ModuleCore) {}


  async encrypt(session: string, input: { key: KeyRef; mechanism: string; data: Uint8Array; params?: MechanismParams }): Promise<{ data: Uint8Array; params?: MechanismParams; keyVersion: number; approved: boolean }> {
    const g = this.core.guard(session, 'encrypt', input?.key, input?.mechanism, undefined);
    const data = bytes(input.data, 'data');
    const p = params(input.params);
    const approved = this.core.approval(g, 'encrypt', p);
    const res = await this.core.execute(g, 'encrypt', (k) => g.mech.impl.encrypt!(k, data, p));
    const out: { data: Uint8Array; params?: MechanismParams; keyVersion: number; approved: boolean } = { data: res.output, keyVersion: g.version, approved };
    if (res.params) out.params = res.params;
    return out;
  }

  async decrypt(session: string, input: { key: KeyRef; mechanism: string; data: Uint8Array; params?: MechanismParams; keyVersion?: number }): Promise<Uint8Array> {
    return (await this.decryptWithIndicator(session, input)).data;
  }

  /** decrypt with the approved-service indicator (attacks.md E-09). */
  async decryptWithIndicator(session: string, input: { key: KeyRef; mechanism: string; data: Uint8Array; params?: MechanismParams; keyVersion?: number }): Promise<{ data: Uint8Array; approved: boolean }> {
    const g = this.core.guard(session, 'decrypt', input?.key, input?.mechanism, input?.keyVersion);
    const data = bytes(input.data, 'data');
    const p = params(input.params);
    const approved = this.core.approval(g, 'decrypt', p);
    const res = await this.core.execute(g, 'decrypt', (k) => g.mech.impl.decrypt!(k, data, p));
    if (res instanceof SecretBytes) {
      const copy = Uint8Array.from(res.insecureBytes());
      res.destroy();
      return { data: copy, approved };
    }
    return { data: res, approved };
  }

  async sign(session: string, input: { key: KeyRef; mechanism: string; data: Uint8Array; params?: MechanismParams }): Promise<{ signature: Uint8Array; keyVersion: number; approved: boolean }> {
    const g = this.core.guard(session, 'sign', input?.key, input?.mechanism, undefined);
    const data = bytes(input.data, 'data');
    const p = params(input.params);
    const approved = this.core.approval(g, 'sign', p);
    const signature = await this.core.execute(g, 'sign', (k) => g.mech.impl.sign!(k, data, p));
    return { signature, keyVersion: g.version, approved };
  }

  async verify(session: string, input: { key: KeyRef; mechanism: string; data: Uint8Array; signature: Uint8Array; params?: MechanismParams; keyVersion?: number }): Promise<boolean> {
    return (await this.verifyWithIndicator(session, input)).valid;
  }

  /** verify with the approved-service indicator (attacks.md E-09). */
  async verifyWithIndicator(session: string, input: { key: KeyRef; mechanism: string; data: Uint8Array; signature: Uint8Array; params?: MechanismParams; keyVersion?: number }): Promise<{ valid: boolean; approved: boolean }> {
    const g = this.core.guard(session, 'verify', input?.key, input?.mechanism, input?.keyVersion);
    const data = bytes(input.data, 'data');
    const sig = bytes(input.signature, 'signature');
    const p = params(input.params);
    const approved = this.core.approval(g, 'verify', p);
    return { valid: await this.core.execute(g, 'verify', (k) => g.mech.impl.verify!(k, data, sig, p)), approved };
  }

  async digest(session: string, input: { mechanism: string; data: Uint8Array; params?: MechanismParams }): Promise<Uint8Array> {
    return (await this.digestWithIndicator(session, input)).digest;
  }

  /** digest with the approved-service indicator (attacks.md E-09). */
  async digestWithIndicator(session: string, input: { mechanism: string; data: Uint8Array; params?: MechanismParams }): Promise<{ digest: Uint8Array; approved: boolean }> {
    const s = this.core.session(session);
    const mech = lookupMechanism(input?.mechanism);
    if (!mech.operations.includes('digest') || !mech.impl.digest) throw new HsmError('MECHANISM_INVALID', `${mech.name} is not a digest`);
    if (s.partition) this.core.checkApproved(s, mech);
    return { digest: await mech.impl.digest(bytes(input.data, 'data'), params(input.params)), approved: mech.approved };
  }

  randomBytes(session: string, length: number): Uint8Array {
    this.core.session(session);
    if (!Number.isSafeInteger(length) || length < 1 || length > MAX_RANDOM) throw new HsmError('DATA_LEN_RANGE', `1 to ${MAX_RANDOM} bytes`);
    return randomBytes(length);
  }

  /** Exports a key encrypted under another (C_WrapKey): the only way key material leaves. */
  async wrapKey(session: string, input: { wrappingKey: KeyRef; key: KeyRef; mechanism: string; params?: MechanismParams }): Promise<{ wrapped: Uint8Array; params?: MechanismParams; approved: boolean }> {
    const g = this.core.guard(session, 'wrap', input?.wrappingKey, input?.mechanism, undefined);
    const s = g.session;
    const w = g.resolved.object;
    let target: Resolved | undefined;
    try {
      target = this.core.resolve(s, input.key, 'KEY_HANDLE_INVALID');
      const t = target.object.attrs;
      if (t.class !== 'secret-key' && t.class !== 'private-key') throw new HsmError('KEY_NOT_WRAPPABLE', 'only secret and private keys are wrapped');
      if (!t.extractable) throw new HsmError('KEY_UNEXTRACTABLE');
      if (t.wrapWithTrusted && !w.attrs.trusted) throw new HsmError('KEY_NOT_WRAPPABLE', 'the key may be wrapped only under a trusted key'); // attacks.md A-13
      if (w.attrs.wrapTemplate && !matchesTemplate(t, w.attrs.wrapTemplate)) throw new HsmError('KEY_NOT_WRAPPABLE', "the key does not match the wrapping key's wrapTemplate");
      if (this.core.strength(w.attrs) < this.core.strength(t)) throw new HsmError('WRAPPING_KEY_TYPE_INCONSISTENT', 'the wrapping key is weaker than the key'); // A-10, SP 800-57 Pt 1 §5.6.1
      checkKeyUsable(target.object, 'wrap');
    } catch (e) {
      throw this.core.refused(s, 'key.wrap', target?.object.uid ?? w.uid, e);
    }
    const p = params(input.params);
    const approved = this.core.approval(g, 'wrap', p);
    const material = this.core.secretOf(s, target, target.object.meta.currentVersion);
    if (!material) throw new HsmError('KEY_NOT_WRAPPABLE');
    try {
      const res = await this.core.execute(g, 'wrap', (k) => g.mech.impl.wrap!(k, material, p));
      this.core.audit({ actor: s.user, partition: s.partition, op: 'key.wrap', target: target.object.uid, outcome: 'ok', detail: `under ${w.uid} with ${g.mech.name}` });
      const out: { wrapped: Uint8Array; params?: MechanismParams; approved: boolean } = { wrapped: res.output, approved };
      if (res.params) out.params = res.params;
      return out;
    } finally {
      material.destroy();
    }
  }

  /** Imports a wrapped key (C_UnwrapKey). The new key is never local and never always-sensitive. */
  async unwrapKey(session: string, input: { unwrappingKey: KeyRef; mechanism: string; wrapped: Uint8Array; params?: MechanismParams; template: Template }): Promise<string> {
    return (await this.unwrapKeyWithIndicator(session, input)).key;
  }

  /** unwrapKey with the approved-service indicator (attacks.md E-09). */
  async unwrapKeyWithIndicator(session: string, input: { unwrappingKey: KeyRef; mechanism: string; wrapped: Uint8Array; params?: MechanismParams; template: Template }): Promise<{ key: string; approved: boolean }> {
    const g = this.core.guard(session, 'unwrap', input?.unwrappingKey, input?.mechanism, undefined);
    const s = g.session;
    let tpl: Template;
    let kt: KeyTypeDescriptor;
    try {
      const callerTpl = checkTemplateShape(input.template);
      const cls = callerTpl.class;
      if (cls !== 'secret-key' && cls !== 'private-key') throw new HsmError('TEMPLATE_INCOMPLETE', 'class secret-key or private-key is required');
      checkSettable('unwrap', callerTpl, cls, s.role);
      tpl = mergeBound(callerTpl, g.resolved.object.attrs.unwrapTemplate);
      kt = this.core.keyTypeOf(tpl.keyType);
      if ((kt.kind === 'secret') !== (cls === 'secret-key')) throw new HsmError('TEMPLATE_INCONSISTENT', `${tpl.keyType} is not a ${cls} type`);
    } catch (e) {
      throw this.core.refused(s, 'key.unwrap', g.resolved.object.uid, e);
    }
    const wrapped = bytes(input.wrapped, 'wrapped');
    const p = params(input.params);
    const approved = this.core.approval(g, 'unwrap', p);
    const secret = await this.core.execute(g, 'unwrap', (k) => g.mech.impl.unwrap!(k, wrapped, p));
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
        this.core.audit({ actor: s.user, partition: s.partition, op: 'key.unwrap', target: g.resolved.object.uid, outcome: 'failed', code: 'UNWRAP_FAILED', detail: 'unwrapped material is not a valid key of the template type' });
        throw new HsmError('UNWRAP_FAILED');
      }
      const { valueLen: _v, ...rest } = tpl;
      const attrs = withFacts(newAttributes('unwrap', rest, cls, tpl.keyType, { local: false }), facts);
      checkConsistency(attrs);
      const object = this.core.newObject(s, attrs, publicData);
      this.core.persist(s, object, new Map([[1, secret]]), { actor: s.user, partition: s.partition, op: 'key.unwrap', target: object.uid, outcome: 'ok', detail: `under ${g.resolved.object.uid} with ${g.mech.name}` });
      return { key: object.uid, approved };
    } catch (e) {
      secret.destroy();
      throw this.core.refused(s, 'key.unwrap', g.resolved.object.uid, e);
    }
  }

  async deriveKey(session: string, input: { baseKey: KeyRef; mechanism: string; params?: MechanismParams; template: Template }): Promise<string> {
    return (await this.deriveKeyWithIndicator(session, input)).key;
  }

  /** deriveKey with the approved-service indicator (attacks.md E-09). */
  async deriveKeyWithIndicator(session: string, input: { baseKey: KeyRef; mechanism: string; params?: MechanismParams; template: Template }): Promise<{ key: string; approved: boolean }> {
    const g = this.core.guard(session, 'derive', input?.baseKey, input?.mechanism, undefined);
    const base = g.resolved.object;
    let d: { tpl: Template; kt: KeyTypeDescriptor; length: number };
    try {
      d = this.core.derivedTemplate(g.session, input.template, base.attrs.deriveTemplate);
    } catch (e) {
      throw this.core.refused(g.session, 'key.derive', base.uid, e);
    }
    const p = params(input.params);
    const approved = this.core.approval(g, 'derive', p);
    const secret = await this.core.execute(g, 'derive', (k) => g.mech.impl.derive!(k, p, d.length));
    return { key: this.core.storeDerived(g.session, 'key.derive', base, d.tpl, d.kt, secret, g.mech.name), approved };
  }

  async encapsulate(session: string, input: { key: KeyRef; mechanism: string; params?: MechanismParams; template?: Template }): Promise<{ ciphertext: Uint8Array; key: string; approved: boolean }> {
    const g = this.core.guard(session, 'encapsulate', input?.key, input?.mechanism, undefined);
    const base = g.resolved.object;
    let d: { tpl: Template; kt: KeyTypeDescriptor; length: number };
    try {
      d = this.core.derivedTemplate(g.session, input.template ?? {}, undefined);
    } catch (e) {
      throw this.core.refused(g.session, 'key.encapsulate', base.uid, e);
    }
    const p = params(input.params);
    const approved = this.core.approval(g, 'encapsulate', p);
    const enc = await this.core.execute(g, 'encapsulate', (k) => g.mech.impl.encapsulate!(k, p));
    const secret = fitLength(enc.sharedSecret, d.length);
    const uid = this.core.storeDerived(g.session, 'key.encapsulate', { ...base, attrs: { ...base.attrs, sensitive: true, extractable: false, alwaysSensitive: false, neverExtractable: false } }, d.tpl, d.kt, secret, g.mech.name);
    return { ciphertext: enc.ciphertext, key: uid, approved };
  }

  async decapsulate(session: string, input: { key: KeyRef; mechanism: string; ciphertext: Uint8Array; params?: MechanismParams; template?: Template }): Promise<string> {
    return (await this.decapsulateWithIndicator(session, input)).key;
  }

  /** decapsulate with the approved-service indicator (attacks.md E-09). */
  async decapsulateWithIndicator(session: string, input: { key: KeyRef; mechanism: string; ciphertext: Uint8Array; params?: MechanismParams; template?: Template }): Promise<{ key: string; approved: boolean }> {
    const g = this.core.guard(session, 'decapsulate', input?.key, input?.mechanism, undefined);
    const base = g.resolved.object;
    let d: { tpl: Template; kt: KeyTypeDescriptor; length: number };
    try {
      d = this.core.derivedTemplate(g.session, input.template ?? {}, undefined);
    } catch (e) {
      throw this.core.refused(g.session, 'key.decapsulate', base.uid, e);
    }
    const ct = bytes(input.ciphertext, 'ciphertext');
    const p = params(input.params);
    const approved = this.core.approval(g, 'decapsulate', p);
    const shared = await this.core.execute(g, 'decapsulate', (k) => g.mech.impl.decapsulate!(k, ct, p));
    // The encapsulator knows the secret too: the new key is never always-sensitive.
    const secret = fitLength(shared, d.length);
    return { key: this.core.storeDerived(g.session, 'key.decapsulate', { ...base, attrs: { ...base.attrs, alwaysSensitive: false, neverExtractable: false } }, d.tpl, d.kt, secret, g.mech.name), approved };
  }
}
