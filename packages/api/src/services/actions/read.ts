// Reading what impersonated sessions did: one session's actions (admins), the sessions behind a
// page of audit events (the audit page). Each read first writes what this process still holds,
// so a caller sees every call this process answered before the read; records held by other
// processes are at most one flush interval late (SECURITY.md).
import {
  auditEvents,
  impersonationActions,
  impersonationGrants,
  readPrepared,
  sessions,
} from "@cowork/db";
import { type ImpersonationAction } from "@cowork/validators";
import { and, asc, eq, inArray, isNotNull } from "drizzle-orm";
import { DomainError } from "../../errors";
import { type ServiceDeps } from "../deps";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ActionRow {
  at: Date | null;
  procedure: string | null;
  kind: "query" | "mutation" | null;
  outcome: "success" | "refused" | "error" | null;
}

/** A left-joined action row as the API shows it, or null where the session had none. */
const actionOf = (row: ActionRow): ImpersonationAction | null =>
  row.at && row.procedure && row.kind && row.outcome
    ? { at: row.at.toISOString(), procedure: row.procedure, kind: row.kind, outcome: row.outcome }
    : null;

const actionColumns = {
  at: impersonationActions.at,
  procedure: impersonationActions.procedure,
  kind: impersonationActions.kind,
  outcome: impersonationActions.outcome,
};

/**
 * Every action of one impersonated session of the location, oldest first. 404 when the id names
 * no impersonated session whose grant was for this location (a malformed id included).
 */
export async function listSessionActions(
  deps: ServiceDeps,
  locationId: number,
  sessionId: string,
): Promise<ImpersonationAction[]> {
  const notFound = () =>
    new DomainError("not_found", "No impersonated session with this id in this location.");
  if (!UUID.test(sessionId)) throw notFound();
  await deps.actions.flush();
  const rows = await readPrepared(
    deps.db
      .select({ sessionId: sessions.id, ...actionColumns })
      .from(sessions)
      .innerJoin(impersonationGrants, eq(impersonationGrants.jti, sessions.grantJti))
      .leftJoin(impersonationActions, eq(impersonationActions.sessionId, sessions.id))
      .where(and(eq(sessions.id, sessionId), eq(impersonationGrants.locationId, locationId)))
      .orderBy(asc(impersonationActions.at), asc(impersonationActions.id)),
    "impersonation_actions_of_session",
  );
  if (rows.length === 0) throw notFound();
  return rows.map(actionOf).filter((action) => action !== null);
}

/**
 * For the events among `eventIds` that are the location's and name an impersonated session of
 * it, that session's actions, oldest first (events of one session each get the whole list). One
 * statement for the whole page.
 */
export async function listEventActions(
  deps: ServiceDeps,
  locationId: number,
  eventIds: readonly number[],
): Promise<{ eventId: number; actions: ImpersonationAction[] }[]> {
  if (eventIds.length === 0) return [];
  await deps.actions.flush();
  const rows = await deps.db
    .select({ eventId: auditEvents.id, ...actionColumns })
    .from(auditEvents)
    .innerJoin(sessions, eq(sessions.id, auditEvents.sessionId))
    .innerJoin(impersonationGrants, eq(impersonationGrants.jti, sessions.grantJti))
    .leftJoin(impersonationActions, eq(impersonationActions.sessionId, sessions.id))
    .where(
      and(
        inArray(auditEvents.id, [...eventIds]),
        eq(auditEvents.locationId, locationId),
        isNotNull(auditEvents.sessionId),
        eq(impersonationGrants.locationId, locationId),
      ),
    )
    .orderBy(asc(auditEvents.id), asc(impersonationActions.at), asc(impersonationActions.id));
  const byEvent = new Map<number, ImpersonationAction[]>();
  for (const row of rows) {
    let actions = byEvent.get(row.eventId);
    if (!actions) byEvent.set(row.eventId, (actions = []));
    const action = actionOf(row);
    if (action) actions.push(action);
  }
  return [...byEvent].map(([eventId, actions]) => ({ eventId, actions }));
}
