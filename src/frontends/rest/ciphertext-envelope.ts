// The self-describing ciphertext of the REST API (STYLE §10, after Vault transit's `vault:v1:`):
// `coffer:v<version>:<mechanism>:<base64 of [ivLen][iv][output]>`. Decrypt reads the key
// version, mechanism and module-chosen IV from it. Parsing is strict and canonical (one string
// per envelope); anything else is a coded ARGUMENTS_BAD, never an exception of another kind.

import { decodeBase64, HsmError } from '../../boundary/api.js';

export const ENVELOPE_PREFIX = 'coffer:';

export interface CiphertextEnvelope {
  /** Key version that made the ciphertext (1, 2, …). */
  version: number;
  /** Canonical mechanism name, e.g. AES-GCM. */
  mechanism: string;
  /** IV or nonce the module chose, when the mechanism has one. */
  iv?: Uint8Array;
  /** The mechanism's output (for GCM: ciphertext ‖ tag). */
  data: Uint8Array;
}

const MECHANISM = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Positive decimal without leading zeros, at most 9 digits (a version count, not a bigint). */
const VERSION = /^[1-9][0-9]{0,8}$/;
const MAX_IV = 255; // one length byte
/** 1 MiB of data plus IV and length byte, as base64. */
const MAX_ENVELOPE = 1_400_100;

function bad(why: string): HsmError {
  return new HsmError('ARGUMENTS_BAD', `ciphertext envelope: ${why}`);
}

export function isEnvelope(text: string): boolean {
  return text.startsWith(ENVELOPE_PREFIX);
}

export function formatEnvelope(e: CiphertextEnvelope): string {
  if (!Number.isSafeInteger(e.version) || !VERSION.test(String(e.version))) throw new RangeError('envelope version out of range');
  if (!MECHANISM.test(e.mechanism)) throw new RangeError('envelope mechanism name not representable');
  const iv = e.iv ?? new Uint8Array(0);
  if (iv.length > MAX_IV) throw new RangeError('envelope IV longer than 255 bytes');
  const packed = Buffer.alloc(1 + iv.length + e.data.length);
  packed[0] = iv.length;
  packed.set(iv, 1);
  packed.set(e.data, 1 + iv.length);
  return `${ENVELOPE_PREFIX}v${e.version}:${e.mechanism}:${packed.toString('base64')}`;
}

export function parseEnvelope(text: unknown): CiphertextEnvelope {
  if (typeof text !== 'string' || !isEnvelope(text)) throw bad('must start with coffer:');
  if (text.length > MAX_ENVELOPE) throw new HsmError('DATA_LEN_RANGE', 'ciphertext envelope too long');
  const parts = text.slice(ENVELOPE_PREFIX.length).split(':');
  if (parts.length !== 3) throw bad('expected coffer:v<version>:<mechanism>:<base64>');
  const [v, mechanism, body] = parts as [string, string, string];
  if (!v.startsWith('v') || !VERSION.test(v.slice(1))) throw bad('bad version');
  if (!MECHANISM.test(mechanism)) throw bad('bad mechanism name');
  let packed: Uint8Array;
  try {
    packed = decodeBase64(body, 'ciphertext', MAX_ENVELOPE);
  } catch {
    throw bad('payload is not base64');
  }
  // Canonical only: base64 with non-zero padding bits would give a second spelling of one envelope.
  if (Buffer.from(packed).toString('base64') !== body) throw bad('payload is not canonical base64');
  if (packed.length < 1) throw bad('empty payload');
  const ivLen = packed[0]!;
  if (packed.length < 1 + ivLen) throw bad('payload shorter than its IV');
  const env: CiphertextEnvelope = { version: Number(v.slice(1)), mechanism, data: packed.slice(1 + ivLen) };
  if (ivLen > 0) env.iv = packed.slice(1, 1 + ivLen);
  return env;
}
