// The quorum policy (DESIGN §3 "Seal, unseal, quorum"; attacks.md D-14): per operation class, how
// many distinct approvers (M), of which role, and whether the requester's own approval counts.
// Stored as one MAC'd system record. Default M = 1 (no quorum) everywhere, so zeroize stays a
// single-admin emergency action unless an operator opts in. Changing a rule is itself gated.

import { HsmError } from '../errors.js';
import type { Role } from '../types.js';
import { type ModuleCore, PARTITION } from './core.js';

export const QUORUM_CLASSES = [
  'partition.create',
  'partition.delete',
  'user.create',
  'user.delete',
  'user.role',
  'policy.change',
  'backup.export',
  'backup.restore',
  'key.destroy',
  'zeroize',
  'payment.key-form',
] as const;
export type QuorumClass = (typeof QUORUM_CLASSES)[number];

/** Classes a partition may set its own rule for (the others are appliance-wide). */
export const PARTITION_CLASSES: readonly QuorumClass[] = ['user.create', 'user.delete', 'user.role', 'key.destroy', 'payment.key-form'];

/** Roles that can ask for each class: when the approver role is among them and self-approval is off, one more account must exist. */
export const REQUESTERS: Record<QuorumClass, readonly Role[]> = {
  'partition.create': ['admin'],
  'partition.delete': ['admin'],
  'user.create': ['admin', 'officer'],
  'user.delete': ['admin', 'officer'],
  'user.role': ['admin', 'officer'],
  'policy.change': ['admin'],
  'backup.export': ['admin'],
  'backup.restore': ['admin'],
  'key.destroy': ['user'],
  zeroize: ['admin'],
  // Confirming a key formed from clear components (attacks.md C-08).
  'payment.key-form': ['officer'],
};

export interface QuorumRule {
  /** M: distinct approvers needed; 1 means no quorum. */
  quorum: number;
  approverRole: Role;
  /** Whether the requester's own approval counts towards M (default false). */
  selfApproval: boolean;
}

export interface QuorumPolicy {
  /** How long a request stays open (default 24 h). */
  expiryMs: number;
  classes: Partial<Record<QuorumClass, QuorumRule>>;
  /** Per-partition rules for PARTITION_CLASSES; they take precedence over `classes`. */
  partitions: Record<string, Partial<Record<QuorumClass, QuorumRule>>>;
}

export type QuorumPolicyChange = { class: QuorumClass; partition?: string; quorum: number; approverRole?: Role; selfApproval?: boolean } | { expiryMs: number };

export const DEFAULT_EXPIRY_MS = 24 * 3_600_000;
const MIN_EXPIRY_MS = 1_000;
const MAX_EXPIRY_MS = 30 * 24 * 3_600_000;
/** Shamir allows 16 custodians; no approval circle is larger. */
export const MAX_QUORUM = 16;
const NO_QUORUM: QuorumRule = { quorum: 1, approverRole: 'admin', selfApproval: false };
const POLICY_RECORD = 'quorum.policy';

export function readPolicy(core: ModuleCore): QuorumPolicy {
  const row = core.guardStore(() => core.vault.getSystemRecord(POLICY_RECORD));
  // The row is MAC'd with every other row (store/vault.ts): what is read is what was written.
  return row ? (JSON.parse(row.body) as QuorumPolicy) : { expiryMs: DEFAULT_EXPIRY_MS, classes: {}, partitions: {} };
}

export function writePolicy(core: ModuleCore, policy: QuorumPolicy): void {
  core.vault.putSystemRecord(POLICY_RECORD, JSON.stringify(policy));
}

/** The rule that applies to `cls` for an operation in `partition` (if any). */
export function ruleFor(policy: QuorumPolicy, cls: QuorumClass, partition: string | undefined): QuorumRule {
  return (partition !== undefined ? policy.partitions[partition]?.[cls] : undefined) ?? policy.classes[cls] ?? NO_QUORUM;
}

/** Whether an account (by its record) may approve under `rule` for an operation in `partition`. */
export function mayApprove(who: { role: Role; partition?: string | undefined }, rule: Pick<QuorumRule, 'approverRole'>, partition: string | undefined): boolean {
  if (who.role !== rule.approverRole) return false;
  // Partition roles approve only inside their own partition (attacks.md D-01: no cross-tenant say).
  return who.role === 'admin' || who.role === 'auditor' || (partition !== undefined && who.partition === partition);
}

/** Validates a change against the store as it is now and returns the policy it makes. */
export function applyChange(core: ModuleCore, policy: QuorumPolicy, change: unknown): QuorumPolicy {
  if (typeof change !== 'object' || change === null) throw new HsmError('ARGUMENTS_BAD', 'a policy change is an object');
  const c = change as Record<string, unknown>;
  if ('expiryMs' in c && !('class' in c)) {
    const ms = c.expiryMs;
    if (!Number.isSafeInteger(ms) || (ms as number) < MIN_EXPIRY_MS || (ms as number) > MAX_EXPIRY_MS) throw new HsmError('ARGUMENTS_BAD', 'expiryMs is 1 s to 30 days');
    return { ...policy, expiryMs: ms as number };
  }
  const cls = c.class as QuorumClass;
  if (!QUORUM_CLASSES.includes(cls)) throw new HsmError('ARGUMENTS_BAD', `class is one of ${QUORUM_CLASSES.join(', ')}`);
  const partition = c.partition;
  if (partition !== undefined) {
    if (typeof partition !== 'string' || !PARTITION.test(partition) || !core.vault.getPartition(partition)) throw new HsmError('PARTITION_NOT_FOUND');
    if (!PARTITION_CLASSES.includes(cls)) throw new HsmError('ARGUMENTS_BAD', `${cls} is appliance-wide; partitions set ${PARTITION_CLASSES.join(', ')}`);
  }
  const quorum = c.quorum;
  if (!Number.isSafeInteger(quorum) || (quorum as number) < 1 || (quorum as number) > MAX_QUORUM) throw new HsmError('ARGUMENTS_BAD', `quorum is 1 to ${MAX_QUORUM}`);
  const approverRole = (c.approverRole ?? (partition === undefined ? 'admin' : 'officer')) as Role;
  // An appliance-wide rule has no partition to draw officers or users from.
  const roles: readonly Role[] = partition === undefined ? ['admin'] : ['admin', 'officer', 'user'];
  if (!roles.includes(approverRole)) throw new HsmError('ARGUMENTS_BAD', `approverRole is ${roles.join(' or ')} here`);
  if (c.selfApproval !== undefined && typeof c.selfApproval !== 'boolean') throw new HsmError('ARGUMENTS_BAD', 'selfApproval is a boolean');
  const rule: QuorumRule = { quorum: quorum as number, approverRole, selfApproval: c.selfApproval === true };
  if (rule.quorum > 1) {
    // attacks.md D-14 (7): a rule nobody can satisfy locks the class forever; refuse it. With
    // self-approval off and the approvers able to request, M others must exist besides a requester.
    const eligible = core.vault.listUsers().filter((u) => !u.locked && mayApprove(u, rule, partition as string | undefined)).length;
    const need = rule.quorum + (!rule.selfApproval && REQUESTERS[cls].includes(approverRole) ? 1 : 0);
    if (eligible < need) throw new HsmError('ARGUMENTS_BAD', `${need} unlocked ${approverRole} accounts are needed for this rule; ${eligible} exist`);
  }
  if (partition === undefined) return { ...policy, classes: { ...policy.classes, [cls]: rule } };
  const p = partition as string;
  return { ...policy, partitions: { ...policy.partitions, [p]: { ...policy.partitions[p], [cls]: rule } } };
}
