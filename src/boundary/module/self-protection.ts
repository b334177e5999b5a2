// Operator services that protect the module itself: on-demand self-tests (admin), zeroize
// (admin) and the tamper-sensor entry point for the server's watcher. Each ends in the same
// places as the module's own checks: the error state (module/self-tests.ts) or the configured
// tamper response (module/tamper.ts).

import { HsmError } from '../errors.js';
import type { ModuleCore } from './core.js';
import { quorumGate, registerQuorumExecutor } from './quorum-requests.js';
import type { SelfTestResult } from './self-tests.js';
import type { TamperStatus } from './tamper.js';

const MAX_DETAIL = 200;

export class SelfProtection {
  constructor(private readonly core: ModuleCore) {
    registerQuorumExecutor(core, 'zeroize', (s) => this.core.respondToTamper('zeroize', `requested by ${s.user}, approved by quorum`));
  }

  /** Runs every self-test again (attacks.md E-11); no crypto output meanwhile; a failure latches the error state. */
  async runSelfTests(session: string): Promise<SelfTestResult> {
    this.core.session(session, 'admin');
    this.core.selfTesting = true;
    try {
      return await this.core.runSelfTests(undefined, true);
    } finally {
      this.core.selfTesting = false;
    }
  }

  /** The explicit zeroize command: the configured tamper response (seal or erase), audited first. */
  async zeroize(session: string): Promise<TamperStatus> {
    const s = this.core.session(session, 'admin');
    // Single admin by default so an emergency stays possible; a quorum only if the policy opts in.
    quorumGate(this.core, s, 'zeroize', {});
    return this.core.respondToTamper('zeroize', `requested by ${s.user}`);
  }

  /**
   * The enclosure sensor fired (server: [tamper] sensor_file appeared or changed). Works in any
   * state: a sealed module is sealed again (a no-op) or erased, as configured.
   */
  reportTamper(detail: string): TamperStatus {
    if (typeof detail !== 'string') throw new HsmError('ARGUMENTS_BAD', 'detail must be a string');
    return this.core.respondToTamper('sensor', detail.slice(0, MAX_DETAIL));
  }
}
