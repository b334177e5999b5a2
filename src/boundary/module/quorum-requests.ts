// Quorum requests and the gate every sensitive operation calls (attacks.md D-14). A request holds
// the exact operation as canonical JSON with its SHA-256 digest, which binds the class, the
// operation, the requester, the request id and the expiry; approvals name that digest. Requests
// live in one MAC'd system record. Secrets never enter it: a new account's password is held as
// its scrypt hash, which the request shows only as a SHA-256 fingerprint.

import { createHash, randomBytes } from 'node:crypto';
import { HsmError } from '../errors.js';
import type { Session } from '../sessions.js';
import { canonicalJson } from '../store/canonical-json.js';
import type { Role } from '../types.js';
import { type ModuleCore, now } from './core.js';
import { type QuorumClass, type QuorumRule, readPolicy, ruleFor } from './quorum-policy.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type QuorumOperation = { [k: string]: JsonValue };

export type QuorumStatus = 'pending' | 'approved' | 'executing' | 'executed' | 'rejected' | 'failed' | 'expired';

/** What approvers see and sign off: everything here is covered by `digest`. */
export interface QuorumRequestView extends QuorumRule {
  id: string;
  class: QuorumClass;
  requester: string;
  /** The partition the operation concerns (scopes officer/user approvers), if any. */
  partition?: string;
  operation: QuorumOperation;
  /** The exact bytes hashed: canonical JSON of id, class, requester, partition, operation, fingerprints, createdAt, expiresAt. */
  canonical: string;
  /** SHA-256 of `canonical`, hex: what an approval names. */
  digest: string;
  createdAt: string;
  expiresAt: string;
  status: QuorumStatus;
  approvals: { approver: string; at: string }[];
  closedAt?: string;
  /** Who rejected, and why. */
  closedBy?: string;
  reason?: string;
  /** The operation's non-secret result (a partition record, a tamper status …). */
  result?: JsonValue;
  /** Error code when the approved operation failed at execution. */
  error?: string;
}

export interface StoredRequest extends QuorumRequestView {
  requesterRole: Role;
  requesterPartition?: string;
  /** Held for the executor, never shown: e.g. { passwordHash }. Deleted once the request closes. */
  sealed?: Record<string, string>;
}

/** Runs an approved operation as its requester (a session opened for the run); returns a non-secret result. */
export type QuorumExecutor = (requester: Session, operation: QuorumOperation, sealed: Readonly<Record<string, string>>) => unknown;

/** The operation did not run; a request was opened. The REST body carries `request` and `digest`. */
export class QuorumRequiredError extends HsmError {
  readonly request: string;
  readonly digest: string;

  constructor(r: QuorumRequestView) {
    super('QUORUM_REQUIRED', `request ${r.id} needs ${r.quorum} ${r.approverRole} approvals (digest ${r.digest})`);
    this.request = r.id;
    this.digest = r.digest;
  }

  override toJSON(): { code: 'QUORUM_REQUIRED'; message: string; request: string; digest: string } {
    return { code: 'QUORUM_REQUIRED', message: this.message, request: this.request, digest: this.digest };
  }
}

const REQUESTS_RECORD = 'quorum.requests';
/** Bounds on what one system record holds (attacks.md D-09-style exhaustion by request spam). */
const MAX_OPEN = 256;
const MAX_OPEN_PER_REQUESTER = 16;
const KEEP_CLOSED_MS = 7 * 24 * 3_600_000;
const KEEP_CLOSED = 500;
export const OPEN: readonly QuorumStatus[] = ['pending', 'approved'];

const executors = new WeakMap<ModuleCore, Map<string, QuorumExecutor>>();

/**
 * Operation groups register how an approved request of their class runs (classes with none are
 * re-issued by the requester). `action` distinguishes operations sharing a class: an executor
 * registered with one runs the requests whose operation has that `action` member.
 */
export function registerQuorumExecutor(core: ModuleCore, cls: QuorumClass, run: QuorumExecutor, action?: string): void {
  let m = executors.get(core);
  if (!m) {
    m = new Map();
    executors.set(core, m);
  }
  m.set(action === undefined ? cls : `${cls}:${action}`, run);
}

export function executorFor(core: ModuleCore, cls: QuorumClass, operation: QuorumOperation): QuorumExecutor | undefined {
  const m = executors.get(core);
  return (typeof operation.action === 'string' ? m?.get(`${cls}:${operation.action}`) : undefined) ?? m?.get(cls);
}

export function readRequests(core: ModuleCore): StoredRequest[] {
  const row = core.guardStore(() => core.vault.getSystemRecord(REQUESTS_RECORD));
  return row ? (JSON.parse(row.body) as StoredRequest[]) : [];
}

export function writeRequests(core: ModuleCore, list: StoredRequest[]): void {
  const cutoff = Date.now() - KEEP_CLOSED_MS;
  const open = list.filter((r) => OPEN.includes(r.status) || r.status === 'executing');
  // Closed requests stay visible a week (their history is in the audit log for good).
  const closed = list.filter((r) => !open.includes(r) && Date.parse(r.closedAt ?? r.createdAt) >= cutoff).slice(-KEEP_CLOSED);
  core.vault.putSystemRecord(REQUESTS_RECORD, JSON.stringify([...open, ...closed]));
}

/** Marks open requests past their expiry as expired (audited); returns the current list. */
export function loadCurrent(core: ModuleCore): StoredRequest[] {
  const list = readRequests(core);
  const t = Date.now();
  const due = list.filter((r) => OPEN.includes(r.status) && Date.parse(r.expiresAt) <= t);
  if (due.length > 0) {
    core.vault.transaction(() => {
      for (const r of due) {
        close(r, 'expired');
        core.vault.appendAudit({ actor: 'system', partition: r.partition, op: 'quorum.expire', target: r.id, outcome: 'ok', detail: r.class });
      }
      writeRequests(core, list);
    });
  }
  return list;
}

export function close(r: StoredRequest, status: QuorumStatus): void {
  r.status = status;
  r.closedAt = now();
  delete r.sealed;
}

export function view(r: StoredRequest): QuorumRequestView {
  const { requesterRole: _r, requesterPartition: _p, sealed: _s, ...v } = r;
  return structuredClone(v);
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export interface GateOptions {
  /** The partition the operation concerns: picks a partition rule and scopes its approvers. */
  partition?: string | undefined;
  /** Values the executor needs but nobody may see (a password hash); fingerprinted into the digest. */
  sealed?: Record<string, string>;
  /** At least this M (a policy change needs the quorum of the rule it changes). */
  minQuorum?: number;
}

/**
 * Called by a gated operation after its arguments are checked and before it changes anything.
 * Returns when no quorum applies (M = 1), or when the caller re-issues an operation whose
 * request was approved and has no executor (backup export/restore): that request is consumed.
 * Otherwise opens a request and throws QuorumRequiredError.
 */
export function quorumGate(core: ModuleCore, s: Session, cls: QuorumClass, operation: QuorumOperation, opts: GateOptions = {}): void {
  const policy = readPolicy(core);
  const base = ruleFor(policy, cls, opts.partition);
  const rule: QuorumRule = { ...base, quorum: Math.max(base.quorum, opts.minQuorum ?? 1) };
  if (rule.quorum <= 1) return;
  const list = loadCurrent(core);
  const op = canonicalJson(operation);
  if (!executorFor(core, cls, operation)) {
    const approved = list.find((r) => r.status === 'approved' && r.class === cls && r.requester === s.user && r.partition === opts.partition && canonicalJson(r.operation) === op);
    if (approved) {
      core.vault.transaction(() => {
        close(approved, 'executed');
        writeRequests(core, list);
        core.vault.appendAudit({ actor: s.user, partition: approved.partition, op: 'quorum.execute', target: approved.id, outcome: 'ok', detail: `${cls} approved by ${approved.approvals.map((a) => a.approver).join(', ')}` });
      });
      return;
    }
  }
  const open = list.filter((r) => OPEN.includes(r.status));
  if (open.length >= MAX_OPEN || open.filter((r) => r.requester === s.user).length >= MAX_OPEN_PER_REQUESTER) {
    throw core.refused(s, 'quorum.request', undefined, new HsmError('LIMIT_EXCEEDED', 'too many open quorum requests'));
  }
  const id = `q-${randomBytes(12).toString('hex')}`;
  const createdAt = new Date();
  const expiresAt = new Date(createdAt.getTime() + policy.expiryMs).toISOString();
  // attacks.md D-14 (4): the digest covers operation, parameters, target, requester, nonce (id) and expiry.
  const fingerprints = opts.sealed ? Object.fromEntries(Object.entries(opts.sealed).map(([k, v]) => [k, `sha256:${sha256(v)}`])) : undefined;
  const signed = { id, class: cls, requester: s.user, partition: opts.partition, operation, fingerprints, createdAt: createdAt.toISOString(), expiresAt };
  const canonical = canonicalJson(signed);
  const r: StoredRequest = {
    id,
    class: cls,
    requester: s.user,
    requesterRole: s.role,
    operation,
    canonical,
    digest: sha256(canonical),
    createdAt: signed.createdAt,
    expiresAt,
    status: 'pending',
    approvals: [],
    ...rule,
  };
  if (opts.partition !== undefined) r.partition = opts.partition;
  if (s.partition !== undefined) r.requesterPartition = s.partition;
  if (opts.sealed) r.sealed = { ...opts.sealed };
  core.vault.transaction(() => {
    list.push(r);
    writeRequests(core, list);
    core.vault.appendAudit({ actor: s.user, partition: r.partition, op: 'quorum.request', target: id, outcome: 'ok', detail: `${cls}: ${rule.quorum} of ${rule.approverRole}; digest ${r.digest}` });
  });
  throw new QuorumRequiredError(r);
}
