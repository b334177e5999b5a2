// What a host command is: a row with its request and response fields (decoded and encoded by
// fields.ts) and a handler that calls the boundary API. A handler answers an error code and,
// when it is '00', the response values; refusals from the boundary are thrown as HsmError and
// mapped by error-codes.ts.

import type { Hsm } from '../../boundary/api.js';
import type { Decoded, RequestField, ResponseField, ResponseValues } from './fields.js';

export interface CommandContext {
  hsm: Hsm;
  /** Runs `fn` with the port's boundary session, logging in again once if that session has ended. */
  call<T>(fn: (session: string) => Promise<T>): Promise<T>;
}

export type CommandResult = { error: string; values?: ResponseValues };

export interface CommandRow {
  code: string;
  name: string;
  request: readonly RequestField[];
  response: readonly ResponseField[];
  run(ctx: CommandContext, f: Decoded): Promise<CommandResult>;
}

export const ok = (values: ResponseValues = {}): CommandResult => ({ error: '00', values });
export const fail = (error: string): CommandResult => ({ error });
