// Issuing an impersonation token (staff or team admin): admitting the issuer, finding the target
// with the rule's answer for it, and writing the grant with its audit event in one statement.
import { signToken } from "@cowork/auth";
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
import { issueRefusalEvent, refuse, refuseByRule } from "./refusals";

export interface IssueRequest {
  coworkerId: number;
  reason?: string | null | undefined;
  readOnly?: boolean | undefined;
  returnPath?: string | undefined;
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
});

/** Staff route: a coworker of the caller's active location. */
export const locationTarget = (
  session: SessionContext,
  coworkerId: number,
): TargetLookup<ImpersonationTarget | null> => ({
  query: sql`select null::int as team_id, c.id as target_id, c.user_id, c.full_name, c.location_id,
      ${highestRankOf("c.user_id")} as rank,
      ${impersonationRefusal("staff", session, { userId: sql`c.user_id`, rank: highestRankOf("c.user_id") })} as refusal
    from coworkers c where c.id = ${coworkerId} and c.location_id = ${session.locationId}`,
  read: (row) => (row ? targetOf(row) : null),
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
      ${impersonationRefusal("team", session, { userId: sql`c.user_id`, rank: highestRankOf("c.user_id") })} as refusal
    from team_members am
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
  const readOnly = request.readOnly ?? false;
  const [grant] = await queryRows<GrantIssuedRow>(
    deps.db,
    sql`with g as (
          insert into impersonation_grants (kind, actor_user_id, actor_session_id, target_user_id, coworker_id, location_id, team_id, reason, read_only, return_path, expires_at)
          select ${kind}, ${session.userId}, ${session.id}, ${target.userId}, ${target.coworkerId}, ${target.locationId},
            ${target.teamId}, ${request.reason ?? null}, ${readOnly}, ${request.returnPath ?? null},
            now() + make_interval(secs => ${deps.config.impersonationTokenTtlS})
          where ${beforeDeadline(meta)}
          returning jti, issued_at, expires_at
        ), e as (
          insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, kind, reason, ip, jti, read_only)
          select 'impersonation.issued', 'success', ${session.userId}, ${target.coworkerId}, ${target.locationId}, ${kind},
            ${request.reason ?? null}, ${meta.ip}, g.jti, ${readOnly} from g
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

function never(): never {
  throw new Error("unreachable");
}
