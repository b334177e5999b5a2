// KeyId forms the KMS front end accepts: a key uid, `alias/<name>`, and ARNs
// `arn:aws:kms:<region>:<account>:key/<uid>` / `...:alias/<name>` where <account> is the caller's
// partition name. An ARN naming another account resolves to nothing (attacks.md D-01).

import { KmsError } from './errors.js';

const ARN = /^arn:aws:kms:([a-z0-9-]{1,64}):([a-z0-9-]{1,63}):(key\/[0-9a-f]{1,64}|alias\/[A-Za-z0-9/_.-]{1,256})$/;

/** The boundary reference (uid or alias/<name>) for a KeyId, within the caller's partition. */
export function keyRef(keyId: unknown, partition: string): string {
  if (typeof keyId !== 'string' || keyId.length === 0 || keyId.length > 2048) throw new KmsError('ValidationException', 'KeyId is required');
  if (keyId.startsWith('arn:')) {
    const m = ARN.exec(keyId);
    if (!m) throw new KmsError('NotFoundException', 'Invalid arn');
    // Another account's ARN: the same answer as a key that does not exist.
    if (m[2] !== partition) throw new KmsError('NotFoundException', `Key '${keyId.slice(0, 300)}' does not exist`);
    return m[3]!.startsWith('key/') ? m[3]!.slice(4) : m[3]!;
  }
  return keyId;
}

export function keyArn(region: string, partition: string, uid: string): string {
  return `arn:aws:kms:${region}:${partition}:key/${uid}`;
}

export function aliasArn(region: string, partition: string, alias: string): string {
  return `arn:aws:kms:${region}:${partition}:alias/${alias}`;
}

/** AWS alias names: `alias/` then letters, digits and / _ -; `alias/aws/` is reserved. */
export function aliasName(name: unknown): string {
  if (typeof name !== 'string' || !/^alias\/[A-Za-z0-9/_-]{1,250}$/.test(name)) throw new KmsError('ValidationException', 'AliasName must be alias/ followed by letters, digits, / _ and -');
  if (name.startsWith('alias/aws/')) throw new KmsError('NotFoundException', 'alias/aws/ is reserved for AWS managed keys');
  return name.slice(6);
}
