// Payment functions as one operation group (DESIGN §3; issue 7): each takes key references and
// encrypted PIN blocks and returns encrypted PIN blocks, booleans or check values — never a clear PIN
// or key. A payment key's TR-31 keyUsage restricts it to its function (attacks.md C-07).

import { HsmError } from '../errors.js';
import { cvc3, cvv } from '../mechanisms/payment/card-verification.js';
import { checkValue } from '../mechanisms/payment/check-value.js';
import { type AesDukptKeyType, type AesDukptUsage, aesKsn, aesWorkingKey } from '../mechanisms/payment/dukpt-aes.js';
import { tdesKsn, tdesWorkingKey } from '../mechanisms/payment/dukpt-tdes.js';
import { DecimalisationTables } from '../mechanisms/payment/decimalisation.js';
import {
  type AcPadding,
  applicationCryptogram,
  arpcMethod1,
  arpcMethod2,
  iccMasterKeyA,
  iccMasterKeyB,
  sessionKeyCommon,
  sessionKeyMastercard,
} from '../mechanisms/payment/emv.js';
import { ibm3624Offset, ibm3624Verify } from '../mechanisms/payment/ibm3624.js';
import { lengthPrefixed, macAlg1 } from '../mechanisms/payment/iso9797-alg1.js';
import { buildPinBlock, decryptPinBlock, encryptPinBlock, PAN_BOUND, type PinFormat, pinFormat } from '../mechanisms/payment/pin-block.js';
import { digits, TDES_ONLY } from '../mechanisms/payment/block.js';
import { cipherName, runCipher } from '../mechanisms/block-cipher.js';
import { visaPvv } from '../mechanisms/payment/visa-pvv.js';
import { retailMac } from '../mechanisms/iso9797-mac.js';
import { cmacTag, tagMatches } from '../mechanisms/cmac.js';
import type { SecretBytes } from '../secret.js';
import type { Session } from '../sessions.js';
import type { AuditEvent } from '../store/types.js';
import type { LoadedKey, PaymentGrant, UserRecord } from '../types.js';
import { bytes, checkKeyUsable, type ModuleCore, type Resolved } from './core.js';
// A payment key argument is a stored key (uid or alias/…) or { keyBlock } under the partition's KBPK (module/payment-keys.ts).
import { dropTransient, isKeyBlockRef, openKeyBlockReference, type PaymentKeyRef as KeyRef, transientKey } from './payment-keys.js';
import { modeAllows } from '../mechanisms/payment/tr31-header.js';
import { type AttemptKind, AttemptLimits } from './payment-limits.js';
import { quorumGate, registerQuorumExecutor } from './quorum-requests.js';

/** TR-31 key usages each payment function accepts (ANSI X9.143 Table 6). */
const USAGE = {
  pin: ['P0'],
  ibm3624: ['V1'],
  pvv: ['V2'],
  cvv: ['C0'],
  emv: ['E0'], // application cryptograms (TR-31 E0); E1-E5 (secure messaging, personalisation …) have no function yet
  cvc3: ['E6'],
  mac1: ['M0', 'M1'],
  mac3: ['M3'],
  cmac: ['M6'], // X9.143 Table 6: M6 = ISO/IEC 9797-1:2011 MAC algorithm 5 (CMAC), TDES or AES
  bdk: ['B0'],
} as const;

const GRANTS: readonly PaymentGrant[] = ['issuer', 'card-production'];

/** Card verification values: one DES algorithm; the 2-variants fix service code 000, the chip variants 999. */
const CVV_KINDS = { cvv: undefined, cvv2: '000', icvv: '999', cvc: undefined, cvc2: '000', icvc: '999' } as const;
type CvvKind = keyof typeof CVV_KINDS;

/** The DUKPT working key each function needs: the X9.24-1 variant (TDES BDK) or the X9.24-3 key usage (AES BDK). */
const DUKPT_USE = {
  pin: { tdes: 'pin', aes: 'pin' },
  mac: { tdes: 'mac-request', aes: 'mac-generate' },
  // the host's reply: X9.24-1 response variant; X9.24-3 the key the terminal verifies with (2001)
  'mac-response': { tdes: 'mac-response', aes: 'mac-verify' },
  data: { tdes: 'data-request', aes: 'data-encrypt' },
} as const satisfies Record<string, { tdes: string; aes: AesDukptUsage }>;

export interface DukptInput {
  /** A B0 key: double-length TDES (ANSI X9.24-1) or AES (X9.24-3). */
  bdk: KeyRef;
  /** 10 bytes (TDES) or 12 bytes (AES), hex or bytes. */
  ksn: string | Uint8Array;
  /** AES DUKPT only: the working key's type (default aes128). */
  workingKeyType?: AesDukptKeyType;
}

type PaymentKey = { r: Resolved; key: LoadedKey };

export interface PinInput {
  key: KeyRef;
  format: string;
  pinBlock: Uint8Array;
  pan?: string;
}

export class Payment {
  readonly #tables = new DecimalisationTables();
  readonly #limits: AttemptLimits;

  constructor(private readonly core: ModuleCore) {
    this.#limits = new AttemptLimits(core);
    // A grant changes what an account may do, so it is gated like a role change (user.role, action payment.grant).
    registerQuorumExecutor(core, 'user.role', (s, op) => this.#applyGrant(s, this.#checkGrant(s, op as unknown as GrantInput)), 'payment.grant');
  }

  /** Step-for-step the guard's checks for a payment key: state, session, object, role, TR-31 usage, state, type. */
  #resolve(s: Session, ref: KeyRef, op: string, usages: readonly string[]): Resolved {
    try {
      const r = isKeyBlockRef(ref) ? openKeyBlockReference(this.core, s, ref) : this.core.resolve(s, ref, 'KEY_HANDLE_INVALID');
      if (s.role !== 'user') throw new HsmError('USER_TYPE_INVALID', `the ${s.role} role cannot use keys`);
      const a = r.object.attrs;
      if (!a.keyUsage || !usages.includes(a.keyUsage)) throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', `needs key usage ${usages.join('/')}`);
      checkKeyUsable(r.object, op.endsWith('verify') ? 'verify' : 'sign');
      if (!modeAllows(a.modeOfUse, op)) throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', `the key's TR-31 mode of use ${a.modeOfUse} forbids this`);
      if (a.class !== 'secret-key' || (a.keyType !== 'des2' && a.keyType !== 'des3' && a.keyType !== 'aes')) throw new HsmError('KEY_TYPE_INCONSISTENT', 'payment keys are TDES or AES secret keys');
      return r;
    } catch (e) {
      throw this.core.refused(s, op, typeof ref === 'string' ? ref.slice(0, 64) : undefined, e);
    }
  }

  /** Runs `fn` with the keys loaded and pinned in the cache; failures are audited with their cause. */
  async #run<T>(s: Session, op: string, refs: { ref: KeyRef; usages: readonly string[] }[], fn: (...keys: LoadedKey[]) => T, audit = false): Promise<T> {
    const resolved = refs.map((x) => this.#resolve(s, x.ref, op, x.usages));
    const keys: PaymentKey[] = [];
    try {
      for (const r of resolved) {
        const key = transientKey(this.core, r) ?? this.core.load(s, r, r.object.meta.currentVersion);
        this.core.cache.acquire(key);
        keys.push({ r, key });
        this.core.usage.count(r, op);
      }
      const out = fn(...keys.map((k) => k.key));
      if (audit || keys.some((k) => k.r.object.attrs.auditUse)) {
        const ev: AuditEvent = { actor: s.user, op, outcome: 'ok' };
        if (s.partition) ev.partition = s.partition;
        if (resolved[0]) ev.target = resolved[0].object.uid;
        this.core.audit(ev);
      }
      return out;
    } catch (e) {
      // The caller gets the error; the audit log gets the code (never a PIN or key).
      const ev: AuditEvent = { actor: s.user, op, outcome: 'failed' };
      if (s.partition) ev.partition = s.partition;
      const target = resolved[0]?.object.uid;
      if (target) ev.target = target;
      if (e instanceof HsmError) ev.code = e.code;
      this.core.audit(ev);
      throw e;
    } finally {
      for (const k of keys) this.core.cache.release(k.key);
      for (const r of resolved) dropTransient(r);
    }
  }

  /** The per-PAN attempt limit; a refusal is audited like any other (attacks.md §0). */
  #limitCheck(s: Session, op: string, kind: AttemptKind, pan: string): void {
    try {
      this.#limits.check(s.partition ?? '', kind, pan);
    } catch (e) {
      throw this.core.refused(s, op, undefined, e);
    }
  }

  /** Check, verify and count in one synchronous step, so concurrent attempts cannot slip between the check and the count. */
  #counted(s: Session, kind: AttemptKind, pan: string, verify: () => boolean): boolean {
    const partition = s.partition ?? '';
    this.#limits.check(partition, kind, pan);
    const ok = verify();
    this.#limits.record(partition, kind, pan, ok);
    return ok;
  }

  #user(session: string): Session {
    return this.core.session(session, 'user');
  }

  /** Generation functions are reserved to accounts holding a grant (issue 7 "Functions"); read from the store each time. */
  #requireGrant(s: Session, op: string, grant: PaymentGrant): void {
    const u = this.core.vault.getUser(s.user);
    if (!u?.grants?.includes(grant)) throw this.core.refused(s, op, undefined, new HsmError('USER_TYPE_INVALID', `needs the ${grant} grant`));
  }

  /**
   * Officer (for users of its partition) or admin: gives or takes back the `issuer` or `card-production` grant of a
   * user account. Quorum-gated as `user.role` (action payment.grant) and audited; stored in the account record.
   */
  grant(session: string, input: GrantInput): void {
    const s = this.core.session(session, 'admin', 'officer');
    let op: { user: UserRecord; grant: PaymentGrant; revoke: boolean };
    try {
      op = this.#checkGrant(s, input);
    } catch (e) {
      throw this.core.refused(s, 'payment.grant', undefined, e);
    }
    const partition = op.user.partition;
    quorumGate(this.core, s, 'user.role', { action: 'payment.grant', account: op.user.name, grant: op.grant, revoke: op.revoke }, partition ? { partition } : {});
    this.#applyGrant(s, op);
  }

  #checkGrant(s: Session, input: GrantInput): { user: UserRecord; grant: PaymentGrant; revoke: boolean } {
    const user = this.core.manageableUser(s, input?.account);
    if (user.role !== 'user') throw new HsmError('ARGUMENTS_BAD', 'payment grants are for user accounts');
    if (!GRANTS.includes(input.grant)) throw new HsmError('ARGUMENTS_BAD', 'grant is issuer or card-production');
    if (input.revoke !== undefined && typeof input.revoke !== 'boolean') throw new HsmError('ARGUMENTS_BAD', 'revoke is a boolean');
    return { user, grant: input.grant, revoke: input.revoke === true };
  }

  #applyGrant(s: Session, op: { user: UserRecord; grant: PaymentGrant; revoke: boolean }): void {
    const current = this.core.vault.getUser(op.user.name) ?? op.user;
    const grants = new Set(current.grants ?? []);
    if (op.revoke) grants.delete(op.grant);
    else grants.add(op.grant);
    const { grants: _old, ...rest } = current;
    const next: UserRecord = grants.size > 0 ? { ...rest, grants: GRANTS.filter((g) => grants.has(g)) } : rest;
    this.core.vault.transaction(() => {
      this.core.vault.putUser(next);
      this.core.vault.appendAudit({ actor: s.user, partition: current.partition, op: op.revoke ? 'payment.grant.revoke' : 'payment.grant', target: current.name, outcome: 'ok', detail: op.grant });
    });
  }

  /** Partition officer: clears a PAN's failed-verification counters (attacks.md C-11, C-13); audited. */
  resetAttempts(session: string, input: { pan: string; kind?: AttemptKind }): void {
    const s = this.core.session(session, 'officer');
    const partition = s.partition;
    try {
      if (!partition) throw new HsmError('USER_TYPE_INVALID', 'a partition officer resets counters');
      this.#limits.reset(partition, digits(input?.pan, 'PAN', 12, 19), input.kind);
    } catch (e) {
      throw this.core.refused(s, 'payment.attempts.reset', undefined, e);
    }
    this.core.audit({ actor: s.user, partition, op: 'payment.attempts.reset', outcome: 'ok', ...(input.kind ? { detail: input.kind } : {}) });
  }

  /** Partition officer: how many consecutive failures per PAN a partition allows (1-20, default 5); audited. */
  setAttemptLimit(session: string, input: { limit: number }): void {
    const s = this.core.session(session, 'officer');
    const partition = s.partition;
    try {
      if (!partition) throw new HsmError('USER_TYPE_INVALID', 'a partition officer sets the limit');
      this.#limits.setLimit(partition, input?.limit);
    } catch (e) {
      throw this.core.refused(s, 'payment.attempts.limit', undefined, e);
    }
    this.core.audit({ actor: s.user, partition, op: 'payment.attempts.limit', outcome: 'ok', detail: String(input.limit) });
  }

  /** Decrypts an encrypted PIN block under a P0 key; the clear PIN stays inside as SecretBytes. */
  static #pin(key: LoadedKey, p: PinInput): { pin: SecretBytes; format: PinFormat } {
    const format = pinFormat(p.format);
    const block = bytes(p.pinBlock, 'pinBlock');
    if (PAN_BOUND.includes(format) && p.pan === undefined) throw new HsmError('MECHANISM_PARAM_INVALID', 'this format needs the PAN');
    return { pin: decryptPinBlock(key, format, block, p.pan), format };
  }

  /** Officer only: registers a named decimalisation table (attacks.md C-01: callers never pass a table inline). */
  async registerDecimalisationTable(session: string, input: { name: string; table: string }): Promise<void> {
    const s = this.core.session(session, 'officer');
    const partition = s.partition;
    if (!partition) throw new HsmError('USER_TYPE_INVALID', 'a partition officer registers tables');
    try {
      this.#tables.register(partition, input?.name, input?.table);
    } catch (e) {
      throw this.core.refused(s, 'payment.dectable.register', undefined, e);
    }
    this.core.audit({ actor: s.user, partition, op: 'payment.dectable.register', target: input.name, outcome: 'ok' });
  }

  /** Key check value: TDES ECB of zeros, AES CMAC of 16 zeros (X9.24-1:2017); 2-5 bytes, default 3. */
  async keyCheckValue(session: string, input: { key: KeyRef; length?: number }): Promise<Uint8Array> {
    const s = this.#user(session);
    const all = ['P0', ...USAGE.ibm3624, ...USAGE.pvv, ...USAGE.cvv, ...USAGE.emv, ...USAGE.cvc3, ...USAGE.mac1, ...USAGE.mac3, ...USAGE.cmac, 'K0', 'K1', ...USAGE.bdk, 'D0'];
    return this.#run(s, 'payment.kcv', [{ ref: input?.key, usages: all }], (k) => checkValue(k, input.length ?? 3));
  }

  /**
   * PIN translation between two P0 keys with the PCI format rules (attacks.md C-03/C-04): never from a
   * PAN-bound format to format 1, and the PAN cannot change on the way (outPan, if given, must equal pan).
   */
  async translatePin(session: string, input: { in: PinInput; outKey: KeyRef; outFormat: string; outPan?: string }): Promise<Uint8Array> {
    const s = this.#user(session);
    const { outFormat } = this.#translationRules(s, 'payment.pin.translate', input?.in?.format, input?.outFormat, input?.in?.pan, input?.outPan);
    return this.#run(s, 'payment.pin.translate', [{ ref: input.in.key, usages: USAGE.pin }, { ref: input.outKey, usages: USAGE.pin }], (kin, kout) => {
      const { pin } = Payment.#pin(kin, input.in);
      try {
        const clear = buildPinBlock(outFormat, pin, input.in.pan);
        const out = encryptPinBlock(kout, outFormat, clear, input.in.pan);
        clear.fill(0);
        return out;
      } finally {
        pin.destroy();
      }
    });
  }

  /** The PCI translation rules, shared by every translation (attacks.md C-03, C-04); a refusal is audited. */
  #translationRules(s: Session, op: string, inF: unknown, outF: unknown, pan: string | undefined, outPan: string | undefined): { inFormat: PinFormat; outFormat: PinFormat } {
    try {
      const inFormat = pinFormat(inF);
      const outFormat = pinFormat(outF);
      if (PAN_BOUND.includes(inFormat) && outFormat === 'ISO1') throw new HsmError('MECHANISM_PARAM_INVALID', 'a PAN-bound PIN block never becomes format 1'); // C-03
      if (outPan !== undefined && outPan !== pan) throw new HsmError('MECHANISM_PARAM_INVALID', 'the PAN cannot change in a translation'); // C-04
      if (PAN_BOUND.includes(outFormat) && pan === undefined) throw new HsmError('MECHANISM_PARAM_INVALID', 'this format needs the PAN');
      return { inFormat, outFormat };
    } catch (e) {
      throw this.core.refused(s, op, undefined, e);
    }
  }

  /** The transaction's working key from a B0 BDK: X9.24-1 TDES for a des2 BDK, X9.24-3 AES for an AES one. Transient. */
  static #dukptKey(bdk: LoadedKey, d: DukptInput, use: keyof typeof DUKPT_USE): LoadedKey {
    if (bdk.keyType === 'aes') return aesWorkingKey(bdk, d.ksn, DUKPT_USE[use].aes, d.workingKeyType ?? 'aes128');
    if (d.workingKeyType !== undefined) throw new HsmError('MECHANISM_PARAM_INVALID', 'workingKeyType is for AES DUKPT only');
    return tdesWorkingKey(bdk, d.ksn, DUKPT_USE[use].tdes);
  }

  /**
   * attacks.md C-14: a terminal's KSN counter only goes up, so a PIN block is translated once. The last counter
   * translated per device (the KSN without its counter) and BDK is a system record; a repeated or older counter is
   * refused before any decryption, so a captured block cannot be replayed. Recorded only after a good translation.
   */
  #dukptCounter(s: Session, bdk: LoadedKey, ksnIn: unknown): { record(): void } {
    let device: string;
    let counter: number;
    if (bdk.keyType === 'aes') {
      const k = aesKsn(ksnIn);
      device = k.subarray(0, 8).toString('hex'); // X9.24-3 §6.1: the initial key ID names the device's key
      counter = k.readUInt32BE(8);
    } else {
      const k = tdesKsn(ksnIn);
      counter = ((k[7] & 0x1f) << 16) | (k[8] << 8) | k[9]; // X9.24-1 A.2: the rightmost 21 bits
      k[7] &= 0xe0;
      k[8] = 0;
      k[9] = 0;
      device = k.toString('hex');
    }
    const name = `payment.dukpt/${s.partition ?? ''}/${bdk.uid}/${device}`;
    const r = this.core.vault.getSystemRecord(name);
    const last = r ? (JSON.parse(r.body) as { counter: number }).counter : -1;
    if (counter <= last) throw new HsmError('MECHANISM_PARAM_INVALID', 'KSN counter repeated or older than the last one translated (replay)');
    return { record: () => this.core.vault.transaction(() => this.core.vault.putSystemRecord(name, JSON.stringify({ counter }))) };
  }

  /**
   * PIN translation from a terminal's DUKPT PIN block (ANSI X9.24-1 TDES or X9.24-3 AES) to a P0 zone key, under the
   * same PCI format rules as translatePin. The BDK (B0) and the derived transaction key never leave.
   */
  async translatePinFromDukpt(session: string, input: DukptInput & { format: string; pinBlock: Uint8Array; pan?: string; outKey: KeyRef; outFormat: string; outPan?: string }): Promise<Uint8Array> {
    const s = this.#user(session);
    const op = 'payment.pin.translate-dukpt';
    const { inFormat, outFormat } = this.#translationRules(s, op, input?.format, input?.outFormat, input?.pan, input?.outPan);
    const block = bytes(input.pinBlock, 'pinBlock');
    return this.#run(s, op, [{ ref: input.bdk, usages: USAGE.bdk }, { ref: input.outKey, usages: USAGE.pin }], (bdk, kout) => {
      const seen = this.#dukptCounter(s, bdk, input.ksn);
      const k = Payment.#dukptKey(bdk, input, 'pin');
      let pin: SecretBytes | undefined;
      try {
        pin = decryptPinBlock(k, inFormat, block, input.pan);
        const clear = buildPinBlock(outFormat, pin, input.pan);
        const out = encryptPinBlock(kout, outFormat, clear, input.pan);
        clear.fill(0);
        seen.record();
        return out;
      } finally {
        pin?.destroy();
        k.secret?.destroy();
      }
    });
  }

  /**
   * Verifies a terminal's request MAC under its DUKPT MAC key: TDES DUKPT with the X9.19 retail MAC (ISO 9797-1 alg 3,
   * zero padding) or TDES-CMAC; AES DUKPT with AES-CMAC. 4 bytes up to a block. One answer for every mismatch.
   */
  async verifyDukptMac(session: string, input: DukptInput & { data: Uint8Array; mac: Uint8Array; algorithm?: 'x9.19' | 'cmac' }): Promise<boolean> {
    const s = this.#user(session);
    const data = bytes(input?.data, 'data');
    const mac = bytes(input.mac, 'mac');
    return this.#run(s, 'payment.dukpt.mac.verify', [{ ref: input.bdk, usages: USAGE.bdk }], (bdk) => {
      const full = Payment.#dukptMac(bdk, input, 'mac', input.algorithm, data);
      return mac.length >= 4 && mac.length <= full.length && tagMatches(full.subarray(0, mac.length), mac);
    });
  }

  /** The host's response MAC for a terminal (TDES: response variant; AES: the terminal's MAC verification key); 4 bytes by default. */
  async generateDukptMac(session: string, input: DukptInput & { data: Uint8Array; algorithm?: 'x9.19' | 'cmac'; length?: number }): Promise<Uint8Array> {
    const s = this.#user(session);
    const data = bytes(input?.data, 'data');
    return this.#run(s, 'payment.dukpt.mac.generate', [{ ref: input.bdk, usages: USAGE.bdk }], (bdk) => {
      const full = Payment.#dukptMac(bdk, input, 'mac-response', input.algorithm, data);
      const len = input.length ?? 4;
      if (!Number.isInteger(len) || len < 4 || len > full.length) throw new HsmError('MECHANISM_PARAM_INVALID', `MAC length 4-${full.length}`);
      return Buffer.from(full.subarray(0, len));
    });
  }

  /** X9.19 retail MAC (ISO 9797-1 alg 3, zero padding; TDES DUKPT default) or CMAC (AES DUKPT) under a DUKPT MAC key. */
  static #dukptMac(bdk: LoadedKey, input: DukptInput, use: 'mac' | 'mac-response', algorithm: unknown, data: Uint8Array): Buffer {
    const alg = algorithm ?? (bdk.keyType === 'aes' ? 'cmac' : 'x9.19');
    if (alg !== 'x9.19' && alg !== 'cmac') throw new HsmError('MECHANISM_PARAM_INVALID', 'algorithm is x9.19 or cmac');
    if (alg === 'x9.19' && bdk.keyType === 'aes') throw new HsmError('MECHANISM_PARAM_INVALID', 'AES DUKPT MACs are AES-CMAC');
    const k = Payment.#dukptKey(bdk, input, use);
    try {
      return alg === 'cmac' ? cmacTag(k, k.keyType === 'aes' ? ['aes'] : TDES_ONLY, k.keyType === 'aes' ? 16 : 8, data) : retailMac(k, data, 1);
    } finally {
      k.secret?.destroy();
    }
  }

  /** Decrypts a terminal's request data under its DUKPT data key (CBC, no padding; IV default zeros). */
  async decryptDukptData(session: string, input: DukptInput & { data: Uint8Array; iv?: Uint8Array }): Promise<Uint8Array> {
    const s = this.#user(session);
    const data = bytes(input?.data, 'data');
    const iv = input.iv === undefined ? undefined : bytes(input.iv, 'iv');
    return this.#run(s, 'payment.dukpt.data.decrypt', [{ ref: input.bdk, usages: USAGE.bdk }], (bdk) => {
      const k = Payment.#dukptKey(bdk, input, 'data');
      try {
        const bs = k.keyType === 'aes' ? 16 : 8;
        if (data.length === 0 || data.length % bs !== 0) throw new HsmError('MECHANISM_PARAM_INVALID', `data must be whole ${bs}-byte blocks`);
        if (iv !== undefined && iv.length !== bs) throw new HsmError('MECHANISM_PARAM_INVALID', `iv must be ${bs} bytes`);
        if (!k.keyObject) throw new TypeError('derived key without a KeyObject');
        return runCipher(cipherName(k, 'cbc'), k.keyObject, Buffer.from(iv ?? Buffer.alloc(bs)), data, 'decrypt', false);
      } finally {
        k.secret?.destroy();
      }
    });
  }

  /** IBM 3624 validation data derived by the module from the PAN (attacks.md C-02): 0000 ‖ 12 PAN digits before the check digit. */
  static #validationData(pan: string): string {
    digits(pan, 'PAN', 13, 19);
    return `0000${pan.slice(-13, -1)}`;
  }

  async generateIbm3624Offset(session: string, input: { pin: PinInput; pvk: KeyRef; table: string }): Promise<string> {
    const s = this.#user(session);
    this.#requireGrant(s, 'payment.ibm3624.generate', 'issuer');
    const table = this.#tables.get(s.partition ?? '', input?.table);
    return this.#run(
      s,
      'payment.ibm3624.generate',
      [{ ref: input?.pin?.key, usages: USAGE.pin }, { ref: input.pvk, usages: USAGE.ibm3624 }],
      (kp, pvk) => {
        const { pin } = Payment.#pin(kp, input.pin);
        try {
          return ibm3624Offset(pvk, table, Payment.#validationData(input.pin.pan ?? ''), pin).join('');
        } finally {
          pin.destroy();
        }
      },
      true, // issuer function: always audited (attacks.md C-13)
    );
  }

  async verifyPinIbm3624(session: string, input: { pin: PinInput; pvk: KeyRef; table: string; offset: string }): Promise<boolean> {
    const s = this.#user(session);
    const table = this.#tables.get(s.partition ?? '', input?.table);
    const pan = digits(input?.pin?.pan, 'PAN', 13, 19);
    const offset = [...digits(input.offset, 'offset', 4, 12)].map(Number);
    this.#limitCheck(s, 'payment.ibm3624.verify', 'pin', pan);
    return this.#run(s, 'payment.ibm3624.verify', [{ ref: input.pin.key, usages: USAGE.pin }, { ref: input.pvk, usages: USAGE.ibm3624 }], (kp, pvk) => this.#counted(s, 'pin', pan, () => {
      let pin: SecretBytes | undefined;
      try {
        pin = Payment.#pin(kp, input.pin).pin;
      } catch (e) {
        if (e instanceof HsmError && e.code === 'DECRYPT_FAILED') return false; // a bad block is a wrong PIN (C-05)
        throw e;
      }
      try {
        return ibm3624Verify(pvk, table, Payment.#validationData(pan), pin, offset);
      } finally {
        pin.destroy();
      }
    }));
  }

  async generatePvv(session: string, input: { pin: PinInput; pvk: KeyRef; pvki: number }): Promise<string> {
    const s = this.#user(session);
    this.#requireGrant(s, 'payment.pvv.generate', 'issuer');
    const pan = digits(input?.pin?.pan, 'PAN', 12, 19);
    return this.#run(
      s,
      'payment.pvv.generate',
      [{ ref: input.pin.key, usages: USAGE.pin }, { ref: input.pvk, usages: USAGE.pvv }],
      (kp, pvk) => {
        const { pin } = Payment.#pin(kp, input.pin);
        try {
          return visaPvv(pvk, pan, input.pvki, pin).join('');
        } finally {
          pin.destroy();
        }
      },
      true,
    );
  }

  async verifyPvv(session: string, input: { pin: PinInput; pvk: KeyRef; pvki: number; pvv: string }): Promise<boolean> {
    const s = this.#user(session);
    const pan = digits(input?.pin?.pan, 'PAN', 12, 19);
    const want = digits(input.pvv, 'PVV', 4, 4);
    this.#limitCheck(s, 'payment.pvv.verify', 'pin', pan);
    return this.#run(s, 'payment.pvv.verify', [{ ref: input.pin.key, usages: USAGE.pin }, { ref: input.pvk, usages: USAGE.pvv }], (kp, pvk) => this.#counted(s, 'pin', pan, () => {
      let pin: SecretBytes | undefined;
      try {
        pin = Payment.#pin(kp, input.pin).pin;
      } catch (e) {
        if (e instanceof HsmError && e.code === 'DECRYPT_FAILED') return false;
        throw e;
      }
      try {
        return tagMatches(Buffer.from(visaPvv(pvk, pan, input.pvki, pin).join('')), Buffer.from(want));
      } finally {
        pin.destroy();
      }
    }));
  }

  /**
   * The service code a card verification value is computed with: Visa CVV and Mastercard CVC use the track's,
   * CVV2/CVC2 use 000 and the chip iCVV/iCVC 999; the DES algorithm is the same for both schemes.
   */
  static #serviceCode(kind: unknown, serviceCode: unknown): string {
    const k = kind ?? 'cvv';
    if (typeof k !== 'string' || !Object.hasOwn(CVV_KINDS, k)) throw new HsmError('MECHANISM_PARAM_INVALID', 'kind is cvv, cvv2, icvv, cvc, cvc2 or icvc');
    const fixed = CVV_KINDS[k as CvvKind];
    if (fixed === undefined) return digits(serviceCode, 'service code', 3, 3);
    if (serviceCode !== undefined && serviceCode !== fixed) throw new HsmError('MECHANISM_PARAM_INVALID', `${k} uses service code ${fixed}`);
    return fixed;
  }

  /** CVV/CVC (service code as on the track), CVV2/CVC2 (000) or iCVV/iCVC (999); card-production grant; always audited (C-11). */
  async generateCvv(session: string, input: { key: KeyRef; pan: string; expiry: string; serviceCode?: string; kind?: CvvKind }): Promise<string> {
    const s = this.#user(session);
    this.#requireGrant(s, 'payment.cvv.generate', 'card-production');
    let sc: string;
    try {
      sc = Payment.#serviceCode(input?.kind, input?.serviceCode);
    } catch (e) {
      throw this.core.refused(s, 'payment.cvv.generate', undefined, e);
    }
    return this.#run(s, 'payment.cvv.generate', [{ ref: input.key, usages: USAGE.cvv }], (k) => cvv(k, input.pan, input.expiry, sc), true);
  }

  async verifyCvv(session: string, input: { key: KeyRef; pan: string; expiry: string; serviceCode?: string; kind?: CvvKind; cvv: string }): Promise<boolean> {
    const s = this.#user(session);
    const pan = digits(input?.pan, 'PAN', 12, 19);
    const want = digits(input.cvv, 'CVV', 3, 3);
    const sc = Payment.#serviceCode(input.kind, input.serviceCode);
    this.#limitCheck(s, 'payment.cvv.verify', 'cvv', pan);
    return this.#run(s, 'payment.cvv.verify', [{ ref: input.key, usages: USAGE.cvv }], (k) => this.#counted(s, 'cvv', pan, () => tagMatches(Buffer.from(cvv(k, pan, input.expiry, sc)), Buffer.from(want))));
  }

  /**
   * Mastercard dynamic CVC3: the ICC CVC3 key is derived (option A) from an issuer CVC3 master key (E6, "other EMV"
   * usage); `cvc3` is the 3-5 rightmost digits the card put on the track. Attempt-limited per PAN like CVV (C-11).
   */
  async verifyCvc3(session: string, input: { key: KeyRef; pan: string; psn: string; trackData: Uint8Array; un: string; atc: string; cvc3: string }): Promise<boolean> {
    const s = this.#user(session);
    const pan = digits(input?.pan, 'PAN', 12, 19);
    const want = digits(input.cvc3, 'CVC3', 3, 5);
    const track = bytes(input.trackData, 'trackData');
    this.#limitCheck(s, 'payment.cvc3.verify', 'cvv', pan);
    return this.#run(s, 'payment.cvc3.verify', [{ ref: input.key, usages: USAGE.cvc3 }], (imk) => this.#counted(s, 'cvv', pan, () => {
      const icc = iccMasterKeyA(imk, pan, input.psn);
      try {
        const got = String(cvc3(icc, track, input.un, input.atc)).padStart(5, '0').slice(-want.length);
        return tagMatches(Buffer.from(got), Buffer.from(want));
      } finally {
        icc.secret?.destroy();
      }
    }));
  }

  /**
   * ARQC/TC/AAC verification and, only when it verifies, the ARPC in the same call (attacks.md C-12:
   * no ARPC for an unverified cryptogram, so method 1 is no encryption oracle).
   */
  async verifyArqc(
    session: string,
    input: {
      key: KeyRef;
      pan: string;
      psn: string;
      derivation?: 'A' | 'B';
      sessionKey: { method: 'common'; r: string } | { method: 'mastercard'; atc: string; un: string };
      data: Uint8Array;
      padding?: AcPadding;
      arqc: Uint8Array;
      arpc?: { method: 1; arc: string; key?: 'session' | 'icc' } | { method: 2; csu: string; proprietary?: Uint8Array };
    },
  ): Promise<{ valid: boolean; arpc?: Uint8Array }> {
    const s = this.#user(session);
    const data = bytes(input?.data, 'data');
    const arqc = bytes(input.arqc, 'arqc');
    return this.#run(s, 'payment.arqc.verify', [{ ref: input.key, usages: USAGE.emv }], (imk) => {
      const mk = input.derivation === 'B' ? iccMasterKeyB(imk, input.pan, input.psn) : iccMasterKeyA(imk, input.pan, input.psn);
      const skIn = input.sessionKey;
      if (!skIn || (skIn.method !== 'common' && skIn.method !== 'mastercard')) throw new HsmError('MECHANISM_PARAM_INVALID', 'sessionKey.method is common or mastercard');
      const sk = skIn.method === 'common' ? sessionKeyCommon(mk, skIn.r) : sessionKeyMastercard(mk, skIn.atc, skIn.un);
      try {
        const valid = tagMatches(applicationCryptogram(sk, data, input.padding ?? 'emv'), arqc);
        if (!valid || !input.arpc) return { valid };
        const a = input.arpc;
        if (a.method === 1) return { valid, arpc: arpcMethod1(a.key === 'icc' ? mk : sk, arqc, a.arc) };
        if (a.method === 2) return { valid, arpc: arpcMethod2(sk, arqc, a.csu, a.proprietary ?? new Uint8Array(0)) };
        throw new HsmError('MECHANISM_PARAM_INVALID', 'ARPC method is 1 or 2');
      } finally {
        mk.secret?.destroy();
        sk.secret?.destroy();
      }
    });
  }

  static #mac(k: LoadedKey, algorithm: unknown, padding: unknown, data: Uint8Array): Buffer {
    if (algorithm === 'cmac') {
      if (padding !== undefined) throw new HsmError('MECHANISM_PARAM_INVALID', 'CMAC has its own padding');
      return k.keyType === 'aes' ? cmacTag(k, ['aes'], 16, data) : cmacTag(k, TDES_ONLY, 8, data); // SP 800-38B
    }
    if (padding !== 1 && padding !== 2 && padding !== 3) throw new HsmError('MECHANISM_PARAM_INVALID', 'padding method 1, 2 or 3');
    const d = padding === 3 ? lengthPrefixed(data) : data; // ISO/IEC 9797-1 §6.1.4
    const m = padding === 2 ? 2 : 1;
    return algorithm === 1 ? macAlg1(k, d, m) : retailMac(k, d, m);
  }

  static #macUsages(algorithm: unknown): readonly string[] {
    const usages = algorithm === 1 ? USAGE.mac1 : algorithm === 3 ? USAGE.mac3 : algorithm === 'cmac' ? USAGE.cmac : undefined;
    if (!usages) throw new HsmError('MECHANISM_PARAM_INVALID', 'algorithm 1, 3 or cmac');
    return usages;
  }

  /** ISO/IEC 9797-1 MAC algorithm 1 (M0/M1 keys) or 3 (M3 keys), or CMAC (M6 keys: TDES-CMAC or AES-CMAC, up to a block). */
  async generateMac(session: string, input: { key: KeyRef; algorithm: 1 | 3 | 'cmac'; padding?: 1 | 2 | 3; data: Uint8Array; length?: number }): Promise<Uint8Array> {
    const s = this.#user(session);
    const data = bytes(input?.data, 'data');
    const len = input.length ?? 8;
    const usages = Payment.#macUsages(input.algorithm);
    return this.#run(s, 'payment.mac.generate', [{ ref: input.key, usages }], (k) => {
      const max = input.algorithm === 'cmac' && k.keyType === 'aes' ? 16 : 8;
      if (!Number.isInteger(len) || len < 4 || len > max) throw new HsmError('MECHANISM_PARAM_INVALID', `MAC length 4-${max}`);
      return Buffer.from(Payment.#mac(k, input.algorithm, input.padding, data).subarray(0, len));
    });
  }

  async verifyMac(session: string, input: { key: KeyRef; algorithm: 1 | 3 | 'cmac'; padding?: 1 | 2 | 3; data: Uint8Array; mac: Uint8Array }): Promise<boolean> {
    const s = this.#user(session);
    const data = bytes(input?.data, 'data');
    const mac = bytes(input.mac, 'mac');
    const usages = Payment.#macUsages(input.algorithm);
    return this.#run(s, 'payment.mac.verify', [{ ref: input.key, usages }], (k) => {
      const max = input.algorithm === 'cmac' && k.keyType === 'aes' ? 16 : 8;
      return mac.length >= 4 && mac.length <= max && tagMatches(Payment.#mac(k, input.algorithm, input.padding, data).subarray(0, mac.length), mac);
    });
  }
}

interface GrantInput {
  account: string;
  grant: PaymentGrant;
  /** Takes the grant back instead. */
  revoke?: boolean;
}
