// The backup file (docs/backup.md): a clear header, then the whole module's contents sealed with
// AES-256-GCM (NIST SP 800-38D) under a fresh 256-bit backup key, the header being the associated
// data. Invariants: key material exists in clear only inside the payload buffer, which is a
// SecretBytes zeroed after use; any edit, truncation or extension of the file fails to open.
//
// File:    "COFFERBK" ‖ u32be header length ‖ header (UTF-8 JSON) ‖ ciphertext ‖ 128-bit tag
// Payload: u32be contents length ‖ contents (json-codec) ‖ material bytes, referenced by offset

import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { HsmError } from '../errors.js';
import { SecretBytes } from '../secret.js';
import type { PartitionRecord, StoredObject, UserRecord } from '../types.js';
import { decodeJson, encodeJson } from './json-codec.js';

export const BACKUP_MAGIC = Buffer.from('COFFERBK', 'latin1');
export const BACKUP_FORMAT = 1;
export const BACKUP_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Far above any real header (16 share checks and a wrapped key are about 2 KB): a bound for the parser. */
const MAX_HEADER = 64 * 1024;

export interface BackupCounts {
  partitions: number;
  users: number;
  objects: number;
  /** Sealed key versions (material rows). */
  versions: number;
}

/** The last audit record of the source when the backup was taken (the restore's audit record names it). */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** What anyone holding the file can read: no key material, no names, only counts and how to open it. */
export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  backupId: string;
  createdAt: string;
  counts: BackupCounts;
  chainHead: ChainHead;
  keys: {
    /** The backup key split into Shamir shares (M of N); one check per share recognises it. */
    shares: { count: number; threshold: number; checks: string[] };
    /** The backup key sealed under the source module's master-key subkey (base64): opens only where that master key is. */
    master?: string;
  };
  cipher: 'AES-256-GCM';
  /** base64, 96 bits (SP 800-38D §8.2.2: random, fresh per backup key, which is itself fresh). */
  iv: string;
}

export interface BackupObject {
  object: StoredObject;
  /** Where each sealed version's secret sits in the payload's material section. */
  material: { version: number; offset: number; length: number }[];
}

export interface BackupContents {
  partitions: PartitionRecord[];
  users: UserRecord[];
  objects: BackupObject[];
  chainHead: ChainHead;
  counts: BackupCounts;
  /** The AWS-KMS access-key index (system record, JSON); the sealed secrets it points at are among `objects`. Absent in older backups. */
  kmsAccessKeys?: string;
}

/** Decoded payload: the records, and each object's secrets by version (the caller destroys them). */
export interface OpenedBackup {
  contents: BackupContents;
  material: Map<string, Map<number, SecretBytes>>;
}

function invalid(why: string): HsmError {
  return new HsmError('BACKUP_INVALID', why);
}

/** The check recorded for each backup share. Its own label: a backup share is never taken for a master-key share. */
export function backupShareCheck(share: SecretBytes): string {
  return createHmac('sha256', 'coffer/v1/backup-share-check').update(share.insecureBytes()).digest('hex');
}

/** Associated data of the master-key wrap of one backup's key: it opens for that backup only. */
export function backupKeyAad(backupId: string): string {
  return `coffer/v1/backup-key ${backupId}`;
}

export function newBackupId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Builds the plaintext payload. Secrets are copied straight into the one buffer the result owns;
 * the JSON part holds only their offsets.
 */
export function encodePayload(
  records: Omit<BackupContents, 'objects'>,
  objects: readonly { object: StoredObject; secrets: ReadonlyMap<number, SecretBytes> }[],
): SecretBytes {
  let offset = 0;
  const list: BackupObject[] = [];
  const parts: Buffer[] = [];
  for (const o of objects) {
    const material: BackupObject['material'] = [];
    for (const [version, secret] of o.secrets) {
      material.push({ version, offset, length: secret.length });
      parts.push(secret.insecureBytes());
      offset += secret.length;
    }
    list.push({ object: o.object, material });
  }
  const json = Buffer.from(encodeJson({ ...records, objects: list }), 'utf8');
  const out = Buffer.alloc(4 + json.length + offset);
  out.writeUInt32BE(json.length, 0);
  json.copy(out, 4);
  let at = 4 + json.length;
  for (const p of parts) {
    p.copy(out, at);
    at += p.length;
  }
  return SecretBytes.adopt(out);
}

/** The file: header (associated data) and the payload sealed under `key` (SP 800-38D §7.1). */
export function sealBackup(header: Omit<BackupHeader, 'iv' | 'cipher'>, payload: SecretBytes, key: SecretBytes): Buffer {
  if (key.length !== BACKUP_KEY_BYTES) throw new RangeError('backup key must be 32 bytes');
  const iv = randomBytes(IV_BYTES);
  const full: BackupHeader = { ...header, cipher: 'AES-256-GCM', iv: iv.toString('base64') };
  const head = Buffer.from(JSON.stringify(full), 'utf8');
  const prefix = Buffer.alloc(BACKUP_MAGIC.length + 4);
  BACKUP_MAGIC.copy(prefix, 0);
  prefix.writeUInt32BE(head.length, BACKUP_MAGIC.length);
  const aad = Buffer.concat([prefix, head]);
  const cipher = createCipheriv('aes-256-gcm', key.insecureBytes(), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(payload.insecureBytes()), cipher.final()]);
  return Buffer.concat([aad, ct, cipher.getAuthTag()]);
}

export interface ParsedBackup {
  header: BackupHeader;
  aad: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Reads the clear header without any key; malformed or truncated files are BACKUP_INVALID. */
export function parseBackup(file: unknown): ParsedBackup {
  if (!(file instanceof Uint8Array)) throw new HsmError('ARGUMENTS_BAD', 'backup must be bytes');
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const pre = BACKUP_MAGIC.length + 4;
  if (buf.length < pre || !buf.subarray(0, BACKUP_MAGIC.length).equals(BACKUP_MAGIC)) throw invalid('not a Coffer backup');
  const len = buf.readUInt32BE(BACKUP_MAGIC.length);
  if (len > MAX_HEADER || buf.length < pre + len + TAG_BYTES) throw invalid('truncated');
  let header: BackupHeader;
  try {
    header = JSON.parse(buf.subarray(pre, pre + len).toString('utf8')) as BackupHeader;
  } catch {
    throw invalid('header unreadable');
  }
  checkHeader(header);
  return {
    header,
    aad: buf.subarray(0, pre + len),
    ciphertext: buf.subarray(pre + len, buf.length - TAG_BYTES),
    tag: buf.subarray(buf.length - TAG_BYTES),
  };
}

function isCount(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

function checkHeader(h: BackupHeader): void {
  const ok =
    typeof h === 'object' &&
    h !== null &&
    h.format === BACKUP_FORMAT &&
    h.cipher === 'AES-256-GCM' &&
    typeof h.backupId === 'string' &&
    /^[0-9a-f]{32}$/.test(h.backupId) &&
    typeof h.createdAt === 'string' &&
    typeof h.iv === 'string' &&
    B64.test(h.iv) &&
    Buffer.from(h.iv, 'base64').length === IV_BYTES &&
    typeof h.counts === 'object' &&
    h.counts !== null &&
    isCount(h.counts.partitions) &&
    isCount(h.counts.users) &&
    isCount(h.counts.objects) &&
    isCount(h.counts.versions) &&
    typeof h.chainHead === 'object' &&
    h.chainHead !== null &&
    isCount(h.chainHead.seq) &&
    typeof h.chainHead.hash === 'string' &&
    typeof h.keys === 'object' &&
    h.keys !== null &&
    typeof h.keys.shares === 'object' &&
    h.keys.shares !== null &&
    Array.isArray(h.keys.shares.checks) &&
    h.keys.shares.checks.every((c) => typeof c === 'string' && HEX64.test(c)) &&
    h.keys.shares.checks.length === h.keys.shares.count &&
    Number.isSafeInteger(h.keys.shares.threshold) &&
    h.keys.shares.threshold >= 1 &&
    h.keys.shares.threshold <= h.keys.shares.count &&
    (h.keys.master === undefined || (typeof h.keys.master === 'string' && B64.test(h.keys.master)));
  if (!ok) throw invalid('header malformed');
}

/** Opens the payload; a wrong key and any change to the file are the same failure (the tag, §7.2 step 8). */
export function openPayload(p: ParsedBackup, key: SecretBytes): SecretBytes {
  try {
    const d = createDecipheriv('aes-256-gcm', key.insecureBytes(), Buffer.from(p.header.iv, 'base64'), { authTagLength: TAG_BYTES });
    d.setAAD(p.aad);
    d.setAuthTag(p.tag);
    const head = d.update(p.ciphertext);
    const tail = d.final();
    const out = Buffer.concat([head, tail]);
    head.fill(0);
    tail.fill(0);
    return SecretBytes.adopt(out);
  } catch {
    throw invalid('does not open: corrupted, or not this backup key');
  }
}

/** SHA-256 of the plaintext payload (hex): export compares it before and after the round trip. */
export function payloadDigest(payload: SecretBytes): string {
  return createHash('sha256').update(payload.insecureBytes()).digest('hex');
}

/** Splits the authenticated payload into records and secrets, checking that every reference fits. */
export function decodePayload(payload: SecretBytes): OpenedBackup {
  const buf = payload.insecureBytes();
  if (buf.length < 4) throw invalid('payload truncated');
  const len = buf.readUInt32BE(0);
  if (4 + len > buf.length) throw invalid('payload truncated');
  let contents: BackupContents;
  try {
    contents = decodeJson<BackupContents>(buf.subarray(4, 4 + len).toString('utf8'));
  } catch {
    throw invalid('payload unreadable');
  }
  if (
    typeof contents !== 'object' ||
    contents === null ||
    !Array.isArray(contents.partitions) ||
    !Array.isArray(contents.users) ||
    !Array.isArray(contents.objects)
  ) {
    throw invalid('payload malformed');
  }
  const base = 4 + len;
  const material = new Map<string, Map<number, SecretBytes>>();
  try {
    for (const o of contents.objects) {
      if (typeof o !== 'object' || o === null || typeof o.object?.uid !== 'string' || !Array.isArray(o.material)) throw invalid('object malformed');
      const byVersion = new Map<number, SecretBytes>();
      material.set(o.object.uid, byVersion);
      for (const m of o.material) {
        if (!isCount(m?.version) || !isCount(m.offset) || !isCount(m.length) || base + m.offset + m.length > buf.length) throw invalid('material reference out of range');
        byVersion.set(m.version, SecretBytes.from(buf.subarray(base + m.offset, base + m.offset + m.length)));
      }
    }
  } catch (e) {
    destroyMaterial(material);
    throw e;
  }
  return { contents, material };
}

export function destroyMaterial(material: Map<string, Map<number, SecretBytes>>): void {
  for (const m of material.values()) for (const s of m.values()) s.destroy();
  material.clear();
}

/** Constant-time comparison of two hex digests. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
