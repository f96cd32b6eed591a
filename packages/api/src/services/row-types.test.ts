// The row types declared by hand for the raw statements that remain (the atomic ones, and the
// reads riding in a throttle's take), checked against the schema. Plain reads go through Drizzle's
// query builder and take their types from the schema; a raw statement's row type cannot, so each
// is described here, field by field, by the schema column it comes from.
//
// How a change to the schema without the row type fails here:
// - renaming a column's TypeScript key (coworkers.fullName → displayName) or retyping it
//   (integer → text, nullable → not null, another enum) breaks the type-level half: the row
//   built from the schema (`FromSchema`) no longer equals the declared one, or `col` no longer
//   accepts the key. expectTypeOf is checked by tsc, so `pnpm --filter @cowork/api typecheck`
//   fails (vitest itself does not check types);
// - renaming a column in the database (`text("full_name")` → `text("name")`) breaks the runtime
//   half: each field names the column its statement reads (by default the field's own name, as
//   `select c.full_name` returns `full_name`), and that must still be the column's SQL name;
// - adding or dropping a field of a row type without saying where it comes from breaks the
//   type-level half too (the two rows must have the same fields).
// Fields no table holds (a database function's answer, a flag computed in the statement) are
// named as such: the functions' declared results are checked against the migrated database.
import {
  auditEvents,
  coworkers,
  impersonationActions,
  impersonationGrants,
  locationPolicies,
  locations,
  mailOutbox,
  otpCredentials,
  queryRows,
  sessions,
  supportAccessGrants,
  teamMembers,
  users,
  webhookAttempts,
  webhookOutbox,
  webhooks,
} from "@cowork/db";
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { type Column, getTableColumns, sql, type Table } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { type ClaimedMail } from "../mail/outbox";
import { type ActionInsertedRow } from "./actions/writer";
import { type RuleRefusal } from "./grant-rules";
import { type ExchangedRow } from "./impersonation/exchange";
import { type GrantIssuedRow, type TargetRow } from "./impersonation/issue";
import { type ConsentRow } from "./consent";
import { type LiveSessionRow } from "./oversight";
import { type PolicyRow } from "./policy";
import { type ProfileSwitchRow } from "./profiles";
import { type ExpiryRecordedRow } from "./sessions";
import { type SignInSessionRow, type SignInUserRow } from "./sign-in";
import { type TakeRow } from "./throttle";
import { type OtpConfirmRow, type OtpEnrolRow, type OtpRemoveRow } from "./otp";
import { type ReauthenticatedRow, type ReauthUserRow, type StepUpRefusal } from "./step-up";
import { type StepUpRow } from "./impersonation/issue";
import { type ClaimedWebhook, type DueMessage, type SessionEndRow } from "./webhooks/outbox";
import { type DeliveryRow } from "./webhooks/registry";

/** How the statement changes a column's nullability. */
type Nullability =
  /** As the schema declares it. */
  | "as declared"
  /** Read through a left join (or from a row that may not be there): null when nothing joined. */
  | "nullable"
  /** Only ever returned set (the statement's own joins or conditions guarantee it). */
  | "not null";

interface Source<T extends Table, K extends string, N extends Nullability> {
  table: T;
  key: K;
  nullability: N;
  /** The column's SQL name as the statement reads it (`c.id as target_id` reads `id`). */
  reads: string | null;
}

type Select<T extends Table> = T["$inferSelect"];

/**
 * A field read from `table`'s column `key`. `reads`: the SQL name the statement reads, when the
 * field is renamed (`as …`); by default the field's own name.
 */
const col = <
  T extends Table,
  K extends keyof Select<T> & string,
  N extends Nullability = "as declared",
>(
  table: T,
  key: K,
  options: { nullability?: N; reads?: string } = {},
): Source<T, K, N> => ({
  table,
  key,
  nullability: (options.nullability ?? "as declared") as N,
  reads: options.reads ?? null,
});

type ValueOf<S> =
  S extends Source<infer T, infer K, infer N>
    ? N extends "nullable"
      ? Select<T>[K] | null
      : N extends "not null"
        ? NonNullable<Select<T>[K]>
        : Select<T>[K]
    : never;

/** The row the schema says a statement returns. */
type FromSchema<M> = { [F in keyof M]: ValueOf<M[F]> };

type AnySource = Source<Table, string, Nullability>;

/** Every raw statement's row, field by field (computed fields are left out, and listed below). */
const ROWS = {
  // profiles.ts, setCurrentProfile: `select c.*` of `c.id, c.location_id, l.name as location_name, c.full_name`.
  ProfileSwitchRow: {
    id: col(coworkers, "id"),
    location_id: col(coworkers, "locationId"),
    location_name: col(locations, "name", { reads: "name" }),
    full_name: col(coworkers, "fullName"),
  },
  // sessions.ts, recordExpiryIfDue: `returning session_id as id`, inserted from s.id.
  ExpiryRecordedRow: {
    id: col(auditEvents, "sessionId", { reads: "session_id", nullability: "not null" }),
  },
  // sign-in.ts, the user read in the throttle's take.
  SignInUserRow: {
    id: col(users, "id"),
    password_hash: col(users, "passwordHash"),
  },
  // sign-in.ts, the session insert's `returning id, expires_at`.
  SignInSessionRow: {
    id: col(sessions, "id"),
    expires_at: col(sessions, "expiresAt"),
  },
  // issue.ts, the target lookups (staff: `null::int as team_id`; team: am.team_id; the target
  // through a left join in the team route).
  TargetRow: {
    team_id: col(teamMembers, "teamId", { nullability: "nullable" }),
    target_id: col(coworkers, "id", { nullability: "nullable", reads: "id" }),
    user_id: col(coworkers, "userId", { nullability: "nullable" }),
    full_name: col(coworkers, "fullName", { nullability: "nullable" }),
    location_id: col(coworkers, "locationId", { nullability: "nullable" }),
  },
  // issue.ts, the grant insert's `returning jti, issued_at, expires_at`.
  GrantIssuedRow: {
    jti: col(impersonationGrants, "jti"),
    issued_at: col(impersonationGrants, "issuedAt"),
    expires_at: col(impersonationGrants, "expiresAt"),
  },
  // exchange.ts: `s.id as session_id, s.expires_at, g.target_user_id, g.actor_user_id, g.return_path, g.actor_session_id`.
  ExchangedRow: {
    session_id: col(sessions, "id", { reads: "id" }),
    expires_at: col(sessions, "expiresAt"),
    target_user_id: col(impersonationGrants, "targetUserId"),
    actor_user_id: col(impersonationGrants, "actorUserId"),
    return_path: col(impersonationGrants, "returnPath"),
    actor_session_id: col(impersonationGrants, "actorSessionId"),
  },
  // policy.ts: the policy row's columns as they are named.
  PolicyRow: {
    location_id: col(locationPolicies, "locationId"),
    impersonation: col(locationPolicies, "impersonation"),
    staff_consent_required: col(locationPolicies, "staffConsentRequired"),
    team_consent_required: col(locationPolicies, "teamConsentRequired"),
    justification_required: col(locationPolicies, "justificationRequired"),
    notify_member: col(locationPolicies, "notifyMember"),
    max_session_minutes: col(locationPolicies, "maxSessionMinutes"),
    allow_full_mode: col(locationPolicies, "allowFullMode"),
  },
  // consent.ts: `id, granted_to, read_only, created_at, expires_at, revoked_at` of a grant.
  ConsentRow: {
    id: col(supportAccessGrants, "id"),
    granted_to: col(supportAccessGrants, "grantedTo"),
    read_only: col(supportAccessGrants, "readOnly"),
    created_at: col(supportAccessGrants, "createdAt"),
    expires_at: col(supportAccessGrants, "expiresAt"),
    revoked_at: col(supportAccessGrants, "revokedAt"),
  },
  // oversight.ts, listLive: an impersonated session (its actor and coworker always set) joined
  // to its grant, its actor and its coworker.
  LiveSessionRow: {
    session_id: col(sessions, "id", { reads: "id" }),
    actor_user_id: col(sessions, "actorUserId", { nullability: "not null" }),
    actor_name: col(users, "fullName", { reads: "full_name" }),
    coworker_id: col(sessions, "coworkerId", { nullability: "not null" }),
    target_name: col(coworkers, "fullName", { reads: "full_name" }),
    kind: col(impersonationGrants, "kind"),
    read_only: col(impersonationGrants, "readOnly"),
    reason: col(impersonationGrants, "reason"),
    reason_category: col(impersonationGrants, "reasonCategory"),
    ticket: col(impersonationGrants, "ticket"),
    started_at: col(sessions, "createdAt", { reads: "created_at" }),
    expires_at: col(sessions, "expiresAt"),
  },
  // mail/outbox.ts, claimDueMail: `returning m.id, m.claim_id, …` of the rows it just claimed.
  ClaimedMail: {
    id: col(mailOutbox, "id"),
    claim_id: col(mailOutbox, "claimId", { nullability: "not null" }),
    to_address: col(mailOutbox, "toAddress"),
    subject: col(mailOutbox, "subject"),
    text_body: col(mailOutbox, "textBody"),
    html_body: col(mailOutbox, "htmlBody"),
    attempts: col(mailOutbox, "attempts"),
  },
  // step-up.ts, the user read in the throttle's take: `u.password_hash, o.secret as otp_secret`
  // (a left join on the confirmed app).
  ReauthUserRow: {
    password_hash: col(users, "passwordHash"),
    otp_secret: col(otpCredentials, "secret", { reads: "secret", nullability: "nullable" }),
  },
  // step-up.ts, the session update's `returning id`.
  ReauthenticatedRow: {
    id: col(sessions, "id"),
  },
  // otp.ts, the enrolment's and the confirmation's `returning user_id`.
  OtpEnrolRow: {
    user_id: col(otpCredentials, "userId"),
  },
  OtpConfirmRow: {
    user_id: col(otpCredentials, "userId"),
  },
  // actions/writer.ts, the batch insert's `returning id`.
  ActionInsertedRow: {
    id: col(impersonationActions, "id"),
  },
  // webhooks/outbox.ts, claimWebhook: `returning w.id, w.lease_id, …` of the webhook it leased.
  ClaimedWebhook: {
    id: col(webhooks, "id"),
    lease_id: col(webhooks, "leaseId", { nullability: "not null" }),
    url: col(webhooks, "url"),
    format: col(webhooks, "format"),
    secret: col(webhooks, "secret"),
  },
  // webhooks/outbox.ts, dueMessages: `o.id, o.message_id, …` of the outbox.
  DueMessage: {
    id: col(webhookOutbox, "id"),
    message_id: col(webhookOutbox, "messageId"),
    event_id: col(webhookOutbox, "eventId"),
    session_id: col(webhookOutbox, "sessionId"),
    created_at: col(webhookOutbox, "createdAt"),
    attempts: col(webhookOutbox, "attempts"),
  },
  // webhooks/registry.ts, listDeliveries: an attempt, its message, the event's seq (left join).
  DeliveryRow: {
    at: col(webhookAttempts, "at"),
    event_id: col(webhookOutbox, "eventId"),
    seq: col(auditEvents, "seq", { nullability: "nullable" }),
    status: col(webhookAttempts, "status"),
    error: col(webhookAttempts, "error"),
  },
};
// (No `satisfies` on ROWS: as a contextual type it would widen each field's nullability.)

describe("hand-declared row types of the raw statements", () => {
  it("equal the rows the schema gives (type level, checked by tsc)", () => {
    expectTypeOf<ProfileSwitchRow>().toEqualTypeOf<FromSchema<typeof ROWS.ProfileSwitchRow>>();
    expectTypeOf<ExpiryRecordedRow>().toEqualTypeOf<FromSchema<typeof ROWS.ExpiryRecordedRow>>();
    expectTypeOf<SignInUserRow>().toEqualTypeOf<FromSchema<typeof ROWS.SignInUserRow>>();
    expectTypeOf<SignInSessionRow>().toEqualTypeOf<FromSchema<typeof ROWS.SignInSessionRow>>();
    expectTypeOf<GrantIssuedRow>().toEqualTypeOf<FromSchema<typeof ROWS.GrantIssuedRow>>();
    expectTypeOf<ExchangedRow>().toEqualTypeOf<FromSchema<typeof ROWS.ExchangedRow>>();
    expectTypeOf<PolicyRow>().toEqualTypeOf<FromSchema<typeof ROWS.PolicyRow>>();
    expectTypeOf<ConsentRow>().toEqualTypeOf<FromSchema<typeof ROWS.ConsentRow>>();
    expectTypeOf<LiveSessionRow>().toEqualTypeOf<FromSchema<typeof ROWS.LiveSessionRow>>();
    expectTypeOf<ClaimedMail>().toEqualTypeOf<FromSchema<typeof ROWS.ClaimedMail>>();
    expectTypeOf<ActionInsertedRow>().toEqualTypeOf<FromSchema<typeof ROWS.ActionInsertedRow>>();
    expectTypeOf<ClaimedWebhook>().toEqualTypeOf<FromSchema<typeof ROWS.ClaimedWebhook>>();
    expectTypeOf<DueMessage>().toEqualTypeOf<FromSchema<typeof ROWS.DueMessage>>();
    expectTypeOf<DeliveryRow>().toEqualTypeOf<FromSchema<typeof ROWS.DeliveryRow>>();
    // webhooks/outbox.ts, sessionEnd: the session's id; when it ended and why, computed.
    expectTypeOf<SessionEndRow>().toEqualTypeOf<{ id: string; ended_at: Date; reason: string }>();
    // rank: highestRankOf (`…::int`, 0 when none; null only when the team route found no
    // target); refusal: impersonation_refusal's text (checked below).
    // The policy's columns (coalesced to the contract's defaults; null when the team route found
    // no team) and consent_level, a max over the target's open consent grants.
    type Computed =
      | "rank"
      | "refusal"
      | "policy_on"
      | "justification_required"
      | "allow_full_mode"
      | "consent_required"
      | "consent_level";
    expectTypeOf<Omit<TargetRow, Computed>>().toEqualTypeOf<FromSchema<typeof ROWS.TargetRow>>();
    expectTypeOf<Pick<TargetRow, Computed>>().toEqualTypeOf<{
      rank: number | null;
      refusal: RuleRefusal | null;
      policy_on: boolean | null;
      justification_required: boolean | null;
      allow_full_mode: boolean | null;
      consent_required: boolean | null;
      consent_level: number | null;
    }>();
    expectTypeOf<ReauthUserRow>().toEqualTypeOf<FromSchema<typeof ROWS.ReauthUserRow>>();
    expectTypeOf<ReauthenticatedRow>().toEqualTypeOf<FromSchema<typeof ROWS.ReauthenticatedRow>>();
    expectTypeOf<OtpEnrolRow>().toEqualTypeOf<FromSchema<typeof ROWS.OtpEnrolRow>>();
    expectTypeOf<OtpConfirmRow>().toEqualTypeOf<FromSchema<typeof ROWS.OtpConfirmRow>>();
    // step_up: step_up_refusal's text (checked below); target_found: `true as target_found`
    // through a left join (null when the lookup found nothing).
    expectTypeOf<StepUpRow>().toEqualTypeOf<{
      step_up: StepUpRefusal | null;
      target_found: boolean | null;
    }>();
    // removed: `exists (…)`; step_up: a case of step_up_refusal's answer.
    expectTypeOf<OtpRemoveRow>().toEqualTypeOf<{ removed: boolean; step_up: string | null }>();
    // throttle_take's answer and the `true as found` of its alongside read: no table's columns.
    expectTypeOf<TakeRow>().toEqualTypeOf<{
      throttle_outcome: "admitted" | "refused" | "busy";
      throttle_place: string;
      throttle_retry_after: number;
      found: boolean;
    }>();
  });

  it.each(Object.entries(ROWS))(
    "%s: every field names the column its statement reads",
    (_, fields) => {
      for (const [field, source] of Object.entries(fields as Record<string, AnySource>)) {
        const column = (getTableColumns(source.table) as Record<string, Column | undefined>)[
          source.key
        ];
        expect(column, `${field}: ${source.key}`).toBeDefined();
        expect(column!.name, field).toBe(source.reads ?? field);
      }
    },
  );
});

describe("the database functions behind computed fields", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  // The TypeScript type each function's result (or result column) is read as, above.
  const FUNCTIONS: Record<string, string> = {
    // TakeRow: throttle_outcome (outcome), throttle_place (hit_at), throttle_retry_after.
    throttle_take: "TABLE(outcome text, hit_at text, retry_after_s integer)",
    // TargetRow.refusal (RuleRefusal | null), and the directory's `… is null`.
    impersonation_refusal: "text",
    // TargetRow.rank, through highestRankOf's max(staff_rank(…)).
    staff_rank: "integer",
    // StepUpRow.step_up (StepUpRefusal | null), OtpRemoveRow.step_up.
    step_up_refusal: "text",
  };

  it.each(Object.entries(FUNCTIONS))("%s returns %s", async (name, result) => {
    const rows = await queryRows<{ result: string }>(
      database.db,
      sql`select pg_get_function_result(p.oid) as result
          from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where p.proname = ${name} and n.nspname = current_schema()`,
    );
    expect(rows.map((row) => row.result)).toEqual([result]);
  });

  // The literal answers of a function (`then '…'`) against the union its field is declared as.
  const answers = async (name: string, pattern: RegExp) => {
    const [row] = await queryRows<{ source: string }>(
      database.db,
      sql`select prosrc as source from pg_proc where proname = ${name}`,
    );
    return [...row!.source.matchAll(pattern)].map((match) => match[1]).sort();
  };

  it("impersonation_refusal answers exactly the refusals RuleRefusal names", async () => {
    const refusals: RuleRefusal[] = ["rank", "self", "staff_target"];
    expect(await answers("impersonation_refusal", /then '([a-z_]+)'/g)).toEqual(refusals);
  });

  it("step_up_refusal answers exactly the refusal StepUpRefusal names", async () => {
    const refusals: StepUpRefusal[] = ["step_up_required", "step_up_required", "step_up_required"];
    // PL/pgSQL since migration 0015: each refusal is a `return '…'`.
    expect(await answers("step_up_refusal", /return '([a-z_]+)'/g)).toEqual(refusals);
  });

  it("throttle_take answers exactly the outcomes TakeRow names", async () => {
    const outcomes: TakeRow["throttle_outcome"][] = ["admitted", "busy", "refused"];
    expect(
      await answers("throttle_take", /(?:select case when \w+ then|else|select) '([a-z]+)'/g),
    ).toEqual(outcomes);
  });
});
