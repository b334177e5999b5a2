// Build step after tsc: records the SHA-256 of every file under dist/src in dist/manifest.json.
// At start-up the module recomputes these digests and compares them (software-integrity
// self-test, FIPS 140-3 §7.10.2 pre-operational software integrity test; attacks.md D-19, E-01).
// The digest rule (sorted relative paths with '/' separators, hex SHA-256 of the raw bytes) is
// the one src/boundary/module/integrity.ts applies; keep the two in step.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const dist = process.argv[2] ?? 'dist';

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

const entries = files(join(dist, 'src'))
  .map((f) => relative(dist, f).split(sep).join('/'))
  .sort()
  .map((rel) => [rel, createHash('sha256').update(readFileSync(join(dist, rel))).digest('hex')]);
const manifest = { format: 1, algorithm: 'sha256', createdAt: new Date().toISOString(), files: Object.fromEntries(entries) };
writeFileSync(join(dist, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`wrote ${join(dist, 'manifest.json')}: ${entries.length} files`);
