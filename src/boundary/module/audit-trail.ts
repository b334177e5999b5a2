// The audit key and its checkpoints (docs/audit.md). An Ed25519 key pair made inside the boundary
// on a store's first initialise or unseal; its private half is an object in the hidden system
// partition, sealed like any key and never exported; only its public half leaves (SPKI PEM).

import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SecretBytes } from '../secret.js';
import { auditKeyId, CHECKPOINT_OP, checkpointEvent } from '../store/audit-checkpoint.js';
import type { AuditEvent, AuditRecord, Vault } from '../store/types.js';
import { newAttributes } from '../policy/validator.js';
import type { Attributes, StoredObject } from '../types.js';

/**
 * Reserved for the module's own keys. Why a partition and not a new kind of store record: its
 * objects are sealed under a partition key like every key, so master-key rotation, integrity
 * checks and backup carry them with no extra code. The leading dot is outside the partition-name
 * pattern, so no account can be created in it and no caller can address it.
 */
export const SYSTEM_PARTITION = '.system';
export const AUDIT_KEY_UID = 'system.audit-signing-key';

export function isSystemPartition(name: string | undefined): boolean {
  return name === SYSTEM_PARTITION;
}

/** The audit key's attributes, made by the one validator like any generated key's (policy/validator.ts). */
const AUDIT_KEY_ATTRS: Attributes = {
  ...newAttributes(
    'generate',
    { label: 'audit checkpoint signing key', sign: true, modifiable: false, copyable: false, destroyable: false },
    'private-key',
    'ec-edwards',
    { local: true },
  ),
  curve: 'Ed25519',
};

export class AuditTrail {
  #privateKey: KeyObject | undefined;
  #publicKey: KeyObject | undefined;
  #keyId = '';
  /** Set for one append: the record gets a checkpoint whatever its seq. */
  #force = false;

  constructor(
    private readonly vault: Vault,
    private readonly every: number,
  ) {
    if (!Number.isSafeInteger(every) || every < 1) throw new RangeError('auditCheckpointEvery must be a positive integer');
  }

  get keyId(): string {
    return this.#keyId;
  }

  /** Loads the audit key (making it if the store has none) and installs the checkpoint hook. */
  open(): void {
    let object = this.vault.getObject(AUDIT_KEY_UID);
    if (!object) object = this.#create();
    const secret = this.vault.loadSecret(object, 1);
    if (!secret) throw new TypeError('the audit key has no private material');
    try {
      this.#privateKey = createPrivateKey({ key: Buffer.from(secret.insecureBytes()), format: 'der', type: 'pkcs8' });
    } finally {
      secret.destroy();
    }
    this.#publicKey = createPublicKey(this.#privateKey);
    this.#keyId = auditKeyId(this.#publicKey);
    this.vault.setAuditHook((r) => this.#hook(r));
  }

  #create(): StoredObject {
    const pair = generateKeyPairSync('ed25519');
    const der = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
    const secret = SecretBytes.from(der);
    der.fill(0);
    const spki = new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' }));
    const t = new Date().toISOString();
    const object: StoredObject = {
      uid: AUDIT_KEY_UID,
      partition: SYSTEM_PARTITION,
      attrs: { ...AUDIT_KEY_ATTRS, id: new Uint8Array(0) },
      meta: { state: 'enabled', aliases: [], tags: {}, owner: 'system', createdAt: t, updatedAt: t, currentVersion: 1, usage: {} },
      versions: [{ version: 1, createdAt: t, publicData: spki }],
      revision: 1,
    };
    try {
      this.vault.transaction(() => {
        if (!this.vault.getPartition(SYSTEM_PARTITION)) {
          this.vault.putPartition({ name: SYSTEM_PARTITION, label: 'module system keys', createdAt: t, fipsApprovedOnly: true });
        }
        this.vault.putObject(object, new Map([[1, secret]]));
        this.vault.appendAudit({ actor: 'system', op: 'audit.key-create', target: auditKeyId(pair.publicKey), outcome: 'ok', detail: 'Ed25519' });
      });
    } finally {
      secret.destroy();
    }
    return object;
  }

  #hook(record: AuditRecord): AuditEvent | undefined {
    if (!this.#privateKey || record.op === CHECKPOINT_OP) return undefined;
    if (!this.#force && record.seq % this.every !== 0) return undefined;
    this.#force = false;
    return checkpointEvent(record, this.#privateKey, this.#keyId);
  }

  /** Appends `event` and a checkpoint covering it, in one transaction (seal, close, export). */
  appendClosed(event: AuditEvent): AuditRecord {
    this.#force = true;
    try {
      return this.vault.appendAudit(event);
    } finally {
      this.#force = false;
    }
  }

  /** At seal: the private key is dropped (KeyObjects are freed by the GC; JS cannot zero them). */
  forget(): void {
    this.vault.setAuditHook(undefined);
    this.#privateKey = undefined;
  }

  get ready(): boolean {
    return this.#privateKey !== undefined;
  }

  publicKeyPem(): string {
    if (!this.#publicKey) throw new TypeError('the audit trail is not open');
    return this.#publicKey.export({ format: 'pem', type: 'spki' }).toString();
  }
}
