// The key checks PKCS#11 makes at C_*Init (v3.0 §5.10–5.13 list CKR_KEY_FUNCTION_NOT_PERMITTED
// and CKR_KEY_TYPE_INCONSISTENT among the Init calls' codes): a cheap pre-check on the key's
// attributes, in the boundary's order (usage, allowed mechanisms, key type). It can only refuse
// earlier; the boundary checks again at the operation and stays the authority.

import { HsmError, mechanismInfo, type ObjectInfo } from '../../boundary/api.js';
import { type Application, CkrError } from './application.js';
import { CKR } from './constants.js';

/** Operations started by a C_*Init that names a key; the usage attribute each needs has the same name (mechanisms/types.ts DEFAULT_USAGE). */
export type KeyedKind = 'encrypt' | 'decrypt' | 'sign' | 'verify';

/** The key's attributes, once they show it may do `kind` with `mechanism`; a CkrError otherwise. */
export async function keyForInit(app: Application, bs: string, uid: string, kind: KeyedKind, mechanism: string): Promise<ObjectInfo> {
  let info: ObjectInfo;
  try {
    info = await app.hsm.getAttributes(bs, uid);
  } catch (e) {
    // Gone since the handle was given out (another application destroyed it): an invalid hKey.
    if (e instanceof HsmError && e.code === 'OBJECT_NOT_FOUND') throw new CkrError(CKR.KEY_HANDLE_INVALID);
    throw e;
  }
  if (info[kind] !== true) throw new CkrError(CKR.KEY_FUNCTION_NOT_PERMITTED);
  if (info.allowedMechanisms && !info.allowedMechanisms.includes(mechanism.toUpperCase())) throw new CkrError(CKR.MECHANISM_INVALID);
  const m = mechanismInfo(mechanism);
  if (m && (!info.keyType || !m.keyTypes.includes(info.keyType))) throw new CkrError(CKR.KEY_TYPE_INCONSISTENT);
  return info;
}
