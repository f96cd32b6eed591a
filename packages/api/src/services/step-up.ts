// Step-up (CONTRACT §10, RFC 9470): a session remembers when it last proved its password and how
// (`auth_time`, `amr`); issuing an impersonation token, and removing a one-time-code app, need
// that proof recent, with the code where an app is enrolled. The rule is the database function
// step_up_refusal (migration 0009), asked in the statements that issue and remove; a
// reauthentication renews the proof.
import { verifyAgainstDummy, verifyPassword } from "@cowork/auth";
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { DomainError } from "../errors";
import { metrics } from "../observability/metrics";
import { recordAudit } from "./audit";
import { beforeDeadline } from "./deadline";
import { type RequestMeta, type ServiceDeps } from "./deps";
import { stepOfSealedCode } from "./otp";
import { type SessionContext } from "./sessions";
import { settle } from "./throttle";
import { signInKeys, takeSignInPlace } from "./sign-in";

/** What step_up_refusal answers when the session must step up first. */
export type StepUpRefusal = "step_up_required";

/** Why the session may not do what needs a step-up now (step_up_refusal), or null when it may. */
export const stepUpRefusal = (session: Pick<SessionContext, "id">, maxAgeS: number): SQL =>
  sql`step_up_refusal(${session.id}::uuid, ${maxAgeS}::int)`;

/** RFC 9470 §3: the challenge names the error and how recent the proof must be. */
export const stepUpChallenge = (maxAgeS: number) =>
  `Bearer error="insufficient_user_authentication", max_age=${maxAgeS}`;

export const stepUpRequired = (maxAgeS: number) =>
  new DomainError(
    "step_up_required",
    `Confirm it's you: enter your password (and your one-time code, if you use an app) again. This needs a sign-in within the last ${maxAgeS} seconds.`,
    undefined,
    { challenge: stepUpChallenge(maxAgeS) },
  );

/** The user's password and one-time-code app, read in the throttle's statement (row-types.test.ts). */
export interface ReauthUserRow {
  password_hash: string;
  otp_secret: string | null;
}

/** The row of the statement that renews the proof (checked in row-types.test.ts). */
export interface ReauthenticatedRow {
  id: string;
}

export interface ReauthenticateInput {
  password: string;
  otp?: string | undefined;
}

/**
 * Renews the session's proof: its password again and, where the user has an app enrolled, a
 * code of it (whose step is then taken: a code counts once). Counted by the sign-in limits as a
 * sign-in is: a wrong password, or a missing, wrong or used code, counts as a failure, and once
 * the account (or the address) has its limit, every attempt is refused with 429, a correct one
 * included. The session's `auth_time` becomes now and its `amr` says how, with the event
 * `session.reauthenticated`, in one statement.
 */
export async function reauthenticate(
  deps: ServiceDeps,
  session: SessionContext,
  input: ReauthenticateInput,
  meta: RequestMeta,
): Promise<void> {
  const keys = signInKeys(session.email, meta);
  const taken = await takeSignInPlace<ReauthUserRow>(
    deps,
    keys,
    sql`select u.password_hash, o.secret as otp_secret
        from users u left join otp_credentials o on o.user_id = u.id and o.confirmed_at is not null
        where u.id = ${session.userId}`,
    meta,
  );
  const refused = (detail: string) =>
    recordAudit(
      deps.db,
      {
        type: "session.reauthenticated",
        outcome: "refused",
        actorUserId: session.userId,
        locationId: session.locationId,
        ip: meta.ip,
        sessionId: session.id,
        detail,
      },
      meta,
    );
  if (!taken.admitted) {
    await refused("throttled");
    metrics.throttled("signin");
    throw new DomainError(
      "throttled",
      "Too many failed sign-in attempts. Try again later.",
      taken.retryAfterS,
    );
  }
  const user = taken.row;
  const validPassword = user
    ? await verifyPassword(input.password, user.password_hash)
    : await verifyAgainstDummy(input.password);
  // A code is checked only where an app is enrolled; a code sent without one proves nothing.
  const step =
    user?.otp_secret && input.otp !== undefined
      ? stepOfSealedCode(deps, session.userId, user.otp_secret, input.otp)
      : null;
  const detail =
    !user || !validPassword
      ? "invalid_credentials"
      : user.otp_secret === null
        ? input.otp === undefined
          ? null
          : "no_otp_enrolled"
        : input.otp === undefined
          ? "otp_required"
          : step === null
            ? "invalid_otp"
            : null;
  const fail = async (why: string): Promise<never> => {
    await refused(why);
    // The place taken above counts from now on.
    await settle(deps.db, keys, taken.place, true);
    throw new DomainError(
      "invalid_grant",
      why === "otp_required"
        ? "Enter the code of your one-time-code app as well."
        : why === "no_otp_enrolled"
          ? "No one-time-code app is enrolled: send the password alone."
          : "The password or code is not correct, or the code was used already.",
    );
  };
  if (detail !== null) return fail(detail);

  const withCode = step !== null;
  const [row] = await queryRows<ReauthenticatedRow>(
    deps.db,
    sql`with o as (
          update otp_credentials set last_step = ${step}
          where ${withCode} and user_id = ${session.userId} and confirmed_at is not null
            and (last_step is null or last_step < ${step})
          returning user_id
        ), s as (
          update sessions set auth_time = now(),
            amr = case when ${withCode} then '{pwd,otp}'::text[] else '{pwd}'::text[] end
          where id = ${session.id} and revoked_at is null
            and (not ${withCode} or exists (select 1 from o))
            and ${beforeDeadline(meta)}
          returning id, location_id
        ), e as (
          insert into audit_events (type, outcome, actor_user_id, location_id, ip, session_id, detail)
          select 'session.reauthenticated', 'success', ${session.userId}, s.location_id, ${meta.ip}, s.id,
            case when ${withCode} then 'pwd,otp' else 'pwd' end
          from s
        )
        select id from s`,
  );
  // The code's step was taken already (a replay, here or in another process).
  if (!row) return fail("invalid_otp");
  await settle(deps.db, keys, taken.place, false);
}
