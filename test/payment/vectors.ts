// Loads ../shared/vectors/payment/payment-vectors.json (or $COFFER_VECTORS/payment/…); missing
// vectors fail under CI and skip loudly elsewhere, as loadWycheproof does.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { vectorsDir } from '../support/hsm.js';

export interface PaymentVector {
  source: string;
  note?: string;
  inputs: Record<string, string | number | string[]>;
  expected: Record<string, string | number | boolean>;
  verifier_computed?: Record<string, string>;
}

export type PaymentVectors = Record<string, PaymentVector[]>;

export function loadPaymentVectors(skip?: (why: string) => void): PaymentVectors | undefined {
  const path = join(vectorsDir(), 'payment', 'payment-vectors.json');
  if (!existsSync(path)) {
    const why = `payment vectors missing: ${path} (set COFFER_VECTORS)`;
    if (process.env.CI === 'true' || !skip) throw new Error(why);
    console.warn(`SKIPPED: ${why}`);
    skip(why);
    return undefined;
  }
  return JSON.parse(readFileSync(path, 'utf8')) as PaymentVectors;
}

export const s = (v: unknown): string => {
  if (typeof v !== 'string') throw new TypeError('vector field is not a string');
  return v;
};
