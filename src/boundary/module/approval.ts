// The approved-service indicator (FIPS 140-3 IG 2.4.C; attacks.md E-09): whether one call used
// an approved service, judged per call from the mechanism, the key (type, curve, size) and the
// parameters (IV source, hash), not from the mechanism name alone. A partition with
// fipsApprovedOnly refuses every call this judges not approved.

import type { MechanismDescriptor, MechanismParams, Operation } from '../mechanisms/types.js';
import type { Attributes } from '../types.js';

export interface Approval {
  approved: boolean;
  /** Why not, for the refusal and the audit log (never a secret). */
  reason?: string;
}

/** SP 800-186 §3.2 curves for ECDSA (FIPS 186-5 §6) and ECDH (SP 800-56A Rev 3 App. D); Edwards curves for EdDSA (FIPS 186-5 §7). */
const APPROVED_CURVES: Partial<Record<NonNullable<Attributes['keyType']>, readonly string[]>> = {
  ec: ['P-256', 'P-384', 'P-521'],
  'ec-edwards': ['Ed25519', 'Ed448'],
  // X25519 and X448 are not in SP 800-56A Rev 3: key agreement over them is not an approved service.
  'ec-montgomery': [],
};

/** SP 800-131A Rev 2 §9: SHA-1 is disallowed for generating signatures (legacy verification only). */
const DISALLOWED_SIGNING_HASHES = new Set(['SHA-1', 'SHA1']);

/** SP 800-131A Rev 2 §6 (RSA ≥ 2048 bits; 1024 to 2047 for legacy verification); §10: HMAC keys ≥ 112 bits. */
const RSA_MIN_BITS = 2048;
const RSA_LEGACY_VERIFY_MIN_BITS = 1024;
const MAC_MIN_BYTES = 14;

/** The key facts approval looks at. */
export type ApprovalFacts = Partial<Pick<Attributes, 'keyType' | 'modulusBits' | 'valueLen'>> & { curve?: string };

export function serviceApproval(mech: MechanismDescriptor, attrs: ApprovalFacts | undefined, op: Operation, params: MechanismParams = {}): Approval {
  if (!mech.approved) return { approved: false, reason: `${mech.name} is not an approved mechanism` };
  if (attrs) {
    const curves = attrs.keyType ? APPROVED_CURVES[attrs.keyType] : undefined;
    if (curves && (attrs.curve === undefined || !curves.includes(attrs.curve))) return { approved: false, reason: `curve ${attrs.curve ?? 'unknown'} is not approved for ${mech.name}` };
    if (attrs.keyType === 'rsa' && attrs.modulusBits !== undefined) {
      const min = op === 'verify' ? RSA_LEGACY_VERIFY_MIN_BITS : RSA_MIN_BITS;
      if (attrs.modulusBits < min) return { approved: false, reason: `RSA-${attrs.modulusBits} is below ${min} bits` };
    }
    if (attrs.keyType === 'generic-secret' && (op === 'sign' || op === 'verify') && attrs.valueLen !== undefined && attrs.valueLen < MAC_MIN_BYTES) {
      return { approved: false, reason: `a MAC key of ${attrs.valueLen * 8} bits is below 112` };
    }
  }
  // FIPS 140-3 IG C.H: an approved GCM encryption generates its IV inside the module.
  if (op === 'encrypt' && params.iv !== undefined && /GCM/i.test(mech.name)) return { approved: false, reason: 'GCM with an IV from outside the module' };
  if (op === 'sign' && (DISALLOWED_SIGNING_HASHES.has(params.hash ?? '') || DISALLOWED_SIGNING_HASHES.has(params.mgfHash ?? ''))) {
    return { approved: false, reason: 'SHA-1 is not approved for new signatures' };
  }
  return { approved: true };
}
