// Handlers for the PKCS#11 3.0 calls p11-kit 0.25+ carries (reference §6, ids 67–89): session
// cancel, message-based sign/verify (one boundary sign/verify per message), C_DeriveKey2 and the
// token-initialisation refusal. Message-based encrypt/decrypt have no handler and so answer
// CKR_FUNCTION_NOT_SUPPORTED: their per-message CK_GCM_MESSAGE_PARAMS travels as the client's raw
// memory, and the IV and tag the module must write back into it have no way back (docs/pkcs11.md).

import { mechanismInfo } from '../../boundary/api.js';
import { MAX_MULTIPART, type Application, CkrError, type P11Session } from './application.js';
import type { Args, OutValue } from './codec.js';
import { CKR } from './constants.js';
import { CRYPTO_CALLS } from './crypto-calls.js';
import type { Handler } from './general-calls.js';
import { keyForInit } from './key-checks.js';
import { resolveMechanism } from './mechanisms.js';
import { bytesReply } from './output.js';
import { checkedSignature, type LengthRule, signatureLengthRule } from './signature-length.js';

/** CKF_* of C_SessionCancel (PKCS#11 v3.0 §5.6.11, pkcs11t.h). */
const CANCEL = {
  MESSAGE_SIGN: 0x8,
  MESSAGE_VERIFY: 0x10,
  FIND_OBJECTS: 0x40,
  ENCRYPT: 0x100,
  DECRYPT: 0x200,
  DIGEST: 0x400,
  SIGN: 0x800,
  VERIFY: 0x2000,
} as const;
const CKR_SESSION_EXISTS = 0xb6;

/** A message-based sign or verify context (PKCS#11 v3.0 §5.14, §5.15): stays until *MessageFinal. */
interface MessageOp {
  kind: 'sign' | 'verify';
  mechanism: string;
  params: ReturnType<typeof resolveMechanism>['params'];
  key: string;
  /** Parts of the message begun with *MessageBegin, or undefined between messages. */
  parts?: Uint8Array[];
  size: number;
  /** A signature computed for a size query, handed out unchanged when the caller comes back. */
  pending?: { input: Uint8Array; output: Uint8Array };
  /** Verify only: the signature length the mechanism and key define (signature-length.ts). */
  signatureLength?: LengthRule;
}

// Kept beside the session rather than in it: a closed session's contexts go with it.
const messageOps = new WeakMap<P11Session, Map<MessageOp['kind'], MessageOp>>();

function opsOf(s: P11Session): Map<MessageOp['kind'], MessageOp> {
  const m = messageOps.get(s) ?? new Map<MessageOp['kind'], MessageOp>();
  messageOps.set(s, m);
  return m;
}

function activeMessage(s: P11Session, kind: MessageOp['kind']): MessageOp {
  const op = opsOf(s).get(kind);
  if (!op) throw new CkrError(CKR.OPERATION_NOT_INITIALIZED);
  return op;
}

/** Per-message parameters: none of the sign mechanisms served takes one, and raw client memory means nothing here. */
function noMessageParameter(p: Uint8Array | null): void {
  if (p !== null && p.length > 0) throw new CkrError(CKR.MECHANISM_PARAM_INVALID);
}

function messageInit(kind: MessageOp['kind']): Handler {
  return async (app, a) => {
    const s = app.session(a.u(0));
    const ops = opsOf(s);
    if (ops.has(kind)) throw new CkrError(CKR.OPERATION_ACTIVE);
    const { name, params } = resolveMechanism(a.M(1), kind);
    const bs = app.boundary(s);
    const key = app.uidFor(a.u(2), CKR.KEY_HANDLE_INVALID);
    // As at C_SignInit/C_VerifyInit: usage and key type are refused at Init; the boundary checks again per message.
    const info = await keyForInit(app, bs, key, kind, name);
    if (ops.has(kind)) throw new CkrError(CKR.OPERATION_ACTIVE);
    const op: MessageOp = { kind, mechanism: name, params, key, size: 0 };
    if (kind === 'verify') {
      const rule = signatureLengthRule(name, mechanismInfo(name)?.family ?? '', info, params);
      if (rule) op.signatureLength = rule;
    }
    ops.set(kind, op);
    return [];
  };
}

async function signMessage(app: Application, s: P11Session, op: MessageOp, data: Uint8Array, a: Args, capIndex: number): Promise<ReturnType<typeof bytesReply>> {
  let output: Uint8Array;
  if (op.pending && Buffer.from(op.pending.input).equals(Buffer.from(data))) output = op.pending.output;
  else output = (await app.hsm.sign(app.boundary(s), { key: op.key, mechanism: op.mechanism, data, params: op.params })).signature;
  const { reply, done } = bytesReply(output, a.fy(capIndex));
  if (done) delete op.pending;
  else op.pending = { input: data, output };
  return { reply, done };
}

async function verifyMessage(app: Application, s: P11Session, op: MessageOp, data: Uint8Array, signature: Uint8Array): Promise<OutValue[]> {
  // A signature whose length is wrong for the mechanism and key is CKR_SIGNATURE_LEN_RANGE (PKCS#11 v3.0 §5.15).
  const sig = checkedSignature(op.signatureLength, signature);
  const ok = await app.hsm.verify(app.boundary(s), { key: op.key, mechanism: op.mechanism, data, signature: sig, params: op.params });
  if (!ok) throw new CkrError(CKR.SIGNATURE_INVALID);
  return [];
}

function gather(op: MessageOp, part: Uint8Array): void {
  if (op.size + part.length > MAX_MULTIPART) {
    delete op.parts;
    op.size = 0;
    throw new CkrError(CKR.DATA_LEN_RANGE);
  }
  op.parts?.push(part);
  op.size += part.length;
}

function inMessage(op: MessageOp): Uint8Array[] {
  if (!op.parts) throw new CkrError(CKR.OPERATION_NOT_INITIALIZED); // *MessageNext before *MessageBegin
  return op.parts;
}

function finishMessage(op: MessageOp): void {
  delete op.parts;
  op.size = 0;
}

/** C_InitToken and C_InitToken2: a partition is created and wiped by administrators under quorum, never by a PKCS#11 SO PIN. */
const refuseInitToken: Handler = (app, a) => {
  const slot = app.slot(a.u(0));
  if ([...app.sessions.values()].some((x) => x.slot.id === slot.id)) throw new CkrError(CKR_SESSION_EXISTS);
  throw new CkrError(CKR.FUNCTION_NOT_SUPPORTED);
};

export const V3_CALLS: Record<string, Handler> = {
  C_InitToken: refuseInitToken,
  C_InitToken2: refuseInitToken,

  C_SessionCancel(app, a) {
    const s = app.session(a.u(0));
    const flags = a.u(1);
    const kinds: [number, string][] = [
      [CANCEL.ENCRYPT, 'encrypt'],
      [CANCEL.DECRYPT, 'decrypt'],
      [CANCEL.DIGEST, 'digest'],
      [CANCEL.SIGN, 'sign'],
      [CANCEL.VERIFY, 'verify'],
    ];
    for (const [flag, kind] of kinds) if (flags & flag && s.op?.kind === kind) delete s.op;
    if (flags & CANCEL.FIND_OBJECTS) delete s.find;
    if (flags & CANCEL.MESSAGE_SIGN) opsOf(s).delete('sign');
    if (flags & CANCEL.MESSAGE_VERIFY) opsOf(s).delete('verify');
    return [];
  },

  C_MessageSignInit: messageInit('sign'),
  async C_SignMessage(app, a) {
    const s = app.session(a.u(0));
    const op = activeMessage(s, 'sign');
    if (op.parts) throw new CkrError(CKR.OPERATION_ACTIVE); // a message begun with C_SignMessageBegin is still open
    noMessageParameter(a.ay(1));
    return [(await signMessage(app, s, op, a.ay(2) ?? new Uint8Array(0), a, 3)).reply];
  },
  C_SignMessageBegin(app, a) {
    const op = activeMessage(app.session(a.u(0)), 'sign');
    if (op.parts) throw new CkrError(CKR.OPERATION_ACTIVE);
    noMessageParameter(a.ay(1));
    op.parts = [];
    op.size = 0;
    return [];
  },
  async C_SignMessageNext(app, a) {
    const s = app.session(a.u(0));
    const op = activeMessage(s, 'sign');
    const parts = inMessage(op);
    noMessageParameter(a.ay(1));
    const part = a.ay(2) ?? new Uint8Array(0);
    // The `y` says whether the caller passed a signature length pointer: only the last part does (p11-kit rpc-client.c).
    if (a.y(3) === 0) {
      gather(op, part);
      return [{ length: 0 }];
    }
    if (op.size + part.length > MAX_MULTIPART) {
      finishMessage(op);
      throw new CkrError(CKR.DATA_LEN_RANGE);
    }
    const { reply, done } = await signMessage(app, s, op, Buffer.concat([...parts, part]), a, 4);
    if (done) finishMessage(op);
    return [reply];
  },
  C_MessageSignFinal(app, a) {
    const s = app.session(a.u(0));
    activeMessage(s, 'sign');
    opsOf(s).delete('sign');
    return [];
  },

  C_MessageVerifyInit: messageInit('verify'),
  C_VerifyMessage(app, a) {
    const s = app.session(a.u(0));
    const op = activeMessage(s, 'verify');
    if (op.parts) throw new CkrError(CKR.OPERATION_ACTIVE);
    noMessageParameter(a.ay(1));
    return verifyMessage(app, s, op, a.ay(2) ?? new Uint8Array(0), a.ay(3) ?? new Uint8Array(0));
  },
  C_VerifyMessageBegin(app, a) {
    const op = activeMessage(app.session(a.u(0)), 'verify');
    if (op.parts) throw new CkrError(CKR.OPERATION_ACTIVE);
    noMessageParameter(a.ay(1));
    op.parts = [];
    op.size = 0;
    return [];
  },
  async C_VerifyMessageNext(app, a) {
    const s = app.session(a.u(0));
    const op = activeMessage(s, 'verify');
    const parts = inMessage(op);
    noMessageParameter(a.ay(1));
    const part = a.ay(2) ?? new Uint8Array(0);
    const signature = a.ay(3);
    // A NULL signature marks a part that is not the last (PKCS#11 v3.0 §5.15 C_VerifyMessageNext).
    if (signature === null) {
      gather(op, part);
      return [];
    }
    const tooLong = op.size + part.length > MAX_MULTIPART;
    finishMessage(op); // the message ends with this call whatever the outcome
    if (tooLong) throw new CkrError(CKR.DATA_LEN_RANGE);
    return verifyMessage(app, s, op, Buffer.concat([...parts, part]), signature);
  },
  C_MessageVerifyFinal(app, a) {
    const s = app.session(a.u(0));
    activeMessage(s, 'verify');
    opsOf(s).delete('verify');
    return [];
  },

  // Protocol 2's C_DeriveKey: the same derivation, and the reply also carries the rv and the
  // mechanism-parameter update (reference §6 notes; p11-kit rpc-server.c rpc_C_DeriveKey2).
  async C_DeriveKey2(app, a) {
    const [key] = await CRYPTO_CALLS.C_DeriveKey!(app, a);
    return [CKR.OK, { paramUpdate: a.M(1) }, key as OutValue];
  },
};
