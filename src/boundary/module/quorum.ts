// M-of-N approvals (DESIGN §3; attacks.md D-14): list, show, approve and reject quorum requests,
// and read or change the policy. An operation runs at most once, as its requester, when M
// distinct accounts that may approve (re-checked at that moment) have approved the digest they
// saw, before expiry. Every step, refused or not, is audited.

import { HsmError, isHsmError } from '../errors.js';
import type { Session } from '../sessions.js';
import { canonicalJson } from '../store/canonical-json.js';
import type { ModuleCore } from './core.js';
import { applyChange, mayApprove, type QuorumPolicy, type QuorumPolicyChange, readPolicy, ruleFor, writePolicy } from './quorum-policy.js';
import {
  close,
  executorFor,
  type JsonValue,
  loadCurrent,
  OPEN,
  type QuorumOperation,
  type QuorumRequestView,
  type QuorumStatus,
  quorumGate,
  registerQuorumExecutor,
  type StoredRequest,
  view,
  writeRequests,
} from './quorum-requests.js';

const MAX_REASON = 200;
const MAX_RESULT = 4096;

export class Quorum {
  constructor(private readonly core: ModuleCore) {
    registerQuorumExecutor(core, 'policy.change', (s, op) => this.#applyPolicy(s, op));
  }

  /** The policy (admin, auditor, officer): not secret, and approvers should know what they are part of. */
  quorumPolicy(session: string): QuorumPolicy {
    this.core.session(session, 'admin', 'auditor', 'officer');
    return readPolicy(this.core);
  }

  /**
   * Changes one class's rule or the request expiry (admin). Gated as policy.change, needing at
   * least the quorum of the rule it replaces, so a quorum once set is changed only by a quorum
   * (attacks.md D-14 (7)).
   */
  setQuorumPolicy(session: string, change: QuorumPolicyChange): QuorumPolicy {
    const s = this.core.session(session, 'admin');
    let next: QuorumPolicy;
    const policy = readPolicy(this.core);
    try {
      next = applyChange(this.core, policy, change);
    } catch (e) {
      throw this.core.refused(s, 'quorum.policy', undefined, e);
    }
    const op = JSON.parse(JSON.stringify(change)) as QuorumOperation;
    const replaced = 'class' in change ? ruleFor(policy, change.class, change.partition).quorum : 1;
    quorumGate(this.core, s, 'policy.change', op, { minQuorum: replaced });
    this.core.vault.transaction(() => {
      writePolicy(this.core, next);
      this.core.vault.appendAudit({ actor: s.user, op: 'quorum.policy', outcome: 'ok', detail: canonicalJson(op) });
    });
    return next;
  }

  #applyPolicy(s: Session, op: QuorumOperation): QuorumPolicy {
    const next = applyChange(this.core, readPolicy(this.core), op);
    this.core.vault.transaction(() => {
      writePolicy(this.core, next);
      this.core.vault.appendAudit({ actor: s.user, op: 'quorum.policy', outcome: 'ok', detail: canonicalJson(op) });
    });
    return next;
  }

  /** Requests the caller may see, newest first; `status` filters. */
  listQuorumRequests(session: string, filter: { status?: QuorumStatus } = {}): QuorumRequestView[] {
    const s = this.core.session(session);
    return loadCurrent(this.core)
      .filter((r) => this.#visible(s, r) && (filter.status === undefined || r.status === filter.status))
      .reverse()
      .map(view);
  }

  /** One request with its canonical JSON and digest: exactly what an approval signs off. */
  showQuorumRequest(session: string, id: string): QuorumRequestView {
    const s = this.core.session(session);
    return view(this.#find(s, loadCurrent(this.core), id, 'quorum.show'));
  }

  /**
   * Approves request `request`, naming the digest the approver saw. The approval that reaches M
   * runs the operation (or, for a class the requester re-issues, marks the request approved).
   */
  async approveQuorumRequest(session: string, input: { request: string; digest: string }): Promise<QuorumRequestView> {
    const s = this.core.session(session);
    const list = loadCurrent(this.core);
    const r = this.#find(s, list, input?.request, 'quorum.approve');
    const refuse = (e: HsmError): unknown => this.core.refused(s, 'quorum.approve', r.id, e);
    if (typeof input.digest !== 'string') throw refuse(new HsmError('ARGUMENTS_BAD', 'digest is required'));
    if (r.status === 'expired') throw refuse(new HsmError('REQUEST_EXPIRED'));
    if (!OPEN.includes(r.status) || r.status === 'approved') throw refuse(new HsmError('REQUEST_CLOSED', `the request is ${r.status}`));
    // attacks.md D-14 (4, 5): an approval binds to the exact request it names.
    if (input.digest.toLowerCase() !== r.digest) throw refuse(new HsmError('APPROVAL_DIGEST_MISMATCH', 'show the request again'));
    if (!mayApprove(s, r, r.partition)) throw refuse(new HsmError('USER_TYPE_INVALID', `approvers of this request are ${r.approverRole}s${r.partition && r.approverRole !== 'admin' ? ` of ${r.partition}` : ''}`));
    // D-14 (2): the requester's own approval does not count unless the policy says so.
    if (s.user === r.requester && !r.selfApproval) throw refuse(new HsmError('SELF_APPROVAL'));
    // D-14 (1): one account, one approval, whatever the session or channel.
    if (r.approvals.some((a) => a.approver === s.user)) throw refuse(new HsmError('ALREADY_APPROVED'));
    r.approvals.push({ approver: s.user, at: new Date().toISOString() });
    const valid = this.#validApprovers(r);
    const run = valid.length >= r.quorum ? executorFor(this.core, r.class, r.operation) : undefined;
    if (valid.length >= r.quorum) r.status = run ? 'executing' : 'approved';
    // Synchronous from the read to this commit: two approvals racing cannot both see M (D-14 (9)).
    this.core.vault.transaction(() => {
      writeRequests(this.core, list);
      this.core.vault.appendAudit({ actor: s.user, partition: r.partition, op: 'quorum.approve', target: r.id, outcome: 'ok', detail: `${r.class}: ${valid.length} of ${r.quorum}` });
    });
    if (!run) return view(r);
    return this.#execute(r, valid, run);
  }

  /** Closes a request (an approver refuses it, or its requester withdraws it). */
  rejectQuorumRequest(session: string, input: { request: string; reason?: string }): QuorumRequestView {
    const s = this.core.session(session);
    const list = loadCurrent(this.core);
    const r = this.#find(s, list, input?.request, 'quorum.reject');
    if (r.status === 'expired') throw this.core.refused(s, 'quorum.reject', r.id, new HsmError('REQUEST_EXPIRED'));
    if (!OPEN.includes(r.status)) throw this.core.refused(s, 'quorum.reject', r.id, new HsmError('REQUEST_CLOSED', `the request is ${r.status}`));
    if (s.user !== r.requester && !mayApprove(s, r, r.partition)) throw this.core.refused(s, 'quorum.reject', r.id, new HsmError('USER_TYPE_INVALID', 'only an approver or the requester may reject'));
    close(r, 'rejected');
    r.closedBy = s.user;
    if (typeof input.reason === 'string' && input.reason !== '') r.reason = input.reason.slice(0, MAX_REASON);
    this.core.vault.transaction(() => {
      writeRequests(this.core, list);
      this.core.vault.appendAudit({ actor: s.user, partition: r.partition, op: 'quorum.reject', target: r.id, outcome: 'ok', detail: r.class });
    });
    return view(r);
  }

  /** D-14 (6): approvers deleted, locked or moved since they approved no longer count. */
  #validApprovers(r: StoredRequest): string[] {
    return r.approvals
      .map((a) => a.approver)
      .filter((name) => {
        const u = this.core.vault.getUser(name);
        return u !== undefined && !u.locked && mayApprove(u, r, r.partition) && (r.selfApproval || name !== r.requester);
      });
  }

  async #execute(r: StoredRequest, approvers: string[], run: NonNullable<ReturnType<typeof executorFor>>): Promise<QuorumRequestView> {
    const c = this.core;
    const u = c.vault.getUser(r.requester);
    let result: unknown;
    let error: unknown;
    // The operation runs as its requester, whose account must still be what it was (D-14 (6)).
    if (!u || u.locked || u.role !== r.requesterRole || u.partition !== r.requesterPartition) {
      error = new HsmError('USER_NOT_FOUND', "the requester's account changed since the request");
    } else {
      const sealed = r.sealed ?? {};
      // zeroize ends the store's availability: the request is closed before it runs.
      if (r.class === 'zeroize') this.#finish(r.id, 'executed', approvers, undefined, undefined);
      const rs: Session = c.sessions.open(u.name, u.role, u.partition);
      try {
        result = await run(rs, r.operation, sealed);
      } catch (e) {
        error = e;
      } finally {
        c.sessions.close(rs.handle);
      }
      if (r.class === 'zeroize') return { ...view(r), status: 'executed', result: jsonResult(result) ?? null };
    }
    const done = this.#finish(r.id, error === undefined ? 'executed' : 'failed', approvers, result, error);
    if (error !== undefined && !isHsmError(error)) throw error; // a bug, not a refusal
    return done;
  }

  #finish(id: string, status: QuorumStatus, approvers: string[], result: unknown, error: unknown): QuorumRequestView {
    const c = this.core;
    const list = loadCurrent(c);
    const r = list.find((x) => x.id === id);
    if (!r) throw new RangeError(`quorum request ${id} vanished while executing`);
    close(r, status);
    const out = jsonResult(result);
    if (out !== undefined) r.result = out;
    if (error !== undefined) r.error = isHsmError(error) ? error.code : 'DEVICE_ERROR';
    c.vault.transaction(() => {
      writeRequests(c, list);
      const ev = { actor: r.requester, partition: r.partition, op: 'quorum.execute', target: r.id, outcome: status === 'executed' ? ('ok' as const) : ('failed' as const), detail: `${r.class} approved by ${approvers.join(', ')}` };
      c.vault.appendAudit(r.error ? { ...ev, code: r.error } : ev);
    });
    return view(r);
  }

  #visible(s: Session, r: StoredRequest): boolean {
    return s.role === 'admin' || s.role === 'auditor' || s.user === r.requester || mayApprove(s, r, r.partition);
  }

  /** A request the caller may see; anything else does not exist for it (no oracle: attacks.md D-01). */
  #find(s: Session, list: StoredRequest[], id: unknown, op: string): StoredRequest {
    const r = typeof id === 'string' ? list.find((x) => x.id === id) : undefined;
    if (!r || !this.#visible(s, r)) throw this.core.refused(s, op, typeof id === 'string' ? id.slice(0, 64) : undefined, new HsmError('REQUEST_NOT_FOUND'));
    return r;
  }
}

/** A small JSON copy of an executor's result for the request record, or nothing. */
function jsonResult(v: unknown): JsonValue | undefined {
  if (v === undefined) return undefined;
  try {
    const text = JSON.stringify(v);
    return text !== undefined && text.length <= MAX_RESULT ? (JSON.parse(text) as JsonValue) : undefined;
  } catch {
    return undefined;
  }
}
