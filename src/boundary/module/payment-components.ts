// Forming a payment key from clear components under dual control (issue 7 "Keys"; attacks.md C-08):
// an officer opens a forming, each component comes from a different account, each is parity-checked
// (TDES) and answered with its own check value, and the last one XORs them inside into a key that is
// not stored, hence not usable, until an officer who entered no component confirms its check value.
// Formings live in memory only: they expire, and a seal or restart forgets them (components and
// unconfirmed keys zeroed), so no stored key ever skipped the confirmation.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { HsmError } from '../errors.js';
import { checkValue } from '../mechanisms/payment/check-value.js';
import { defaultMode, USAGE_RULES } from '../mechanisms/payment/tr31-header.js';
import { checkConsistency, newAttributes } from '../policy/validator.js';
import { SecretBytes } from '../secret.js';
import type { Session } from '../sessions.js';
import type { KeyType, StoredObject, Template } from '../types.js';
import { type ModuleCore, withFacts } from './core.js';
import { readPolicy } from './quorum-policy.js';
import { QuorumRequiredError, quorumGate } from './quorum-requests.js';

const LENGTHS: Record<'des2' | 'des3' | 'aes', readonly number[]> = { des2: [16], des3: [24], aes: [16, 24, 32] };
const MAX_OPEN = 32;

interface Forming {
  id: string;
  partition: string;
  opener: string;
  keyType: 'des2' | 'des3' | 'aes';
  usage: string;
  label: string;
  modeOfUse: string;
  exportability: 'E' | 'N' | 'S';
  count: number;
  parity: 'odd' | 'any';
  /** Account names that entered a component, in order. */
  custodians: string[];
  /** XOR of the components so far: one accumulator, so no component outlives its call. */
  sum: SecretBytes | undefined;
  /** After the last component: the key, built and checked but not stored until its check value is confirmed (C-08). */
  formed?: { object: StoredObject; secret: SecretBytes; kcv: Buffer };
  expires: number;
}

/** A formed key waiting for confirmation: its id, and its check value as the last custodian saw it. */
export interface ConfirmComponentsInput {
  forming: string;
  /** The check value read on the custodians' forms: 3 bytes, or 6 hex digits. */
  kcv: Uint8Array | string;
}

export interface BeginComponentsInput {
  keyType: 'des2' | 'des3' | 'aes';
  usage: string;
  components: 2 | 3;
  label: string;
  modeOfUse?: string;
  /** The formed key's TR-31 exportability (default N). */
  exportability?: 'E' | 'N' | 'S';
  /**
   * TDES components: 'odd' (default) refuses a component whose bytes are not all odd parity, which catches
   * most keying mistakes (FIPS 46-3 §1); 'any' is for components printed without parity (the key is set to odd parity when formed).
   */
  parity?: 'odd' | 'any';
}

export interface ComponentResult {
  /** This component's check value (3 bytes: never a full block, attacks.md C-09). */
  kcv: Uint8Array;
  entered: number;
  remaining: number;
  /** With the last component: the formed key's id (unusable until `confirmComponents`) and its check value. */
  key?: string;
  keyKcv?: Uint8Array;
}

/** FIPS 46-3 §1: every byte of a DES key has odd parity (its low bit makes the count of ones odd). */
function oddParity(b: Uint8Array): boolean {
  for (const x of b) {
    let v = x;
    v ^= v >> 4;
    v ^= v >> 2;
    v ^= v >> 1;
    if ((v & 1) === 0) return false;
  }
  return true;
}

export class PaymentComponents {
  readonly #formings = new Map<string, Forming>();

  constructor(private readonly core: ModuleCore) {
    core.onSeal.push(() => {
      for (const f of this.#formings.values()) {
        f.sum?.destroy();
        f.formed?.secret.destroy();
      }
      this.#formings.clear();
    });
  }

  #expire(): void {
    const t = Date.now();
    for (const [id, f] of this.#formings) {
      if (f.expires <= t) {
        f.sum?.destroy();
        f.formed?.secret.destroy();
        this.#formings.delete(id);
        const detail = f.formed
          ? `formed key ${f.formed.object.uid} destroyed unconfirmed; KCV ${hexKcv(f.formed.kcv)}`
          : `${f.custodians.length} of ${f.count} components`;
        this.core.audit({ actor: 'system', partition: f.partition, op: 'payment.components.expire', target: id, outcome: 'failed', detail });
      }
    }
  }

  /** Officer: opens a forming for a key of `keyType` and `usage` from 2 or 3 components; returns its id. */
  async beginComponents(session: string, input: BeginComponentsInput): Promise<{ forming: string; expiresAt: string }> {
    const s = this.core.session(session, 'officer');
    const op = 'payment.components.begin';
    this.#expire();
    try {
      const p = this.core.partitionOf(s);
      if (!input || !Object.hasOwn(LENGTHS, input.keyType)) throw new HsmError('ARGUMENTS_BAD', 'keyType is des2, des3 or aes');
      if (input.components !== 2 && input.components !== 3) throw new HsmError('ARGUMENTS_BAD', 'components is 2 or 3');
      const rule = typeof input.usage === 'string' ? USAGE_RULES[input.usage] : undefined;
      if (!rule?.algorithms.includes(input.keyType === 'aes' ? 'A' : 'T')) throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'usage must be a TR-31 usage for this key type');
      const modeOfUse = input.modeOfUse ?? defaultMode(input.usage);
      if (!rule.modes.includes(modeOfUse)) throw new HsmError('ATTRIBUTE_VALUE_INVALID', `a ${input.usage} key has no mode ${modeOfUse}`);
      const exportability = input.exportability ?? 'N';
      if (!['E', 'N', 'S'].includes(exportability)) throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'exportability is E, N or S');
      const parity = input.parity ?? 'odd';
      if (parity !== 'odd' && parity !== 'any') throw new HsmError('ARGUMENTS_BAD', 'parity is odd or any');
      if (typeof input.label !== 'string' || input.label.length === 0 || input.label.length > 128) throw new HsmError('ARGUMENTS_BAD', 'label is 1-128 characters');
      if ([...this.#formings.values()].filter((f) => f.partition === p.name).length >= MAX_OPEN) throw new HsmError('LIMIT_EXCEEDED', 'too many open formings');
      const f: Forming = {
        id: randomBytes(16).toString('hex'),
        partition: p.name,
        opener: s.user,
        keyType: input.keyType,
        usage: input.usage,
        label: input.label,
        modeOfUse,
        exportability,
        count: input.components,
        parity,
        custodians: [],
        sum: undefined,
        expires: Date.now() + this.core.shareTimeoutMs,
      };
      this.#formings.set(f.id, f);
      this.core.audit({ actor: s.user, partition: p.name, op, target: f.id, outcome: 'ok', detail: `${f.keyType} ${f.usage} from ${f.count} components, parity ${f.parity}` });
      return { forming: f.id, expiresAt: new Date(f.expires).toISOString() };
    } catch (e) {
      throw this.core.refused(s, op, undefined, e);
    }
  }

  /**
   * A custodian (any account of the partition, a different one for each component) enters one clear
   * component. The last one forms the key inside: never exportable in clear, its check value returned.
   */
  async enterComponent(session: string, input: { forming: string; component: Uint8Array | SecretBytes }): Promise<ComponentResult> {
    const s = this.core.session(session, 'user', 'officer');
    const op = 'payment.components.enter';
    this.#expire();
    const raw = input?.component;
    const component = raw instanceof SecretBytes ? SecretBytes.from(raw.insecureBytes()) : raw instanceof Uint8Array ? SecretBytes.from(raw) : undefined;
    const id = typeof input?.forming === 'string' ? input.forming : '';
    try {
      // The key's type and usage were fixed when the forming opened: a custodian sends a component and nothing else (C-08 step 2).
      if (Object.keys(input ?? {}).some((k) => k !== 'forming' && k !== 'component')) throw new HsmError('ARGUMENTS_BAD', 'a component call takes forming and component only');
      const f = this.#formings.get(id);
      // Another partition's forming is no forming (attacks.md D-01).
      if (!f || f.partition !== s.partition || f.formed) throw new HsmError('ARGUMENTS_BAD', 'no such forming (never opened, completed or expired)');
      if (f.custodians.includes(s.user)) throw new HsmError('ACCESS_DENIED', 'dual control: this account has already entered a component');
      if (!component) throw new HsmError('ARGUMENTS_BAD', 'component must be bytes');
      const bytes = component.insecureBytes();
      if (!LENGTHS[f.keyType].includes(bytes.length) || (f.sum && f.sum.length !== bytes.length)) throw new HsmError('KEY_SIZE_RANGE', `a ${f.keyType} component has ${LENGTHS[f.keyType].join('/')} bytes, all the same`);
      if (f.keyType !== 'aes' && f.parity === 'odd' && !oddParity(bytes)) throw new HsmError('DATA_INVALID', 'a TDES component has odd parity in every byte');
      const kt = this.core.keyTypeOf(f.keyType);
      // The component's own check value, so its custodian can confirm what was keyed in (C-08, C-09: 3 bytes).
      const probe = kt.load('component', 0, { secret: component });
      let kcv: Buffer;
      try {
        kcv = checkValue(probe, 3);
      } finally {
        if (probe.secret !== component) probe.secret?.destroy();
      }
      if (f.sum) {
        const acc = f.sum.insecureBytes();
        for (let i = 0; i < acc.length; i++) acc[i] ^= bytes[i];
      } else {
        f.sum = SecretBytes.from(bytes);
      }
      f.custodians.push(s.user);
      const entered = f.custodians.length;
      if (entered < f.count) {
        // The per-part check value goes to the audit log (C-08): 3 bytes, not secret, so a disputed ceremony can be replayed.
        this.core.audit({ actor: s.user, partition: f.partition, op, target: f.id, outcome: 'ok', detail: `component ${entered} of ${f.count}, KCV ${kcv.toString('hex').toUpperCase()}` });
        return { kcv, entered, remaining: f.count - entered };
      }
      this.core.audit({ actor: s.user, partition: f.partition, op, target: f.id, outcome: 'ok', detail: `component ${entered} of ${f.count}, KCV ${kcv.toString('hex').toUpperCase()}` });
      let formed: NonNullable<Forming['formed']>;
      try {
        formed = this.#form(s, f);
      } catch (e) {
        this.#formings.delete(f.id); // a degenerate key ends the ceremony: the custodians start again
        throw e;
      }
      return { kcv, entered, remaining: 0, key: formed.object.uid, keyKcv: Buffer.from(formed.kcv) };
    } catch (e) {
      throw this.core.refused(s, op, id ? id.slice(0, 64) : undefined, e);
    } finally {
      component?.destroy();
    }
  }

  /**
   * XOR of the components → the key with its usage (K0/K1 keys formed in an officer's ceremony are
   * trusted KEKs), checked and held here, not stored: a stored key could be enabled through
   * `setKeyState` by any account of the partition, so the only unusable key is one the store lacks.
   */
  #form(s: Session, f: Forming): NonNullable<Forming['formed']> {
    const secret = f.sum!;
    f.sum = undefined;
    try {
      const kt = this.core.keyTypeOf(f.keyType as KeyType);
      if (f.keyType !== 'aes') {
        // Two odd-parity components XOR to even parity: set it (DES ignores parity bits, so the KCV is unchanged).
        const b = secret.insecureBytes();
        for (let i = 0; i < b.length; i++) if (!oddParity(b.subarray(i, i + 1))) b[i] ^= 1;
      }
      const probe = kt.load('component', 0, { secret }); // refuses a TDES key with equal halves (C-11 step 4)
      const kcv = checkValue(probe, 3);
      if (probe.secret !== secret) probe.secret?.destroy();
      const kek = f.usage === 'K0' || f.usage === 'K1';
      const flags: Template = kek ? { wrap: 'BEN'.includes(f.modeOfUse), unwrap: 'BDN'.includes(f.modeOfUse) } : {};
      if (kek && flags.wrap) flags.trusted = true;
      const tpl: Template = { label: f.label, keyUsage: f.usage, modeOfUse: f.modeOfUse, exportability: f.exportability, token: true, extractable: false, ...flags };
      const attrs = withFacts(newAttributes('create', tpl, 'secret-key', f.keyType, { local: false }), kt.facts({ secret }));
      checkConsistency(attrs);
      const object = this.core.newObject(s, attrs, undefined);
      object.meta.owner = f.opener; // the officer who opened the ceremony owns the key, not its last custodian
      f.formed = { object, secret, kcv };
      // A fresh window for the confirmation; the key is zeroed when it closes, even if nobody calls again.
      f.expires = Date.now() + this.core.shareTimeoutMs;
      this.#expireLater(this.core.shareTimeoutMs);
      this.core.audit({
        actor: s.user,
        partition: f.partition,
        op: 'payment.components.form',
        target: f.id,
        outcome: 'ok',
        detail: `${f.keyType} ${f.usage} from ${f.count} components by ${f.custodians.join(', ')}; key ${object.uid} awaits confirmation; KCV ${hexKcv(kcv)}`,
      });
      return f.formed;
    } catch (e) {
      secret.destroy();
      throw e;
    }
  }

  #expireLater(ms: number): void {
    setTimeout(() => {
      try {
        this.#expire();
      } catch {
        // Sealed or closed meanwhile: the seal hook has zeroed every forming already.
      }
    }, ms + 10).unref();
  }

  /**
   * Officer: confirms a formed key by stating its check value (attacks.md C-08 "final KCV confirmed").
   * The confirming officer entered no component; the opener may confirm only when no other officer of
   * the partition could. A `payment.key-form` quorum rule adds M approvals. Equal → the key is stored
   * and usable; different → refused and audited, the key stays unstored until the forming expires.
   */
  async confirmComponents(session: string, input: ConfirmComponentsInput): Promise<{ key: string; kcv: Uint8Array }> {
    const s = this.core.session(session, 'officer');
    const op = 'payment.components.confirm';
    this.#expire();
    const id = typeof input?.forming === 'string' ? input.forming : '';
    try {
      if (Object.keys(input ?? {}).some((k) => k !== 'forming' && k !== 'kcv')) throw new HsmError('ARGUMENTS_BAD', 'a confirmation takes forming and kcv only');
      const stated = parseKcv(input?.kcv);
      const f = this.#formings.get(id);
      if (!f || f.partition !== s.partition) throw new HsmError('ARGUMENTS_BAD', 'no such forming (never opened, completed or expired)');
      const formed = f.formed;
      if (!formed) throw new HsmError('KEY_STATE_INVALID', `the forming has ${f.custodians.length} of ${f.count} components`);
      // Dual control: whoever keyed in a part cannot also vouch for the whole.
      if (f.custodians.includes(s.user)) throw new HsmError('ACCESS_DENIED', 'dual control: a custodian of this key cannot confirm it');
      if (s.user === f.opener && this.#otherConfirmers(f).length > 0) throw new HsmError('ACCESS_DENIED', 'dual control: another officer of the partition confirms the key');
      // B-07: compare in constant time (the KCV is not secret, but no comparison here leaks by timing).
      if (!timingSafeEqual(stated, formed.kcv)) {
        throw new HsmError('DATA_INVALID', `the check value stated (${hexKcv(stated)}) is not the formed key's; the key stays unusable`);
      }
      try {
        quorumGate(this.core, s, 'payment.key-form', { forming: f.id, key: formed.object.uid, kcv: hexKcv(formed.kcv) }, { partition: f.partition });
      } catch (e) {
        // The forming waits as long as the quorum request does.
        if (e instanceof QuorumRequiredError) {
          const ms = readPolicy(this.core).expiryMs;
          if (Date.now() + ms > f.expires) {
            f.expires = Date.now() + ms;
            this.#expireLater(ms);
          }
        }
        throw e;
      }
      this.#formings.delete(f.id);
      f.formed = undefined;
      try {
        this.core.persist(s, formed.object, new Map([[1, formed.secret]]), {
          actor: s.user,
          partition: f.partition,
          op,
          target: formed.object.uid,
          outcome: 'ok',
          detail: `${f.keyType} ${f.usage} from ${f.count} components by ${f.custodians.join(', ')}; forming ${f.id}; KCV ${hexKcv(formed.kcv)} confirmed`,
        }, false);
      } catch (e) {
        formed.secret.destroy(); // persist zeroes it only on success
        throw e;
      }
      return { key: formed.object.uid, kcv: Buffer.from(formed.kcv) };
    } catch (e) {
      throw this.core.refused(s, op, id ? id.slice(0, 64) : undefined, e);
    }
  }

  /** Unlocked officers of the forming's partition, other than its opener, who entered no component. */
  #otherConfirmers(f: Forming): string[] {
    return this.core.vault
      .listUsers()
      .filter((u) => u.role === 'officer' && u.partition === f.partition && !u.locked && u.name !== f.opener && !f.custodians.includes(u.name))
      .map((u) => u.name);
  }
}

function hexKcv(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase();
}

/** A stated check value: 3 bytes, or 6 hex digits (as printed on a component form). */
function parseKcv(v: unknown): Buffer {
  if (typeof v === 'string' && /^[0-9A-Fa-f]{6}$/.test(v)) return Buffer.from(v, 'hex');
  if (v instanceof Uint8Array && v.length === 3) return Buffer.from(v);
  throw new HsmError('ARGUMENTS_BAD', 'kcv is the 3-byte check value (6 hex digits)');
}
