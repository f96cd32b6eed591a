// Internal header carrying the socket's address from the HTTP application (api-app.ts) to the
// code behind it, pages included (they see nothing of the request but its headers).
export const PEER_HEADER = "x-portal-peer-address";

/**
 * Internal header: "1" when the request reached the server with forwarding headers (it came
 * through a proxy). Next adds X-Forwarded-For itself, so a page could not tell.
 */
export const FORWARDED_HEADER = "x-portal-forwarded";
export const FORWARDING_HEADERS = ["x-forwarded-for", "forwarded", "x-real-ip"] as const;

/**
 * Internal header: when the server received the request (epoch milliseconds). A request's
 * deadlines count from there, on every door, so the time Next spends before a
 * page runs is counted too.
 */
export const ARRIVED_HEADER = "x-portal-arrived-at";

/**
 * Internal header: how many Authorization headers the request had. Node's parsed headers keep
 * only the first, so the count is taken here, from the raw request, for both doors.
 */
export const AUTHORIZATION_COUNT_HEADER = "x-portal-authorization-count";
