import { ROLES } from '../../../../src/access/permissions.js';

/** The roles the server knows, from its permission catalogue (pure TypeScript, shared). */
export const ROLE_NAMES: readonly string[] = ROLES;
