// The browser's session cookies. The session cookie holds the access token (httpOnly, SameSite,
// Secure in production); while impersonating, the actor's own token waits in a second cookie.
import { type BrowserSession, type IssuedAccessToken } from "@cowork/api";

export const SESSION_COOKIE = "portal_session";
/** Sent by the portal's own tRPC client; only calls carrying it use (and set) the cookies. */
export const BROWSER_CLIENT_HEADER = "x-portal-client";
export const ACTOR_COOKIE = "portal_actor";

export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key !== name) continue;
    // A value that is not valid percent-encoding (`%zz`) is no session: the caller gets 401,
    // as for any other unusable credential, instead of a URIError surfacing as a 500.
    try {
      return decodeURIComponent(rest.join("="));
    } catch {
      return null;
    }
  }
  return null;
}

function cookie(name: string, value: string, maxAgeS: number, secure: boolean): string {
  return [
    `${name}=${encodeURIComponent(value)}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${Math.max(0, Math.floor(maxAgeS))}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

/** Adds a header to the answer (Set-Cookie: one header per cookie). */
export type AppendHeader = (name: string, value: string) => void;

export function browserSession(
  cookieHeader: string | null,
  appendHeader: AppendHeader,
  secure: boolean,
): BrowserSession {
  return {
    sessionToken: readCookie(cookieHeader, SESSION_COOKIE),
    actorToken: readCookie(cookieHeader, ACTOR_COOKIE),
    setSession(token: IssuedAccessToken) {
      appendHeader(
        "set-cookie",
        cookie(SESSION_COOKIE, token.accessToken, token.expiresIn, secure),
      );
    },
    setActor(token: string | null, expiresAt?: Date) {
      const maxAge = token && expiresAt ? (expiresAt.getTime() - Date.now()) / 1000 : 0;
      appendHeader("set-cookie", cookie(ACTOR_COOKIE, token ?? "", maxAge, secure));
    },
    clearSession() {
      appendHeader("set-cookie", cookie(SESSION_COOKIE, "", 0, secure));
    },
  };
}

/**
 * State-changing browser calls must come from our own pages: the Origin (or, failing that, the
 * Referer) must be this site. SameSite cookies alone do not cover same-site subdomains.
 */
export function sameOrigin(header: (name: string) => string | null): boolean {
  const host = header("host");
  const source = header("origin") ?? header("referer");
  if (!host || !source) return false;
  try {
    return new URL(source).host === host;
  } catch {
    return false;
  }
}
