// The CLI argument parser: worked cases, and a fast-check property that random argv only ever
// yields a parse or a UsageError (so any typo ends in exit 2 with help, never a stack trace).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type OptionSpec, parseArgs, UsageError } from '../../src/cli/args.js';

const SPECS: OptionSpec[] = [
  { name: 'key', short: 'k', kind: 'string', help: '' },
  { name: 'in', short: 'i', kind: 'string', help: '' },
  { name: 'base64', kind: 'boolean', help: '' },
  { name: 'bits', kind: 'integer', help: '' },
  { name: 'usage', kind: 'list', help: '' },
  { name: 'help', short: 'h', kind: 'boolean', help: '' },
];

test('parseArgs: long, long=, short, booleans, lists, integers, -- and lone -', () => {
  const p = parseArgs(['--key', 'alias/x', '-i', '-', '--base64', '--bits=256', '--usage', 'sign,verify', '--usage=derive', 'pos', '--', '--not-an-option'], SPECS);
  assert.deepEqual(p.options, { key: 'alias/x', in: '-', base64: true, bits: 256, usage: ['sign', 'verify', 'derive'] });
  assert.deepEqual(p.positionals, ['pos', '--not-an-option']);
  assert.deepEqual(parseArgs(['-'], SPECS).positionals, ['-']);
  assert.equal(parseArgs(['--key=a=b'], SPECS).options.key, 'a=b');
});

test('parseArgs: every mistake is a UsageError naming it', () => {
  const cases: [string[], RegExp][] = [
    [['--nope'], /unknown option "--nope"/],
    [['-z'], /unknown option "-z"/],
    [['-ki'], /unknown option "-ki"/],
    [['--key'], /--key needs a value/],
    [['--key', 'a', '--key', 'b'], /--key given twice/],
    [['--bits', 'many'], /--bits needs a whole number/],
    [['--base64=yes'], /--base64 takes no value/],
    [['--Key', 'x'], /unknown option/],
  ];
  for (const [argv, why] of cases) assert.throws(() => parseArgs(argv, SPECS), (e: unknown) => e instanceof UsageError && why.test(e.message), argv.join(' '));
});

test('parseArgs: random argv gives a parse or a UsageError, nothing else (property)', () => {
  const token = fc.oneof(
    fc.string(),
    fc.constantFrom('--', '-', '--key', '-k', '--in', '-i', '--base64', '--bits', '--usage', '-h', '--help', '--bits=', '--key=', '--usage=,', '---', '-kk'),
    fc.string().map((s) => `--${s}`),
    fc.string().map((s) => `-${s}`),
    fc.string().map((s) => `--key=${s}`),
    fc.string().map((s) => `--bits=${s}`),
    fc.integer().map(String),
  );
  fc.assert(
    fc.property(fc.array(token, { maxLength: 12 }), (argv) => {
      try {
        const p = parseArgs(argv, SPECS);
        // What parsed is well-typed: the kinds the table declares.
        for (const [name, v] of Object.entries(p.options)) {
          const kind = SPECS.find((s) => s.name === name)?.kind;
          if (kind === 'boolean') assert.equal(v, true);
          else if (kind === 'integer') assert.ok(Number.isSafeInteger(v));
          else if (kind === 'list') assert.ok(Array.isArray(v));
          else assert.equal(typeof v, 'string');
        }
        for (const x of p.positionals) assert.equal(typeof x, 'string');
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        // Messages quote what was typed through JSON.stringify: no raw control characters.
        // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for them is the point
        assert.doesNotMatch(e.message, /[\u0000-\u001f]/);
      }
    }),
    { numRuns: 2000 },
  );
});
