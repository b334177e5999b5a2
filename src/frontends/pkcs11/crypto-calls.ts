// Handlers for the cryptographic calls (PKCS#11 v3.0 §5.8–5.15). Each operation is one
// boundary call: multi-part input is gathered and processed at *Final, since the boundary's
// operations are one-shot. A size query computes the output once and keeps it, so the caller
// gets the same signature or plaintext when it comes back with a buffer.

import { createHash } from 'node:crypto';
import { HsmError, mechanismInfo } from '../../boundary/api.js';
import { type ActiveOperation, type Application, CkrError, MAX_MULTIPART, type P11Session } from './application.js';
import { toTemplate } from './attributes.js';
import type { Args, OutValue } from './codec.js';
import { CKR } from './constants.js';
import type { Handler } from './general-calls.js';
import { type KeyedKind, keyForInit } from './key-checks.js';
import { NULL_MECHANISM } from './mechanism-wire.js';
import { resolveMechanism } from './mechanisms.js';
import { bytesReply } from './output.js';
import { checkedSignature, signatureLengthRule } from './signature-length.js';

type Kind = ActiveOperation['kind'];

async function init(app: Application, a: Args, kind: KeyedKind): Promise<OutValue[]> {
  const s = app.session(a.u(0));
  if (cancelled(s, a, kind)) return [];
  if (s.op || s.find) throw new CkrError(CKR.OPERATION_ACTIVE);
  const { name, params } = resolveMechanism(a.M(1), kind);
  const bs = app.boundary(s); // keys need a login (CKR_USER_NOT_LOGGED_IN before a handle is even looked at)
  const key = app.uidFor(a.u(2), CKR.KEY_HANDLE_INVALID);
  // Usage and key type are refused here, at Init, as PKCS#11 has it; the boundary checks again at the operation.
  const info = await keyForInit(app, bs, key, kind, name);
  if (s.op || s.find) throw new CkrError(CKR.OPERATION_ACTIVE); // another call on this session started one meanwhile
  const op: ActiveOperation = { kind, mechanism: name, params, key, parts: [], size: 0, multi: false };
  if (kind === 'verify') {
    const rule = signatureLengthRule(name, mechanismInfo(name)?.family ?? '', info, params);
    if (rule) op.signatureLength = rule;
  }
  s.op = op;
  return [];
}

/** PKCS#11 v3.0 §5.2: a NULL mechanism (p11-kit 0.25.3+ sends NULL_MECHANISM) ends the active operation of that kind. */
function cancelled(s: P11Session, a: Args, kind: Kind): boolean {
  if (a.M(1).type !== NULL_MECHANISM) return false;
  if (s.op?.kind === kind) delete s.op;
  return true;
}

function active(s: P11Session, kind: Kind): ActiveOperation {
  if (s.op?.kind !== kind) throw new CkrError(CKR.OPERATION_NOT_INITIALIZED);
  return s.op;
}

/** Node's name of a boundary digest, for digests in public sessions (no boundary session to ask). */
const nodeHash = (name: string): string => name.toLowerCase().replace(/^sha-/, 'sha');

async function compute(app: Application, s: P11Session, op: ActiveOperation, data: Uint8Array): Promise<Uint8Array> {
  if (op.kind === 'digest') {
    const login = app.logins.get(s.slot.id);
    if (login) return app.hsm.digest(login.session, { mechanism: op.mechanism, data });
    return new Uint8Array(createHash(nodeHash(op.mechanism)).update(data).digest());
  }
  const bs = app.boundary(s);
  const key = op.key as string;
  const req = { key, mechanism: op.mechanism, data, params: op.params };
  switch (op.kind) {
    case 'sign':
      return (await app.hsm.sign(bs, req)).signature;
    case 'encrypt': {
      const res = await app.hsm.encrypt(bs, req);
      // An IV the module chose (AES-GCM) cannot travel back through C_Encrypt: refuse rather than return an unusable ciphertext.
      if (res.params?.iv && !op.params.iv) throw new HsmError('MECHANISM_PARAM_INVALID', 'this mechanism generates its IV, which PKCS#11 C_Encrypt cannot return');
      return res.data;
    }
    case 'decrypt':
      return app.hsm.decrypt(bs, req);
    case 'verify':
      throw new TypeError('verify has no output');
  }
}

/** Single-part or final step: compute (or reuse the size query's result) and apply the output-buffer rules. */
async function finish(app: Application, s: P11Session, op: ActiveOperation, input: Uint8Array, a: Args, capIndex: number): Promise<OutValue[]> {
  let output: Uint8Array;
  if (op.pending && Buffer.from(op.pending.input).equals(Buffer.from(input))) output = op.pending.output;
  else {
    try {
      output = await compute(app, s, op, input);
    } catch (e) {
      delete s.op; // any failure but a short buffer ends the operation (PKCS#11 v3.0 §5.2)
      throw e;
    }
  }
  const { reply, done } = bytesReply(output, a.fy(capIndex));
  if (done) delete s.op;
  else op.pending = { input, output };
  return [reply];
}

function single(kind: Kind): Handler {
  return (app, a) => {
    const s = app.session(a.u(0));
    const op = active(s, kind);
    if (op.multi) {
      // C_Sign/C_Encrypt… cannot finish a multi-part operation; like every error but a short buffer, this ends it (PKCS#11 v3.0 §5.2).
      delete s.op;
      throw new CkrError(CKR.OPERATION_ACTIVE);
    }
    return finish(app, s, op, a.ay(1) ?? new Uint8Array(0), a, 2);
  };
}

function gather(s: P11Session, op: ActiveOperation, part: Uint8Array): void {
  if (op.size + part.length > MAX_MULTIPART) {
    delete s.op;
    throw new CkrError(CKR.DATA_LEN_RANGE);
  }
  op.multi = true;
  op.parts.push(part);
  op.size += part.length;
}

/** *Update for sign/verify/digest: input only. */
function update(kind: Kind): Handler {
  return (app, a) => {
    const s = app.session(a.u(0));
    gather(s, active(s, kind), a.ay(1) ?? new Uint8Array(0));
    return [];
  };
}

/** *Update for encrypt/decrypt: output comes at *Final, so each update yields 0 bytes. A size query consumes nothing. */
function cipherUpdate(kind: Kind): Handler {
  return (app, a) => {
    const s = app.session(a.u(0));
    const op = active(s, kind);
    if (a.fy(2).query) return [{ length: 0 }];
    gather(s, op, a.ay(1) ?? new Uint8Array(0));
    return [{ data: new Uint8Array(0) }];
  };
}

function final(kind: Kind): Handler {
  return (app, a) => {
    const s = app.session(a.u(0));
    const op = active(s, kind);
    return finish(app, s, op, Buffer.concat(op.parts), a, 1);
  };
}

async function verifyNow(app: Application, s: P11Session, op: ActiveOperation, data: Uint8Array, signature: Uint8Array): Promise<OutValue[]> {
  delete s.op; // C_Verify always ends the operation
  // A signature whose length is wrong for the mechanism and key is CKR_SIGNATURE_LEN_RANGE (PKCS#11 v3.0 §5.13).
  const sig = checkedSignature(op.signatureLength, signature);
  const ok = await app.hsm.verify(app.boundary(s), { key: op.key as string, mechanism: op.mechanism, data, signature: sig, params: op.params });
  if (!ok) throw new CkrError(CKR.SIGNATURE_INVALID);
  return [];
}

export const CRYPTO_CALLS: Record<string, Handler> = {
  C_EncryptInit: (app, a) => init(app, a, 'encrypt'),
  C_Encrypt: single('encrypt'),
  C_EncryptUpdate: cipherUpdate('encrypt'),
  C_EncryptFinal: final('encrypt'),
  C_DecryptInit: (app, a) => init(app, a, 'decrypt'),
  C_Decrypt: single('decrypt'),
  C_DecryptUpdate: cipherUpdate('decrypt'),
  C_DecryptFinal: final('decrypt'),
  C_SignInit: (app, a) => init(app, a, 'sign'),
  C_Sign: single('sign'),
  C_SignUpdate: update('sign'),
  C_SignFinal: final('sign'),
  C_DigestInit: (app, a) => {
    const s = app.session(a.u(0));
    if (cancelled(s, a, 'digest')) return [];
    if (s.op || s.find) throw new CkrError(CKR.OPERATION_ACTIVE);
    const { name } = resolveMechanism(a.M(1), 'digest');
    s.op = { kind: 'digest', mechanism: name, params: {}, parts: [], size: 0, multi: false };
    return [];
  },
  C_Digest: single('digest'),
  C_DigestUpdate: update('digest'),
  C_DigestFinal: final('digest'),
  C_DigestKey: (app, a) => {
    active(app.session(a.u(0)), 'digest');
    // Digesting a secret key's value would be an equality oracle on it (attacks.md B-09).
    throw new CkrError(CKR.KEY_INDIGESTIBLE);
  },
  C_VerifyInit: (app, a) => init(app, a, 'verify'),
  C_Verify: (app, a) => {
    const s = app.session(a.u(0));
    const op = active(s, 'verify');
    if (op.multi) throw new CkrError(CKR.OPERATION_ACTIVE);
    return verifyNow(app, s, op, a.ay(1) ?? new Uint8Array(0), a.ay(2) ?? new Uint8Array(0));
  },
  C_VerifyUpdate: update('verify'),
  C_VerifyFinal: (app, a) => {
    const s = app.session(a.u(0));
    const op = active(s, 'verify');
    return verifyNow(app, s, op, Buffer.concat(op.parts), a.ay(1) ?? new Uint8Array(0));
  },

  async C_WrapKey(app, a) {
    const s = app.session(a.u(0));
    const bs = app.boundary(s);
    const { name, params } = resolveMechanism(a.M(1), 'wrap');
    const wrappingKey = app.uidFor(a.u(2), CKR.KEY_HANDLE_INVALID);
    const key = app.uidFor(a.u(3), CKR.KEY_HANDLE_INVALID);
    const res = await app.hsm.wrapKey(bs, { wrappingKey, key, mechanism: name, params });
    if (res.params?.iv && !params.iv) throw new HsmError('MECHANISM_PARAM_INVALID', 'this mechanism generates its IV, which PKCS#11 C_WrapKey cannot return');
    return [bytesReply(res.wrapped, a.fy(4)).reply];
  },

  async C_UnwrapKey(app, a) {
    const s = app.session(a.u(0));
    const bs = app.boundary(s);
    const { name, params } = resolveMechanism(a.M(1), 'unwrap');
    const unwrappingKey = app.uidFor(a.u(2), CKR.KEY_HANDLE_INVALID);
    const wrapped = a.ay(3) ?? new Uint8Array(0);
    const template = toTemplate(a.aA(4));
    return [app.handleFor(await app.hsm.unwrapKey(bs, { unwrappingKey, mechanism: name, wrapped, params, template }))];
  },

  async C_DeriveKey(app, a) {
    const s = app.session(a.u(0));
    const bs = app.boundary(s);
    const { name, params } = resolveMechanism(a.M(1), 'derive');
    const baseKey = app.uidFor(a.u(2), CKR.KEY_HANDLE_INVALID);
    const template = toTemplate(a.aA(3));
    return [app.handleFor(await app.hsm.deriveKey(bs, { baseKey, mechanism: name, params, template }))];
  },
};
