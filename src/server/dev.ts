// Dev mode, as `vault server -dev` taught people to expect: first start initialises the store,
// creates partition `default` with an officer and a user plus an admin and an auditor, and
// writes their passwords to <data>/dev-credentials.json (0600), printed once. Every start
// auto-unseals from the key file and says loudly that this is insecure.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hsm, SecretBytes } from '../boundary/api.js';

export interface DevCredentials {
  partition: string;
  accounts: { name: string; role: string; partition?: string; password: string }[];
}

export interface DevSetup {
  created: boolean;
  credentialsFile: string;
  credentials: DevCredentials;
  /** Boundary session of the partition user, for the token printed at start-up. */
  userSession: string;
  banner(address: string, token: string): string[];
}

const PARTITION = 'default';
const password = (): string => randomBytes(18).toString('base64url');

export async function setUpDev(hsm: Hsm, key: SecretBytes, dataDir: string): Promise<DevSetup> {
  const credentialsFile = join(dataDir, 'dev-credentials.json');
  let created = false;
  let credentials: DevCredentials;
  if (hsm.status().state === 'uninitialized') {
    credentials = {
      partition: PARTITION,
      accounts: [
        { name: 'admin', role: 'admin', password: password() },
        { name: 'auditor', role: 'auditor', password: password() },
        { name: 'officer', role: 'officer', partition: PARTITION, password: password() },
        { name: 'dev', role: 'user', partition: PARTITION, password: password() },
      ],
    };
    const [admin, auditor, officer, user] = credentials.accounts as [DevCredentials['accounts'][0], DevCredentials['accounts'][0], DevCredentials['accounts'][0], DevCredentials['accounts'][0]];
    await hsm.initialize(key, { name: admin.name, password: admin.password });
    const s = (await hsm.login({ user: admin.name, password: admin.password })).session;
    hsm.createPartition(s, { name: PARTITION, label: 'Development partition' });
    await hsm.createUser(s, { name: auditor.name, password: auditor.password, role: 'auditor' });
    await hsm.createUser(s, { name: officer.name, password: officer.password, role: 'officer', partition: PARTITION });
    await hsm.createUser(s, { name: user.name, password: user.password, role: 'user', partition: PARTITION });
    hsm.logout(s);
    writeFileSync(credentialsFile, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    created = true;
  } else {
    hsm.unseal(key);
    if (!existsSync(credentialsFile)) throw new Error(`dev mode: ${credentialsFile} is missing; remove ${dataDir} to start afresh`);
    credentials = JSON.parse(readFileSync(credentialsFile, 'utf8')) as DevCredentials;
  }
  const user = credentials.accounts.find((a) => a.role === 'user');
  if (!user) throw new Error(`dev mode: no user account in ${credentialsFile}`);
  const userSession = (await hsm.login({ user: user.name, password: user.password })).session;
  return {
    created,
    credentialsFile,
    credentials,
    userSession,
    banner(address, token) {
      const lines = [
        '',
        '==================================================================================',
        ' WARNING: Coffer is running in DEV MODE. The master key is in a plain key file and',
        ' the store unseals itself at start. This is INSECURE: never keep real keys here.',
        '==================================================================================',
        '',
        ` Data directory:   ${dataDir}`,
        ` Master key file:  ${join(dataDir, 'master.key')} (INSECURE)`,
        ` Credentials file: ${credentialsFile} (mode 0600)`,
      ];
      if (created) {
        lines.push('', ' Accounts created (shown once; also in the credentials file):');
        for (const a of credentials.accounts) lines.push(`   ${a.role.padEnd(8)} ${a.name.padEnd(8)} ${a.partition ? `partition ${a.partition}  ` : ''}password ${a.password}`);
      }
      lines.push('', ` Paste this to use the coffer CLI as '${user.name}' (partition ${PARTITION}):`, '', `   export COFFER_ADDR=${address} COFFER_TOKEN=${token}`, '');
      return lines;
    },
  };
}
