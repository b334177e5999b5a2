// What the host-command benchmark's parent (bench/hostcmd.ts) and its server child
// (bench/hostcmd-server.ts) tell each other over IPC, and the test keys both use.

export type ChildMessage =
  | { kind: 'ready'; port: number; zpkA: string; zpkB: string }
  | { kind: 'stats'; rssBytes: number; eventLoopUtilization: number; cpu: number }
  | { kind: 'profiling' }
  | { kind: 'profiled' }
  | { kind: 'closed' };
export type ParentMessage = { kind: 'stats' } | { kind: 'profile-start' } | { kind: 'profile-stop'; path: string } | { kind: 'close' };

/** The two TDES keys of the benchmark's PIN blocks (test keys, never real ones). */
export const ZPK_A = '0123456789ABCDEFFEDCBA9876543210';
export const ZPK_B = '89ABCDEF0123456776543210FEDCBA98';

