// `coffer key sign|verify|encrypt|decrypt|wrap|unwrap`: operations with a key, file in, file out,
// so they pipe. Signatures are raw binary by default (ECDSA in DER, as openssl expects) or base64
// with --base64; ciphertexts are the server's `coffer:v<n>:<mechanism>:…` envelope text.

import { optBool, optList, optString, UsageError } from '../args.js';
import type { CommandDef, Context } from '../command.js';
import { CliError, EXIT } from '../exit-codes.js';
import { readInput, writeOutput } from '../file-io.js';
import { defaultEncryptMechanism, defaultSignMechanism, defaultWrapMechanism, isMacKey, KEY_TYPES, USAGES } from '../key-defaults.js';
import { describeKey, type KeyDescription, keyArg, paramsArg } from '../key-ref.js';
import { RestClient } from '../rest-client.js';
import { renderRecord } from '../table.js';

const KEY = { name: 'key', short: 'k', kind: 'string', value: 'KEY', help: 'key uid or alias/<name>' } as const;
const MECH = { name: 'mechanism', short: 'm', kind: 'string', value: 'MECH', help: 'mechanism (default chosen by key type)' } as const;
const IN = { name: 'in', short: 'i', kind: 'string', value: 'FILE', help: 'input file (default or -: stdin)' } as const;
const OUT = { name: 'out', short: 'o', kind: 'string', value: 'FILE', help: 'output file (default or -: stdout)' } as const;
const PARAMS = { name: 'params', kind: 'string', value: 'JSON', help: 'mechanism parameters as JSON, bytes in base64 (e.g. {"aad":"…"})' } as const;
const B64 = { name: 'base64', kind: 'boolean', help: 'signature as base64 text instead of raw bytes' } as const;

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

function mechanismOr(ctx: Context, fallback: () => string): string {
  return optString(ctx.args, 'mechanism') ?? fallback();
}

function withParams(ctx: Context, body: Record<string, unknown>): Record<string, unknown> {
  const params = paramsArg(ctx);
  if (params) body.params = params;
  return body;
}

/** Signature file contents → bytes: raw, or base64 text with --base64. */
function signatureBytes(ctx: Context, raw: Buffer): Buffer {
  if (!optBool(ctx.args, 'base64')) return raw;
  const text = raw.toString('utf8').trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new CliError('the signature file is not base64', EXIT.USAGE, 'SIGNATURE_NOT_BASE64', 'drop --base64 for a binary signature file');
  return Buffer.from(text, 'base64');
}

/**
 * The half of a pair an operation needs: a pair is one key to its user, so `--key` may name
 * either half (the private key signs and decrypts, the public key verifies and encrypts).
 */
function half(key: KeyDescription, want: 'private-key' | 'public-key'): string {
  return key.class !== want && (key.class === 'private-key' || key.class === 'public-key') && typeof key.peer === 'string' && key.peer !== '' ? key.peer : key.uid;
}

interface WrappedDocument {
  format: 'coffer-wrapped-key/1';
  mechanism: string;
  wrapped: string;
  params?: Record<string, unknown>;
  class?: string;
  keyType?: string;
}

export const KEY_CRYPTO_COMMANDS: CommandDef[] = [
  {
    noun: 'key',
    verb: 'sign',
    summary: 'sign a file (or MAC it, with a secret key)',
    synopsis: '--key K [-m MECH] [-i FILE] [-o FILE] [--base64]',
    options: [KEY, MECH, IN, OUT, B64, PARAMS],
    details:
      'Default mechanisms: ECDSA-SHA256/384/512 by curve (DER signature), SHA256-RSA-PKCS-PSS, EDDSA,\nML-DSA, SLH-DSA; HMAC-SHA256 for hmac keys, AES-CMAC for aes keys. Input up to 1 MiB.',
    examples: ['coffer key sign --key alias/release -i artifact.tgz -o artifact.sig', 'coffer key sign --key alias/release -m ECDSA-SHA384 --base64 < data'],
    async run(ctx) {
      const id = keyArg(ctx);
      const data = await readInput(optString(ctx.args, 'in'));
      const key = await describeKey(ctx, id);
      const mechanism = mechanismOr(ctx, () => defaultSignMechanism(key));
      let sig: string;
      if (isMacKey(key)) {
        sig = (await ctx.client.request<{ mac: string }>('POST', RestClient.keyPath(key.uid, '/mac'), { body: withParams(ctx, { mechanism, data: b64(data) }) })).body.mac;
      } else {
        sig = (await ctx.client.request<{ signature: string }>('POST', RestClient.keyPath(half(key, 'private-key'), '/sign'), { body: withParams(ctx, { mechanism, data: b64(data) }) })).body.signature;
      }
      await writeOutput(optString(ctx.args, 'out'), optBool(ctx.args, 'base64') ? `${sig}\n` : Buffer.from(sig, 'base64'));
      return EXIT.OK;
    },
  },
  {
    noun: 'key',
    verb: 'verify',
    summary: 'check a signature (or MAC): exit 0 valid, 1 invalid',
    synopsis: '--key K [-m MECH] [-i FILE] --signature FILE [--base64]',
    options: [KEY, MECH, IN, { name: 'signature', short: 's', kind: 'string', value: 'FILE', help: 'the signature file' }, B64, PARAMS],
    examples: ['coffer key verify --key alias/release -i artifact.tgz --signature artifact.sig && echo good'],
    async run(ctx) {
      const id = keyArg(ctx);
      const sigPath = optString(ctx.args, 'signature');
      if (!sigPath) throw new UsageError('missing required option --signature');
      const inPath = optString(ctx.args, 'in');
      if ((inPath === undefined || inPath === '-') && sigPath === '-') throw new UsageError('data and signature cannot both come from stdin');
      const signature = signatureBytes(ctx, await readInput(sigPath, 'signature'));
      const data = await readInput(inPath);
      const key: KeyDescription = await describeKey(ctx, id);
      const mechanism = mechanismOr(ctx, () => defaultSignMechanism(key));
      const mac = isMacKey(key);
      const body = withParams(ctx, mac ? { mechanism, data: b64(data), mac: b64(signature) } : { mechanism, data: b64(data), signature: b64(signature) });
      const { body: res } = await ctx.client.request<{ valid: boolean }>('POST', RestClient.keyPath(mac ? key.uid : half(key, 'public-key'), mac ? '/mac-verify' : '/verify'), { body });
      ctx.print({ valid: res.valid, key: key.uid, mechanism }, res.valid ? 'Signature valid.' : 'Signature INVALID.');
      return res.valid ? EXIT.OK : EXIT.NO;
    },
  },
  {
    noun: 'key',
    verb: 'encrypt',
    summary: 'encrypt a file; writes a coffer:v<n>:<mechanism>:… ciphertext',
    synopsis: '--key K [-m MECH] [-i FILE] [-o FILE]',
    options: [KEY, MECH, IN, OUT, PARAMS],
    details: 'Default mechanism: AES-GCM for aes keys (the server picks the IV), RSA-PKCS-OAEP for rsa. Input up to 1 MiB.',
    examples: ['coffer key encrypt --key alias/data-key -i secret.txt -o secret.enc', 'echo hello | coffer key encrypt --key alias/data-key | coffer key decrypt --key alias/data-key'],
    async run(ctx) {
      const id = keyArg(ctx);
      const data = await readInput(optString(ctx.args, 'in'));
      const key = await describeKey(ctx, id);
      const mechanism = mechanismOr(ctx, () => defaultEncryptMechanism(key));
      const { body } = await ctx.client.request<{ ciphertext: string; keyVersion: number; params?: Record<string, unknown> }>('POST', RestClient.keyPath(half(key, 'public-key'), '/encrypt'), {
        body: withParams(ctx, { mechanism, plaintext: b64(data) }),
      });
      if (body.params) ctx.info(`keep these parameters for decryption: --params '${JSON.stringify(body.params)}'`);
      await writeOutput(optString(ctx.args, 'out'), `${body.ciphertext}\n`);
      return EXIT.OK;
    },
  },
  {
    noun: 'key',
    verb: 'decrypt',
    summary: 'decrypt a coffer: ciphertext (version, mechanism and IV read from it)',
    synopsis: '--key K [-i FILE] [-o FILE]',
    options: [KEY, { ...MECH, help: 'mechanism, for raw base64 input that is not a coffer: envelope' }, IN, OUT, PARAMS],
    examples: ['coffer key decrypt --key alias/data-key -i secret.enc -o secret.txt'],
    async run(ctx) {
      const id = keyArg(ctx);
      const ciphertext = (await readInput(optString(ctx.args, 'in'))).toString('utf8').trim();
      if (ciphertext === '') throw new UsageError('no ciphertext on the input');
      const body: Record<string, unknown> = { ciphertext };
      const mechanism = optString(ctx.args, 'mechanism');
      if (mechanism !== undefined) body.mechanism = mechanism;
      const key = await describeKey(ctx, id);
      const { body: res } = await ctx.client.request<{ plaintext: string }>('POST', RestClient.keyPath(half(key, 'private-key'), '/decrypt'), { body: withParams(ctx, body) });
      // Plaintext files are readable by their owner only.
      await writeOutput(optString(ctx.args, 'out'), Buffer.from(res.plaintext, 'base64'), 0o600);
      return EXIT.OK;
    },
  },
  {
    noun: 'key',
    verb: 'wrap',
    summary: 'export a key encrypted under a wrapping key (a JSON document)',
    synopsis: '--key K --wrapping-key W [-m MECH] [-o FILE]',
    options: [{ ...KEY, help: 'the key to export (must be extractable)' }, { name: 'wrapping-key', short: 'w', kind: 'string', value: 'W', help: 'the key to wrap it under' }, MECH, OUT, PARAMS],
    details: 'Default mechanism: AES-KWP (RFC 5649) for aes wrapping keys, RSA-PKCS-OAEP for rsa.',
    examples: ['coffer key wrap --key alias/data-key --wrapping-key alias/kek -o data-key.wrapped'],
    async run(ctx) {
      const id = keyArg(ctx);
      const wrapping = optString(ctx.args, 'wrapping-key');
      if (!wrapping) throw new UsageError('missing required option --wrapping-key');
      const [target, kek] = await Promise.all([describeKey(ctx, id), describeKey(ctx, wrapping)]);
      const mechanism = optString(ctx.args, 'mechanism') ?? defaultWrapMechanism(kek);
      const { body } = await ctx.client.request<{ wrapped: string; params?: Record<string, unknown> }>('POST', RestClient.keyPath(kek.uid, '/wrap'), {
        body: withParams(ctx, { key: target.uid, mechanism }),
      });
      const doc: WrappedDocument = { format: 'coffer-wrapped-key/1', mechanism, wrapped: body.wrapped };
      const params = { ...(paramsArg(ctx) ?? {}), ...(body.params ?? {}) };
      if (Object.keys(params).length > 0) doc.params = params;
      if (target.class) doc.class = target.class;
      if (target.keyType) doc.keyType = target.keyType;
      await writeOutput(optString(ctx.args, 'out'), `${JSON.stringify(doc, null, 2)}\n`);
      return EXIT.OK;
    },
  },
  {
    noun: 'key',
    verb: 'unwrap',
    summary: 'import a key written by coffer key wrap',
    synopsis: '--wrapping-key W [-i FILE] [--label L] [--usage U,U] [--extractable]',
    options: [
      { name: 'wrapping-key', short: 'w', kind: 'string', value: 'W', help: 'the key that unwraps it' },
      IN,
      { name: 'label', short: 'l', kind: 'string', value: 'L', help: 'label of the imported key' },
      { name: 'usage', kind: 'list', value: 'U,U', help: `usages of the imported key (${USAGES.join(', ')}; default by type)` },
      { name: 'extractable', kind: 'boolean', help: 'the imported key may be wrapped again' },
    ],
    examples: ['coffer key unwrap --wrapping-key alias/kek -i data-key.wrapped --label data-key-copy --usage encrypt,decrypt'],
    async run(ctx) {
      const wrapping = optString(ctx.args, 'wrapping-key');
      if (!wrapping) throw new UsageError('missing required option --wrapping-key');
      let doc: WrappedDocument;
      try {
        doc = JSON.parse((await readInput(optString(ctx.args, 'in'), 'wrapped key')).toString('utf8')) as WrappedDocument;
      } catch (e) {
        if (e instanceof CliError) throw e;
        throw new CliError('the input is not a coffer wrapped-key document', EXIT.USAGE, 'WRAPPED_INVALID', "make it with 'coffer key wrap'");
      }
      if (doc?.format !== 'coffer-wrapped-key/1' || typeof doc.wrapped !== 'string' || typeof doc.mechanism !== 'string') {
        throw new CliError('the input is not a coffer wrapped-key document', EXIT.USAGE, 'WRAPPED_INVALID', "make it with 'coffer key wrap'");
      }
      const template: Record<string, unknown> = { class: doc.class ?? 'secret-key', token: true };
      if (doc.keyType) template.keyType = doc.keyType;
      const label = optString(ctx.args, 'label');
      if (label !== undefined) template.label = label;
      if (optBool(ctx.args, 'extractable')) template.extractable = true;
      const cliType = Object.values(KEY_TYPES).find((r) => r.keyType === doc.keyType);
      for (const u of optList(ctx.args, 'usage') ?? cliType?.usage ?? []) {
        if (!(USAGES as readonly string[]).includes(u)) throw new UsageError(`unknown usage ${JSON.stringify(u)}`);
        template[u] = true;
      }
      const body: Record<string, unknown> = { unwrappingKey: wrapping, mechanism: doc.mechanism, wrapped: doc.wrapped, template };
      if (doc.params) body.params = doc.params;
      const res = await ctx.client.request<{ key: KeyDescription }>('POST', '/v1/keys/unwrap', { body });
      ctx.print(res.body, `Imported key ${res.body.key.uid}\n${renderRecord(res.body.key, ['label', 'class', 'keyType', 'valueLen', 'state'], true)}`);
      return EXIT.OK;
    },
  },
];
