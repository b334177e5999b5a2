// Field conventions shared by the PIN commands: payShield PIN block format codes, the 12-digit
// account number field, and the PIN length fields. Each maps a wire value to what the boundary
// API takes, or throws HostError with the code payShield answers.

import { HostError } from './host-error.js';

/** payShield PIN block format codes → ISO 9564-1 formats the boundary takes (format 4, code 48, has a 32H block: REST only). */
export const PIN_FORMATS: Readonly<Record<string, string>> = { '01': 'ISO0', '05': 'ISO1', '47': 'ISO3' };

export function pinFormat(code: string): string {
  const f = PIN_FORMATS[code];
  if (!f) throw new HostError('23', `PIN block format ${code}`);
  return f;
}

/**
 * The account number field is the 12 right-most PAN digits excluding the check digit. The boundary
 * takes a whole PAN and uses exactly those 12 digits (ISO 9564-1 format 0/3 PAN field; IBM 3624
 * validation data; the 11 PVV digits), so a placeholder check digit stands in for the one not sent.
 */
export function panFromAccount(account12: string): string {
  return `${account12}0`;
}

/** A 2N PIN length field (maximum PIN length, check length): 04-12, else error 24. */
export function pinLength(v: string): number {
  const n = Number(v);
  if (!(n >= 4 && n <= 12)) throw new HostError('24', 'PIN length field');
  return n;
}
