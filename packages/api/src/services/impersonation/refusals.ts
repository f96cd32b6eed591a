// Refused impersonations: the one place their audit event is built, and the refusal itself
// (audited, counted, thrown). The rule's own refusals (self, rank, staff target) are named by the
// database function impersonation_refusal (grant-rules.ts); their answers are given here.
import { DomainError } from "../../errors";
import { metrics } from "../../observability/metrics";
import { type AuditRecord, recordAudit } from "../audit";
import { type RequestMeta, type ServiceDeps } from "../deps";
import { type RuleRefusal } from "../grant-rules";
import { type SessionContext } from "../sessions";

/** What a refusal's audit event says happened; anything not known is left out (null). */
export interface RefusalEvent {
  type: "impersonation.issued" | "impersonation.exchanged";
  actorUserId?: number | null;
  coworkerId?: number | null;
  locationId?: number | null;
  kind?: "staff" | "team" | null;
  reason?: string | null;
  jti?: string | null;
}

/** The event of a refused issue: who asked, for which coworker, where, by which route, why. */
export const issueRefusalEvent = (
  session: Pick<SessionContext, "userId" | "locationId">,
  request: { coworkerId: number; reason?: string | null | undefined },
  kind: "staff" | "team",
): RefusalEvent => ({
  type: "impersonation.issued",
  actorUserId: session.userId,
  coworkerId: request.coworkerId,
  locationId: session.locationId,
  kind,
  reason: request.reason ?? null,
});

/** The audit record of a refusal; `detail` is its reason code. */
export const refusalRecord = (
  event: RefusalEvent,
  meta: RequestMeta,
  detail: string,
): AuditRecord => ({
  type: event.type,
  outcome: "refused",
  actorUserId: event.actorUserId ?? null,
  targetCoworkerId: event.coworkerId ?? null,
  locationId: event.locationId ?? null,
  kind: event.kind ?? null,
  reason: event.reason ?? null,
  jti: event.jti ?? null,
  ip: meta.ip,
  detail,
});

/** Writes a refusal to the audit log, counts it and throws it. */
export async function refuse(
  deps: ServiceDeps,
  meta: RequestMeta,
  event: RefusalEvent,
  error: DomainError,
  /** The reason code kept in the event's `detail`; defaults to the error's code. */
  detail: string = error.code,
): Promise<never> {
  await recordAudit(deps.db, refusalRecord(event, meta, detail), meta);
  metrics.refused(event.type, detail);
  throw error;
}

/** The answer to each refusal of the rule, and the reason code its event keeps. */
const RULE_REFUSALS: Record<RuleRefusal, () => DomainError> = {
  self: () => new DomainError("forbidden", "You cannot impersonate yourself."),
  rank: () => new DomainError("forbidden", "You cannot impersonate staff of equal or higher rank."),
  staff_target: () => new DomainError("forbidden", "Team admins cannot impersonate staff."),
};

/** Refuses an issue the rule refused (`why`, from impersonation_refusal). */
export const refuseByRule = (
  deps: ServiceDeps,
  meta: RequestMeta,
  event: RefusalEvent,
  why: RuleRefusal,
): Promise<never> => refuse(deps, meta, event, RULE_REFUSALS[why](), why);
