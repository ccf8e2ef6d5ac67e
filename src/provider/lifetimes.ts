/** Token lifetimes, in seconds. */
export const AUTHORIZATION_CODE_TTL_SECONDS = 60;
export const ACCESS_TOKEN_TTL_SECONDS = 60 * 60;
export const ID_TOKEN_TTL_SECONDS = 60 * 60;
export const INTERACTION_TTL_SECONDS = 60 * 60;
/** Refresh tokens exist only for offline_access, and rotate at every use. */
export const REFRESH_TOKEN_TTL_SECONDS = 14 * 24 * 60 * 60;
export const GRANT_TTL_SECONDS = REFRESH_TOKEN_TTL_SECONDS;
