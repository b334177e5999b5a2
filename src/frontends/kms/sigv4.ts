// SigV4 request authentication for the KMS front end (AWS Signature Version 4). The front end
// canonicalises the received request (headers via @smithy/signature-v4) and builds the string to
// sign; the boundary (Hsm.verifySigV4) holds the secret and checks the signature. Requests outside
// a ±5 minute window are refused, and a signature is accepted once (replay cache over that window).

import { createHash } from 'node:crypto';
import { getCanonicalHeaders, getCanonicalQuery } from '@smithy/signature-v4';
import type { Hsm } from '../../boundary/api.js';
import { KmsError } from './errors.js';

export const MAX_SKEW_MS = 5 * 60_000;
const ALGORITHM = 'AWS4-HMAC-SHA256';
// Authorization: AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/<service>/aws4_request, SignedHeaders=a;b, Signature=<hex>
const AUTH = /^AWS4-HMAC-SHA256 Credential=([A-Za-z0-9]{1,128})\/(\d{8})\/([a-z0-9-]{1,64})\/([a-z0-9-]{1,64})\/aws4_request, ?SignedHeaders=([a-z0-9;._-]{1,2048}), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export interface ReceivedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface Caller {
  /** The access key the request was signed with (the rate limit's bucket). */
  accessKeyId: string;
  session: string;
  user: string;
  partition: string;
  region: string;
}

/** Remembers accepted signatures for the skew window, so a captured request cannot be replayed. */
export class ReplayCache {
  readonly #seen = new Map<string, number>();
  constructor(readonly max = 200_000) {}

  /** True the first time a signature is seen within its window. */
  admit(signature: string, at: number): boolean {
    if (this.#seen.size >= this.max) this.sweep(at);
    if (this.#seen.has(signature)) return false;
    if (this.#seen.size >= this.max) throw new KmsError('LimitExceededException', 'too many requests in the signature window');
    this.#seen.set(signature, at + 2 * MAX_SKEW_MS);
    return true;
  }

  sweep(at: number): void {
    for (const [k, until] of this.#seen) if (until < at) this.#seen.delete(k);
  }
}

export async function authenticate(hsm: Hsm, req: ReceivedRequest, replay: ReplayCache, nowMs = Date.now()): Promise<Caller> {
  const auth = header(req.headers, 'authorization');
  if (!auth) throw new KmsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const m = AUTH.exec(auth);
  if (!m) throw new KmsError('InvalidSignatureException', 'malformed Authorization header');
  const [, accessKeyId, date, region, service, signedList, signature] = m as unknown as [string, string, string, string, string, string, string];
  if (service !== 'kms') throw new KmsError('InvalidSignatureException', 'the credential scope must name the kms service');
  const amzDate = header(req.headers, 'x-amz-date');
  const d = amzDate ? AMZ_DATE.exec(amzDate) : null;
  if (!amzDate || !d) throw new KmsError('InvalidSignatureException', 'X-Amz-Date is required');
  if (amzDate.slice(0, 8) !== date) throw new KmsError('InvalidSignatureException', 'the credential scope date does not match X-Amz-Date');
  const signedAt = Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!);
  if (Math.abs(nowMs - signedAt) > MAX_SKEW_MS) {
    // AWS's wording for a request outside the window; the SDK recognises it as clock skew.
    throw new KmsError('InvalidSignatureException', `Signature expired: ${amzDate} is outside the 5 minute window around ${new Date(nowMs).toISOString()}`);
  }
  const signed = signedList.split(';');
  if (!signed.includes('host') || !signed.includes('x-amz-date')) throw new KmsError('InvalidSignatureException', 'host and x-amz-date must be signed');
  const present: Record<string, string> = {};
  for (const name of signed) {
    const v = header(req.headers, name);
    if (v === undefined) throw new KmsError('InvalidSignatureException', `signed header ${name} is missing`);
    present[name] = v;
  }
  const payloadHash = createHash('sha256').update(req.body).digest('hex');
  const claimed = header(req.headers, 'x-amz-content-sha256');
  if (claimed !== undefined && claimed !== payloadHash) throw new KmsError('InvalidSignatureException', 'x-amz-content-sha256 does not match the body');
  // Canonical headers: lower-case names, trimmed values with runs of spaces folded (@smithy/signature-v4).
  const canonical = getCanonicalHeaders({ method: req.method, protocol: 'https:', hostname: present.host!, path: req.path, headers: present }, new Set(), new Set(signed));
  const canonicalHeaders = Object.keys(canonical)
    .sort()
    .map((k) => `${k}:${canonical[k]}\n`)
    .join('');
  const query = getCanonicalQuery({ method: req.method, protocol: 'https:', hostname: present.host!, path: req.path, headers: {}, query: req.query });
  // SigV4 canonical request: method, URI, query, headers, signed header list, payload hash.
  const canonicalRequest = [req.method, canonicalPath(req.path), query, canonicalHeaders, signed.join(';'), payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  let who: { session: string; user: string; partition: string };
  try {
    who = await hsm.verifySigV4({ accessKeyId, date, region, service, stringToSign, signature });
  } catch {
    throw new KmsError('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
  }
  if (!replay.admit(signature, nowMs)) throw new KmsError('InvalidSignatureException', 'the request was already received (replay)');
  return { ...who, region, accessKeyId };
}

/** The SDK signs the path URI-encoded once per segment (SigV4 for non-S3 services encodes it twice; KMS uses "/"). */
function canonicalPath(path: string): string {
  if (path === '/' || path === '') return '/';
  return path
    .split('/')
    .map((seg) => encodeURIComponent(encodeURIComponent(decodeURIComponent(seg))))
    .join('/');
}

function header(h: ReceivedRequest['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}
