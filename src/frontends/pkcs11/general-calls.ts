// Handlers for the library, slot, token, mechanism, session and login calls (PKCS#11 v3.0
// §5.4–5.6). Login goes to the boundary; the PIN is `<account>:<password>`, or just the password
// of the configured default account (docs/pkcs11.md).

import { randomBytes } from 'node:crypto';
import { HsmError, isHsmError } from '../../boundary/api.js';
import { type Application, CkrError } from './application.js';
import { callCapacity, listReply } from './output.js';
import type { Args, OutValue } from './codec.js';
import { CKF, CKR, CKU, UNAVAILABLE } from './constants.js';
import { mechanismFacts, slotMechanisms } from './mechanisms.js';
import { padded } from './slots.js';

export type Handler = (app: Application, a: Args) => Promise<OutValue[]> | OutValue[];

/** p11-kit's handshake string in C_Initialize (reference §5). */
const HANDSHAKE = 'PRIVATE-GNOME-KEYRING-PKCS11-PROTOCOL-V-1';
const VERSION = [0, 1] as const;
const CRYPTOKI = [2, 40] as const;
/** p11-kit 0.25+ hands applications a PKCS#11 3.0 function list, and Coffer answers the 3.0 calls on it. */
const CRYPTOKI_3 = [3, 0] as const;
const MANUFACTURER = 'Coffer';
const MAX_PIN = 255;
const MIN_PIN = 1;
/** Random bytes one call may ask for without a login. */
const MAX_PUBLIC_RANDOM = 64 * 1024;

/** Account names as the boundary allows them (no colon), so `<account>:<password>` splits unambiguously. */
const ACCOUNT = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

function parsePin(pin: Uint8Array, fallback: string | undefined): { user: string; password: string } {
  const text = Buffer.from(pin).toString('utf8');
  const colon = text.indexOf(':');
  if (colon > 0 && ACCOUNT.test(text.slice(0, colon))) return { user: text.slice(0, colon), password: text.slice(colon + 1) };
  // No account named: the configured default account, or a refusal that looks like any wrong PIN.
  if (!fallback) throw new CkrError(CKR.PIN_INCORRECT);
  return { user: fallback, password: text };
}

/** C_Login and C_LoginUser: the PKCS#11 checks, then the boundary decides on the credentials `who` gives (undefined: refused as a wrong PIN). */
async function login(
  app: Application,
  handle: number,
  userType: number,
  who: (fallback: string | undefined) => { user: string; password: string } | undefined,
): Promise<OutValue[]> {
  const s = app.session(handle);
  if (userType !== CKU.SO && userType !== CKU.USER) {
    // CKU_CONTEXT_SPECIFIC: no key here needs per-operation login (CKA_ALWAYS_AUTHENTICATE is always false).
    throw new CkrError(userType === CKU.CONTEXT_SPECIFIC ? CKR.OPERATION_NOT_INITIALIZED : CKR.USER_TYPE_INVALID);
  }
  const current = app.logins.get(s.slot.id);
  if (current) throw new CkrError(current.userType === userType ? CKR.USER_ALREADY_LOGGED_IN : CKR.USER_ANOTHER_ALREADY_LOGGED_IN);
  // PKCS#11 v3.0 §5.6 C_Login: the SO may not log in while read-only sessions exist.
  if (userType === CKU.SO && [...app.sessions.values()].some((x) => x.slot.id === s.slot.id && !x.rw)) throw new CkrError(CKR.SESSION_READ_ONLY_EXISTS);
  const credentials = who(userType === CKU.SO ? app.ctx.defaultAccounts.officer : app.ctx.defaultAccounts.user);
  if (!credentials) throw new CkrError(CKR.PIN_INCORRECT);
  const { user, password } = credentials;
  let result: Awaited<ReturnType<typeof app.hsm.login>>;
  try {
    result = await app.hsm.login({ user, password });
  } catch (e) {
    if (isHsmError(e, 'PIN_LOCKED')) app.ctx.locked.add(user);
    throw e;
  }
  app.ctx.locked.delete(user);
  const wantRole = userType === CKU.SO ? 'officer' : 'user';
  if (result.role !== wantRole || result.partition !== s.slot.partition) {
    // A right password for the wrong token or role is still the wrong PIN here: no principal crosses slots (attacks.md A-22).
    app.hsm.logout(result.session);
    throw new HsmError('PIN_INCORRECT');
  }
  app.logins.set(s.slot.id, { userType, session: result.session });
  return [];
}

export const GENERAL_CALLS: Record<string, Handler> = {
  C_Initialize(app, a) {
    const hs = a.ay(0);
    if (!hs || Buffer.from(hs).toString('latin1') !== HANDSHAKE) throw new CkrError(CKR.GENERAL_ERROR, 'bad handshake');
    if (app.initialized) throw new CkrError(CKR.CRYPTOKI_ALREADY_INITIALIZED);
    app.initialized = true;
    return [];
  },

  C_Finalize(app) {
    app.finalize();
    return [];
  },

  C_GetInfo(_app, a) {
    return [a.dialect.version >= 1 ? CRYPTOKI_3 : CRYPTOKI, padded(MANUFACTURER, 32), 0, padded('Coffer software HSM', 32), VERSION];
  },

  C_GetSlotList(app, a) {
    return [listReply(app.ctx.slots.slots.map((s) => s.id), a.fu(1))];
  },

  C_GetSlotInfo(app, a) {
    const slot = app.slot(a.u(0));
    return [padded(`Coffer partition ${slot.partition}`, 64), padded(MANUFACTURER, 32), CKF.TOKEN_PRESENT, VERSION, VERSION];
  },

  C_GetTokenInfo(app, a) {
    const slot = app.slot(a.u(0));
    let flags = CKF.RNG | CKF.LOGIN_REQUIRED | CKF.USER_PIN_INITIALIZED | CKF.RESTORE_KEY_NOT_NEEDED | CKF.TOKEN_INITIALIZED;
    const { user, officer } = app.ctx.defaultAccounts;
    if (user && app.ctx.locked.has(user)) flags |= CKF.USER_PIN_LOCKED;
    if (officer && app.ctx.locked.has(officer)) flags |= CKF.SO_PIN_LOCKED;
    let sessions = 0;
    let rw = 0;
    for (const s of app.sessions.values()) {
      if (s.slot.id !== slot.id) continue;
      sessions++;
      if (s.rw) rw++;
    }
    const now = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
    return [
      padded(slot.partition, 32),
      padded(MANUFACTURER, 32),
      padded('Coffer', 16),
      padded(slot.serial, 16),
      flags,
      0, // ulMaxSessionCount: CK_EFFECTIVELY_INFINITE
      sessions,
      0,
      rw,
      MAX_PIN,
      MIN_PIN,
      UNAVAILABLE,
      UNAVAILABLE,
      UNAVAILABLE,
      UNAVAILABLE,
      VERSION,
      VERSION,
      padded(`${now}00`, 16), // YYYYMMDDhhmmss00 (PKCS#11 v3.0 §3.2 utcTime)
    ];
  },

  C_GetMechanismList(app, a) {
    app.slot(a.u(0));
    return [listReply(slotMechanisms().map((m) => m.ckm as number), a.fu(1))];
  },

  C_GetMechanismInfo(app, a) {
    app.slot(a.u(0));
    const m = slotMechanisms().find((x) => x.ckm === a.u(1));
    if (!m) throw new CkrError(CKR.MECHANISM_INVALID);
    const f = mechanismFacts(m);
    return [f.min, f.max, f.flags];
  },

  C_OpenSession(app, a) {
    const slot = app.slot(a.u(0));
    const flags = a.u(1);
    // PKCS#11 v3.0 §5.6: CKF_SERIAL_SESSION must be set, for legacy reasons.
    if (!(flags & CKF.SERIAL_SESSION)) throw new CkrError(CKR.SESSION_PARALLEL_NOT_SUPPORTED);
    const rw = (flags & CKF.RW_SESSION) !== 0;
    const login = app.logins.get(slot.id);
    if (!rw && login?.userType === CKU.SO) throw new CkrError(CKR.SESSION_READ_WRITE_SO_EXISTS);
    return [app.openSession(slot, rw)];
  },

  C_CloseSession(app, a) {
    const s = app.session(a.u(0));
    app.closeSession(s.handle);
    // The last session of a slot closing ends the login there (PKCS#11 v3.0 §5.6 C_CloseSession).
    if (![...app.sessions.values()].some((x) => x.slot.id === s.slot.id)) app.logout(s.slot.id);
    return [];
  },

  C_CloseAllSessions(app, a) {
    const slot = app.slot(a.u(0));
    for (const s of [...app.sessions.values()]) if (s.slot.id === slot.id) app.closeSession(s.handle);
    app.logout(slot.id);
    return [];
  },

  C_GetSessionInfo(app, a) {
    const s = app.session(a.u(0));
    return [s.slot.id, app.sessionState(s), CKF.SERIAL_SESSION | (s.rw ? CKF.RW_SESSION : 0), 0];
  },

  C_Login(app, a) {
    const pin = a.ay(2);
    return login(app, a.u(0), a.u(1), (fallback) => (pin && pin.length > 0 ? parsePin(pin, fallback) : undefined));
  },

  // PKCS#11 v3.0 §5.6 C_LoginUser: the username names the Coffer account, the PIN is its password alone.
  C_LoginUser(app, a) {
    const pin = a.ay(2);
    const username = a.ay(3);
    if (username === null) throw new CkrError(CKR.ARGUMENTS_BAD);
    const user = Buffer.from(username).toString('utf8');
    return login(app, a.u(0), a.u(1), () => {
      // An account name the boundary could never hold is answered like any wrong PIN (no account oracle).
      if (!pin || pin.length === 0 || !ACCOUNT.test(user)) return undefined;
      return { user, password: Buffer.from(pin).toString('utf8') };
    });
  },

  C_Logout(app, a) {
    const s = app.session(a.u(0));
    if (!app.logins.has(s.slot.id)) throw new CkrError(CKR.USER_NOT_LOGGED_IN);
    app.logout(s.slot.id);
    return [];
  },

  C_GenerateRandom(app, a) {
    const s = app.session(a.u(0));
    const n = callCapacity(a.fy(1));
    if (n === 0) return [{ data: new Uint8Array(0) }]; // reference §4.3: never a size query; 0 bytes is `01 00000000`
    const login = app.logins.get(s.slot.id);
    // Logged in: the boundary's generator. Public sessions may ask for random too (PKCS#11 allows it); same OpenSSL DRBG.
    if (login) return [{ data: app.hsm.randomBytes(login.session, n) }];
    if (n > MAX_PUBLIC_RANDOM) throw new CkrError(CKR.DATA_LEN_RANGE);
    return [{ data: new Uint8Array(randomBytes(n)) }];
  },

  C_SeedRandom(app, a) {
    app.session(a.u(0));
    // PKCS#11 v3.0 §5.16: a token whose generator takes no seed answers CKR_RANDOM_SEED_NOT_SUPPORTED.
    throw new CkrError(0x120);
  },

  C_WaitForSlotEvent() {
    throw new CkrError(CKR.FUNCTION_NOT_SUPPORTED);
  },
};
