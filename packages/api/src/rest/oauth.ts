// The OAuth 2.0 dialect of /api/token (RFC 6749 §5.1-5.2), as OAuth clients (oauth4webapi,
// openid-client) read it: every answer, success or error, is never cached by HTTP/1.0 caches
// either (Pragma), and every error also names itself in `error_description`.
import { DomainError } from "../errors";
import { type RestAnswer } from "./http";

export const BASIC_REALM = 'Basic realm="portal"';

/** RFC 6749 §5.2: a client that authenticated and is not known. No client is registered here. */
export const unknownClient = () =>
  new DomainError(
    "invalid_client",
    "Client authentication failed: this service has no registered clients. Send no client credentials.",
  );

/** The answer of /api/token in the OAuth dialect (the REST door's answer, reshaped). */
export function oauthAnswer(answer: RestAnswer): RestAnswer {
  const headers: Record<string, string> = {
    ...answer.headers,
    "cache-control": "no-store",
    pragma: "no-cache",
  };
  let body = answer.body;
  if (answer.status >= 400 && body !== null) {
    const parsed = parseErrorBody(body);
    if (parsed) {
      body = JSON.stringify({ ...parsed, error_description: parsed.message });
      // §5.2: a client that authenticated with the Authorization header is told the scheme.
      if (parsed.error === "invalid_client") headers["www-authenticate"] = BASIC_REALM;
    }
  }
  return { status: answer.status, headers, body };
}

function parseErrorBody(text: string): { error: string; message: string } | null {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== "object" || value === null) return null;
    const { error, message } = value as { error?: unknown; message?: unknown };
    return typeof error === "string" && typeof message === "string" ? { error, message } : null;
  } catch {
    return null;
  }
}
