// The KMS ciphertext blob for symmetric keys: it names the key and key version, so Decrypt works
// without a KeyId (attacks.md D-05), and the AAD binds the key uid and the canonical encryption
// context, so a blob decrypts only under its key with the same context (D-02).
// Layout: 0x01 | uid length (1) | uid (ASCII) | key version (uint32 BE) | iv length (1) | iv | AES-GCM ciphertext‖tag.

import { KmsError } from './errors.js';

const VERSION = 1;

export interface Blob {
  uid: string;
  keyVersion: number;
  iv: Uint8Array;
  ciphertext: Uint8Array;
}

export function encodeBlob(b: Blob): Uint8Array {
  const uid = Buffer.from(b.uid, 'ascii');
  const head = Buffer.alloc(2 + uid.length + 5);
  head[0] = VERSION;
  head[1] = uid.length;
  uid.copy(head, 2);
  head.writeUInt32BE(b.keyVersion, 2 + uid.length);
  head[6 + uid.length] = b.iv.length;
  return new Uint8Array(Buffer.concat([head, b.iv, b.ciphertext]));
}

/** Any malformed blob is InvalidCiphertextException, as AWS answers it. */
export function decodeBlob(raw: Uint8Array): Blob {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const bad = (): never => {
    throw new KmsError('InvalidCiphertextException', 'the ciphertext is not a Coffer KMS ciphertext blob');
  };
  if (buf.length < 2 || buf[0] !== VERSION) bad();
  const n = buf[1]!;
  if (n < 1 || n > 64 || buf.length < 2 + n + 5) bad();
  const uid = buf.subarray(2, 2 + n).toString('ascii');
  if (!/^[0-9a-f]+$/.test(uid)) bad();
  const keyVersion = buf.readUInt32BE(2 + n);
  const ivLen = buf[6 + n]!;
  const start = 7 + n + ivLen;
  if (ivLen < 12 || ivLen > 16 || buf.length < start + 16) bad();
  return { uid, keyVersion, iv: new Uint8Array(buf.subarray(7 + n, 7 + n + ivLen)), ciphertext: new Uint8Array(buf.subarray(start)) };
}

/** AAD: a domain label, the key uid and the encryption context as sorted [key, value] pairs in JSON (UTF-8). */
export function blobAad(uid: string, context: Record<string, string> | undefined): Uint8Array {
  const pairs = Object.keys(context ?? {})
    .sort()
    .map((k) => [k, context![k]]);
  return new Uint8Array(Buffer.from(`coffer-kms-v1\n${uid}\n${JSON.stringify(pairs)}`, 'utf8'));
}
