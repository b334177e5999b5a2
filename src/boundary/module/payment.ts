// Payment functions as one operation group (DESIGN §3; issue 7): each takes key references and
// encrypted PIN blocks and returns encrypted PIN blocks, booleans or check values — never a clear PIN
// or key. A payment key's TR-31 keyUsage restricts it to its function (attacks.md C-07).

import { HsmError } from '../errors.js';
import { cvc3, cvv } from '../mechanisms/payment/card-verification.js';
import { checkValue } from '../mechanisms/payment/check-value.js';
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
import { digits } from '../mechanisms/payment/block.js';
import { visaPvv } from '../mechanisms/payment/visa-pvv.js';
import { retailMac } from '../mechanisms/iso9797-mac.js';
import { tagMatches } from '../mechanisms/cmac.js';
import type { SecretBytes } from '../secret.js';
import type { Session } from '../sessions.js';
import type { AuditEvent } from '../store/types.js';
import type { LoadedKey } from '../types.js';
import { bytes, checkKeyUsable, type KeyRef, type ModuleCore, type Resolved } from './core.js';
import { AttemptLimits } from './payment-limits.js';

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
} as const;

type PaymentKey = { r: Resolved; key: LoadedKey };

export interface PinInput {
  key: KeyRef;
  format: string;
  pinBlock: Uint8Array;
  pan?: string;
}

export class Payment {
  readonly #tables = new DecimalisationTables();
  readonly #limits = new AttemptLimits();

  constructor(private readonly core: ModuleCore) {}

  /** Step-for-step the guard's checks for a payment key: state, session, object, role, TR-31 usage, state, type. */
  #resolve(s: Session, ref: KeyRef, op: string, usages: readonly string[]): Resolved {
    try {
      const r = this.core.resolve(s, ref, 'KEY_HANDLE_INVALID');
      if (s.role !== 'user') throw new HsmError('USER_TYPE_INVALID', `the ${s.role} role cannot use keys`);
      const a = r.object.attrs;
      if (!a.keyUsage || !usages.includes(a.keyUsage)) throw new HsmError('KEY_FUNCTION_NOT_PERMITTED', `needs key usage ${usages.join('/')}`);
      checkKeyUsable(r.object, op.endsWith('verify') ? 'verify' : 'sign');
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
        const key = this.core.load(s, r, r.object.meta.currentVersion);
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
    }
  }

  /** The per-PAN attempt limit; a refusal is audited like any other (attacks.md §0). */
  #limitCheck(s: Session, op: string, kind: string, pan: string): void {
    try {
      this.#limits.check(s.partition ?? '', kind, pan);
    } catch (e) {
      throw this.core.refused(s, op, undefined, e);
    }
  }

  #user(session: string): Session {
    return this.core.session(session, 'user');
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
    const all = ['P0', ...USAGE.ibm3624, ...USAGE.pvv, ...USAGE.cvv, ...USAGE.emv, ...USAGE.cvc3, ...USAGE.mac1, ...USAGE.mac3, 'M6', 'K0', 'K1', 'B0', 'D0'];
    return this.#run(s, 'payment.kcv', [{ ref: input?.key, usages: all }], (k) => checkValue(k, input.length ?? 3));
  }

  /**
   * PIN translation between two P0 keys with the PCI format rules (attacks.md C-03/C-04): never from a
   * PAN-bound format to format 1, and the PAN cannot change on the way (outPan, if given, must equal pan).
   */
  async translatePin(session: string, input: { in: PinInput; outKey: KeyRef; outFormat: string; outPan?: string }): Promise<Uint8Array> {
    const s = this.#user(session);
    const inFormat = pinFormat(input?.in?.format);
    const outFormat = pinFormat(input?.outFormat);
    try {
      if (PAN_BOUND.includes(inFormat) && outFormat === 'ISO1') throw new HsmError('MECHANISM_PARAM_INVALID', 'a PAN-bound PIN block never becomes format 1'); // C-03
      if (input.outPan !== undefined && input.outPan !== input.in.pan) throw new HsmError('MECHANISM_PARAM_INVALID', 'the PAN cannot change in a translation'); // C-04
      if (PAN_BOUND.includes(outFormat) && input.in.pan === undefined) throw new HsmError('MECHANISM_PARAM_INVALID', 'this format needs the PAN');
    } catch (e) {
      throw this.core.refused(s, 'payment.pin.translate', undefined, e);
    }
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

  /** IBM 3624 validation data derived by the module from the PAN (attacks.md C-02): 0000 ‖ 12 PAN digits before the check digit. */
  static #validationData(pan: string): string {
    digits(pan, 'PAN', 13, 19);
    return `0000${pan.slice(-13, -1)}`;
  }

  async generateIbm3624Offset(session: string, input: { pin: PinInput; pvk: KeyRef; table: string }): Promise<string> {
    const s = this.#user(session);
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
    const ok = await this.#run(s, 'payment.ibm3624.verify', [{ ref: input.pin.key, usages: USAGE.pin }, { ref: input.pvk, usages: USAGE.ibm3624 }], (kp, pvk) => {
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
    });
    this.#limits.record(s.partition ?? '', 'pin', pan, ok);
    return ok;
  }

  async generatePvv(session: string, input: { pin: PinInput; pvk: KeyRef; pvki: number }): Promise<string> {
    const s = this.#user(session);
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
    const ok = await this.#run(s, 'payment.pvv.verify', [{ ref: input.pin.key, usages: USAGE.pin }, { ref: input.pvk, usages: USAGE.pvv }], (kp, pvk) => {
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
    });
    this.#limits.record(s.partition ?? '', 'pin', pan, ok);
    return ok;
  }

  /** CVV (service code as on the track), CVV2 (000) or iCVV (999); generation is always audited (C-11). */
  async generateCvv(session: string, input: { key: KeyRef; pan: string; expiry: string; serviceCode: string }): Promise<string> {
    const s = this.#user(session);
    return this.#run(s, 'payment.cvv.generate', [{ ref: input?.key, usages: USAGE.cvv }], (k) => cvv(k, input.pan, input.expiry, input.serviceCode), true);
  }

  async verifyCvv(session: string, input: { key: KeyRef; pan: string; expiry: string; serviceCode: string; cvv: string }): Promise<boolean> {
    const s = this.#user(session);
    const pan = digits(input?.pan, 'PAN', 12, 19);
    const want = digits(input.cvv, 'CVV', 3, 3);
    this.#limitCheck(s, 'payment.cvv.verify', 'cvv', pan);
    const ok = await this.#run(s, 'payment.cvv.verify', [{ ref: input.key, usages: USAGE.cvv }], (k) => tagMatches(Buffer.from(cvv(k, pan, input.expiry, input.serviceCode)), Buffer.from(want)));
    this.#limits.record(s.partition ?? '', 'cvv', pan, ok);
    return ok;
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
    const ok = await this.#run(s, 'payment.cvc3.verify', [{ ref: input.key, usages: USAGE.cvc3 }], (imk) => {
      const icc = iccMasterKeyA(imk, pan, input.psn);
      try {
        const got = String(cvc3(icc, track, input.un, input.atc)).padStart(5, '0').slice(-want.length);
        return tagMatches(Buffer.from(got), Buffer.from(want));
      } finally {
        icc.secret?.destroy();
      }
    });
    this.#limits.record(s.partition ?? '', 'cvv', pan, ok);
    return ok;
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
    if (padding !== 1 && padding !== 2 && padding !== 3) throw new HsmError('MECHANISM_PARAM_INVALID', 'padding method 1, 2 or 3');
    const d = padding === 3 ? lengthPrefixed(data) : data; // ISO/IEC 9797-1 §6.1.4
    const m = padding === 2 ? 2 : 1;
    return algorithm === 1 ? macAlg1(k, d, m) : retailMac(k, d, m);
  }

  /** ISO/IEC 9797-1 MAC algorithm 1 (M0/M1 keys) or 3 (M3 keys). */
  async generateMac(session: string, input: { key: KeyRef; algorithm: 1 | 3; padding: 1 | 2 | 3; data: Uint8Array; length?: number }): Promise<Uint8Array> {
    const s = this.#user(session);
    const data = bytes(input?.data, 'data');
    const len = input.length ?? 8;
    if (!Number.isInteger(len) || len < 4 || len > 8) throw new HsmError('MECHANISM_PARAM_INVALID', 'MAC length 4-8');
    const usages = input.algorithm === 1 ? USAGE.mac1 : input.algorithm === 3 ? USAGE.mac3 : undefined;
    if (!usages) throw new HsmError('MECHANISM_PARAM_INVALID', 'algorithm 1 or 3');
    return this.#run(s, 'payment.mac.generate', [{ ref: input.key, usages }], (k) => Buffer.from(Payment.#mac(k, input.algorithm, input.padding, data).subarray(0, len)));
  }

  async verifyMac(session: string, input: { key: KeyRef; algorithm: 1 | 3; padding: 1 | 2 | 3; data: Uint8Array; mac: Uint8Array }): Promise<boolean> {
    const s = this.#user(session);
    const data = bytes(input?.data, 'data');
    const mac = bytes(input.mac, 'mac');
    const usages = input.algorithm === 1 ? USAGE.mac1 : input.algorithm === 3 ? USAGE.mac3 : undefined;
    if (!usages) throw new HsmError('MECHANISM_PARAM_INVALID', 'algorithm 1 or 3');
    return this.#run(s, 'payment.mac.verify', [{ ref: input.key, usages }], (k) => mac.length >= 4 && mac.length <= 8 && tagMatches(Payment.#mac(k, input.algorithm, input.padding, data).subarray(0, mac.length), mac));
  }
}
