// The module's self-test suite: every mechanism's known-answer test, the random-source health
// test and the software-integrity test, each by name. Run before service (Hsm.open) and on
// demand (admin); any failure latches the error state (FIPS 140-3 §7.10, §7.11; attacks.md
// E-01, E-02, E-11), and a failed integrity test is also a tamper signal (issue 4).

import { ALL_MECHANISMS } from '../mechanisms/registry.js';
import { PAYMENT_SELF_TESTS } from '../mechanisms/payment/self-tests.js';
import { TR31_SELF_TESTS } from '../mechanisms/payment/tr31-self-test.js';
import { checkSoftwareIntegrity, type IntegrityResult } from './integrity.js';
import { cachedProcessSelfTests, type ModuleCore, now, runAllSelfTests } from './core.js';

export interface SelfTestResult {
  passed: number;
  /** Names of the failed tests: mechanism names, 'random-health', 'software-integrity'. */
  failed: string[];
  /** When the suite last ran. */
  at?: string;
}

/** The names a test may pass as forceSelfTestFailure besides a mechanism name. */
export const NAMED_SELF_TESTS: readonly string[] = ['software-integrity', 'random-health', ...TR31_SELF_TESTS.map((t) => t.name)];

/** Known-answer tests of primitives that are no mechanism descriptor (the TR-31 key block versions). */
const PRIMITIVE_SELF_TESTS = [...TR31_SELF_TESTS];

async function runKnownAnswerTests(forceFailure: string | undefined): Promise<SelfTestResult> {
  const r = await runAllSelfTests(forceFailure);
  for (const t of PRIMITIVE_SELF_TESTS) {
    try {
      if (forceFailure === t.name) throw new Error('forced failure');
      t.run();
      r.passed++;
    } catch {
      r.failed.push(t.name);
    }
  }
  return r;
}

function integrity(core: ModuleCore, forceFailure: string | undefined): IntegrityResult | undefined {
  if (forceFailure === 'software-integrity') return { ok: false, missing: false, detail: 'software-integrity: forced failure (test switch)' };
  const opts = core.options.integrity;
  return opts ? checkSoftwareIntegrity(opts.root) : undefined;
}

export async function runModuleSelfTests(core: ModuleCore, forceFailure: string | undefined, onDemand: boolean): Promise<SelfTestResult> {
  // A switch naming no test would silently test nothing: that is a bug in the test that set it.
  if (forceFailure !== undefined && !NAMED_SELF_TESTS.includes(forceFailure) && !ALL_MECHANISMS.some((m) => m.name === forceFailure) && !PAYMENT_SELF_TESTS.some((p) => p.name === forceFailure)) {
    throw new TypeError(`forceSelfTestFailure: no self-test named ${forceFailure}`);
  }
  // The known-answer tests run once per process before the first module serves; modules opened
  // later reuse the result. On demand, or with a forced failure (tests only), they run afresh.
  const kat = forceFailure === undefined && !onDemand ? await cachedProcessSelfTests(() => runKnownAnswerTests(undefined)) : await runKnownAnswerTests(forceFailure);
  const result: SelfTestResult = { passed: kat.passed, failed: [...kat.failed], at: now() };
  const warnings: string[] = [];
  const integ = integrity(core, forceFailure);
  let integrityFailure: string | undefined;
  if (integ?.ok) result.passed++;
  // Not enforced (dev): a missing or stale manifest is a warning, since a developer rebuilds with tsc alone.
  else if (integ && forceFailure !== 'software-integrity' && !core.options.integrity?.enforce) warnings.push(`${integ.detail}; not enforced (dev)`);
  else if (integ) {
    result.failed.push('software-integrity');
    integrityFailure = integ.detail;
  }
  core.selfTests = result;
  core.warnings = warnings;
  if (onDemand) {
    core.auditOrDefer({ actor: 'system', op: 'module.selftest', outcome: result.failed.length === 0 ? 'ok' : 'failed', detail: result.failed.length === 0 ? `${result.passed} passed` : `failed: ${result.failed.join(', ')}` });
  }
  if (result.failed.length > 0) {
    core.enterError(`self-test failed: ${result.failed.join(', ')}${integrityFailure ? ` (${integrityFailure})` : ''}`);
    // Code that is not what was built is also a tamper signal (D-19): the configured response follows.
    if (integrityFailure) core.respondToTamper('software-integrity', integrityFailure);
  }
  return result;
}
