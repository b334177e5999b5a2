// One validator applies the attribute table (attribute-table.ts) to every operation that makes
// or changes an object: shape and type of the caller's template, who may set what, one-way
// transitions, bookkeeping attributes, and the key-separation rules (attacks.md §1.4, A-01..A-19).
// Everything here is pure: same input, same answer, so every front end gets the same error.

import { HsmError } from '../errors.js';
import type { Attributes, KeyType, ObjectClass, Role, Template } from '../types.js';
import { ATTRIBUTE_RULES, type AttributeName, type AttributeRule, MATERIAL_FIELDS, type TemplateOp, USAGES_BY_KEY_TYPE } from './attribute-table.js';

const USAGE_NAMES = ['sign', 'verify', 'encrypt', 'decrypt', 'wrap', 'unwrap', 'derive', 'encapsulate', 'decapsulate'] as const;
type Usage = (typeof USAGE_NAMES)[number];

const MAX_TEMPLATE_DEPTH = 2; // a wrap/unwrap/derive template may hold templates one level down, no further
const MAX_LABEL = 256;
const MAX_ID = 256;
const MAX_VALUE = 64 * 1024;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const LONE_SURROGATE = /\p{Cs}/u;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function ruleOf(name: string): AttributeRule {
  if (!Object.hasOwn(ATTRIBUTE_RULES, name)) throw new HsmError('ATTRIBUTE_TYPE_INVALID', `unknown attribute ${name.slice(0, 40)}`);
  return ATTRIBUTE_RULES[name as AttributeName];
}

function appliesTo(rule: AttributeRule, cls: ObjectClass | undefined): boolean {
  if (cls === undefined || rule.classes === 'all') return true;
  if (rule.classes === 'keys') return cls === 'secret-key' || cls === 'private-key' || cls === 'public-key';
  return rule.classes.includes(cls);
}

/**
 * Checks that `input` is a well-formed template: a plain object of known attribute names with
 * values of the right type. Returns a fresh object (so later mutation by the caller changes nothing).
 */
export function checkTemplateShape(input: unknown, depth = 0): Template {
  if (!isPlainObject(input)) throw new HsmError('ARGUMENTS_BAD', 'a template must be an object');
  if (depth > MAX_TEMPLATE_DEPTH) throw new HsmError('TEMPLATE_INVALID', 'templates nest too deep');
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const rule = ruleOf(name);
    out[name] = checkValue(name, rule, value, depth);
  }
  return out as Template;
}

function checkValue(name: string, rule: AttributeRule, value: unknown, depth: number): unknown {
  const bad = (why: string): never => {
    throw new HsmError('ATTRIBUTE_VALUE_INVALID', `${name}: ${why}`);
  };
  switch (rule.type) {
    case 'boolean':
      return typeof value === 'boolean' ? value : bad('must be a boolean');
    case 'string':
      if (typeof value !== 'string') return bad('must be a string');
      // A lone surrogate has no UTF-8 form: stored and read back it would be another label.
      if (LONE_SURROGATE.test(value)) return bad('must be well-formed Unicode');
      return value.length <= MAX_LABEL ? value : bad(`longer than ${MAX_LABEL}`);
    case 'enum':
      return typeof value === 'string' && rule.values?.includes(value) ? value : bad('not an allowed value');
    case 'int':
      return Number.isSafeInteger(value) && (value as number) > 0 ? value : bad('must be a positive integer');
    case 'date':
      return typeof value === 'string' && DATE.test(value) && !Number.isNaN(Date.parse(value)) ? value : bad('must be YYYY-MM-DD');
    case 'bytes': {
      if (!(value instanceof Uint8Array)) return bad('must be bytes');
      const max = name === 'id' ? MAX_ID : MAX_VALUE;
      return value.length <= max ? Uint8Array.from(value) : bad(`longer than ${max} bytes`);
    }
    case 'mechanisms':
      if (!Array.isArray(value) || value.length > 64 || !value.every((m) => typeof m === 'string' && m.length > 0 && m.length <= 64)) {
        return bad('must be a list of mechanism names');
      }
      // Case-fold before removing duplicates, so a checked list checks to itself (found by test/property/policy.test.ts).
      return [...new Set((value as string[]).map((m) => m.toUpperCase()))];
    case 'template':
      return checkTemplateShape(value, depth + 1);
  }
}

/**
 * A template from a list of (name, value) entries, as wire protocols carry them: a name given
 * twice is refused (attacks.md A-17: a checker reading the first and a builder the last is a bypass).
 */
export function templateFromEntries(entries: Iterable<readonly [string, unknown]>): Template {
  const out: Record<string, unknown> = {};
  for (const [name, value] of entries) {
    if (Object.hasOwn(out, name)) throw new HsmError('TEMPLATE_INVALID', `${name.slice(0, 40)} given twice`);
    out[name] = value;
  }
  return checkTemplateShape(out);
}

/** Refuses attributes that the caller may not name in this operation (bookkeeping, read-only, officer-only). */
export function checkSettable(op: TemplateOp, tpl: Template, cls: ObjectClass | undefined, role: Role): void {
  for (const name of Object.keys(tpl)) {
    const rule = ruleOf(name);
    if (!appliesTo(rule, cls)) throw new HsmError('ATTRIBUTE_TYPE_INVALID', `${name} does not apply to ${cls}`);
    if (!(rule.settable as readonly string[]).includes(op)) throw new HsmError('ATTRIBUTE_READ_ONLY', `${name} cannot be set by ${op}`);
    if ('officerOnly' in rule && rule.officerOnly && role !== 'officer' && (tpl as Record<string, unknown>)[name] === true) {
      throw new HsmError('ATTRIBUTE_READ_ONLY', `only the partition officer may set ${name}`);
    }
  }
}

export interface Provenance {
  /** Generated inside the module. */
  local: boolean;
  /** For derive/decapsulate: the base key's bookkeeping, which a derived key can only lose. */
  base?: Pick<Attributes, 'sensitive' | 'extractable' | 'alwaysSensitive' | 'neverExtractable'> & { wrapWithTrusted?: boolean };
}

const DEFAULT_USAGE: Record<string, { secret?: Usage[]; private?: Usage[]; public?: Usage[] }> = {
  aes: { secret: ['encrypt', 'decrypt'] },
  des2: { secret: ['encrypt', 'decrypt'] },
  des3: { secret: ['encrypt', 'decrypt'] },
  'generic-secret': { secret: ['sign', 'verify'] },
  rsa: { private: ['sign'], public: ['verify'] },
  ec: { private: ['sign'], public: ['verify'] },
  'ec-edwards': { private: ['sign'], public: ['verify'] },
  'ec-montgomery': { private: ['derive'], public: [] },
  'ml-dsa': { private: ['sign'], public: ['verify'] },
  'slh-dsa': { private: ['sign'], public: ['verify'] },
  'ml-kem': { private: ['decapsulate'], public: ['encapsulate'] },
};

function classSlot(cls: ObjectClass): 'secret' | 'private' | 'public' | undefined {
  return cls === 'secret-key' ? 'secret' : cls === 'private-key' ? 'private' : cls === 'public-key' ? 'public' : undefined;
}

export function hasAnyUsage(tpl: Template): boolean {
  return USAGE_NAMES.some((u) => tpl[u] !== undefined);
}

/** The default usages of a key type and class, used when a template names none. */
export function defaultUsages(cls: ObjectClass, keyType: KeyType | undefined): Usage[] {
  const slot = classSlot(cls);
  return slot && keyType ? [...(DEFAULT_USAGE[keyType]?.[slot] ?? [])] : [];
}

/**
 * The full attribute set of a new object from the caller's template, with defaults and the
 * computed bookkeeping attributes (PKCS#11 v3.0 §4.9: ALWAYS_SENSITIVE / NEVER_EXTRACTABLE;
 * attacks.md for derived keys). Does not check consistency: call checkConsistency.
 */
export function newAttributes(op: 'create' | 'generate' | 'unwrap' | 'derive', tpl: Template, cls: ObjectClass, keyType: KeyType | undefined, prov: Provenance): Attributes {
  const isKey = cls === 'secret-key' || cls === 'private-key' || cls === 'public-key';
  const secretBearing = cls === 'secret-key' || cls === 'private-key';
  const usages = new Set<string>(hasAnyUsage(tpl) ? USAGE_NAMES.filter((u) => tpl[u] === true) : defaultUsages(cls, keyType));
  let sensitive = secretBearing ? (tpl.sensitive ?? true) : false;
  let extractable = secretBearing ? (tpl.extractable ?? false) : false;
  if (op === 'derive' && prov.base) {
    // A derived key is at least as protected as its base (attacks.md A-16 step 2).
    sensitive = sensitive || prov.base.sensitive;
    extractable = extractable && prov.base.extractable;
  }
  let alwaysSensitive = false;
  let neverExtractable = false;
  if (secretBearing) {
    if (op === 'generate') {
      alwaysSensitive = sensitive;
      neverExtractable = !extractable;
    } else if (op === 'derive' && prov.base) {
      alwaysSensitive = prov.base.alwaysSensitive && sensitive;
      neverExtractable = prov.base.neverExtractable && !extractable;
    }
  }
  const attrs: Attributes = {
    class: cls,
    label: tpl.label ?? '',
    id: tpl.id ?? new Uint8Array(0),
    token: tpl.token ?? true,
    private: tpl.private ?? (cls !== 'public-key' && cls !== 'certificate'),
    modifiable: tpl.modifiable ?? true,
    copyable: tpl.copyable ?? true,
    destroyable: tpl.destroyable ?? true,
    sign: usages.has('sign'),
    verify: usages.has('verify'),
    encrypt: usages.has('encrypt'),
    decrypt: usages.has('decrypt'),
    wrap: usages.has('wrap'),
    unwrap: usages.has('unwrap'),
    derive: usages.has('derive'),
    encapsulate: usages.has('encapsulate'),
    decapsulate: usages.has('decapsulate'),
    sensitive,
    extractable,
    alwaysSensitive,
    neverExtractable,
    local: isKey && op === 'generate' && prov.local,
    trusted: tpl.trusted ?? false,
    // attacks.md A-13: wrapWithTrusted survives derivation (a derived key is no easier to export than its base).
    wrapWithTrusted: secretBearing ? (tpl.wrapWithTrusted ?? false) || (op === 'derive' && prov.base?.wrapWithTrusted === true) : false,
    auditUse: tpl.auditUse ?? false,
  };
  if (keyType !== undefined) attrs.keyType = keyType;
  for (const k of ['startDate', 'endDate', 'allowedMechanisms', 'wrapTemplate', 'unwrapTemplate', 'deriveTemplate', 'keyUsage', 'modeOfUse', 'exportability', 'keyVersionNumber'] as const) {
    if (tpl[k] !== undefined) (attrs as unknown as Record<string, unknown>)[k] = tpl[k];
  }
  return attrs;
}

/** Applies a copy or set template to existing attributes under the one-way rules. */
export function changedAttributes(op: 'copy' | 'set', current: Attributes, tpl: Template, role: Role): Attributes {
  if (op === 'set' && !current.modifiable) throw new HsmError('ACTION_PROHIBITED', 'the object is not modifiable');
  if (op === 'copy' && !current.copyable) throw new HsmError('ACTION_PROHIBITED', 'the object is not copyable');
  checkSettable(op, tpl, current.class, role);
  if (role === 'officer') {
    // The officer manages trust, never key use (DESIGN §3 Roles).
    const others = Object.keys(tpl).filter((k) => k !== 'trusted' && k !== 'label');
    if (op === 'copy' || others.length > 0) throw new HsmError('USER_TYPE_INVALID', 'an officer may only change trusted and label');
  }
  const next = { ...current } as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(tpl)) {
    const rule = ruleOf(name);
    const was = (current as unknown as Record<string, unknown>)[name];
    if (rule.type === 'boolean' && 'oneWay' in rule && was !== value) {
      if (rule.oneWay === 'to-true' && value !== true) throw new HsmError('ATTRIBUTE_READ_ONLY', `${name} can only become true`);
      if (rule.oneWay === 'to-false' && value !== false) throw new HsmError('ATTRIBUTE_READ_ONLY', `${name} can only become false`);
    }
    next[name] = value;
  }
  return next as unknown as Attributes;
}

/** Names of the usages set in `a` (and optionally its pair half `b`, checked as one key: attacks.md A-02). */
function usagesOf(...attrs: (Attributes | undefined)[]): Set<Usage> {
  const s = new Set<Usage>();
  for (const a of attrs) if (a) for (const u of USAGE_NAMES) if (a[u]) s.add(u);
  return s;
}

const any = (s: Set<Usage>, ...us: Usage[]): boolean => us.some((u) => s.has(u));

/**
 * Key separation and coherence rules, at creation and after every change. `pair` is the other
 * half of a key pair being generated together; the two count as one key (attacks.md A-02).
 */
export function checkConsistency(attrs: Attributes, pair?: Attributes): void {
  const inconsistent = (why: string): never => {
    throw new HsmError('TEMPLATE_INCONSISTENT', why);
  };
  const cls = attrs.class;
  const slot = classSlot(cls);
  if (slot) {
    if (!attrs.keyType) inconsistent('a key needs a keyType');
    const allowed = USAGES_BY_KEY_TYPE[attrs.keyType as string]?.[slot] ?? [];
    for (const u of usagesOf(attrs)) if (!allowed.includes(u)) inconsistent(`a ${attrs.keyType} ${cls} cannot ${u}`);
  } else if (usagesOf(attrs).size > 0) {
    inconsistent(`a ${cls} object has no usages`);
  }
  const u = usagesOf(attrs, pair);
  if (cls === 'secret-key') {
    // attacks.md: a wrapping key does nothing else; data keys are not MAC keys (Caml Crush segregation).
    if (any(u, 'wrap', 'unwrap') && any(u, 'encrypt', 'decrypt', 'sign', 'verify', 'derive')) inconsistent('a wrapping key may not also encrypt, decrypt, sign, verify or derive');
    if (any(u, 'encrypt', 'decrypt') && any(u, 'sign', 'verify')) inconsistent('a key may not both encrypt/decrypt and sign/verify');
  } else if (attrs.keyType === 'rsa') {
    // attacks.md A-19 (sign/decrypt reuse) and A-02 (wrap/decrypt on a pair).
    if (any(u, 'sign', 'verify') && any(u, 'encrypt', 'decrypt', 'wrap', 'unwrap')) inconsistent('an RSA key may not both sign and encrypt/decrypt/wrap');
    if (any(u, 'wrap', 'unwrap') && any(u, 'encrypt', 'decrypt')) inconsistent('an RSA key may not both wrap and encrypt/decrypt');
  } else if (attrs.keyType === 'ec') {
    // SP 800-57 Pt 1 §5.2: one key, one purpose — no ECDSA key doubling as an ECDH key.
    if (any(u, 'sign', 'verify') && u.has('derive')) inconsistent('an EC key may not both sign and derive');
  }
  if (attrs.wrap && (cls === 'secret-key' || cls === 'private-key') && !attrs.sensitive) inconsistent('a wrapping key must be sensitive');
  // attacks.md A-08: wrapped blobs do not bind attributes, so an exported wrapping key could be
  // unwrapped again with decrypt and read every blob it made. Key-transport keys never leave.
  if (any(u, 'wrap', 'unwrap') && attrs.extractable) inconsistent('a wrapping or unwrapping key may not be extractable');
  // attacks.md C-07, C-10: a payment key (TR-31 key usage or exportability) leaves only in a key block that
  // binds its usage, mode and exportability (N: never); C_WrapKey binds none of them, so it is not extractable.
  if ((attrs.exportability !== undefined || attrs.keyUsage !== undefined) && attrs.extractable) inconsistent('a payment key leaves only in TR-31 key blocks: it is not extractable');
  // attacks.md A-12: a wrapping key whose value may be known outside (imported, derived) must be officer-trusted.
  if (attrs.wrap && !attrs.local && !attrs.trusted) inconsistent('a key not generated inside may wrap only when the officer marks it trusted');
  if (attrs.trusted && !attrs.wrap) inconsistent('trusted marks a wrapping key');
  if (attrs.wrapTemplate && !attrs.wrap) inconsistent('wrapTemplate needs wrap');
  if (attrs.unwrapTemplate && !attrs.unwrap) inconsistent('unwrapTemplate needs unwrap');
  if (attrs.deriveTemplate && !attrs.derive) inconsistent('deriveTemplate needs derive');
  if (attrs.startDate && attrs.endDate && attrs.endDate < attrs.startDate) inconsistent('endDate before startDate');
  if (attrs.alwaysSensitive && !attrs.sensitive) inconsistent('alwaysSensitive without sensitive');
  if (attrs.neverExtractable && attrs.extractable) inconsistent('neverExtractable with extractable');
}

/** Whether the attributes satisfy every attribute named in `tpl` (wrapTemplate matching, find filters). */
export function matchesTemplate(attrs: Attributes, tpl: Template): boolean {
  for (const [name, want] of Object.entries(tpl)) {
    if ((MATERIAL_FIELDS as readonly string[]).includes(name)) return false;
    const have = (attrs as unknown as Record<string, unknown>)[name];
    if (!sameValue(have, want)) return false;
  }
  return true;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => sameValue(a[k], b[k]));
  }
  return a === b;
}

/**
 * Merges a key's bound template (unwrapTemplate, deriveTemplate) into the caller's: the bound
 * values win, and a caller value that contradicts one is refused (attacks.md A-14 step 2/3).
 */
export function mergeBound(caller: Template, bound: Template | undefined): Template {
  if (!bound) return caller;
  for (const [name, value] of Object.entries(bound)) {
    const mine = (caller as Record<string, unknown>)[name];
    if (mine !== undefined && !sameValue(mine, value)) throw new HsmError('TEMPLATE_INCONSISTENT', `${name} contradicts the key's bound template`);
  }
  return { ...caller, ...bound };
}
