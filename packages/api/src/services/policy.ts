// Each location's impersonation policy (CONTRACT §8): read by every issue and exchange in their
// own statements (issue.ts, exchange.ts); read and changed here.
import { type Database, locationPolicies, queryRows } from "@cowork/db";
import {
  POLICY_FIELDS,
  type PolicyFields,
  type PolicyOutput,
  type UpdatePolicyInput,
} from "@cowork/validators";
import { eq, sql } from "drizzle-orm";
import { DomainError } from "../errors";
import { beforeDeadline } from "./deadline";
import { type RequestMeta, type ServiceDeps } from "./deps";
import { type SessionContext } from "./sessions";

/** A row of location_policies as the raw statements here return it. */
export interface PolicyRow {
  location_id: number;
  impersonation: boolean;
  staff_consent_required: boolean;
  team_consent_required: boolean;
  justification_required: boolean;
  notify_member: boolean;
  max_session_minutes: number;
  allow_full_mode: boolean;
}

/** The contract's defaults, for a location without a row (there is one per location: trigger). */
const DEFAULT_ROW: Omit<PolicyRow, "location_id"> = {
  impersonation: true,
  staff_consent_required: false,
  team_consent_required: false,
  justification_required: false,
  notify_member: true,
  max_session_minutes: 60,
  allow_full_mode: true,
};

const toPolicy = (locationId: number, row: Omit<PolicyRow, "location_id">): PolicyOutput => ({
  locationId,
  impersonation: row.impersonation ? "on" : "off",
  staffConsent: row.staff_consent_required ? "required" : "not_required",
  teamConsent: row.team_consent_required ? "required" : "not_required",
  justification: row.justification_required ? "required" : "optional",
  notifyMember: row.notify_member,
  maxSessionMinutes: row.max_session_minutes,
  allowFullMode: row.allow_full_mode,
});

/** The location's policy (its defaults when it has no row). */
export async function getPolicy(db: Database, locationId: number): Promise<PolicyOutput> {
  const [row] = await db
    .select()
    .from(locationPolicies)
    .where(eq(locationPolicies.locationId, locationId));
  if (!row) return toPolicy(locationId, DEFAULT_ROW);
  return toPolicy(locationId, {
    impersonation: row.impersonation,
    staff_consent_required: row.staffConsentRequired,
    team_consent_required: row.teamConsentRequired,
    justification_required: row.justificationRequired,
    notify_member: row.notifyMember,
    max_session_minutes: row.maxSessionMinutes,
    allow_full_mode: row.allowFullMode,
  });
}

/**
 * Changes the fields given, writes `policy.changed` naming them, and, when impersonation is
 * switched off, ends every live impersonated session of the location: one transaction. The row is
 * locked first, which waits for exchanges under way (they hold it FOR SHARE) and makes later ones
 * wait for this commit; the sessions are ended by a statement that starts after that lock, so it
 * sees every session those exchanges created.
 */
export async function updatePolicy(
  deps: ServiceDeps,
  session: SessionContext,
  input: UpdatePolicyInput,
  meta: RequestMeta,
): Promise<PolicyOutput> {
  const locationId = session.locationId;
  if (input.locationId !== undefined && input.locationId !== locationId) {
    throw new DomainError("invalid_request", "locationId must be the active location.");
  }
  return deps.db.transaction(async (tx) => {
    const db = tx as unknown as Database;
    const [current] = await queryRows<PolicyRow>(
      db,
      sql`with ensure as (
            insert into location_policies (location_id) select ${locationId}
            where ${beforeDeadline(meta)}
            on conflict (location_id) do nothing
          )
          select location_id, impersonation, staff_consent_required, team_consent_required,
            justification_required, notify_member, max_session_minutes, allow_full_mode
          from location_policies where location_id = ${locationId} for update`,
    );
    // A row inserted by `ensure` is not visible to its own statement: the defaults stand for it.
    const before = toPolicy(locationId, current ?? DEFAULT_ROW);
    const after: PolicyOutput = { ...before };
    for (const field of POLICY_FIELDS) {
      if (input[field] !== undefined) (after as Record<string, unknown>)[field] = input[field];
    }
    const changed = POLICY_FIELDS.filter((field) => after[field] !== before[field]);
    if (changed.length === 0) return before;
    await queryRows(
      db,
      sql`with p as (
            insert into location_policies as lp (location_id, impersonation, staff_consent_required,
              team_consent_required, justification_required, notify_member, max_session_minutes, allow_full_mode)
            select ${locationId}, ${after.impersonation === "on"}, ${after.staffConsent === "required"},
              ${after.teamConsent === "required"}, ${after.justification === "required"}, ${after.notifyMember},
              ${after.maxSessionMinutes}, ${after.allowFullMode}
            where ${beforeDeadline(meta)}
            on conflict (location_id) do update set impersonation = excluded.impersonation,
              staff_consent_required = excluded.staff_consent_required,
              team_consent_required = excluded.team_consent_required,
              justification_required = excluded.justification_required,
              notify_member = excluded.notify_member,
              max_session_minutes = excluded.max_session_minutes,
              allow_full_mode = excluded.allow_full_mode,
              updated_at = now()
            returning lp.location_id
          )
          insert into audit_events (type, outcome, actor_user_id, location_id, ip, detail)
          select 'policy.changed', 'success', ${session.userId}, p.location_id, ${meta.ip}, ${changed.join(",")}
          from p`,
    );
    if (before.impersonation === "on" && after.impersonation === "off") {
      await queryRows(
        db,
        sql`update sessions set revoked_at = now(), revoked_reason = 'policy_off'
            where location_id = ${locationId} and grant_jti is not null and revoked_at is null
              and ${beforeDeadline(meta)}`,
      );
    }
    return after;
  });
}

export type { PolicyFields };
