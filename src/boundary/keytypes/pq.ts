// Placeholder while the key types are written (session 1 scaffolding).
import type { KeyTypeDescriptor } from './types.js';

export const KEY_TYPES: KeyTypeDescriptor[] = [];
