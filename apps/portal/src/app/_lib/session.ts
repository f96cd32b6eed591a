import "server-only";
// Page guards for server components: who is signed in, and the error words of a failed call.
import { redirect } from "next/navigation";
import { service } from "~/server/service";
import { serverApi } from "~/trpc/server";

/**
 * The signed-in caller, or a redirect to the sign-in page that comes back to `path`. A session
 * that could not be looked up (database down) is no reason to sign in again: that is an error,
 * which the root layout shows as "temporarily unavailable".
 */
export async function requireSession(path: string) {
  const { api, session, sessionError } = await serverApi();
  if (sessionError) throw sessionError;
  if (!session) redirect(`/sign-in?next=${encodeURIComponent(path)}`);
  return { api, session };
}

/** Words for a failed in-process call; never a database or library message. */
export async function serverErrorText(error: unknown): Promise<string> {
  const domain = (await service()).domainErrorOf(error);
  switch (domain.code) {
    case "throttled":
      return "Too many requests — try again in a minute.";
    case "unavailable":
      return "The service is temporarily unavailable. Please try again shortly.";
    case "internal":
      return "Something went wrong on our side. Please try again.";
    default:
      return domain.message;
  }
}

/** A same-site path to go to after signing in; anything else falls back to null. */
export function safeNextPath(value: string | string[] | undefined): string | null {
  if (typeof value !== "string") return null;
  return /^\/(?![/\\])[^\s]{0,511}$/.test(value) && !value.startsWith("/sign-in") ? value : null;
}
