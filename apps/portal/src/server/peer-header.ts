// Internal header carrying the socket's address from the custom server to route handlers.
export const PEER_HEADER = "x-portal-peer-address";

/**
 * Internal header: "1" when the request reached the custom server with forwarding headers (it
 * came through a proxy). Next adds X-Forwarded-For itself, so route handlers cannot tell.
 */
export const FORWARDED_HEADER = "x-portal-forwarded";
export const FORWARDING_HEADERS = ["x-forwarded-for", "forwarded", "x-real-ip"] as const;
