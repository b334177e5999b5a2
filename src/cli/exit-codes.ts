// What the `coffer` exit status means, and how a REST error becomes one. Scripts branch on these
// numbers, so they are a contract: docs/cli.md and `coffer --help` list the same table.

export const EXIT = {
  OK: 0,
  /** The operation answered "no" (verify: signature invalid). */
  NO: 1,
  USAGE: 2,
  /** 401/423: no token, expired token, wrong password, locked account. */
  AUTH: 3,
  NOT_FOUND: 4,
  /** 400/403/409/413/415/429 with a code: the server understood and refused. */
  REFUSED: 5,
  UNREACHABLE: 6,
  /** 5xx: the server failed, is sealed or in its error state. */
  SERVER: 7,
  /** A bug in the CLI itself. */
  INTERNAL: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODE_HELP = `Exit codes:
  0  success
  1  the operation answered "no" (key verify: signature invalid)
  2  usage error (unknown option, missing argument)
  3  authentication failed or required (run 'coffer login')
  4  not found (key, user, partition)
  5  refused by the server (policy, bad parameters, wrong key usage)
  6  server unreachable (is it running? check COFFER_ADDR)
  7  server error (5xx, sealed, error state)
  8  internal error in the CLI (a bug: please report it)`;

/** An error the CLI reports as `coffer: <message> (<CODE>)` and `hint: …`, exiting with `exit`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exit: ExitCode,
    readonly code?: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const CODE_HINTS: Record<string, string> = {
  UNAUTHENTICATED: "run 'coffer login' (or set COFFER_TOKEN); tokens expire after an hour by default",
  SESSION_INVALID: "your session has ended; run 'coffer login' again",
  USER_NOT_LOGGED_IN: "run 'coffer login'",
  PIN_INCORRECT: "check the user name and password, then run 'coffer login' again",
  PIN_LOCKED: "an officer or admin can unlock the account: 'coffer user unlock <name>'",
  KEY_HANDLE_INVALID: "list the keys you can see with 'coffer key list'",
  OBJECT_NOT_FOUND: "list the keys you can see with 'coffer key list'",
  USER_TYPE_INVALID: "this role may not do that; 'coffer login --user <name>' as an account that may",
  KEY_FUNCTION_NOT_PERMITTED: "the key's usages do not allow this; see them with 'coffer key show <id>'",
  KEY_STATE_INVALID: "the key is disabled or scheduled for deletion; 'coffer key enable <id>' if it should be used",
  MECHANISM_INVALID: "pick a mechanism the key supports with -m; see 'coffer key sign --help'",
  KEY_TYPE_INCONSISTENT: "the mechanism does not fit this key type; pick another with -m",
  DATA_LEN_RANGE: 'the input is too large for one request (1 MiB); hash or split it first',
  REQUEST_TOO_LARGE: 'the input is too large for one request (1 MiB); hash or split it first',
  SEALED: 'the server is sealed: unseal it (or restart a dev server)',
  LIMIT_EXCEEDED: 'slow down and retry',
  QUORUM_REQUIRED: "the request awaits approvers: they run 'coffer quorum show <id>', then 'coffer quorum approve <id> --digest <digest>'",
};

export function hintFor(code: string | undefined): string | undefined {
  return code ? CODE_HINTS[code] : undefined;
}

/** HTTP status → exit code (the error's code refines the hint, not the number). */
export function exitForStatus(status: number): ExitCode {
  if (status === 401 || status === 423) return EXIT.AUTH;
  if (status === 404) return EXIT.NOT_FOUND;
  if (status >= 500) return EXIT.SERVER;
  return EXIT.REFUSED;
}
