// Headers on every answer of the portal: pages and tRPC through next.config.ts, the REST door
// through server.ts.
export const SECURITY_HEADERS = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "same-origin" },
  { key: "X-Frame-Options", value: "DENY" },
] as const;
