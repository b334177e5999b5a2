// Placeholder while the family is written (session 1 scaffolding).
import type { MechanismDescriptor } from './types.js';

export const MECHANISMS: MechanismDescriptor[] = [];
