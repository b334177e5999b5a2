// The module's public face: lifecycle (open, initialise, unseal, seal, status) and every
// account, object and key operation, delegated to the operation groups under module/ that share
// one ModuleCore (state, guard pipeline, key cache, store). Front ends reach it only through api.ts.

import type { SecretBytes } from './secret.js';
import { Accounts } from './module/accounts.js';
import { Audit } from './module/audit.js';
import { type HsmOptions, ModuleCore, type ModuleStatus } from './module/core.js';
import { KeyManagement } from './module/key-management.js';
import { Objects } from './module/objects.js';
import { Operations } from './module/operations.js';
import { SelfProtection } from './module/self-protection.js';
import { flushPendingAudit } from './module/tamper.js';
import { Ceremony } from './module/ceremony.js';
import { Quorum } from './module/quorum.js';
import { Backup } from './module/backup.js';
import { Payment } from './module/payment.js';
import { type PaymentKeys, paymentKeysOf } from './module/payment-keys.js';
import { PaymentComponents } from './module/payment-components.js';
import { AccessKeys } from './module/access-keys.js';
import { DataKeys } from './module/data-keys.js';
import { openVault } from './store/vault.js';

export type { HsmOptions, LoginResult, ModuleState, ModuleStatus, ObjectInfo } from './module/core.js';

export class Hsm {
  readonly #core: ModuleCore;
  readonly login: Accounts['login'];
  readonly logout: Accounts['logout'];
  /** Who a session is: for front ends that show it. */
  readonly whoami: Accounts['whoami'];
  readonly createPartition: Accounts['createPartition'];
  readonly listPartitions: Accounts['listPartitions'];
  readonly createUser: Accounts['createUser'];
  readonly listUsers: Accounts['listUsers'];
  readonly deleteUser: Accounts['deleteUser'];
  readonly deletePartition: Accounts['deletePartition'];
  readonly changeUserRole: Accounts['changeUserRole'];
  readonly unlockUser: Accounts['unlockUser'];
  readonly changePassword: Accounts['changePassword'];
  readonly listAudit: Accounts['listAudit'];
  /** The audit key's public half (SPKI PEM), for offline verification of exports (auditor, admin). */
  readonly auditPublicKey: Audit['auditPublicKey'];
  /** The whole audit log as JSON Lines, closed by a fresh signed checkpoint (auditor). */
  readonly exportAudit: Audit['exportAudit'];
  /** Clear import (C_CreateObject): secret keys, private keys, public keys, certificates, data. */
  readonly createObject: Objects['createObject'];
  readonly generateKey: Objects['generateKey'];
  readonly generateKeyPair: Objects['generateKeyPair'];
  readonly getAttributes: Objects['getAttributes'];
  /** Uids of the partition's objects matching every attribute in `filter` (and session objects). */
  readonly findObjects: Objects['findObjects'];
  readonly getPublicKey: Objects['getPublicKey'];
  /** A certificate object's DER. */
  readonly getCertificate: Objects['getCertificate'];
  readonly setAttributes: Objects['setAttributes'];
  readonly copyObject: Objects['copyObject'];
  readonly destroyObject: Objects['destroyObject'];
  readonly setKeyState: KeyManagement['setKeyState'];
  /** Schedules destruction after a waiting period of 7–30 days (default 30), as the big KMS services do. */
  readonly scheduleDeletion: KeyManagement['scheduleDeletion'];
  readonly cancelDeletion: KeyManagement['cancelDeletion'];
  /** Destroys every key whose deletion date has passed; returns how many. Run periodically by the server. */
  readonly purgeDueDeletions: KeyManagement['purgeDueDeletions'];
  /** Appends a new key version (secret keys); new operations use it, old versions still decrypt and verify. */
  readonly rotateKey: KeyManagement['rotateKey'];
  /** Automatic rotation every 90–2560 days (null: off), the schedule and the rotations made (AWS KMS rotation APIs). */
  readonly setRotationPeriod: KeyManagement['setRotationPeriod'];
  readonly rotationStatus: KeyManagement['rotationStatus'];
  /** Rotates every key whose automatic rotation is due; returns how many. Run periodically by the server. */
  readonly rotateDueKeys: KeyManagement['rotateDueKeys'];
  readonly setAliases: KeyManagement['setAliases'];
  readonly setTags: KeyManagement['setTags'];
  readonly encrypt: Operations['encrypt'];
  readonly decrypt: Operations['decrypt'];
  readonly sign: Operations['sign'];
  readonly verify: Operations['verify'];
  readonly digest: Operations['digest'];
  readonly randomBytes: Operations['randomBytes'];
  /** Exports a key encrypted under another (C_WrapKey): the only way key material leaves. */
  readonly wrapKey: Operations['wrapKey'];
  /** Imports a wrapped key (C_UnwrapKey). The new key is never local and never always-sensitive. */
  readonly unwrapKey: Operations['unwrapKey'];
  readonly deriveKey: Operations['deriveKey'];
  readonly encapsulate: Operations['encapsulate'];
  readonly decapsulate: Operations['decapsulate'];
  /** The same operations with the approved-service indicator (FIPS 140-3 IG 2.4.C; attacks.md E-09). */
  readonly decryptWithIndicator: Operations['decryptWithIndicator'];
  readonly verifyWithIndicator: Operations['verifyWithIndicator'];
  readonly digestWithIndicator: Operations['digestWithIndicator'];
  readonly unwrapKeyWithIndicator: Operations['unwrapKeyWithIndicator'];
  readonly deriveKeyWithIndicator: Operations['deriveKeyWithIndicator'];
  readonly decapsulateWithIndicator: Operations['decapsulateWithIndicator'];
  /** Every self-test again, on an admin's request (attacks.md E-11); a failure latches the error state. */
  readonly runSelfTests: SelfProtection['runSelfTests'];
  /** The explicit zeroize command (admin): the configured tamper response, seal or erase. */
  readonly zeroize: SelfProtection['zeroize'];
  /** The enclosure tamper sensor fired (the server's watcher calls this): the configured response. */
  readonly reportTamper: SelfProtection['reportTamper'];
  /** Initialises an empty module with a master key made inside and split into Shamir shares (docs/ceremony.md); leaves it sealed. */
  readonly initializeWithShares: Ceremony['initializeWithShares'];
  /** One share towards unsealing; no login. */
  readonly submitUnsealShare: Ceremony['submitUnsealShare'];
  /** Seals on an admin's request. */
  readonly sealModule: Ceremony['sealModule'];
  readonly rekeyInit: Ceremony['rekeyInit'];
  readonly rekeyCancel: Ceremony['rekeyCancel'];
  /** One current share towards the rekey in progress; the completing call returns the new shares. */
  readonly submitRekeyShare: Ceremony['submitRekeyShare'];
  /** A new master key and new shares; every partition key re-wrapped, the old shares dead. */
  readonly rotateMasterKey: Ceremony['rotateMasterKey'];
  readonly ceremonyStatus: Ceremony['ceremonyStatus'];
  /** The M-of-N approval policy per operation class (docs/ceremony.md, "Quorum"). */
  readonly quorumPolicy: Quorum['quorumPolicy'];
  /** Changes one class's rule or the request expiry; itself quorum-gated once a quorum is set. */
  readonly setQuorumPolicy: Quorum['setQuorumPolicy'];
  readonly listQuorumRequests: Quorum['listQuorumRequests'];
  /** A request's canonical JSON and digest: what an approver signs off. */
  readonly showQuorumRequest: Quorum['showQuorumRequest'];
  /** Approves naming the digest seen; the M-th approval runs the operation once, as its requester. */
  readonly approveQuorumRequest: Quorum['approveQuorumRequest'];
  readonly rejectQuorumRequest: Quorum['rejectQuorumRequest'];
  /** Every partition, account and key version in one file sealed under a fresh backup key, output as Shamir shares (docs/backup.md). Admin. */
  readonly exportBackup: Backup['exportBackup'];
  /** Restores a backup into an empty module with the backup's shares (or this module's master key), all or nothing. Admin. */
  readonly restoreBackup: Backup['restoreBackup'];
  /** A SigV4 access key for the calling partition user (AWS-KMS front end); the secret is returned once. */
  readonly createAccessKey: AccessKeys['createAccessKey'];
  readonly listAccessKeys: AccessKeys['listAccessKeys'];
  readonly deleteAccessKey: AccessKeys['deleteAccessKey'];
  /** Checks a SigV4 signature inside the boundary and returns the access key owner's session. */
  readonly verifySigV4: AccessKeys['verifySigV4'];
  /** A random data key returned in the clear and encrypted under a key (envelope encryption); audited. */
  readonly insecureGenerateDataKey: DataKeys['insecureGenerateDataKey'];
  /** Decrypt under one key and encrypt under another inside the boundary (KMS ReEncrypt); the plaintext never leaves. */
  readonly reEncrypt: DataKeys['reEncrypt'];
  /** A fresh RSA/EC pair: PKCS#8 encrypted under a key, SPKI, and the private key in the clear once if asked; audited. */
  readonly insecureGenerateDataKeyPair: DataKeys['insecureGenerateDataKeyPair'];
  /** The raw ECDH secret with a peer public key (KMS DeriveSharedSecret); audited. */
  readonly insecureDeriveSharedSecret: DataKeys['insecureDeriveSharedSecret'];

  /** Payment functions (issue 7): key check values, PIN translation and verification, PVV, CVV, EMV ARQC/ARPC, ISO 9797-1 MACs. */
  readonly paymentKeyCheckValue: Payment['keyCheckValue'];
  /** Officer: registers a named IBM 3624 decimalisation table (attacks.md C-01). */
  readonly paymentRegisterDecimalisationTable: Payment['registerDecimalisationTable'];
  readonly paymentTranslatePin: Payment['translatePin'];
  readonly paymentGenerateIbm3624Offset: Payment['generateIbm3624Offset'];
  readonly paymentVerifyPinIbm3624: Payment['verifyPinIbm3624'];
  readonly paymentGeneratePvv: Payment['generatePvv'];
  readonly paymentVerifyPvv: Payment['verifyPvv'];
  readonly paymentGenerateCvv: Payment['generateCvv'];
  readonly paymentVerifyCvv: Payment['verifyCvv'];
  readonly paymentVerifyCvc3: Payment['verifyCvc3'];
  /** ARQC/TC/AAC verification with the ARPC only for a verified cryptogram (attacks.md C-12). */
  readonly paymentVerifyArqc: Payment['verifyArqc'];
  readonly paymentGenerateMac: Payment['generateMac'];
  readonly paymentVerifyMac: Payment['verifyMac'];
  /** TR-31 / X9.143 key blocks (versions B and D) under a K0/K1 KBPK or the partition's own ('partition'); exportability N is refused (attacks.md C-10). */
  readonly paymentExportKeyBlock: PaymentKeys['exportKeyBlock'];
  /** Imports a key block (A and C only where the partition allows); the header's fields become the key's fixed attributes. */
  readonly paymentImportKeyBlock: PaymentKeys['importKeyBlock'];
  /** Officer: the partition's own KBPK, under which keys held as { keyBlock } references are opened. */
  readonly paymentCreatePartitionKbpk: PaymentKeys['createPartitionKbpk'];
  /** Officer: partition key block policy (tr31LegacyImport). */
  readonly paymentSetPartitionPolicy: PaymentKeys['setPartitionPolicy'];
  /** Officer: opens the forming of a key from 2 or 3 clear components under dual control (attacks.md C-08). */
  readonly paymentBeginComponents: PaymentComponents['beginComponents'];
  /** A custodian enters one component (a different account each); the last forms the key. */
  readonly paymentEnterComponent: PaymentComponents['enterComponent'];
  /** Officer (no custodian of it): states the formed key's check value; equal → the key is stored and usable. */
  readonly paymentConfirmComponents: PaymentComponents['confirmComponents'];
  /** DUKPT (ANSI X9.24-1 TDES, X9.24-3 AES) from a B0 BDK: PIN translation to a zone key, request MAC verify, request data decrypt. */
  readonly paymentTranslatePinFromDukpt: Payment['translatePinFromDukpt'];
  readonly paymentVerifyDukptMac: Payment['verifyDukptMac'];
  readonly paymentGenerateDukptMac: Payment['generateDukptMac'];
  readonly paymentDecryptDukptData: Payment['decryptDukptData'];
  /** Officer/admin: gives or revokes the issuer / card-production grant of a user account (quorum-gated as user.role). */
  readonly paymentGrant: Payment['grant'];
  /** Officer: the persistent per-PAN verification attempt counters (attacks.md C-11, C-13). */
  readonly paymentResetAttempts: Payment['resetAttempts'];
  readonly paymentSetAttemptLimit: Payment['setAttemptLimit'];

  private constructor(core: ModuleCore) {
    this.#core = core;
    const accounts = new Accounts(core);
    this.login = accounts.login.bind(accounts);
    this.logout = accounts.logout.bind(accounts);
    this.whoami = accounts.whoami.bind(accounts);
    this.createPartition = accounts.createPartition.bind(accounts);
    this.listPartitions = accounts.listPartitions.bind(accounts);
    this.createUser = accounts.createUser.bind(accounts);
    this.listUsers = accounts.listUsers.bind(accounts);
    this.deleteUser = accounts.deleteUser.bind(accounts);
    this.deletePartition = accounts.deletePartition.bind(accounts);
    this.changeUserRole = accounts.changeUserRole.bind(accounts);
    this.unlockUser = accounts.unlockUser.bind(accounts);
    this.changePassword = accounts.changePassword.bind(accounts);
    this.listAudit = accounts.listAudit.bind(accounts);
    const audit = new Audit(core);
    this.auditPublicKey = audit.auditPublicKey.bind(audit);
    this.exportAudit = audit.exportAudit.bind(audit);
    const objects = new Objects(core);
    this.createObject = objects.createObject.bind(objects);
    this.generateKey = objects.generateKey.bind(objects);
    this.generateKeyPair = objects.generateKeyPair.bind(objects);
    this.getAttributes = objects.getAttributes.bind(objects);
    this.findObjects = objects.findObjects.bind(objects);
    this.getPublicKey = objects.getPublicKey.bind(objects);
    this.getCertificate = objects.getCertificate.bind(objects);
    this.setAttributes = objects.setAttributes.bind(objects);
    this.copyObject = objects.copyObject.bind(objects);
    this.destroyObject = objects.destroyObject.bind(objects);
    const keys = new KeyManagement(core);
    this.setKeyState = keys.setKeyState.bind(keys);
    this.scheduleDeletion = keys.scheduleDeletion.bind(keys);
    this.cancelDeletion = keys.cancelDeletion.bind(keys);
    this.purgeDueDeletions = keys.purgeDueDeletions.bind(keys);
    this.rotateKey = keys.rotateKey.bind(keys);
    this.setRotationPeriod = keys.setRotationPeriod.bind(keys);
    this.rotationStatus = keys.rotationStatus.bind(keys);
    this.rotateDueKeys = keys.rotateDueKeys.bind(keys);
    this.setAliases = keys.setAliases.bind(keys);
    this.setTags = keys.setTags.bind(keys);
    const ops = new Operations(core);
    this.encrypt = ops.encrypt.bind(ops);
    this.decrypt = ops.decrypt.bind(ops);
    this.sign = ops.sign.bind(ops);
    this.verify = ops.verify.bind(ops);
    this.digest = ops.digest.bind(ops);
    this.randomBytes = ops.randomBytes.bind(ops);
    this.wrapKey = ops.wrapKey.bind(ops);
    this.unwrapKey = ops.unwrapKey.bind(ops);
    this.deriveKey = ops.deriveKey.bind(ops);
    this.encapsulate = ops.encapsulate.bind(ops);
    this.decapsulate = ops.decapsulate.bind(ops);
    this.decryptWithIndicator = ops.decryptWithIndicator.bind(ops);
    this.verifyWithIndicator = ops.verifyWithIndicator.bind(ops);
    this.digestWithIndicator = ops.digestWithIndicator.bind(ops);
    this.unwrapKeyWithIndicator = ops.unwrapKeyWithIndicator.bind(ops);
    this.deriveKeyWithIndicator = ops.deriveKeyWithIndicator.bind(ops);
    this.decapsulateWithIndicator = ops.decapsulateWithIndicator.bind(ops);
    const protection = new SelfProtection(core);
    this.runSelfTests = protection.runSelfTests.bind(protection);
    this.zeroize = protection.zeroize.bind(protection);
    this.reportTamper = protection.reportTamper.bind(protection);
    const ceremony = new Ceremony(core);
    this.initializeWithShares = ceremony.initializeWithShares.bind(ceremony);
    this.submitUnsealShare = ceremony.submitUnsealShare.bind(ceremony);
    this.sealModule = ceremony.sealModule.bind(ceremony);
    this.rekeyInit = ceremony.rekeyInit.bind(ceremony);
    this.rekeyCancel = ceremony.rekeyCancel.bind(ceremony);
    this.submitRekeyShare = ceremony.submitRekeyShare.bind(ceremony);
    this.rotateMasterKey = ceremony.rotateMasterKey.bind(ceremony);
    this.ceremonyStatus = ceremony.ceremonyStatus.bind(ceremony);
    const quorum = new Quorum(core);
    this.quorumPolicy = quorum.quorumPolicy.bind(quorum);
    this.setQuorumPolicy = quorum.setQuorumPolicy.bind(quorum);
    this.listQuorumRequests = quorum.listQuorumRequests.bind(quorum);
    this.showQuorumRequest = quorum.showQuorumRequest.bind(quorum);
    this.approveQuorumRequest = quorum.approveQuorumRequest.bind(quorum);
    this.rejectQuorumRequest = quorum.rejectQuorumRequest.bind(quorum);
    const backup = new Backup(core);
    this.exportBackup = backup.exportBackup.bind(backup);
    this.restoreBackup = backup.restoreBackup.bind(backup);
    const payment = new Payment(core);
    this.paymentKeyCheckValue = payment.keyCheckValue.bind(payment);
    this.paymentRegisterDecimalisationTable = payment.registerDecimalisationTable.bind(payment);
    this.paymentTranslatePin = payment.translatePin.bind(payment);
    this.paymentGenerateIbm3624Offset = payment.generateIbm3624Offset.bind(payment);
    this.paymentVerifyPinIbm3624 = payment.verifyPinIbm3624.bind(payment);
    this.paymentGeneratePvv = payment.generatePvv.bind(payment);
    this.paymentVerifyPvv = payment.verifyPvv.bind(payment);
    this.paymentGenerateCvv = payment.generateCvv.bind(payment);
    this.paymentVerifyCvv = payment.verifyCvv.bind(payment);
    this.paymentVerifyCvc3 = payment.verifyCvc3.bind(payment);
    this.paymentVerifyArqc = payment.verifyArqc.bind(payment);
    this.paymentGenerateMac = payment.generateMac.bind(payment);
    this.paymentVerifyMac = payment.verifyMac.bind(payment);
    const paymentKeys = paymentKeysOf(core);
    this.paymentExportKeyBlock = paymentKeys.exportKeyBlock.bind(paymentKeys);
    this.paymentImportKeyBlock = paymentKeys.importKeyBlock.bind(paymentKeys);
    this.paymentCreatePartitionKbpk = paymentKeys.createPartitionKbpk.bind(paymentKeys);
    this.paymentSetPartitionPolicy = paymentKeys.setPartitionPolicy.bind(paymentKeys);
    const components = new PaymentComponents(core);
    this.paymentBeginComponents = components.beginComponents.bind(components);
    this.paymentEnterComponent = components.enterComponent.bind(components);
    this.paymentConfirmComponents = components.confirmComponents.bind(components);
    this.paymentTranslatePinFromDukpt = payment.translatePinFromDukpt.bind(payment);
    this.paymentVerifyDukptMac = payment.verifyDukptMac.bind(payment);
    this.paymentGenerateDukptMac = payment.generateDukptMac.bind(payment);
    this.paymentDecryptDukptData = payment.decryptDukptData.bind(payment);
    this.paymentGrant = payment.grant.bind(payment);
    this.paymentResetAttempts = payment.resetAttempts.bind(payment);
    this.paymentSetAttemptLimit = payment.setAttemptLimit.bind(payment);
    const accessKeys = new AccessKeys(core);
    this.createAccessKey = accessKeys.createAccessKey.bind(accessKeys);
    this.listAccessKeys = accessKeys.listAccessKeys.bind(accessKeys);
    this.deleteAccessKey = accessKeys.deleteAccessKey.bind(accessKeys);
    this.verifySigV4 = accessKeys.verifySigV4.bind(accessKeys);
    const dataKeys = new DataKeys(core, ops);
    this.insecureGenerateDataKey = dataKeys.insecureGenerateDataKey.bind(dataKeys);
    this.reEncrypt = dataKeys.reEncrypt.bind(dataKeys);
    this.insecureGenerateDataKeyPair = dataKeys.insecureGenerateDataKeyPair.bind(dataKeys);
    this.insecureDeriveSharedSecret = dataKeys.insecureDeriveSharedSecret.bind(dataKeys);
  }

  /** Opens the store, runs every self-test before service, and unseals an initialised store if given a master key. */
  static async open(options: HsmOptions): Promise<Hsm> {
    const core = new ModuleCore(openVault(options.store), options);
    await core.runSelfTests(options.forceSelfTestFailure);
    // Only unseal: initialising here would leave an unsealed store with no account that could ever log in.
    if (options.masterKey && core.state === 'sealed') core.unseal(options.masterKey);
    else if (options.masterKey && core.state === 'error') flushPendingAudit(core, options.masterKey); // the failure reaches the audit log
    return new Hsm(core);
  }

  status(): ModuleStatus {
    return this.#core.status();
  }

  /** Creates the store's key hierarchy from `masterKey` and the first admin account. */
  initialize(masterKey: SecretBytes, admin: { name: string; password: string }): Promise<void> {
    return this.#core.initialize(masterKey, admin);
  }

  unseal(masterKey: SecretBytes): void {
    this.#core.unseal(masterKey);
  }

  seal(): void {
    this.#core.seal();
  }

  close(): void {
    this.#core.close();
  }
}
