// The audit log's operations (docs/audit.md): the audit public key for auditors and admins, and
// the JSON Lines export, which first records the export and closes it with a fresh signed
// checkpoint, so a verifier can tell a complete export from a truncated one.

import { HsmError } from '../errors.js';
import { auditExportLine } from '../store/audit-export.js';
import type { ModuleCore } from './core.js';

const PAGE = 10_000;

export interface AuditPublicKey {
  /** SPKI PEM of the Ed25519 audit key. */
  publicKey: string;
  /** 16 hex digits of SHA-256 over its SPKI DER; every checkpoint names it. */
  keyId: string;
}

export class Audit {
  constructor(private readonly core: ModuleCore) {}

  auditPublicKey(session: string): AuditPublicKey {
    this.core.session(session, 'auditor', 'admin');
    if (!this.core.auditTrail.ready) throw new HsmError('DEVICE_ERROR', 'the audit key is not loaded');
    return { publicKey: this.core.auditTrail.publicKeyPem(), keyId: this.core.auditTrail.keyId };
  }

  /** Every record from seq 1, one canonical JSON line each, ending with the checkpoint this call appends. */
  exportAudit(session: string): string[] {
    const s = this.core.session(session, 'auditor');
    if (!this.core.auditTrail.ready) throw new HsmError('DEVICE_ERROR', 'the audit key is not loaded');
    const closing = this.core.guardStore(() => this.core.auditTrail.appendClosed({ actor: s.user, op: 'audit.export', outcome: 'ok' }));
    const lines: string[] = [];
    // Read up to the checkpoint that closes this export; records appended meanwhile go in the next one.
    const end = closing.seq + 1;
    for (let from = 1; from <= end; from += PAGE) {
      const page = this.core.guardStore(() => this.core.vault.listAudit(from, Math.min(PAGE, end - from + 1)));
      for (const r of page) lines.push(auditExportLine(r));
      if (page.length === 0) break;
    }
    return lines;
  }
}
