// Helpers of the ops-* suites (health, logs, metrics, OpenAPI, read-only, access history): REST
// and browser calls against a started portal.
import { expect } from "vitest";
import { bearer, type Portal, signIn } from "./support/portal";

export { bearer, signIn };

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** One HTTP call; the body is parsed as JSON when it is JSON. */
export async function call<T = Record<string, unknown>>(
  portal: Portal,
  path: string,
  init: RequestInit = {},
): Promise<Answer<T>> {
  const response = await fetch(`${portal.url}${path}`, { redirect: "manual", ...init });
  const text = await response.text();
  let body: unknown = null;
  // JSON and +json types; not NDJSON (application/x-ndjson), which is many JSON texts.
  if (/^application\/([\w.-]+\+)?json\b/i.test(response.headers.get("content-type") ?? "") && text)
    body = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: body as T, text };
}

export const jsonBody = (value: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(value),
});

/** An impersonation token from the staff route, or from the team route with `team: true`. */
export async function impersonationToken(
  portal: Portal,
  actorToken: string,
  coworkerId: number,
  options: { team?: boolean; mode?: "readonly" | "full"; reason?: string } = {},
): Promise<string> {
  const query = new URLSearchParams();
  if (!options.team) query.set("coworkerId", String(coworkerId));
  if (options.reason) query.set("reason", options.reason);
  if (options.mode) query.set("mode", options.mode);
  const path = options.team
    ? `/api/public/coworkers/${coworkerId}/impersonate`
    : "/api/sys/users/impersonate";
  const answer = await call<{ token: string }>(portal, `${path}?${query}`, {
    headers: bearer(actorToken),
  });
  if (answer.status !== 200)
    throw new Error(`impersonation of ${coworkerId} failed: ${answer.status} ${answer.text}`);
  return answer.body.token;
}

/** Exchanges an impersonation token over REST and returns the impersonated session's access token. */
export async function exchange(portal: Portal, token: string): Promise<string> {
  const answer = await call<{ access_token: string }>(
    portal,
    "/api/sys/users/exchange",
    jsonBody({ token }),
  );
  if (answer.status !== 200) throw new Error(`exchange failed: ${answer.status} ${answer.text}`);
  return answer.body.access_token;
}

/** The name=value pairs of a response's Set-Cookie headers. */
export function cookiesOf(headers: Headers): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const line of headers.getSetCookie()) {
    const [pair] = line.split(";");
    const at = pair!.indexOf("=");
    cookies[pair!.slice(0, at).trim()] = decodeURIComponent(pair!.slice(at + 1));
  }
  return cookies;
}

/** A tRPC call as the portal UI makes it: same origin, cookies, no bearer. */
export async function browserCall(
  portal: Portal,
  procedure: string,
  input: unknown,
  cookie = "",
  kind: "mutation" | "query" = "mutation",
) {
  // As the portal's own client: the marker header makes the server use (and set) the cookies.
  const headers: Record<string, string> = {
    origin: portal.url,
    "x-portal-client": "web",
    ...(cookie ? { cookie } : {}),
  };
  if (kind === "query") {
    return call<{ result?: { data: unknown }; error?: { data: { error: string } } }>(
      portal,
      `/api/trpc/${procedure}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`,
      { headers },
    );
  }
  return call<{ result?: { data: unknown }; error?: { data: { error: string } } }>(
    portal,
    `/api/trpc/${procedure}`,
    {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(input ?? null),
    },
  );
}

/** Signs in through the UI's door; returns the session cookie's value. */
export async function browserSignIn(
  portal: Portal,
  email: string,
  password: string,
): Promise<string> {
  const answer = await browserCall(portal, "auth.signIn", { email, password });
  const session = cookiesOf(answer.headers).portal_session;
  if (answer.status !== 200 || !session)
    throw new Error(`browser sign-in of ${email} failed: ${answer.status} ${answer.text}`);
  return session;
}

export const DEMO_PASSWORDS = ["demo-admin-pass", "demo-operator-pass", "demo-member-pass"];

/** Asymmetric matchers, typed so that they can sit in object literals. */
export const anyString: unknown = expect.any(String);
export const anyNumber: unknown = expect.any(Number);
