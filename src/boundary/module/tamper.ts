// Tamper signals and the configured response (DESIGN §3; attacks.md D-17, E-06). 'seal' forgets
// the master key and every unsealed key and ends every session; 'erase' also destroys the stored
// key hierarchy (Vault.erase: every row and the header), so keys come back only from a backup.
// The event is audited before anything is destroyed, whenever the store can still be written.

import { writeFileSync } from 'node:fs';
import type { SecretBytes } from '../secret.js';
import type { AuditEvent } from '../store/types.js';
import { type ModuleCore, now } from './core.js';

/** What raised the alarm: the store's own checks, the enclosure sensor, the integrity test, or an operator. */
export type TamperSignal = 'store-integrity' | 'rollback' | 'sensor' | 'software-integrity' | 'zeroize';
export type TamperResponse = 'seal' | 'erase';
export const TAMPER_RESPONSES: readonly TamperResponse[] = ['seal', 'erase'];

export interface TamperStatus {
  signal: TamperSignal;
  at: string;
  response: TamperResponse;
  /** Why (never a secret): which row, which file, which sensor. */
  detail?: string;
  /** Where the audit records were copied before an erase, if configured and readable. */
  auditArchive?: string;
}

const AUDIT_PAGE = 1000;

/** Copies every audit record (no secrets: DESIGN §3) to a 0600 JSON Lines file before erase. */
function archiveAudit(core: ModuleCore, path: string): boolean {
  if (!core.vault.unsealed) return false;
  try {
    const lines: string[] = [];
    for (let from = 1; ; ) {
      const page = core.vault.listAudit(from, AUDIT_PAGE);
      for (const r of page) lines.push(JSON.stringify(r));
      if (page.length < AUDIT_PAGE) break;
      from = page[page.length - 1]!.seq + 1;
    }
    writeFileSync(path, lines.length > 0 ? `${lines.join('\n')}\n` : '', { mode: 0o600, flag: 'wx' });
    return true;
  } catch {
    return false; // an unreadable (tampered) audit table is not copied; the erase goes ahead
  }
}

export function respondToTamper(core: ModuleCore, signal: TamperSignal, detail: string): TamperStatus {
  const response = core.options.tamperResponse ?? 'seal';
  const status: TamperStatus = { signal, at: now(), response, detail };
  core.tamperState = status;
  const event: AuditEvent =
    signal === 'zeroize'
      ? { actor: 'system', op: 'module.zeroize', outcome: 'ok', detail: `${detail}; response ${response}` }
      : { actor: 'system', op: 'module.tamper', outcome: 'failed', code: 'TAMPER_DETECTED', detail: `${signal}: ${detail}; response ${response}` };
  core.auditOrDefer(event);
  core.sessions.closeAll();
  core.cache.clear();
  // The audit signing key goes with every other unsealed key; unseal loads it again.
  core.usage.stop();
  core.auditTrail.forget();
  core.aliases.clear();
  if (response === 'erase') {
    const archive = core.options.auditArchivePath;
    if (archive && archiveAudit(core, archive)) status.auditArchive = archive;
    core.vault.erase();
    core.pendingAudit.length = 0; // their store no longer exists
    if (core.state !== 'error') core.state = 'uninitialized';
  } else {
    core.vault.seal();
    if (core.state === 'unsealed') core.state = 'sealed';
  }
  return status;
}

/** Writes audit events recorded while sealed (a start-up failure) once a master key is presented; the vault is sealed again after. */
export function flushPendingAudit(core: ModuleCore, masterKey: SecretBytes): void {
  if (core.pendingAudit.length === 0 || !core.vault.initialized || core.vault.unsealed) return;
  try {
    core.vault.unseal(masterKey);
    core.vault.transaction(() => {
      for (const ev of core.pendingAudit) core.vault.appendAudit(ev);
    });
    core.pendingAudit.length = 0;
  } catch {
    // Wrong key or a tampered store: the events stay pending (and in status).
  } finally {
    core.vault.seal();
  }
}
