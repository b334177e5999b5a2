// Handlers for object calls: find, attributes, create/copy/destroy, key generation (PKCS#11
// v3.0 §5.7, §5.14). Templates become boundary Templates in attributes.ts; the boundary applies
// the policy. C_GetAttributeValue follows the exact per-attribute rules of reference §4.4.

import { HsmError, mechanismInfo, type ObjectInfo, type Template } from '../../boundary/api.js';
import { type Application, CkrError, type P11Session } from './application.js';
import { type AttrValue, valueClass, type WireAttribute } from './attribute-wire.js';
import { publicFacts, type PublicFacts, readAttribute, toTemplate } from './attributes.js';
import { certificateFields } from './certificate-fields.js';
import type { Dialect } from './codec.js';
import { CKA, CKR, UNAVAILABLE } from './constants.js';
import type { Handler } from './general-calls.js';
import { resolveMechanism } from './mechanisms.js';

/** Attributes whose value comes from the public key, fetched only when asked for. */
const NEEDS_PUBLIC: ReadonlySet<number> = new Set([CKA.MODULUS, CKA.PUBLIC_EXPONENT, CKA.EC_POINT, CKA.PUBLIC_KEY_INFO, CKA.VALUE, CKA.SUBJECT, CKA.ISSUER, CKA.SERIAL_NUMBER]);

async function objectOf(app: Application, s: P11Session, handle: number): Promise<{ bs: string; uid: string; info: ObjectInfo }> {
  const uid = app.uidFor(handle);
  // Without a login nothing is visible (attacks.md A-22 a): a handle from an earlier login is simply invalid now.
  const bs = app.logins.get(s.slot.id)?.session;
  if (!bs) throw new CkrError(CKR.OBJECT_HANDLE_INVALID);
  return { bs, uid, info: await app.hsm.getAttributes(bs, uid) };
}

async function publicOf(app: Application, bs: string, info: ObjectInfo): Promise<PublicFacts | undefined> {
  // A certificate's DER is public data, like a public key.
  if (info.class === 'certificate') return { certificate: certificateFields(await app.hsm.getCertificate(bs, info.uid)) };
  if (info.class !== 'public-key' && info.class !== 'private-key') return undefined;
  return publicFacts(await app.hsm.getPublicKey(bs, info.uid));
}

/** Fits a read value to the wire class p11-kit 0.24.1 gives the type (e.g. CKA_DESTROYABLE travels as one raw byte, §3.2). */
function toClass(v: AttrValue, type: number, version: number): AttrValue {
  const cls = valueClass(type, version);
  if (cls === v.kind || (cls === 'bytes' && v.kind === 'date')) return v;
  if (cls === 'bytes' && v.kind === 'byte') return { kind: 'bytes', v: Uint8Array.of(v.v) };
  if (cls === 'bytes' && v.kind === 'ulong') {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v.v); // native CK_ULONG of an x86-64 client
    return { kind: 'bytes', v: new Uint8Array(b) };
  }
  throw new TypeError(`attribute 0x${type.toString(16)}: ${v.kind} does not fit class ${cls}`);
}

function sizeQueryValue(type: number, version: number): AttrValue {
  switch (valueClass(type, version)) {
    case 'byte':
      return { kind: 'byte', v: 0 };
    case 'ulong':
      return { kind: 'ulong', v: 0n };
    case 'mechs':
      return { kind: 'mechs', v: [] }; // count 0 with length 8·n (reference §10 pitfall 7)
    case 'attrs':
      return { kind: 'attrs', v: [] };
    case 'date':
      return { kind: 'date', v: null };
    case 'bytes':
      return { kind: 'bytes', v: null };
  }
}

function sameWireValue(a: AttrValue, b: AttrValue): boolean {
  const bytes = (v: AttrValue): Buffer | undefined => (v.kind === 'bytes' || v.kind === 'date' ? Buffer.from(v.v ?? []) : v.kind === 'byte' ? Buffer.of(v.v ? 1 : 0) : undefined);
  if (a.kind === 'ulong' && b.kind === 'ulong') return a.v === b.v;
  const x = bytes(a);
  const y = bytes(b);
  return x !== undefined && y !== undefined && x.equals(y);
}

/** Key types whose length the generating template must give (CKA_VALUE_LEN); DES2/DES3 keys have one length. */
const VARIABLE_LENGTH: ReadonlySet<string> = new Set(['aes', 'generic-secret']);

/**
 * PKCS#11 v3.0 (AES and generic secret key object tables, CKA_VALUE_LEN footnote 3: "must be specified
 * when object is generated with C_GenerateKey"): a missing length is CKR_TEMPLATE_INCOMPLETE. REST
 * keeps its default length; only PKCS#11 requires it. A template whose class or key type contradicts
 * the mechanism is left to the boundary, which calls it inconsistent.
 */
function requireValueLen(mechanism: string, tpl: Template): void {
  const keyTypes = mechanismInfo(mechanism)?.keyTypes ?? [];
  if (!keyTypes.some((k) => VARIABLE_LENGTH.has(k)) || tpl.valueLen !== undefined) return;
  if (tpl.class !== undefined && tpl.class !== 'secret-key') return;
  if (tpl.keyType !== undefined && !keyTypes.includes(tpl.keyType)) return;
  throw new CkrError(CKR.TEMPLATE_INCOMPLETE);
}

function requireWritable(s: P11Session, tpl: Template): void {
  // PKCS#11 v3.0 §5.7: token objects are made only in read/write sessions.
  if (tpl.token === true && !s.rw) throw new CkrError(CKR.SESSION_READ_ONLY);
}

export function objectCalls(d: () => Dialect): Record<string, Handler> {
  return {
    async C_FindObjectsInit(app, a) {
      const s = app.session(a.u(0));
      if (s.op || s.find) throw new CkrError(CKR.OPERATION_ACTIVE);
      const attrs = a.aA(1);
      const bs = app.logins.get(s.slot.id)?.session;
      if (!bs) {
        s.find = { handles: [], pos: 0 };
        return [];
      }
      // What the boundary can filter on goes to it; the rest (UNIQUE_ID, MODULUS, EC_POINT …) is compared here on read values.
      const filter: WireAttribute[] = [];
      const local: WireAttribute[] = [];
      for (const attr of attrs) {
        if (attr.type === CKA.UNIQUE_ID) {
          local.push(attr);
          continue;
        }
        try {
          toTemplate([attr]);
          filter.push(attr);
        } catch {
          local.push(attr);
        }
      }
      let uids = await app.hsm.findObjects(bs, toTemplate(filter));
      if (local.length > 0) {
        const kept: string[] = [];
        for (const uid of uids) {
          const info = await app.hsm.getAttributes(bs, uid);
          const pub = local.some((x) => NEEDS_PUBLIC.has(x.type)) ? await publicOf(app, bs, info) : undefined;
          const ok = local.every((want) => {
            const r = readAttribute(want.type, info, pub);
            return typeof r === 'object' && want.value !== undefined && sameWireValue(r.value, want.value);
          });
          if (ok) kept.push(uid);
        }
        uids = kept;
      }
      s.find = { handles: uids.map((u) => app.handleFor(u)), pos: 0 };
      return [];
    },

    C_FindObjects(app, a) {
      const s = app.session(a.u(0));
      if (!s.find) throw new CkrError(CKR.OPERATION_NOT_INITIALIZED);
      const max = a.fu(1).capacity;
      const out = s.find.handles.slice(s.find.pos, s.find.pos + max);
      s.find.pos += out.length;
      return [{ items: out }];
    },

    C_FindObjectsFinal(app, a) {
      const s = app.session(a.u(0));
      if (!s.find) throw new CkrError(CKR.OPERATION_NOT_INITIALIZED);
      delete s.find;
      return [];
    },

    async C_GetAttributeValue(app, a) {
      const s = app.session(a.u(0));
      const { bs, info } = await objectOf(app, s, a.u(1));
      const reqs = a.fA(2);
      const pub = reqs.some((r) => NEEDS_PUBLIC.has(r.type)) ? await publicOf(app, bs, info) : undefined;
      const version = d().version;
      let rv: number = CKR.OK;
      const out: WireAttribute[] = reqs.map(({ type, capacity }) => {
        const r = readAttribute(type, info, pub);
        if (r === 'sensitive') {
          rv = CKR.ATTRIBUTE_SENSITIVE;
          return { type };
        }
        if (r === 'invalid') {
          if (rv !== CKR.ATTRIBUTE_SENSITIVE) rv = CKR.ATTRIBUTE_TYPE_INVALID;
          return { type };
        }
        if (capacity === 0) return { type, length: r.length, value: sizeQueryValue(type, version) };
        if (capacity < r.length) {
          if (rv === CKR.OK) rv = CKR.BUFFER_TOO_SMALL;
          return { type };
        }
        return { type, length: r.length, value: toClass(r.value, type, version) };
      });
      return [out, rv];
    },

    async C_SetAttributeValue(app, a) {
      const s = app.session(a.u(0));
      const { bs, uid } = await objectOf(app, s, a.u(1));
      await app.hsm.setAttributes(bs, uid, toTemplate(a.aA(2)));
      return [];
    },

    async C_CreateObject(app, a) {
      const s = app.session(a.u(0));
      const bs = app.boundary(s);
      const tpl = toTemplate(a.aA(1));
      requireWritable(s, tpl);
      return [app.handleFor(await app.hsm.createObject(bs, tpl))];
    },

    async C_CopyObject(app, a) {
      const s = app.session(a.u(0));
      const { bs, uid } = await objectOf(app, s, a.u(1));
      const tpl = toTemplate(a.aA(2));
      requireWritable(s, tpl);
      return [app.handleFor(await app.hsm.copyObject(bs, uid, tpl))];
    },

    async C_DestroyObject(app, a) {
      const s = app.session(a.u(0));
      const { bs, uid, info } = await objectOf(app, s, a.u(1));
      if (info.token && !s.rw) throw new CkrError(CKR.SESSION_READ_ONLY);
      await app.hsm.destroyObject(bs, uid);
      app.forgetObject(a.u(1));
      return [];
    },

    async C_GetObjectSize(app, a) {
      const s = app.session(a.u(0));
      await objectOf(app, s, a.u(1));
      return [UNAVAILABLE];
    },

    async C_GenerateKey(app, a) {
      const s = app.session(a.u(0));
      const bs = app.boundary(s);
      const { name } = resolveMechanism(a.M(1), 'generate');
      const template = toTemplate(a.aA(2));
      requireWritable(s, template);
      requireValueLen(name, template);
      try {
        return [app.handleFor(await app.hsm.generateKey(bs, { mechanism: name, template }))];
      } catch (e) {
        // The one size a C_GenerateKey template carries is CKA_VALUE_LEN: a length the key type
        // does not take is an invalid attribute value; PKCS#11 v3.0 §5.14 lists no CKR_KEY_SIZE_RANGE for C_GenerateKey.
        if (e instanceof HsmError && e.code === 'KEY_SIZE_RANGE' && template.valueLen !== undefined) throw new CkrError(CKR.ATTRIBUTE_VALUE_INVALID);
        throw e;
      }
    },

    async C_GenerateKeyPair(app, a) {
      const s = app.session(a.u(0));
      const bs = app.boundary(s);
      const { name } = resolveMechanism(a.M(1), 'generate-pair');
      const publicTemplate = toTemplate(a.aA(2));
      const privateTemplate = toTemplate(a.aA(3));
      requireWritable(s, publicTemplate);
      requireWritable(s, privateTemplate);
      const pair = await app.hsm.generateKeyPair(bs, { mechanism: name, publicTemplate, privateTemplate });
      return [app.handleFor(pair.publicKey), app.handleFor(pair.privateKey)];
    },
  };
}
