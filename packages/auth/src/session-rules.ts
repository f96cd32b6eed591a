// Lifetimes of sessions and impersonation tokens (CONTRACT §6).

/** A regular signed-in session. */
export const SESSION_LIFETIME_S = 12 * 3600;
/** An impersonated session: at most one hour, never extended. */
export const IMPERSONATED_SESSION_MAX_S = 3600;
export const IMPERSONATION_TOKEN_DEFAULT_S = 60;

/** Staff rank: a caller may only impersonate targets whose rank anywhere is below their own. */
export const STAFF_RANK = { operator: 1, admin: 2 } as const;
export type StaffRole = keyof typeof STAFF_RANK;
