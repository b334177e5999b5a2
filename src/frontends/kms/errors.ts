// AWS KMS error shapes: body { "__type": "<Exception>", "message": "..." } with AWS's status codes.
// One table maps every boundary code to an exception name; the front end's own protocol errors
// (signature, validation) are KmsError. Anything unexpected is KMSInternalException with no detail.

import { type ErrorCode, HsmError } from '../../boundary/api.js';

export type KmsException =
  | 'NotFoundException'
  | 'DisabledException'
  | 'KMSInvalidStateException'
  | 'InvalidCiphertextException'
  | 'IncorrectKeyException'
  | 'AccessDeniedException'
  | 'ValidationException'
  | 'LimitExceededException'
  | 'ThrottlingException'
  | 'AlreadyExistsException'
  | 'InvalidKeyUsageException'
  | 'KMSInvalidSignatureException'
  | 'KMSInvalidMacException'
  | 'UnsupportedOperationException'
  | 'InvalidSignatureException'
  | 'UnrecognizedClientException'
  | 'MissingAuthenticationTokenException'
  | 'UnknownOperationException'
  | 'SerializationException'
  | 'KMSInternalException'
  | 'DependencyTimeoutException';

/** AWS answers every KMS exception with 400 except its internal and dependency errors (KMS API reference, "Common Errors"). */
const STATUS: Partial<Record<KmsException, number>> = { KMSInternalException: 500, DependencyTimeoutException: 503, AccessDeniedException: 400, MissingAuthenticationTokenException: 403, UnrecognizedClientException: 400 };

export class KmsError extends Error {
  override readonly name = 'KmsError';
  constructor(
    readonly type: KmsException,
    message: string,
  ) {
    super(message);
  }
}

/** The one mapping from boundary codes to AWS exception names. */
const FROM_HSM: Record<ErrorCode, KmsException> = {
  NOT_INITIALIZED: 'DependencyTimeoutException',
  SEALED: 'DependencyTimeoutException',
  DEVICE_ERROR: 'KMSInternalException',
  TAMPER_DETECTED: 'KMSInternalException',
  ALREADY_INITIALIZED: 'KMSInvalidStateException',
  SHARE_INVALID: 'ValidationException',
  BACKUP_INVALID: 'ValidationException',
  QUORUM_REQUIRED: 'AccessDeniedException',
  REQUEST_NOT_FOUND: 'NotFoundException',
  REQUEST_EXPIRED: 'KMSInvalidStateException',
  REQUEST_CLOSED: 'KMSInvalidStateException',
  ALREADY_APPROVED: 'KMSInvalidStateException',
  APPROVAL_DIGEST_MISMATCH: 'ValidationException',
  SELF_APPROVAL: 'AccessDeniedException',
  ARGUMENTS_BAD: 'ValidationException',
  DATA_LEN_RANGE: 'ValidationException',
  DATA_INVALID: 'ValidationException',
  BUFFER_TOO_SMALL: 'ValidationException',
  SESSION_INVALID: 'UnrecognizedClientException',
  USER_NOT_LOGGED_IN: 'UnrecognizedClientException',
  PIN_INCORRECT: 'UnrecognizedClientException',
  PIN_LOCKED: 'AccessDeniedException',
  PIN_LEN_RANGE: 'ValidationException',
  USER_TYPE_INVALID: 'AccessDeniedException',
  ACCESS_DENIED: 'AccessDeniedException',
  OBJECT_NOT_FOUND: 'NotFoundException',
  KEY_HANDLE_INVALID: 'NotFoundException',
  PARTITION_NOT_FOUND: 'NotFoundException',
  USER_NOT_FOUND: 'NotFoundException',
  ALREADY_EXISTS: 'AlreadyExistsException',
  ACTION_PROHIBITED: 'AccessDeniedException',
  KEY_STATE_INVALID: 'KMSInvalidStateException',
  ATTRIBUTE_READ_ONLY: 'ValidationException',
  ATTRIBUTE_SENSITIVE: 'AccessDeniedException',
  ATTRIBUTE_TYPE_INVALID: 'ValidationException',
  ATTRIBUTE_VALUE_INVALID: 'ValidationException',
  TEMPLATE_INCOMPLETE: 'ValidationException',
  TEMPLATE_INCONSISTENT: 'ValidationException',
  TEMPLATE_INVALID: 'ValidationException',
  MECHANISM_INVALID: 'InvalidKeyUsageException',
  MECHANISM_PARAM_INVALID: 'ValidationException',
  KEY_TYPE_INCONSISTENT: 'InvalidKeyUsageException',
  KEY_SIZE_RANGE: 'ValidationException',
  KEY_FUNCTION_NOT_PERMITTED: 'InvalidKeyUsageException',
  KEY_NOT_WRAPPABLE: 'InvalidKeyUsageException',
  KEY_UNEXTRACTABLE: 'InvalidKeyUsageException',
  WRAPPING_KEY_TYPE_INCONSISTENT: 'InvalidKeyUsageException',
  DOMAIN_PARAMS_INVALID: 'ValidationException',
  MECHANISM_NOT_APPROVED: 'UnsupportedOperationException',
  DECRYPT_FAILED: 'InvalidCiphertextException',
  SIGNATURE_INVALID: 'KMSInvalidSignatureException',
  MAC_INVALID: 'KMSInvalidMacException',
  UNWRAP_FAILED: 'InvalidCiphertextException',
  DECAPSULATE_FAILED: 'InvalidCiphertextException',
  LIMIT_EXCEEDED: 'LimitExceededException',
  UNAUTHENTICATED: 'InvalidSignatureException',
  REQUEST_TOO_LARGE: 'ValidationException',
  UNSUPPORTED_MEDIA_TYPE: 'SerializationException',
  NOT_FOUND: 'UnknownOperationException',
};

export function toKmsError(err: unknown): { status: number; body: { __type: KmsException; message: string }; internal: boolean } {
  let type: KmsException;
  let message: string;
  let internal = false;
  if (err instanceof KmsError) {
    type = err.type;
    message = err.message;
  } else if (err instanceof HsmError) {
    type = FROM_HSM[err.code];
    // A disabled key is DisabledException in AWS; pending deletion stays KMSInvalidStateException.
    if (err.code === 'KEY_STATE_INVALID' && /disabled/.test(err.message)) type = 'DisabledException';
    message = err.message;
  } else if ((err as { code?: string })?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    type = 'ValidationException';
    message = 'the request is larger than the configured limit';
  } else {
    type = 'KMSInternalException';
    message = 'internal error';
    internal = true;
  }
  return { status: STATUS[type] ?? 400, body: { __type: type, message }, internal };
}
