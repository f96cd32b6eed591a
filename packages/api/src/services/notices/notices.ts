// The member's notices (CONTRACT §8): listed and marked read by the member's own sessions only.
// A notice belongs to the account that was entered (its user), whichever profile was active.
import { notices, queryRows } from "@cowork/db";
import { desc, eq, sql } from "drizzle-orm";
import { DomainError } from "../../errors";
import { beforeDeadline } from "../deadline";
import { type RequestMeta, type ServiceDeps } from "../deps";
import { type SessionContext } from "../sessions";

/** How many notices a list holds at most: the newest. */
export const NOTICE_LIST_MAX = 200;

export interface NoticeItem {
  id: number;
  at: string;
  text: string;
  readAt: string | null;
}

/** The caller's notices, newest first. */
export async function listNotices(
  deps: ServiceDeps,
  session: Pick<SessionContext, "userId">,
): Promise<NoticeItem[]> {
  const rows = await deps.db
    .select({ id: notices.id, at: notices.at, text: notices.text, readAt: notices.readAt })
    .from(notices)
    .where(eq(notices.userId, session.userId))
    .orderBy(desc(notices.id))
    .limit(NOTICE_LIST_MAX);
  return rows.map((row) => ({
    id: row.id,
    at: row.at.toISOString(),
    text: row.text,
    readAt: row.readAt?.toISOString() ?? null,
  }));
}

/**
 * Marks one of the caller's notices read (again: it keeps the first time). Another member's
 * notice, or none, is not found: whether it exists is not theirs to learn.
 */
export async function markNoticeRead(
  deps: ServiceDeps,
  session: Pick<SessionContext, "userId">,
  id: number,
  meta: RequestMeta,
): Promise<void> {
  const marked = await queryRows<{ id: number }>(
    deps.db,
    sql`update notices set read_at = coalesce(read_at, now())
        where id = ${id} and user_id = ${session.userId} and ${beforeDeadline(meta)}
        returning id`,
  );
  if (marked.length === 0) throw new DomainError("not_found", "No such notice of yours.");
}
