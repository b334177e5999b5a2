// Naming a key on the command line: `--key K` or the first argument, where K is a uid or
// `alias/<name>`; and fetching its description, which the defaults (mechanism, MAC or signature)
// are chosen from.

import { optString, UsageError } from './args.js';
import type { Context } from './command.js';
import { RestClient } from './rest-client.js';

export type KeyDescription = Record<string, unknown> & { uid: string; class?: string; keyType?: string; curve?: string };

export function keyArg(ctx: Context, option = 'key'): string {
  const fromOption = optString(ctx.args, option);
  const fromArg = option === 'key' ? ctx.args.positionals[0] : undefined;
  if (fromOption !== undefined && fromArg !== undefined) throw new UsageError(`give the key once: --${option} or an argument, not both`);
  const k = fromOption ?? fromArg;
  if (!k) throw new UsageError(`missing required option --${option} (a key uid or alias/<name>)`);
  return k;
}

export async function describeKey(ctx: Context, id: string): Promise<KeyDescription> {
  return (await ctx.client.request<{ key: KeyDescription }>('GET', RestClient.keyPath(id))).body.key;
}

/** `--params '{"aad":"…"}'`: mechanism parameters as the REST API takes them (bytes in base64). */
export function paramsArg(ctx: Context): Record<string, unknown> | undefined {
  const raw = optString(ctx.args, 'params');
  if (raw === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new UsageError('--params must be a JSON object, e.g. \'{"aad":"aGVsbG8="}\'');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError('--params must be a JSON object');
  return v as Record<string, unknown>;
}
