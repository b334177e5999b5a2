// One request body in, one response body out: header echoed, command looked up, fields decoded by
// the row, the handler run against the boundary, the error code mapped, response fields encoded.
// Nothing a client sends makes this throw: every fault becomes an error code on the wire.

import { isHsmError } from '../../boundary/api.js';
import type { CommandContext } from './command.js';
import { COMMANDS } from './command-table.js';
import { hostErrorFor } from './error-codes.js';
import { decodeFields, END_DELIMITER, encodeFields } from './fields.js';
import { encodeFrameParts } from './frame.js';
import { HostError } from './host-error.js';

/** payShield's response code: the command code with its second character advanced (A0 → A1, CA → CB). */
export function responseCode(command: string): string {
  if (!/^[A-Z0-9]{2}$/.test(command)) return 'ZZ';
  return `${command[0]}${String.fromCharCode(command.charCodeAt(1) + 1)}`;
}

export type Fault = (e: unknown, command: string) => void;

export async function dispatch(body: Buffer, headerLength: number, ctx: CommandContext, onFault: Fault = () => {}): Promise<Buffer> {
  return Buffer.concat(await answer(body, headerLength, ctx, onFault));
}

/** The same answer, length-prefixed for the wire: the frame is built once, from the parts. */
export async function dispatchFrame(body: Buffer, headerLength: number, ctx: CommandContext, onFault: Fault = () => {}): Promise<Buffer> {
  return encodeFrameParts(await answer(body, headerLength, ctx, onFault));
}

/** The response body as parts, in order. */
async function answer(body: Buffer, headerLength: number, ctx: CommandContext, onFault: Fault): Promise<Buffer[]> {
  const header = body.subarray(0, Math.min(headerLength, body.length));
  if (body.length < headerLength + 2) return [header, Buffer.from('ZZ15', 'latin1')];
  const command = body.subarray(headerLength, headerLength + 2).toString('latin1');
  const rc = responseCode(command);
  const row = COMMANDS.get(command);
  if (!row) return [header, Buffer.from(`${rc}68`, 'latin1')];
  let error: string;
  let fields: Buffer[] = [];
  let trailer: Buffer | undefined;
  try {
    const f = decodeFields(row.request, body, headerLength + 2);
    trailer = f.trailer;
    const r = await row.run(ctx, f);
    error = r.error;
    if (r.error === '00') fields = encodeFields(row.response, r.values ?? {});
  } catch (e) {
    if (e instanceof HostError) error = e.code;
    else if (isHsmError(e)) error = hostErrorFor(e.code);
    else {
      // Our bug, not the client's: answer "error in input data", tell the operator, keep serving.
      error = '15';
      onFault(e, command);
    }
    fields = [];
  }
  const tail = trailer ? [Buffer.from([END_DELIMITER]), trailer] : [];
  return [header, Buffer.from(`${rc}${error}`, 'latin1'), ...fields, ...tail];
}
