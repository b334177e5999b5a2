// The KMS key-rotation operations on the boundary's key versions: a rotation appends a version,
// new ciphertexts use it and old blobs still decrypt (they name their version). Automatic rotation
// is a period stored on the key; the front end's timer (app.ts) asks the boundary to rotate due keys.

import { KmsError } from './errors.js';
import { keyArn } from './key-ids.js';
import { findKey, type Handler, type KmsContext, type KmsKey, page, usable } from './operations.js';

/** AWS KMS's quota on on-demand rotations per key. */
export const MAX_ON_DEMAND_ROTATIONS = 25;
const DEFAULT_PERIOD_DAYS = 365;

/** AWS rotates symmetric encryption keys only; everything else is UnsupportedOperationException. */
async function rotatable(ctx: KmsContext, keyId: unknown): Promise<KmsKey> {
  const k = await findKey(ctx, keyId);
  if (k.keySpec !== 'SYMMETRIC_DEFAULT') throw new KmsError('UnsupportedOperationException', `key rotation is for SYMMETRIC_DEFAULT keys, not ${k.keySpec}`);
  return k;
}

const seconds = (iso: string): number => Date.parse(iso) / 1000;

export const ROTATION_OPERATIONS: Record<string, Handler> = {
  async EnableKeyRotation(ctx, req) {
    const days = req.RotationPeriodInDays === undefined ? DEFAULT_PERIOD_DAYS : Number(req.RotationPeriodInDays);
    if (!Number.isInteger(days) || days < 90 || days > 2560) throw new KmsError('ValidationException', 'RotationPeriodInDays is 90 to 2560');
    const k = await rotatable(ctx, req.KeyId);
    usable(k, ctx);
    await ctx.hsm.setRotationPeriod(ctx.caller.session, k.info.uid, days);
    return {};
  },
  async DisableKeyRotation(ctx, req) {
    const k = await rotatable(ctx, req.KeyId);
    usable(k, ctx);
    await ctx.hsm.setRotationPeriod(ctx.caller.session, k.info.uid, null);
    return {};
  },
  async GetKeyRotationStatus(ctx, req) {
    const k = await rotatable(ctx, req.KeyId);
    const st = await ctx.hsm.rotationStatus(ctx.caller.session, k.info.uid);
    const out: Record<string, unknown> = { KeyId: keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid), KeyRotationEnabled: st.periodDays !== undefined };
    if (st.periodDays !== undefined) out.RotationPeriodInDays = st.periodDays;
    if (st.nextRotation !== undefined) out.NextRotationDate = seconds(st.nextRotation);
    return out;
  },
  async RotateKeyOnDemand(ctx, req) {
    const k = await rotatable(ctx, req.KeyId);
    usable(k, ctx);
    const st = await ctx.hsm.rotationStatus(ctx.caller.session, k.info.uid);
    if (st.rotations.filter((r) => r.rotation === 'on-demand').length >= MAX_ON_DEMAND_ROTATIONS) {
      throw new KmsError('LimitExceededException', `a key rotates on demand at most ${MAX_ON_DEMAND_ROTATIONS} times`);
    }
    await ctx.hsm.rotateKey(ctx.caller.session, k.info.uid);
    return { KeyId: keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid) };
  },
  async ListKeyRotations(ctx, req) {
    const k = await rotatable(ctx, req.KeyId);
    const st = await ctx.hsm.rotationStatus(ctx.caller.session, k.info.uid);
    const arn = keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid);
    const all = st.rotations.map((r) => ({ KeyId: arn, RotationDate: seconds(r.createdAt), RotationType: r.rotation === 'automatic' ? 'AUTOMATIC' : 'ON_DEMAND' }));
    const p = page(all, req);
    const out: Record<string, unknown> = { Rotations: p.items, Truncated: p.next !== undefined };
    if (p.next) out.NextMarker = p.next;
    return out;
  },
};
