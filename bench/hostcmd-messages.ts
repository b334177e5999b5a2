// What the host-command benchmark's parent (bench/hostcmd.ts) and its server child
// (bench/hostcmd-server.ts) tell each other over IPC, and the test keys both use.

import type { ControlReply } from './server-child.js';

export type { ParentMessage } from './server-child.js';
export type ChildMessage = { kind: 'ready'; port: number; zpkA: string; zpkB: string } | ControlReply;

/** The two TDES keys of the benchmark's PIN blocks (test keys, never real ones). */
export const ZPK_A = '0123456789ABCDEFFEDCBA9876543210';
export const ZPK_B = '89ABCDEF0123456776543210FEDCBA98';

