// The handler table: call name → handler. A call in the call table without a row here is
// answered CKR_FUNCTION_NOT_SUPPORTED (message-based encrypt/decrypt, operation state,
// dual-function updates, sign/verify-recover).

import type { Dialect } from './codec.js';
import { CRYPTO_CALLS } from './crypto-calls.js';
import { GENERAL_CALLS, type Handler } from './general-calls.js';
import { objectCalls } from './object-calls.js';
import { V3_CALLS } from './v3-calls.js';

export function handlerTable(dialect: () => Dialect): ReadonlyMap<string, Handler> {
  return new Map(Object.entries({ ...GENERAL_CALLS, ...objectCalls(dialect), ...CRYPTO_CALLS, ...V3_CALLS }));
}
