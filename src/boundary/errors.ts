// The one error type that crosses the boundary, with a closed catalogue of codes.
// Each code carries its PKCS#11 return value (PKCS#11 v3.0 §5.1 / pkcs11t.h) and its HTTP
// status, so every front end maps the same misuse to the same answer. Bugs in Coffer's own
// code throw TypeError/RangeError, never HsmError. Messages never contain secrets.

export const ERROR_CATALOGUE = {
  // Module state
  NOT_INITIALIZED: { ckr: 0x190, http: 503, message: 'the module is not initialised' }, // CKR_CRYPTOKI_NOT_INITIALIZED
  SEALED: { ckr: 0x30, http: 503, message: 'the module is sealed' }, // CKR_DEVICE_ERROR
  DEVICE_ERROR: { ckr: 0x30, http: 500, message: 'the module is in the error state' }, // CKR_DEVICE_ERROR
  TAMPER_DETECTED: { ckr: 0x30, http: 500, message: 'tamper detected: the store failed its integrity check' },
  ALREADY_INITIALIZED: { ckr: 0x191, http: 409, message: 'the module is already initialised' },
  // Shamir ceremony: a share that is not one of the module's current N, or M shares that do not rebuild the master key. CKR_ARGUMENTS_BAD.
  SHARE_INVALID: { ckr: 0x7, http: 400, message: 'not a valid share of this module' },
  // Backup restore: the file is not a Coffer backup, is truncated or corrupted, or does not open under the key given (docs/backup.md). CKR_DATA_INVALID.
  BACKUP_INVALID: { ckr: 0x20, http: 400, message: 'the backup is invalid, corrupted or truncated' },
  // Quorum approvals (module/quorum.ts; attacks.md D-14). The operation did not run: a request was
  // opened (its id and digest are in the error body) and waits for M approvers. CKR_FUNCTION_REJECTED.
  QUORUM_REQUIRED: { ckr: 0x200, http: 403, message: 'quorum approval required' },
  REQUEST_NOT_FOUND: { ckr: 0x7, http: 404, message: 'no such quorum request' }, // CKR_ARGUMENTS_BAD
  REQUEST_EXPIRED: { ckr: 0x7, http: 410, message: 'the quorum request has expired' }, // CKR_ARGUMENTS_BAD; 410 Gone: make a new request
  REQUEST_CLOSED: { ckr: 0x7, http: 409, message: 'the quorum request is closed (executed, rejected or failed)' }, // CKR_ARGUMENTS_BAD
  ALREADY_APPROVED: { ckr: 0x7, http: 409, message: 'this account has already approved the request' }, // CKR_ARGUMENTS_BAD
  APPROVAL_DIGEST_MISMATCH: { ckr: 0x7, http: 409, message: 'the digest approved is not the request\'s digest' }, // CKR_ARGUMENTS_BAD: re-read the request
  SELF_APPROVAL: { ckr: 0x101, http: 403, message: 'the requester\'s own approval does not count' }, // CKR_USER_NOT_LOGGED_IN-like: another person must approve
  // Arguments
  ARGUMENTS_BAD: { ckr: 0x7, http: 400, message: 'bad arguments' }, // CKR_ARGUMENTS_BAD
  DATA_LEN_RANGE: { ckr: 0x21, http: 400, message: 'data length out of range' }, // CKR_DATA_LEN_RANGE
  DATA_INVALID: { ckr: 0x20, http: 400, message: 'data invalid' }, // CKR_DATA_INVALID
  BUFFER_TOO_SMALL: { ckr: 0x150, http: 400, message: 'buffer too small' }, // CKR_BUFFER_TOO_SMALL
  // Sessions and authentication
  SESSION_INVALID: { ckr: 0xb3, http: 401, message: 'no such session, or it has ended' }, // CKR_SESSION_HANDLE_INVALID
  USER_NOT_LOGGED_IN: { ckr: 0x101, http: 401, message: 'login required' }, // CKR_USER_NOT_LOGGED_IN
  PIN_INCORRECT: { ckr: 0xa0, http: 401, message: 'wrong name or password' }, // CKR_PIN_INCORRECT
  PIN_LOCKED: { ckr: 0xa4, http: 423, message: 'the account is locked after too many failed logins' }, // CKR_PIN_LOCKED
  PIN_LEN_RANGE: { ckr: 0xa2, http: 400, message: 'password length out of range' }, // CKR_PIN_LEN_RANGE
  USER_TYPE_INVALID: { ckr: 0x103, http: 403, message: 'this role may not do that' }, // CKR_USER_TYPE_INVALID
  ACCESS_DENIED: { ckr: 0x101, http: 403, message: 'not permitted for this account' },
  // Objects
  OBJECT_NOT_FOUND: { ckr: 0x82, http: 404, message: 'no such object' }, // CKR_OBJECT_HANDLE_INVALID
  KEY_HANDLE_INVALID: { ckr: 0x60, http: 404, message: 'no such key' }, // CKR_KEY_HANDLE_INVALID
  PARTITION_NOT_FOUND: { ckr: 0x3, http: 404, message: 'no such partition' }, // CKR_SLOT_ID_INVALID
  USER_NOT_FOUND: { ckr: 0x7, http: 404, message: 'no such account' },
  ALREADY_EXISTS: { ckr: 0x7, http: 409, message: 'an object with that name already exists' },
  ACTION_PROHIBITED: { ckr: 0x1b, http: 403, message: 'the object forbids that action' }, // CKR_ACTION_PROHIBITED
  KEY_STATE_INVALID: { ckr: 0x68, http: 409, message: 'the key is not enabled' }, // CKR_KEY_FUNCTION_NOT_PERMITTED
  // Attributes and templates
  ATTRIBUTE_READ_ONLY: { ckr: 0x10, http: 400, message: 'attribute is read-only' }, // CKR_ATTRIBUTE_READ_ONLY
  ATTRIBUTE_SENSITIVE: { ckr: 0x11, http: 403, message: 'attribute is sensitive' }, // CKR_ATTRIBUTE_SENSITIVE
  ATTRIBUTE_TYPE_INVALID: { ckr: 0x12, http: 400, message: 'unknown attribute' }, // CKR_ATTRIBUTE_TYPE_INVALID
  ATTRIBUTE_VALUE_INVALID: { ckr: 0x13, http: 400, message: 'attribute value invalid' }, // CKR_ATTRIBUTE_VALUE_INVALID
  TEMPLATE_INCOMPLETE: { ckr: 0xd0, http: 400, message: 'template incomplete' }, // CKR_TEMPLATE_INCOMPLETE
  TEMPLATE_INCONSISTENT: { ckr: 0xd1, http: 400, message: 'template inconsistent' }, // CKR_TEMPLATE_INCONSISTENT
  TEMPLATE_INVALID: { ckr: 0xd1, http: 400, message: 'template invalid (duplicate attribute)' }, // no CKR_TEMPLATE_INVALID exists; closest is CKR_TEMPLATE_INCONSISTENT
  // Keys and mechanisms
  MECHANISM_INVALID: { ckr: 0x70, http: 400, message: 'mechanism not supported for this operation' }, // CKR_MECHANISM_INVALID
  MECHANISM_PARAM_INVALID: { ckr: 0x71, http: 400, message: 'mechanism parameters invalid' }, // CKR_MECHANISM_PARAM_INVALID
  KEY_TYPE_INCONSISTENT: { ckr: 0x63, http: 400, message: 'key type does not fit the mechanism' }, // CKR_KEY_TYPE_INCONSISTENT
  KEY_SIZE_RANGE: { ckr: 0x62, http: 400, message: 'key size out of range' }, // CKR_KEY_SIZE_RANGE
  KEY_FUNCTION_NOT_PERMITTED: { ckr: 0x68, http: 403, message: 'the key may not be used for that' }, // CKR_KEY_FUNCTION_NOT_PERMITTED
  KEY_NOT_WRAPPABLE: { ckr: 0x69, http: 403, message: 'the key may not be wrapped' }, // CKR_KEY_NOT_WRAPPABLE
  KEY_UNEXTRACTABLE: { ckr: 0x6a, http: 403, message: 'the key is not extractable' }, // CKR_KEY_UNEXTRACTABLE
  WRAPPING_KEY_TYPE_INCONSISTENT: { ckr: 0x115, http: 400, message: 'wrapping key does not fit (type, size or strength)' }, // CKR_WRAPPING_KEY_TYPE_INCONSISTENT
  DOMAIN_PARAMS_INVALID: { ckr: 0x130, http: 400, message: 'domain parameters or public point invalid' }, // CKR_DOMAIN_PARAMS_INVALID
  MECHANISM_NOT_APPROVED: { ckr: 0x70, http: 403, message: 'mechanism not approved in this partition' },
  // Uniform failure codes: one per operation whatever the cause (DESIGN §3); the cause goes to audit only.
  DECRYPT_FAILED: { ckr: 0x40, http: 400, message: 'decryption failed' }, // CKR_ENCRYPTED_DATA_INVALID
  SIGNATURE_INVALID: { ckr: 0xc0, http: 400, message: 'signature invalid' }, // CKR_SIGNATURE_INVALID
  MAC_INVALID: { ckr: 0xc0, http: 400, message: 'MAC invalid' }, // CKR_SIGNATURE_INVALID
  UNWRAP_FAILED: { ckr: 0x110, http: 400, message: 'unwrap failed' }, // CKR_WRAPPED_KEY_INVALID
  DECAPSULATE_FAILED: { ckr: 0x40, http: 400, message: 'decapsulation failed' },
  // Limits
  LIMIT_EXCEEDED: { ckr: 0x31, http: 429, message: 'a configured limit was exceeded' }, // CKR_DEVICE_MEMORY
  // Front-end protocol errors (same catalogue, so every front end maps them the same way)
  UNAUTHENTICATED: { ckr: 0x101, http: 401, message: 'a valid bearer token is required' }, // CKR_USER_NOT_LOGGED_IN
  REQUEST_TOO_LARGE: { ckr: 0x21, http: 413, message: 'the request is larger than the configured limit' }, // CKR_DATA_LEN_RANGE
  UNSUPPORTED_MEDIA_TYPE: { ckr: 0x7, http: 415, message: 'send application/json' },
  NOT_FOUND: { ckr: 0x7, http: 404, message: 'no such route' },
} as const satisfies Record<string, { ckr: number; http: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class HsmError extends Error {
  override readonly name = 'HsmError';
  readonly code: ErrorCode;
  /** Detail safe to show the caller (never a secret, never an oracle for a failed decrypt/verify). */
  readonly detail: string | undefined;

  constructor(code: ErrorCode, detail?: string) {
    const entry = ERROR_CATALOGUE[code];
    super(detail ? `${entry.message}: ${detail}` : entry.message);
    this.code = code;
    this.detail = detail;
  }

  get ckr(): number {
    return ERROR_CATALOGUE[this.code].ckr;
  }

  get httpStatus(): number {
    return ERROR_CATALOGUE[this.code].http;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isHsmError(e: unknown, code?: ErrorCode): e is HsmError {
  return e instanceof HsmError && (code === undefined || e.code === code);
}
