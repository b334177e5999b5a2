// The one table from Coffer's boundary error codes to payShield's two-digit host-command error codes
// (docs/hostcmd.md prints it; test/hostcmd checks every row over the socket). Codes follow the
// payShield 10K host command manual where it has a meaning that fits; where it has none, the code
// is Coffer's own and says so. A code missing here answers 15, "error in input data".

import type { ErrorCode } from '../../boundary/api.js';

export const HOST_ERROR = {
  ok: '00',
  verificationFailed: '01',
  /** Key type code not known (A0/BU). */
  keyTypeCode: '04',
  /** The module is sealed, in the error state or tampered: payShield's "LMK error; report to supervisor". */
  moduleState: '13',
  inputData: '15',
  /** The port's account may not do this: payShield's "HSM not authorised". */
  notAuthorised: '17',
  pinBlock: '20',
  pinBlockFormat: '23',
  pinLength: '24',
  /** Command not supported by Coffer, or disabled: payShield's "command disabled". */
  commandDisabled: '68',
  messageLength: '80',
} as const;

/** HsmError code → payShield error code. */
export const HSM_TO_HOST: Partial<Record<ErrorCode, string>> = {
  // A verification that ran and failed (MAC_INVALID: uniform code for every MAC failure, DESIGN §3).
  MAC_INVALID: '01',
  SIGNATURE_INVALID: '01',
  // A PIN block that does not decrypt to a valid block: one code whatever the cause (attacks.md C-05).
  DECRYPT_FAILED: '20',
  // A TR-31 key block that does not authenticate under its KBPK: one code whatever the cause.
  UNWRAP_FAILED: '15',
  // The referenced key does not exist or is not this partition's (attacks.md D-01: one answer for both).
  KEY_HANDLE_INVALID: '12',
  OBJECT_NOT_FOUND: '12',
  KEY_STATE_INVALID: '12',
  // The key's TR-31 usage does not fit the command (attacks.md C-07): payShield's "key function not permitted".
  KEY_FUNCTION_NOT_PERMITTED: '29',
  KEY_TYPE_INCONSISTENT: '27',
  KEY_SIZE_RANGE: '27',
  WRAPPING_KEY_TYPE_INCONSISTENT: '27',
  MECHANISM_PARAM_INVALID: '15',
  ARGUMENTS_BAD: '15',
  DATA_INVALID: '15',
  DATA_LEN_RANGE: '80',
  ATTRIBUTE_VALUE_INVALID: '15',
  TEMPLATE_INCONSISTENT: '15',
  // Per-PAN verification attempt limit reached (attacks.md C-11, C-13): Coffer's own code.
  LIMIT_EXCEEDED: '86',
  USER_TYPE_INVALID: '17',
  ACCESS_DENIED: '17',
  MECHANISM_NOT_APPROVED: '17',
  SESSION_INVALID: '17',
  USER_NOT_LOGGED_IN: '17',
  NOT_INITIALIZED: '13',
  SEALED: '13',
  DEVICE_ERROR: '13',
  TAMPER_DETECTED: '13',
  KEY_UNEXTRACTABLE: '17',
  KEY_NOT_WRAPPABLE: '17',
};

export function hostErrorFor(code: ErrorCode): string {
  return HSM_TO_HOST[code] ?? HOST_ERROR.inputData;
}
