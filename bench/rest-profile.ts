// Reads a V8 CPU profile (`node --cpu-prof`, the server child's main thread) and summarises where
// the samples fell: by area (our boundary, our REST front end, each npm package, Node internals,
// GC, idle) and the top frames by self time. Crypto on libuv's pool is not in it by design: the
// profile answers "what keeps the event loop busy", which caps a single-process server.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
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

/** Text lines: self time by area, then the `frames` hottest frames by self time. */
export function summariseProfile(profile: CpuProfile, frames = 15): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const areas = new Map<string, number>();
  const selfTime = new Map<string, number>();
  for (const id of profile.samples) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const a = area(url, functionName);
    areas.set(a, (areas.get(a) ?? 0) + 1);
    const frame = url === '' ? functionName : `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
    selfTime.set(frame, (selfTime.get(frame) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return [`server main thread, ${total} samples; self time by area:`, ...top(areas, total, 12), `top ${frames} frames by self time:`, ...top(selfTime, total, frames)];
}
