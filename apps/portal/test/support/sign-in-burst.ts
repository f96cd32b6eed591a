// Sign-in attempts sent at once, over REST and as tRPC batches, and what they were answered.
import { Agent } from "node:http";
import { call, type Reply, type Target } from "./http";

/** One connection per attempt, so that a burst really races instead of queueing on a few sockets. */
export const burstAgent = () => new Agent({ keepAlive: true, maxSockets: 64 });

export interface Attempt {
  portal: Target;
  email: string;
  password: string;
  /** The client address, via X-Forwarded-For (the portal must trust 127.0.0.1 as a proxy). */
  ip: string;
}

/** Sends every attempt at once over POST /api/token; the replies in the same order. */
export function burst(attempts: Attempt[], agent: Agent): Promise<Reply[]> {
  return Promise.all(
    attempts.map(({ portal, email, password, ip }) =>
      call(portal, "POST", "/api/token", {
        json: { grant_type: "password", username: email, password },
        headers: { "x-forwarded-for": ip },
        agent,
      }),
    ),
  );
}

/** How many replies had each status. */
export function statusCounts(statuses: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/**
 * One tRPC batch of `auth.signIn` calls (`POST /api/trpc/auth.signIn,auth.signIn,…?batch=1`) from
 * one client address. `statuses`: each call's status as the batch answered it (null when the
 * batch itself was refused).
 */
export async function signInBatch(
  portal: Target,
  calls: { email: string; password: string }[],
  ip: string,
): Promise<{ reply: Reply; statuses: number[] | null }> {
  const path = `/api/trpc/${calls.map(() => "auth.signIn").join(",")}?batch=1`;
  const reply = await call(portal, "POST", path, {
    json: Object.fromEntries(calls.map((input, index) => [String(index), input])),
    headers: { "x-forwarded-for": ip },
  });
  if (!Array.isArray(reply.json)) return { reply, statuses: null };
  const statuses = (reply.json as { error?: { data?: { httpStatus?: number } } }[]).map((item) =>
    item.error ? (item.error.data?.httpStatus ?? 500) : 200,
  );
  return { reply, statuses };
}
