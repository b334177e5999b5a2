// Worked example (docs/kms.md, "Envelope encryption of SQLite rows"): an `orders` table whose rows
// are encrypted locally with AES-256-GCM under a per-row data key from KMS GenerateDataKey; the
// wrapped data key is stored beside the row and the clear one is zeroed after use. Only the AWS
// SDK and node:crypto: the same code runs against AWS KMS or Coffer (the endpoint differs).

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptCommand, GenerateDataKeyCommand, type KMSClient, ReEncryptCommand } from '@aws-sdk/client-kms';
import type { Database } from 'better-sqlite3';

interface Row {
  id: number;
  wrapped_key: Buffer;
  iv: Buffer;
  body: Buffer;
  tag: Buffer;
}

export class EncryptedOrders {
  constructor(
    private readonly kms: KMSClient,
    private readonly db: Database,
    /** The KMS key (alias, id or ARN) that wraps new data keys. */
    private readonly keyId: string,
  ) {
    db.exec('CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, wrapped_key BLOB NOT NULL, iv BLOB NOT NULL, body BLOB NOT NULL, tag BLOB NOT NULL)');
  }

  /** Encrypts `text` under a fresh data key and stores it as row `id`. */
  async put(id: number, text: string): Promise<void> {
    const dk = await this.kms.send(new GenerateDataKeyCommand({ KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext: context(id) }));
    const key = dk.Plaintext!;
    try {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(aad(id)); // the body is bound to its row: copied to another id, it fails to decrypt
      const body = Buffer.concat([c.update(text, 'utf8'), c.final()]);
      this.db.prepare('INSERT INTO orders (id, wrapped_key, iv, body, tag) VALUES (?, ?, ?, ?, ?)').run(id, Buffer.from(dk.CiphertextBlob!), iv, body, c.getAuthTag());
    } finally {
      key.fill(0); // the clear data key lives only for this row
    }
  }

  /** Unwraps row `id`'s data key with KMS Decrypt (the blob names its key: no KeyId) and decrypts the row. */
  async get(id: number): Promise<string> {
    const row = this.db.prepare('SELECT * FROM orders WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new Error(`no order ${id}`);
    const { Plaintext: key } = await this.kms.send(new DecryptCommand({ CiphertextBlob: row.wrapped_key, EncryptionContext: context(id) }));
    try {
      const d = createDecipheriv('aes-256-gcm', key!, row.iv);
      d.setAAD(aad(id));
      d.setAuthTag(row.tag);
      return Buffer.concat([d.update(row.body), d.final()]).toString('utf8');
    } finally {
      key!.fill(0);
    }
  }

  /**
   * Re-wraps row `id`'s data key under the KMS key's current version with ReEncrypt: the data key
   * never leaves KMS in clear and only the `wrapped_key` column changes (the row body is untouched).
   */
  async rewrap(id: number): Promise<void> {
    const re = await this.kms.send(
      new ReEncryptCommand({ CiphertextBlob: this.wrappedKey(id), SourceEncryptionContext: context(id), DestinationKeyId: this.keyId, DestinationEncryptionContext: context(id) }),
    );
    this.db.prepare('UPDATE orders SET wrapped_key = ? WHERE id = ?').run(Buffer.from(re.CiphertextBlob!), id);
  }

  /** The stored wrapped data key of row `id` (for inspection; it is useless without KMS). */
  wrappedKey(id: number): Buffer {
    const row = this.db.prepare('SELECT wrapped_key FROM orders WHERE id = ?').get(id) as Pick<Row, 'wrapped_key'> | undefined;
    if (!row) throw new Error(`no order ${id}`);
    return row.wrapped_key;
  }
}

/** KMS encryption context of a row's data key: a wrapped key moved to another row will not unwrap. */
function context(id: number): Record<string, string> {
  return { table: 'orders', id: String(id) };
}

/** Local AES-GCM associated data: the row id. */
function aad(id: number): Buffer {
  return Buffer.from(`orders:${id}`, 'utf8');
}

/**
 * Coffer-specific, for display only: the key version a Coffer ciphertext blob was made under
 * (blob layout in docs/kms.md: 0x01 | uid length | uid | version (u32 BE) | …).
 */
export function cofferBlobVersion(blob: Uint8Array): number {
  const b = Buffer.from(blob);
  if (b[0] !== 0x01) throw new Error('not a Coffer ciphertext blob');
  return b.readUInt32BE(2 + b[1]!);
}
