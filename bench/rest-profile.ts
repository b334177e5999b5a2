// Reads a V8 CPU profile (`node --cpu-prof`, the server child's main thread) and summarises where
// the samples fell: by area (our boundary, our REST front end, each npm package, Node internals,
// GC, idle) and the top frames by self time. Crypto on libuv's pool is not in it by design: the
// profile answers "what keeps the event loop busy", which caps a single-process server.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

/** The one .cpuprofile file Node wrote into `dir`. */
export function readProfile(dir: string): CpuProfile {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length !== 1) throw new Error(`expected one .cpuprofile in ${dir}, found ${files.length}`);
  return JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')) as CpuProfile;
}

function area(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : 'native/builtin';
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  const ours = /\/dist\/(src\/[^/]+(?:\/[^/]+)?)\//.exec(url);
  if (ours) return `coffer ${ours[1]}`;
  return 'other';
}

function shortUrl(url: string): string {
  const pkg = /\/node_modules\/(.*)$/.exec(url);
  if (pkg) return pkg[1]!;
  const ours = /\/dist\/(.*)$/.exec(url);
  return ours ? ours[1]! : url;
}

function top(counts: Map<string, number>, total: number, n: number): string[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, c]) => `  ${((100 * c) / total).toFixed(1).padStart(5)} %  ${name}`);
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return url === '' ? functionName : `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
}

/**
 * Text lines: self time by area, the `frames` hottest frames by self time, and for the hottest
 * native frames (whose name alone says little: `run`, `writev`) the JavaScript that called them.
 */
export function summariseProfile(profile: CpuProfile, frames = 15): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n);
  const areas = new Map<string, number>();
  const selfTime = new Map<string, number>();
  const callers = new Map<string, Map<string, number>>();
  for (const id of profile.samples) {
    const node = byId.get(id);
    if (!node) continue;
    const a = area(node.callFrame.url, node.callFrame.functionName);
    areas.set(a, (areas.get(a) ?? 0) + 1);
    const frame = frameName(node);
    selfTime.set(frame, (selfTime.get(frame) ?? 0) + 1);
    if (a === 'native/builtin') {
      // Two levels up: the wrapper that called the native function, and its caller.
      const p1 = parentOf.get(id);
      const p2 = p1 && parentOf.get(p1.id);
      const via = [p1, p2].filter((p): p is ProfileNode => p !== undefined).map(frameName).join(' ← ');
      const m = callers.get(frame) ?? new Map<string, number>();
      m.set(via, (m.get(via) ?? 0) + 1);
      callers.set(frame, m);
    }
  }
  const total = profile.samples.length;
  const lines = [`server main thread, ${total} samples; self time by area:`, ...top(areas, total, 12), `top ${frames} frames by self time:`, ...top(selfTime, total, frames)];
  const hotNative = [...callers.entries()].sort((x, y) => sum(y[1]) - sum(x[1])).slice(0, 3);
  for (const [frame, via] of hotNative) lines.push(`callers of native ${frame}:`, ...top(via, total, 3));
  return lines;
}

function sum(m: Map<string, number>): number {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
}
