// The software-integrity self-test (FIPS 140-3 §7.10.2; attacks.md D-19, E-01): the SHA-256 of
// every installed file under <root>/src must equal the digest recorded in <root>/manifest.json
// by scripts/write-manifest.mjs at build time. A missing manifest is reported as such, so the
// caller decides whether that is a warning (dev) or a failure (production).

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface IntegrityOptions {
  /** The installation root holding manifest.json and src/ (default: the dist/ this file runs from). */
  root?: string;
  /** True (production): a missing or wrong manifest is a failure. False (dev): a warning in status. */
  enforce: boolean;
}

export type IntegrityResult = { ok: true; files: number } | { ok: false; missing: boolean; detail: string };

/** dist/src/boundary/module/integrity.js → dist. */
export function defaultInstallRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

/** Recomputes every digest; any added, removed or changed file under src/ fails, named in the detail. */
export function checkSoftwareIntegrity(root: string = defaultInstallRoot()): IntegrityResult {
  const manifestPath = join(root, 'manifest.json');
  if (!existsSync(manifestPath)) return { ok: false, missing: true, detail: 'software-integrity: no manifest.json (build with npm run build)' };
  let recorded: Record<string, string>;
  try {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { format?: unknown; algorithm?: unknown; files?: unknown };
    if (m.format !== 1 || m.algorithm !== 'sha256' || typeof m.files !== 'object' || m.files === null) throw new Error('shape');
    recorded = m.files as Record<string, string>;
  } catch {
    return { ok: false, missing: false, detail: 'software-integrity: manifest.json is malformed' };
  }
  const srcDir = join(root, 'src');
  const present = existsSync(srcDir) ? listFiles(srcDir).map((f) => relative(root, f).split(sep).join('/')) : [];
  const seen = new Set<string>();
  for (const rel of present.sort()) {
    seen.add(rel);
    const want = recorded[rel];
    if (want === undefined) return { ok: false, missing: false, detail: `software-integrity: file not in the manifest: ${rel}` };
    const got = createHash('sha256').update(readFileSync(join(root, rel))).digest('hex');
    if (got !== want) return { ok: false, missing: false, detail: `software-integrity: digest mismatch: ${rel}` };
  }
  for (const rel of Object.keys(recorded)) if (!seen.has(rel)) return { ok: false, missing: false, detail: `software-integrity: file missing: ${rel}` };
  return { ok: true, files: seen.size };
}
