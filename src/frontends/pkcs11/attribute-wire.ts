// Attributes on the wire (reference/p11-kit-rpc.md §3.2): the value class of each attribute
// type decides its encoding, exactly as p11-kit 0.24.1 decides it, so both sides agree on
// every byte. Nested templates are bounded in depth and count (attacks.md A-24).

import { CKA } from './constants.js';
import { ProtocolError, type Reader, type Writer } from './wire.js';

export type ValueClass = 'byte' | 'ulong' | 'attrs' | 'mechs' | 'date' | 'bytes';

export type AttrValue =
  | { kind: 'byte'; v: number }
  | { kind: 'ulong'; v: bigint }
  | { kind: 'bytes'; v: Uint8Array | null }
  | { kind: 'date'; v: Uint8Array | null }
  | { kind: 'mechs'; v: bigint[] }
  | { kind: 'attrs'; v: WireAttribute[] };

/** One CK_ATTRIBUTE. `length` is the C ulValueLen; absent (with no value) means "invalid" (valid byte 0). */
export interface WireAttribute {
  type: number;
  length?: number;
  value?: AttrValue;
}

// p11-kit 0.24.1 rpc-message.c map_attribute_to_value_type (§3.2 table).
const BYTE_TYPES = new Set([0x1, 0x2, 0x86, 0x103, 0x104, 0x105, 0x106, 0x107, 0x108, 0x109, 0x10a, 0x10b, 0x10c, 0x162, 0x163, 0x164, 0x165, 0x170, 0x171, 0x200, 0x202, 0x210, 0x301, 0x302, 0x405]);
const ULONG_TYPES = new Set([0x0, 0x80, 0x87, 0x88, 0x100, 0x121, 0x133, 0x134, 0x160, 0x161, 0x166, 0x201, 0x300, 0x400, 0x401, 0x402, 0x403, 0x404, 0x406, 0x500]);

// p11-kit 0.25.0 added IBM vendor attributes to those classes, 0.25.6 two more ulongs (rpc-message.c at those tags).
const V1_BYTE_TYPES = new Set([0x80010001, 0x80010002, 0x80010003, 0x80010004, 0x80010008, 0x8001000c, 0x8001000d]);
const V1_ULONG_TYPES = new Set([0x800d0001, 0x8001000a, 0x80010005]);
const V2_ULONG_TYPES = new Set([0x800d0101, 0x800d0009]);

export function valueClass(type: number, version: number): ValueClass {
  if (BYTE_TYPES.has(type) || (version >= 1 && V1_BYTE_TYPES.has(type))) return 'byte';
  if (ULONG_TYPES.has(type) || (version >= 1 && V1_ULONG_TYPES.has(type)) || (version >= 2 && V2_ULONG_TYPES.has(type))) return 'ulong';
  if (type === CKA.WRAP_TEMPLATE || type === CKA.UNWRAP_TEMPLATE) return 'attrs';
  if (type === CKA.DERIVE_TEMPLATE && version >= 1) return 'attrs'; // 0.25.0 made it an attribute array (§9)
  if (type === CKA.ALLOWED_MECHANISMS) return 'mechs';
  if (type === CKA.START_DATE || type === CKA.END_DATE) return 'date';
  return 'bytes';
}

/** Nested templates: one level below the top, as the boundary's validator allows (attacks.md A-24). */
const MAX_DEPTH = 2;
/** Smallest encoded attribute: u32 type + valid byte. */
const MIN_ATTRIBUTE = 5;

export function readAttributes(r: Reader, version: number, depth = 0): WireAttribute[] {
  if (depth > MAX_DEPTH) throw new ProtocolError('TOO_DEEP', 'attribute templates nest too deep');
  const n = r.count(MIN_ATTRIBUTE, 'attribute array');
  const out: WireAttribute[] = [];
  for (let i = 0; i < n; i++) {
    const type = r.u32();
    if (r.u8() === 0) {
      out.push({ type });
      continue;
    }
    const length = r.u32();
    out.push({ type, length, value: readValue(r, valueClass(type, version), version, depth) });
  }
  return out;
}

function readValue(r: Reader, cls: ValueClass, version: number, depth: number): AttrValue {
  switch (cls) {
    case 'byte':
      return { kind: 'byte', v: r.u8() };
    case 'ulong':
      return { kind: 'ulong', v: r.u64() };
    case 'attrs':
      return { kind: 'attrs', v: readAttributes(r, version, depth + 1) };
    case 'mechs': {
      const n = r.count(8, 'mechanism array');
      const v: bigint[] = [];
      for (let i = 0; i < n; i++) v.push(r.u64());
      return { kind: 'mechs', v };
    }
    case 'date':
      return { kind: 'date', v: r.byteArray() };
    case 'bytes':
      return { kind: 'bytes', v: r.byteArray() };
  }
}

export function writeAttributes(w: Writer, attrs: readonly WireAttribute[], version: number): void {
  w.u32(attrs.length);
  for (const a of attrs) {
    w.u32(a.type);
    if (a.length === undefined || a.value === undefined) {
      w.u8(0);
      continue;
    }
    w.u8(1).u32(a.length);
    const cls = valueClass(a.type, version);
    const v = a.value;
    if (v.kind !== cls && !(cls === 'bytes' && v.kind === 'date')) throw new TypeError(`attribute 0x${a.type.toString(16)} is ${cls}, not ${v.kind}`);
    switch (v.kind) {
      case 'byte':
        w.u8(v.v);
        break;
      case 'ulong':
        w.u64(v.v);
        break;
      case 'bytes':
      case 'date':
        w.byteArray(v.v);
        break;
      case 'mechs':
        w.u32(v.v.length);
        for (const m of v.v) w.u64(m);
        break;
      case 'attrs':
        writeAttributes(w, v.v, version);
        break;
    }
  }
}

/**
 * `fA` (§3.3): per attribute the type and the caller's buffer size, 0 for a size query. From
 * p11-kit 0.25.4 a template-valued attribute with a buffer is followed by the nested requests
 * for its buffer; they are read as p11-kit's own server reads them (length ≠ 0) and dropped,
 * since Coffer reads no template attribute back.
 */
export function readAttributeRequests(r: Reader, version = 0, depth = 0): { type: number; capacity: number }[] {
  if (depth > MAX_DEPTH) throw new ProtocolError('TOO_DEEP', 'attribute requests nest too deep');
  const n = r.count(8, 'attribute request array');
  const out: { type: number; capacity: number }[] = [];
  for (let i = 0; i < n; i++) {
    const type = r.u32();
    const capacity = r.u32();
    if (version >= 1 && capacity !== 0 && valueClass(type, version) === 'attrs') readAttributeRequests(r, version, depth + 1);
    out.push({ type, capacity });
  }
  return out;
}
