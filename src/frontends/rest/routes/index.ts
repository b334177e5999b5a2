// Every REST route table, in the order they appear in the OpenAPI document.

import type { RouteDef } from '../route.js';
import { AUTH_ROUTES } from './auth.js';
import { SYS_ROUTES } from './sys.js';

export const ALL_ROUTES: readonly RouteDef[] = [...SYS_ROUTES, ...AUTH_ROUTES];
