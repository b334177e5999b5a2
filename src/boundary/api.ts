// The boundary's one door. Everything outside src/boundary/ imports from here and nowhere else
// (an architecture test enforces it). What passes through is the Hsm class, the error catalogue,
// the secret wrapper and plain data types: never a LoadedKey, never raw key material.

export { ERROR_CATALOGUE, type ErrorCode, HsmError, isHsmError } from './errors.js';
export { Hsm, type HsmOptions, type LoginResult, type ModuleState, type ModuleStatus, type ObjectInfo } from './hsm.js';
export { listMechanisms, type MechanismInfo, mechanismInfo } from './mechanisms/registry.js';
export type { MechanismParams, Operation } from './mechanisms/types.js';
export { attributesToJson, decodeBase64, templateFromJson } from './policy/template-json.js';
export { templateFromEntries } from './policy/validator.js';
export { SecretBytes } from './secret.js';
export { checkSoftwareIntegrity, defaultInstallRoot, type IntegrityOptions, type IntegrityResult } from './module/integrity.js';
export { NAMED_SELF_TESTS, type SelfTestResult } from './module/self-tests.js';
export { TAMPER_RESPONSES, type TamperResponse, type TamperSignal, type TamperStatus } from './module/tamper.js';
export type { CeremonyStatus, Custodian, RekeyProgress, ShareOut, ShareSpec, SharesIssued, UnsealProgress } from './module/ceremony.js';
export type { AuditPublicKey } from './module/audit.js';
export { QUORUM_CLASSES, type QuorumClass, type QuorumPolicy, type QuorumPolicyChange, type QuorumRule } from './module/quorum-policy.js';
export { QuorumRequiredError, type QuorumRequestView, type QuorumStatus } from './module/quorum-requests.js';
export { type BackupCounts, type BackupDescription, type BackupExported, type BackupExportOptions, type BackupRestored, type BackupRestoreOptions, type ChainHead, describeBackup } from './module/backup.js';
export { type AuditExportVerdict, type AuditVerifyOptions, verifyAuditExport } from './store/audit-export.js';
export type { AuditCheckpoint, AuditEvent, AuditRecord } from './store/types.js';
export type { VaultOptions } from './store/vault.js';
export { BOOLEAN_ATTRIBUTES } from './types.js';
export type { Attributes, Curve, KeyState, KeyType, ObjectClass, PartitionRecord, Role, Template, UserRecord } from './types.js';
