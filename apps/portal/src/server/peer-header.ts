// Internal header carrying the socket's address from the custom server to route handlers.
export const PEER_HEADER = "x-portal-peer-address";
