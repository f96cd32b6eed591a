// Issuing an impersonation token (staff or team admin): admitting the issuer, finding the target
// with the rule's answer for it, and writing the grant with its audit event in one statement.
import { signToken } from "@cowork/auth";
import { type ReasonCategory } from "@cowork/validators";
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { DomainError } from "../../errors";
import { metrics } from "../../observability/metrics";
import { asyncCommit } from "../async-commit";
import { beforeDeadline } from "../deadline";
import { type RequestMeta, type ServiceDeps } from "../deps";
import { highestRankOf, impersonationRefusal, type RuleRefusal } from "../grant-rules";
import { stepUpRefusal, stepUpRequired, type StepUpRefusal } from "../step-up";
import { type SessionContext } from "../sessions";
import { take } from "../throttle";
import { issueRefusalEvent, type RefusalEvent, refuse, refuseByRule } from "./refusals";

export interface IssueRequest {
  coworkerId: number;
  reason?: string | null | undefined;
  /** Undefined: no mode asked for (full, unless the location's policy allows read-only only). */
  readOnly?: boolean | undefined;
  returnPath?: string | undefined;
  reasonCategory?: ReasonCategory | undefined;
  ticket?: string | undefined;
}

/** What the location's policy (and the target's consent) say about this issue. */
export interface IssuePolicy {
  justificationRequired: boolean;
  allowFullMode: boolean;
  consentRequired: boolean;
  /** The widest open consent grant of the target to this kind of actor (null: none). */
  consent: "full" | "readonly" | null;
}

export interface ImpersonationTarget {
  coworkerId: number;
  userId: number;
  fullName: string;
  locationId: number;
  /** Highest staff rank the target holds in any location (0: none). */
  rank: number;
  teamId: number | null;
  /** Why the caller may not impersonate the target by this route (impersonation_refusal), or null. */
  refusal: RuleRefusal | null;
  policy: IssuePolicy;
}

/** How an issue route finds its target: one read, and what its row (or no row) means. */
export interface TargetLookup<Found> {
  query: SQL;
  read(row: TargetRow | null): Found;
  /**
   * Whether the lookup found the caller to hold the route's right at all (a team admin). Without
   * it the route's own refusal answers, not the step-up: only those who may issue are asked to
   * prove themselves again. Omitted: the procedure checked the right before (staff).
   */
  holdsRight?(row: TargetRow | null): boolean;
}

/** The step-up's answer, riding with the target's lookup (checked in row-types.test.ts). */
export interface StepUpRow {
  step_up: StepUpRefusal | null;
  target_found: boolean | null;
}

/** The row of a target lookup, riding in the throttle's statement (checked in row-types.test.ts). */
export interface TargetRow {
  team_id: number | null;
  target_id: number | null;
  user_id: number | null;
  full_name: string | null;
  location_id: number | null;
  rank: number | null;
  refusal: RuleRefusal | null;
  /** The location's policy (policyColumns); null only when the team route found no team. */
  policy_on: boolean | null;
  justification_required: boolean | null;
  allow_full_mode: boolean | null;
  consent_required: boolean | null;
  /** consent_level: the widest open grant of the target (1 read-only, 2 full, null none). */
  consent_level: number | null;
}

/**
 * The feature switch and the per-actor limit, checked before any target is considered; the
 * target's lookup rides in the limit's statement (one round trip), and its answer is used only
 * once the limit has admitted the caller.
 */
export async function admitIssuer<Found>(
  deps: ServiceDeps,
  session: SessionContext,
  meta: RequestMeta,
  request: IssueRequest,
  kind: "staff" | "team",
  lookup: TargetLookup<Found>,
): Promise<Found> {
  const event = issueRefusalEvent(session, request, kind);
  if (!deps.config.impersonationEnabled) {
    await refuse(
      deps,
      meta,
      event,
      new DomainError("impersonation_disabled", "Impersonation is switched off."),
    );
  }
  // Every admitted attempt counts, refused ones included, so sweeping ids runs into the limit
  // too; an attempt the limit refuses takes no place (it is not let in). Any 60 s, not a
  // calendar minute (throttle.ts). The step-up's answer (step_up_refusal, migration 0009) rides
  // in the same statement as the target's lookup, whether or not that finds a row.
  const taken = await take<TargetRow & StepUpRow>(
    deps.db,
    [`impersonate:user:${session.userId}`],
    { windowS: 60, limit: deps.config.impersonateLimitPerMinute },
    sql`select ${stepUpRefusal(session, deps.config.stepUpMaxAgeS)} as step_up, q.*
        from (select 1) as one
        left join lateral (select true as target_found, l.* from (${lookup.query}) as l limit 1) as q on true`,
  );
  if (!taken.admitted) {
    metrics.throttled("impersonate");
    await refuse(
      deps,
      meta,
      event,
      new DomainError(
        "throttled",
        "Too many impersonation requests. Try again in a minute.",
        taken.retryAfterS,
      ),
    );
  }
  const row = taken.row?.target_found ? taken.row : null;
  if (row?.policy_on === false) {
    await refuse(
      deps,
      meta,
      event,
      new DomainError("impersonation_disabled", "Impersonation is switched off in this location."),
      "policy_off",
    );
  }
  // Only those the location lets issue at all are asked to prove themselves again.
  if (taken.row?.step_up && (lookup.holdsRight?.(row) ?? true)) {
    await refuse(deps, meta, event, stepUpRequired(deps.config.stepUpMaxAgeS));
  }
  return lookup.read(row);
}

const targetOf = (row: TargetRow): ImpersonationTarget => ({
  coworkerId: row.target_id!,
  userId: row.user_id!,
  fullName: row.full_name!,
  locationId: row.location_id!,
  rank: row.rank ?? 0,
  teamId: row.team_id,
  refusal: row.refusal,
  policy: {
    justificationRequired: row.justification_required ?? false,
    allowFullMode: row.allow_full_mode ?? true,
    consentRequired: row.consent_required ?? false,
    consent: row.consent_level === 2 ? "full" : row.consent_level === 1 ? "readonly" : null,
  },
});

/**
 * The location's policy as an issue reads it (the row of location_policies aliased `p`, its
 * defaults when there is none) and the target's (`c`) widest open consent grant to `kind`.
 */
const policyColumns = (kind: "staff" | "team") =>
  sql`coalesce(p.impersonation, true) as policy_on,
      coalesce(p.justification_required, false) as justification_required,
      coalesce(p.allow_full_mode, true) as allow_full_mode,
      coalesce(${sql.raw(kind === "staff" ? "p.staff_consent_required" : "p.team_consent_required")}, false) as consent_required,
      (select max(case when cg.read_only then 1 else 2 end) from support_access_grants cg
        where cg.coworker_id = c.id and cg.granted_to = ${kind}::impersonation_kind
          and cg.revoked_at is null and cg.expires_at > now()) as consent_level`;

/** Staff route: a coworker of the caller's active location. */
export const locationTarget = (
  session: SessionContext,
  coworkerId: number,
): TargetLookup<ImpersonationTarget | null> => ({
  // Always one row, so that the policy is read even when no such coworker is found.
  query: sql`select null::int as team_id, c.id as target_id, c.user_id, c.full_name, c.location_id,
      ${highestRankOf("c.user_id")} as rank,
      ${impersonationRefusal("staff", session, { userId: sql`c.user_id`, rank: highestRankOf("c.user_id") })} as refusal,
      ${policyColumns("staff")}
    from (select ${session.locationId}::int as location_id) here
    left join location_policies p on p.location_id = here.location_id
    left join coworkers c on c.id = ${coworkerId} and c.location_id = here.location_id`,
  read: (row) => (row?.target_id == null ? null : targetOf(row)),
});

/**
 * Team route: whether the caller administers a team in the active location, and the member of
 * such a team (no row: not a team admin; a row without target: no such member).
 */
export const teamTarget = (
  session: SessionContext,
  coworkerId: number,
): TargetLookup<{ isTeamAdmin: boolean; target: ImpersonationTarget | null }> => ({
  query: sql`select am.team_id, c.id as target_id, c.user_id, c.full_name, c.location_id,
      ${highestRankOf("c.user_id")} as rank,
      ${impersonationRefusal("team", session, { userId: sql`c.user_id`, rank: highestRankOf("c.user_id") })} as refusal,
      ${policyColumns("team")}
    from team_members am
    left join location_policies p on p.location_id = am.location_id
    left join team_members tm on tm.team_id = am.team_id and tm.coworker_id = ${coworkerId}
    left join coworkers c on c.id = tm.coworker_id
    where am.coworker_id = ${session.coworkerId} and am.team_admin and am.location_id = ${session.locationId}
    order by (c.id is null), am.team_id
    limit 1`,
  read: (row) => ({
    isTeamAdmin: row !== null,
    target: row?.target_id == null ? null : targetOf(row),
  }),
  holdsRight: (row) => row !== null,
});

/** The row of the statement that writes the grant (checked in row-types.test.ts). */
export interface GrantIssuedRow {
  jti: string;
  issued_at: Date;
  expires_at: Date;
}

/**
 * Staff route: the caller's rank must be above the target's highest rank in any location, and
 * the target not the caller (impersonation_refusal, asked where the target was found).
 */
export async function issueForStaff(
  deps: ServiceDeps,
  session: SessionContext,
  meta: RequestMeta,
  request: IssueRequest,
  target: ImpersonationTarget | null,
): Promise<{ token: string; expiresAt: Date }> {
  const event = issueRefusalEvent(session, request, "staff");
  if (!target) {
    await refuse(
      deps,
      meta,
      event,
      new DomainError("not_found", "No such coworker in this location."),
    );
    return never();
  }
  if (target.refusal) await refuseByRule(deps, meta, event, target.refusal);
  return issue(deps, session, meta, request, target, "staff");
}

/**
 * Team route: the target was resolved by the team-admin middleware; staff and self are refused
 * (impersonation_refusal, asked where the target was found).
 */
export async function issueForTeam(
  deps: ServiceDeps,
  session: SessionContext,
  meta: RequestMeta,
  request: IssueRequest,
  target: ImpersonationTarget,
): Promise<{ token: string; expiresAt: Date }> {
  if (target.refusal) {
    await refuseByRule(
      deps,
      meta,
      issueRefusalEvent(session, { ...request, coworkerId: target.coworkerId }, "team"),
      target.refusal,
    );
  }
  return issue(deps, session, meta, request, target, "team");
}

/**
 * Writes the grant and its audit event, and signs the token. The commit does not wait for the
 * WAL flush (`asyncCommit`): a grant is worth nothing until it is exchanged, and the exchange
 * commits synchronously, which flushes the log up to and past the grant's own commit (the WAL is
 * one ordered log). So a crash of PostgreSQL can only lose grants never exchanged, together with
 * their `issued` events, and their tokens then fail at the exchange (`unknown_grant`); no session
 * can stand on a lost grant.
 */
async function issue(
  deps: ServiceDeps,
  session: SessionContext,
  meta: RequestMeta,
  request: IssueRequest,
  target: ImpersonationTarget,
  kind: "staff" | "team",
): Promise<{ token: string; expiresAt: Date }> {
  const readOnly = await underPolicy(
    deps,
    meta,
    issueRefusalEvent(session, { ...request, coworkerId: target.coworkerId }, kind),
    request,
    target.policy,
  );
  const [grant] = await queryRows<GrantIssuedRow>(
    deps.db,
    sql`with g as (
          insert into impersonation_grants (kind, actor_user_id, actor_session_id, target_user_id, coworker_id, location_id, team_id, reason, read_only, return_path, reason_category, ticket, expires_at)
          select ${kind}, ${session.userId}, ${session.id}, ${target.userId}, ${target.coworkerId}, ${target.locationId},
            ${target.teamId}, ${request.reason ?? null}, ${readOnly}, ${request.returnPath ?? null},
            ${request.reasonCategory ?? null}, ${request.ticket ?? null},
            now() + make_interval(secs => ${deps.config.impersonationTokenTtlS})
          where ${beforeDeadline(meta)}
          returning jti, issued_at, expires_at
        ), e as (
          insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, kind, reason, ip, jti, read_only, reason_category, ticket)
          select 'impersonation.issued', 'success', ${session.userId}, ${target.coworkerId}, ${target.locationId}, ${kind},
            ${request.reason ?? null}, ${meta.ip}, g.jti, ${readOnly}, ${request.reasonCategory ?? null}, ${request.ticket ?? null} from g
        )
        select jti, issued_at, expires_at from g, ${asyncCommit} as commit_mode`,
  );
  const token = signToken(
    deps.signer,
    "impersonation",
    {
      sub: String(target.userId),
      coworker_id: target.coworkerId,
      act: { sub: String(session.userId) },
      ...(readOnly ? { ro: true } : {}),
    },
    { expiresAt: grant!.expires_at, jti: grant!.jti, now: grant!.issued_at },
  );
  metrics.tokenIssued(kind);
  return { token, expiresAt: grant!.expires_at };
}

/**
 * The location's policy on this issue: justification, full mode and consent (the exchange checks
 * consent again, and holds it). Answers whether the token is read-only: a request without a mode
 * is issued read-only where full mode is not allowed.
 */
async function underPolicy(
  deps: ServiceDeps,
  meta: RequestMeta,
  event: RefusalEvent,
  request: IssueRequest,
  policy: IssuePolicy,
): Promise<boolean> {
  if (policy.justificationRequired && (!request.reason || !request.reasonCategory)) {
    await refuse(
      deps,
      meta,
      event,
      new DomainError(
        "justification_required",
        "This location asks for a reason and a reason category with every impersonation.",
      ),
    );
  }
  if (request.readOnly === false && !policy.allowFullMode) {
    await refuse(
      deps,
      meta,
      event,
      new DomainError(
        "full_mode_not_allowed",
        "This location allows read-only impersonation only.",
      ),
    );
  }
  const readOnly = request.readOnly ?? !policy.allowFullMode;
  if (
    policy.consentRequired &&
    (policy.consent === null || (policy.consent === "readonly" && !readOnly))
  ) {
    await refuse(
      deps,
      meta,
      event,
      new DomainError(
        "consent_required",
        policy.consent === null
          ? "This member has not allowed support access."
          : "This member has allowed read-only support access only.",
      ),
    );
  }
  return readOnly;
}

function never(): never {
  throw new Error("unreachable");
}
