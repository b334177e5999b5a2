// The p11-kit RPC call table as data (reference/p11-kit-rpc.md §6): one row per call id with
// its request and response signature strings. The codec decodes requests and encodes replies
// from these strings alone; a handler never writes bytes itself (STYLE §8).

export interface CallRow {
  readonly id: number;
  readonly name: string;
  readonly request: string;
  readonly response: string;
}

const ROWS: readonly (readonly [number, string, string, string])[] = [
  [1, 'C_Initialize', 'ayyay', ''],
  [2, 'C_Finalize', '', ''],
  [3, 'C_GetInfo', '', 'vsusv'],
  [4, 'C_GetSlotList', 'yfu', 'au'],
  [5, 'C_GetSlotInfo', 'u', 'ssuvv'],
  [6, 'C_GetTokenInfo', 'u', 'ssssuuuuuuuuuuuvvs'],
  [7, 'C_GetMechanismList', 'ufu', 'au'],
  [8, 'C_GetMechanismInfo', 'uu', 'uuu'],
  [9, 'C_InitToken', 'uayz', ''],
  [10, 'C_OpenSession', 'uu', 'u'],
  [11, 'C_CloseSession', 'u', ''],
  [12, 'C_CloseAllSessions', 'u', ''],
  [13, 'C_GetSessionInfo', 'u', 'uuuu'],
  [14, 'C_InitPIN', 'uay', ''],
  [15, 'C_SetPIN', 'uayay', ''],
  [16, 'C_GetOperationState', 'ufy', 'ay'],
  [17, 'C_SetOperationState', 'uayuu', ''],
  [18, 'C_Login', 'uuay', ''],
  [19, 'C_Logout', 'u', ''],
  [20, 'C_CreateObject', 'uaA', 'u'],
  [21, 'C_CopyObject', 'uuaA', 'u'],
  [22, 'C_DestroyObject', 'uu', ''],
  [23, 'C_GetObjectSize', 'uu', 'u'],
  [24, 'C_GetAttributeValue', 'uufA', 'aAu'],
  [25, 'C_SetAttributeValue', 'uuaA', ''],
  [26, 'C_FindObjectsInit', 'uaA', ''],
  [27, 'C_FindObjects', 'ufu', 'au'],
  [28, 'C_FindObjectsFinal', 'u', ''],
  [29, 'C_EncryptInit', 'uMu', ''],
  [30, 'C_Encrypt', 'uayfy', 'ay'],
  [31, 'C_EncryptUpdate', 'uayfy', 'ay'],
  [32, 'C_EncryptFinal', 'ufy', 'ay'],
  [33, 'C_DecryptInit', 'uMu', ''],
  [34, 'C_Decrypt', 'uayfy', 'ay'],
  [35, 'C_DecryptUpdate', 'uayfy', 'ay'],
  [36, 'C_DecryptFinal', 'ufy', 'ay'],
  [37, 'C_DigestInit', 'uM', ''],
  [38, 'C_Digest', 'uayfy', 'ay'],
  [39, 'C_DigestUpdate', 'uay', ''],
  [40, 'C_DigestKey', 'uu', ''],
  [41, 'C_DigestFinal', 'ufy', 'ay'],
  [42, 'C_SignInit', 'uMu', ''],
  [43, 'C_Sign', 'uayfy', 'ay'],
  [44, 'C_SignUpdate', 'uay', ''],
  [45, 'C_SignFinal', 'ufy', 'ay'],
  [46, 'C_SignRecoverInit', 'uMu', ''],
  [47, 'C_SignRecover', 'uayfy', 'ay'],
  [48, 'C_VerifyInit', 'uMu', ''],
  [49, 'C_Verify', 'uayay', ''],
  [50, 'C_VerifyUpdate', 'uay', ''],
  [51, 'C_VerifyFinal', 'uay', ''],
  [52, 'C_VerifyRecoverInit', 'uMu', ''],
  [53, 'C_VerifyRecover', 'uayfy', 'ay'],
  [54, 'C_DigestEncryptUpdate', 'uayfy', 'ay'],
  [55, 'C_DecryptDigestUpdate', 'uayfy', 'ay'],
  [56, 'C_SignEncryptUpdate', 'uayfy', 'ay'],
  [57, 'C_DecryptVerifyUpdate', 'uayfy', 'ay'],
  [58, 'C_GenerateKey', 'uMaA', 'u'],
  [59, 'C_GenerateKeyPair', 'uMaAaA', 'uu'],
  [60, 'C_WrapKey', 'uMuufy', 'ay'],
  [61, 'C_UnwrapKey', 'uMuayaA', 'u'],
  [62, 'C_DeriveKey', 'uMuaA', 'u'],
  [63, 'C_SeedRandom', 'uay', ''],
  [64, 'C_GenerateRandom', 'ufy', 'ay'],
  [65, 'C_WaitForSlotEvent', 'u', 'u'],
  // PKCS#11 3.0 calls, sent by p11-kit 0.25+ (§9)
  [66, 'C_LoginUser', 'uuayay', ''],
  [67, 'C_SessionCancel', 'uu', ''],
  [68, 'C_MessageEncryptInit', 'uMu', ''],
  [69, 'C_EncryptMessage', 'uayayayfy', 'ay'],
  [70, 'C_EncryptMessageBegin', 'uayay', ''],
  [71, 'C_EncryptMessageNext', 'uayayfyu', 'ay'],
  [72, 'C_MessageEncryptFinal', 'u', ''],
  [73, 'C_MessageDecryptInit', 'uMu', ''],
  [74, 'C_DecryptMessage', 'uayayayfy', 'ay'],
  [75, 'C_DecryptMessageBegin', 'uayay', ''],
  [76, 'C_DecryptMessageNext', 'uayayfyu', 'ay'],
  [77, 'C_MessageDecryptFinal', 'u', ''],
  [78, 'C_MessageSignInit', 'uMu', ''],
  [79, 'C_SignMessage', 'uayayfy', 'ay'],
  [80, 'C_SignMessageBegin', 'uay', ''],
  [81, 'C_SignMessageNext', 'uayayyfy', 'ay'],
  [82, 'C_MessageSignFinal', 'u', ''],
  [83, 'C_MessageVerifyInit', 'uMu', ''],
  [84, 'C_VerifyMessage', 'uayayay', ''],
  [85, 'C_VerifyMessageBegin', 'uay', ''],
  [86, 'C_VerifyMessageNext', 'uayayay', ''],
  [87, 'C_MessageVerifyFinal', 'u', ''],
  [88, 'C_InitToken2', 'uays', ''],
  [89, 'C_DeriveKey2', 'uMuaA', 'uPu'],
];

/** Call id 0: the error reply, signature `u` carrying the CKR value (§4.2). */
export const ERROR_CALL: CallRow = { id: 0, name: 'ERROR', request: '', response: 'u' };

export const CALLS: ReadonlyMap<number, CallRow> = new Map(ROWS.map(([id, name, request, response]) => [id, { id, name, request, response }]));

export function callByName(name: string): CallRow {
  for (const c of CALLS.values()) if (c.name === name) return c;
  throw new TypeError(`no call ${name}`);
}

/** Splits a signature string into its letters: `ay`, `au`, `aA`, `fy`, `fu`, `fA` are one value each. */
export function signatureParts(sig: string): string[] {
  let parts = partsBySignature.get(sig);
  if (!parts) {
    parts = splitSignature(sig);
    partsBySignature.set(sig, parts);
  }
  return parts;
}

/** Every call's request and response split once; callers only read the arrays. */
const partsBySignature = new Map<string, string[]>();

function splitSignature(sig: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < sig.length; i++) {
    const c = sig[i]!;
    if (c === 'a' || c === 'f') {
      out.push(sig.slice(i, i + 2));
      i++;
    } else out.push(c);
  }
  return out;
}
