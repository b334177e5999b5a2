// Architecture rule (DESIGN §2, STYLE 1): src/boundary/ has one door, src/boundary/api.ts.
// Every module specifier in src/ outside src/boundary/ (static imports, `import type`,
// `export … from`, dynamic `import()`, `typeof import()` types, `require()`) is parsed with the
// TypeScript parser, resolved, and must not land anywhere in src/boundary/ except api.ts.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// Compiled to dist/test/arch/, so the repo root is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Specifier {
  text: string | undefined; // undefined: a dynamic import/require whose argument is not a literal
  line: number;
}

/** Every module specifier in one TypeScript source text. */
function moduleSpecifiers(fileName: string, source: string): Specifier[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: Specifier[] = [];
  const add = (node: ts.Node, expr: ts.Node | undefined): void => {
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    const text = expr && ts.isStringLiteralLike(expr) ? expr.text : undefined;
    found.push({ text, line });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      // `export { x }` without `from` has no specifier.
      if (node.moduleSpecifier) add(node, node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression);
    } else if (ts.isImportTypeNode(node)) {
      // `typeof import('…')` / `import('…').T` in type positions.
      const arg = node.argument;
      add(node, ts.isLiteralTypeNode(arg) ? arg.literal : undefined);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isDynamicImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      if (isDynamicImport || isRequire) add(node, node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

const BOUNDARY = join('src', 'boundary');
const DOOR = new Set([join(BOUNDARY, 'api.ts'), join(BOUNDARY, 'api.js')]);

/** The violations in one file: specifiers that resolve into src/boundary/ other than api.ts. */
function violations(root: string, file: string, source: string): string[] {
  const out: string[] = [];
  for (const { text, line } of moduleSpecifiers(file, source)) {
    const where = `${relative(root, file)}:${line}`;
    if (text === undefined) {
      // A computed specifier cannot be checked, so it is refused: the boundary is not negotiable.
      out.push(`${where}: dynamic import/require with a non-literal specifier`);
      continue;
    }
    let target: string;
    if (text.startsWith('file:')) target = fileURLToPath(text);
    else if (text.startsWith('.') || isAbsolute(text)) target = resolve(dirname(file), text);
    else continue; // a package (node:crypto, better-sqlite3 …), never our boundary
    const rel = relative(root, target);
    const inBoundary = rel === BOUNDARY || rel.startsWith(BOUNDARY + sep);
    if (inBoundary && !DOOR.has(rel)) out.push(`${where}: imports '${text}' (only src/boundary/api.ts may be imported)`);
  }
  return out;
}

function tsFilesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...tsFilesUnder(path));
    else if (entry.isFile() && /\.(c|m)?tsx?$/.test(entry.name)) files.push(path);
  }
  return files;
}

test('self-check: the parser sees every kind of import and the rule rejects reaching past api.ts', () => {
  const file = join(ROOT, 'src', 'frontends', 'rest', 'keys.ts');
  const sample = [
    "import { Hsm } from '../../boundary/api.js';", // allowed: the door
    "import { SecretBytes } from '../../boundary/secret.js';", // 2: violation
    "import type { Vault } from '../../boundary/store/types.js';", // 3: type-only still counts
    "// import { x } from '../../boundary/errors.js';", // a comment, not an import
    "const s = \"import x from '../../boundary/errors.js'\";", // a string, not an import
    "import { createHash } from 'node:crypto';", // a package
    "export { Hsm as Module } from '../../boundary/api.js';", // allowed
    "const m = await import('../../boundary/mechanisms/registry.js');", // 8: dynamic import
    "type T = typeof import('../../boundary/types.js');", // 9: import type node
    "const n = await import('../../boundary/' + name);", // 10: computed specifier
    "import '../../boundary';", // 11: the folder itself
  ].join('\n');
  const found = violations(ROOT, file, sample);
  const lines = found.map((v) => Number(/:(\d+): /.exec(v)?.[1]));
  assert.deepEqual(lines, [2, 3, 8, 9, 10, 11], found.join('\n'));
  assert.equal(moduleSpecifiers(file, sample).length, 9);
});

test('self-check: re-exports from inside the boundary are caught', () => {
  const file = join(ROOT, 'src', 'services', 'index.ts');
  const found = violations(
    ROOT,
    file,
    [
      "export * from '../boundary/secret.js';",
      "export * as errors from '../boundary/errors.js';",
      "export { SecretBytes } from '../boundary/secret.js';",
      "export type { Template } from '../boundary/types.js';",
      "export * from '../boundary/api.js';",
    ].join('\n'),
  );
  assert.equal(found.length, 4, found.join('\n'));
  assert.ok(found.every((v) => !v.includes("'../boundary/api.js'")));
});

test('nothing outside src/boundary/ imports past src/boundary/api.ts', () => {
  const src = join(ROOT, 'src');
  const all = tsFilesUnder(src);
  assert.ok(all.length > 0, `no .ts sources found under ${src}: is the repo root right?`);
  const outside = all.filter((f) => !relative(ROOT, f).startsWith(BOUNDARY + sep));
  const found = outside.flatMap((f) => violations(ROOT, f, readFileSync(f, 'utf8')));
  assert.deepEqual(found, [], `boundary violations:\n${found.join('\n')}`);
});
