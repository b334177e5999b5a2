// Every REST route table, in the order they appear in the OpenAPI document.

import type { RouteDef } from '../route.js';
import { AUDIT_ROUTES } from './audit.js';
import { AUTH_ROUTES } from './auth.js';
import { BACKUP_ROUTES } from './backup.js';
import { CEREMONY_ROUTES } from './ceremony.js';
import { CRYPTO_ROUTES } from './crypto.js';
import { KEY_OP_ROUTES } from './key-ops.js';
import { KEY_ROUTES } from './keys.js';
import { PARTITION_ROUTES } from './partitions.js';
import { PAYMENT_ROUTES } from './payments.js';
import { QUORUM_ROUTES } from './quorum.js';
import { SELF_PROTECTION_ROUTES } from './self-protection.js';
import { SYS_ROUTES } from './sys.js';
import { USER_ROUTES } from './users.js';

export const ALL_ROUTES: readonly RouteDef[] = [...SYS_ROUTES, ...SELF_PROTECTION_ROUTES, ...CEREMONY_ROUTES, ...BACKUP_ROUTES, ...AUTH_ROUTES, ...PARTITION_ROUTES, ...USER_ROUTES, ...KEY_ROUTES, ...KEY_OP_ROUTES, ...CRYPTO_ROUTES, ...PAYMENT_ROUTES, ...AUDIT_ROUTES, ...QUORUM_ROUTES];
