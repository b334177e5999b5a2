// Wycheproof ECDSA verification files through the boundary API with prehashed ECDSA (CKM_ECDSA):
// each message is hashed here with the group's SHA and only the digest goes to the HSM. Every
// valid case must verify, every invalid one must be false; the files have no acceptable cases.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { hex, loadWycheproof, testHsm, type WycheproofTest } from '../support/hsm.js';
import { ECDSA_VERIFY_FILES, importEcPublic, signatureFormatOf } from '../support/wycheproof-ecdsa.js';

type Group = { sha: string; publicKeyDer: string; tests: WycheproofTest[] };

/** Wycheproof's hash names → node's. */
const NODE_HASH: Record<string, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

for (const FILE of ECDSA_VERIFY_FILES) {
  test(`wycheproof ${FILE}: prehashed ECDSA verification of H(msg)`, async (ctx) => {
    const file = loadWycheproof(FILE, (w) => ctx.skip(w));
    if (!file) return;
    const signatureFormat = signatureFormatOf(FILE);
    const t = await testHsm();
    try {
      let checked = 0;
      let acceptable = 0;
      for (const g of file.testGroups as unknown as Group[]) {
        const hash = NODE_HASH[g.sha];
        assert.ok(hash, `${FILE}: hash ${g.sha}`);
        const key = await importEcPublic(t, g.publicKeyDer);
        for (const tc of g.tests) {
          const data = createHash(hash).update(hex(tc.msg as string)).digest();
          // Every other case also declares the hash (params.hash), which must change nothing.
          const params = checked % 2 === 0 ? { signatureFormat } : { signatureFormat, hash: g.sha };
          const ok = await t.hsm.verify(t.user, { key, mechanism: 'ECDSA', data, signature: hex(tc.sig as string), params });
          // Same rule as ec.test.ts: an acceptable case (none in these files) would have to be refused.
          if (tc.result === 'acceptable') acceptable++;
          assert.equal(ok, tc.result === 'valid', `wycheproof:${FILE}:${tc.tcId} (${tc.result} ${tc.flags.join(',')})`);
          checked++;
        }
      }
      assert.equal(checked, file.numberOfTests);
      assert.equal(acceptable, 0, `${FILE}: acceptable cases appeared; write their handling in ACCEPTABLE.md`);
    } finally {
      await t.close();
    }
  });
}
