// Every host command Coffer answers, by code: one row each, decoded and encoded by fields.ts.
// A code not in this table answers error 68 (command not supported or disabled).

import type { CommandRow } from './command.js';
import { CARD_COMMANDS } from './commands-card.js';
import { KEY_COMMANDS } from './commands-key.js';
import { MAC_COMMANDS } from './commands-mac.js';
import { PIN_COMMANDS } from './commands-pin.js';

export const COMMANDS: ReadonlyMap<string, CommandRow> = new Map([...KEY_COMMANDS, ...PIN_COMMANDS, ...CARD_COMMANDS, ...MAC_COMMANDS].map((r) => [r.code, r]));
