// The TR-31 codec fuzzed (STYLE §8): random strings and mutated real blocks get UNWRAP_FAILED (a coded
// error, never a crash and never a different code that would tell a bad MAC from a bad shape), and
// header build ∘ parse is the identity for random fields and optional blocks.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isHsmError, SecretBytes } from '../../src/boundary/api.js';
import { loadSymmetricKey } from '../../src/boundary/keytypes/symmetric.js';
import { buildHeader, parseHeader, type Tr31Header } from '../../src/boundary/mechanisms/payment/tr31-header.js';
import { unwrapKeyBlock, wrapKeyBlock } from '../../src/boundary/mechanisms/payment/tr31.js';

const KB = {
  B: loadSymmetricKey('des2', Buffer.from('EFE0853B256B583D868F251CE99EA1D9', 'hex')),
  D: loadSymmetricKey('aes', Buffer.from('88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6', 'hex')),
};

function onlyUnwrapFailed(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (e) {
    return isHsmError(e, 'UNWRAP_FAILED');
  }
}

const field = (n: number) => fc.stringMatching(new RegExp(`^[0-9A-Z]{${n}}$`));
const optional = fc.record({ id: fc.stringMatching(/^[0-9A-Z]{2}$/).filter((id) => id !== 'PB'), data: fc.stringMatching(/^[\x20-\x7e]{0,300}$/) });
const header = fc.record({
  version: fc.constantFrom('B' as const, 'D' as const),
  usage: field(2),
  algorithm: field(1),
  mode: field(1),
  keyVersion: field(2),
  exportability: fc.constantFrom('E' as const, 'N' as const, 'S' as const),
  reserved: fc.constant('00'),
  optionalBlocks: fc.array(optional, { maxLength: 4 }),
});

test('random strings never open as key blocks: always UNWRAP_FAILED', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), fc.constantFrom('B' as const, 'D' as const), (s, v) => onlyUnwrapFailed(() => unwrapKeyBlock(KB[v], s))),
    { numRuns: 400 },
  );
  // Strings that look like blocks: a plausible header and hex body of the right length.
  fc.assert(
    fc.property(fc.constantFrom('B', 'D'), fc.stringMatching(/^[0-9A-F]{96}$/), (v, body) => {
      const s = `${v}0112P0TB00E0000${body}`;
      return onlyUnwrapFailed(() => unwrapKeyBlock(KB[v as 'B' | 'D'], s));
    }),
    { numRuns: 200 },
  );
});

test('wrap then unwrap is the identity, header parse ∘ build is the identity, and any one-character change is UNWRAP_FAILED', () => {
  fc.assert(
    fc.property(header, fc.uint8Array({ minLength: 16, maxLength: 32 }), fc.nat(), (h, key, at) => {
      const kb = KB[h.version];
      const block = wrapKeyBlock(kb, { header: h, key: SecretBytes.from(key) });
      const parsed = parseHeader(block).header;
      const { optionalBlocks, ...fixed } = parsed;
      const { optionalBlocks: want, ...wantFixed } = h as Tr31Header;
      assert.deepEqual(fixed, wantFixed);
      assert.deepEqual(optionalBlocks.filter((b) => b.id !== 'PB'), want.map((b) => ({ id: b.id, data: b.data })));
      assert.equal(buildHeader(parsed, block.length - parseHeader(block).headerLength), block.slice(0, parseHeader(block).headerLength));
      const out = unwrapKeyBlock(kb, block);
      assert.deepEqual(Buffer.from(out.key.insecureBytes()), Buffer.from(key));
      const i = at % block.length;
      const c = block[i] === '0' ? '1' : '0';
      return onlyUnwrapFailed(() => unwrapKeyBlock(kb, block.slice(0, i) + c + block.slice(i + 1)));
    }),
    { numRuns: 150 },
  );
});
