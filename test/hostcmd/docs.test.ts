// docs/hostcmd.md against the code (STYLE §4: the catalogue and its documentation are compared by a
// test): every command row has its section, every boundary code the error table maps is listed on
// the documented row of its payShield code, and every code the front end answers is in the table.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { COMMANDS } from '../../src/frontends/hostcmd/command-table.js';
import { HOST_ERROR, HSM_TO_HOST } from '../../src/frontends/hostcmd/error-codes.js';
import { responseCode } from '../../src/frontends/hostcmd/dispatch.js';

const doc = readFileSync(new URL('../../../docs/hostcmd.md', import.meta.url), 'utf8');

/** The error table: code → the text of its row. */
function errorRows(): Map<string, string> {
  const section = doc.slice(doc.indexOf('## Error codes'), doc.indexOf('## Robustness'));
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const m = /^\| `([0-9A-Z]{2})` \|(.*)$/.exec(line);
    if (m?.[1] && m[2]) rows.set(m[1], m[2]);
  }
  return rows;
}

test('every command in the table has a section in docs/hostcmd.md naming its response code', () => {
  for (const code of COMMANDS.keys()) {
    const heading = doc.split('\n').find((l) => l.startsWith('### ') && new RegExp(`\\b${code}\\b`).test(l));
    assert.ok(heading, `docs/hostcmd.md has a section for ${code}`);
    assert.ok(heading.includes(responseCode(code)), `the ${code} section names its response code ${responseCode(code)}`);
  }
});

test('the error-code table lists every boundary code on the row of the payShield code it maps to, and every front-end code', () => {
  const rows = errorRows();
  for (const [hsm, host] of Object.entries(HSM_TO_HOST)) {
    const row = rows.get(host);
    assert.ok(row, `docs/hostcmd.md lists error code ${host}`);
    if (host !== '15') assert.ok(row.includes(`\`${hsm}\``), `the ${host} row names ${hsm}`);
  }
  for (const code of Object.values(HOST_ERROR)) assert.ok(rows.has(code), `docs/hostcmd.md lists error code ${code}`);
  for (const code of ['04', '05', '10', '11', '23', '24', '26', '28', '68', '80']) assert.ok(rows.has(code), `front-end code ${code} is documented`);
});
