// Headers on every answer of the portal, set by the one HTTP application (api-app.ts) before
// any route or page answers.
export const SECURITY_HEADERS = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "same-origin" },
  { key: "X-Frame-Options", value: "DENY" },
] as const;
