// Splits one REST template into the two halves of a key pair: each usage and protection
// attribute goes to the half that can carry it (PKCS#11 v3.0 §4.8–4.9: CKA_SIGN/DECRYPT/
// UNWRAP/DERIVE/SENSITIVE/EXTRACTABLE are private-key attributes, CKA_VERIFY/ENCRYPT/WRAP/
// TRUSTED public-key ones); everything else (label, id, token, curve, size, dates …) goes to both.
// A template that names usages names them for the whole pair: each half gets its counterparts
// (sign ↔ verify …) and every other usage false, so a derive-only EC pair gets no default verify.

import type { KeyType, Template } from '../../boundary/api.js';

/** Key types made as pairs (generateKeyPair). */
export const PAIR_KEY_TYPES: readonly KeyType[] = ['rsa', 'ec', 'ec-edwards', 'ec-montgomery', 'ml-dsa', 'ml-kem', 'slh-dsa'];

const PRIVATE_ONLY = new Set<string>(['sign', 'decrypt', 'unwrap', 'derive', 'decapsulate', 'sensitive', 'extractable', 'wrapWithTrusted', 'unwrapTemplate', 'deriveTemplate', 'privateKey']);
const PUBLIC_ONLY = new Set<string>(['verify', 'encrypt', 'wrap', 'encapsulate', 'trusted', 'wrapTemplate', 'publicKey']);

/** Usage of one half ↔ its counterpart on the other (PKCS#11 pairs: CKA_SIGN ↔ CKA_VERIFY …). */
const PRIVATE_USAGE_MIRROR: Record<string, string | undefined> = { sign: 'verify', decrypt: 'encrypt', unwrap: 'wrap', decapsulate: 'encapsulate', derive: undefined };
const PUBLIC_USAGE_MIRROR: Record<string, string> = { verify: 'sign', encrypt: 'decrypt', wrap: 'unwrap', encapsulate: 'decapsulate' };

export function isPairKeyType(keyType: KeyType | undefined): boolean {
  return keyType !== undefined && PAIR_KEY_TYPES.includes(keyType);
}

export function splitPairTemplate(template: Template): { publicTemplate: Template; privateTemplate: Template } {
  const pub: Record<string, unknown> = {};
  const priv: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(template)) {
    // The class differs per half by definition; the boundary fills it in.
    if (name === 'class') continue;
    if (!PUBLIC_ONLY.has(name)) priv[name] = value;
    if (!PRIVATE_ONLY.has(name)) pub[name] = value;
  }
  const named = template as Record<string, unknown>;
  const usages = [...Object.keys(PRIVATE_USAGE_MIRROR), ...Object.keys(PUBLIC_USAGE_MIRROR)];
  if (usages.some((u) => named[u] !== undefined)) {
    for (const [u, m] of Object.entries(PRIVATE_USAGE_MIRROR)) priv[u] = named[u] ?? (m !== undefined && named[m] === true);
    for (const [u, m] of Object.entries(PUBLIC_USAGE_MIRROR)) pub[u] = named[u] ?? named[m] === true;
  }
  return { publicTemplate: pub as Template, privateTemplate: priv as Template };
}
