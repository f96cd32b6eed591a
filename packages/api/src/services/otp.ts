// One-time-code apps (RFC 6238, CONTRACT §10): enrolment (a secret, pending until a first code
// confirms it), removal (only after a step-up with the code), and the check of a code, which
// takes the code's time step in the database so that each step's code counts at most once per
// account, across every process.
import { otpCredentials, preparedRead, queryRows } from "@cowork/db";
import { eq, sql } from "drizzle-orm";
import { DomainError } from "../errors";
import { beforeDeadline } from "./deadline";
import { type RequestMeta, type ServiceDeps } from "./deps";
import { openSecret, sealSecret } from "./otp-secret";
import { type SessionContext } from "./sessions";
import { stepUpRefusal, stepUpRequired } from "./step-up";
import { newSecret, stepOfCode } from "./totp";

/** The key that seals secrets; the server always configures one (config.ts says where from). */
export function otpKey(deps: Pick<ServiceDeps, "config">): Buffer {
  const key = deps.config.otpEncryptionKey;
  if (!key) throw new Error("OTP_ENCRYPTION_KEY is not configured in this process");
  return key;
}

/** A user's one-time-code app, as stored (built once). */
const credentialOf = preparedRead("otp_credential", (db) =>
  db
    .select({
      secret: otpCredentials.secret,
      confirmed: sql<boolean>`${otpCredentials.confirmedAt} is not null`,
    })
    .from(otpCredentials)
    .where(eq(otpCredentials.userId, sql.placeholder("userId"))),
);

/** Whether the user has a confirmed one-time-code app. */
export async function isEnrolled(deps: ServiceDeps, userId: number): Promise<boolean> {
  return (await otpStatus(deps, userId)).enrolled;
}

/** Whether the user has an app enrolled, or an enrolment waiting for its first code. */
export async function otpStatus(
  deps: ServiceDeps,
  userId: number,
): Promise<{ enrolled: boolean; pending: boolean }> {
  const [row] = await credentialOf(deps.db, { userId });
  return { enrolled: row?.confirmed ?? false, pending: row !== undefined && !row.confirmed };
}

const alreadyEnrolled = () =>
  new DomainError(
    "already_enrolled",
    "A one-time-code app is enrolled already: remove it before enrolling another.",
  );
const wrongCode = () =>
  new DomainError("invalid_grant", "The code is not correct, or it was used already.");

/** The row of the enrolment's statement (checked in row-types.test.ts). */
export interface OtpEnrolRow {
  user_id: number;
}

/**
 * Starts enrolment: a fresh 160-bit secret, sealed and stored pending (replacing a pending one),
 * and shown once, as base32 text and as the otpauth:// URI an app reads from a QR code. A
 * confirmed app is never replaced (409).
 */
export async function enrolOtp(
  deps: ServiceDeps,
  session: SessionContext,
  meta: RequestMeta,
): Promise<{ secret: string; otpauthUri: string }> {
  const fresh = newSecret(session.email);
  const sealed = sealSecret(otpKey(deps), session.userId, fresh.bytes);
  const rows = await queryRows<OtpEnrolRow>(
    deps.db,
    sql`insert into otp_credentials (user_id, secret)
        select ${session.userId}, ${sealed} where ${beforeDeadline(meta)}
        on conflict (user_id) do update set secret = excluded.secret, created_at = now(), last_step = null
          where otp_credentials.confirmed_at is null
        returning user_id`,
  );
  if (rows.length === 0) throw alreadyEnrolled();
  return { secret: fresh.base32, otpauthUri: fresh.uri };
}

/** The row of the confirmation's statement (checked in row-types.test.ts). */
export interface OtpConfirmRow {
  user_id: number;
}

/**
 * Confirms a pending enrolment with a code of its secret: the app is enrolled from now on, the
 * code's step is taken (it cannot be used again, here or at a reauthentication), and
 * `otp.enrolled` is written, all in one statement. Only the secret the code was checked against
 * is confirmed: an enrolment replaced in the meantime stays pending.
 */
export async function confirmOtp(
  deps: ServiceDeps,
  session: SessionContext,
  code: string,
  meta: RequestMeta,
): Promise<void> {
  const [stored] = await credentialOf(deps.db, { userId: session.userId });
  if (stored?.confirmed) throw alreadyEnrolled();
  const secret = stored ? openSecret(otpKey(deps), session.userId, stored.secret) : null;
  if (!stored || !secret) {
    throw new DomainError("invalid_grant", "Start an enrolment first: there is none pending.");
  }
  const step = stepOfCode(secret, code);
  if (step === null) throw wrongCode();
  const rows = await queryRows<OtpConfirmRow>(
    deps.db,
    sql`with o as (
          update otp_credentials set confirmed_at = now(), last_step = ${step}
          where user_id = ${session.userId} and confirmed_at is null and secret = ${stored.secret}
            and (last_step is null or last_step < ${step})
            and ${beforeDeadline(meta)}
          returning user_id
        ), e as (
          insert into audit_events (type, outcome, actor_user_id, location_id, ip, session_id)
          select 'otp.enrolled', 'success', o.user_id, ${session.locationId}, ${meta.ip}, ${session.id} from o
        )
        select user_id from o`,
  );
  if (rows.length === 0) throw wrongCode();
}

/** The row of the removal's statement (checked in row-types.test.ts). */
export interface OtpRemoveRow {
  removed: boolean;
  step_up: string | null;
}

/**
 * Removes the user's one-time-code app, only when the session stepped up with its code within
 * the step-up's age (step_up_refusal, asked in the statement that deletes), and writes
 * `otp.removed` with it.
 */
export async function removeOtp(
  deps: ServiceDeps,
  session: SessionContext,
  meta: RequestMeta,
): Promise<void> {
  const maxAge = deps.config.stepUpMaxAgeS;
  const [row] = await queryRows<OtpRemoveRow>(
    deps.db,
    sql`with facts as (
          select ${stepUpRefusal(session, maxAge)} as step_up,
            ('otp' = any (s.amr)) as with_code
          from sessions s where s.id = ${session.id}
        ), d as (
          delete from otp_credentials o
          using facts
          where o.user_id = ${session.userId} and o.confirmed_at is not null
            and facts.step_up is null and facts.with_code
            and ${beforeDeadline(meta)}
          returning o.user_id
        ), e as (
          insert into audit_events (type, outcome, actor_user_id, location_id, ip, session_id)
          select 'otp.removed', 'success', d.user_id, ${session.locationId}, ${meta.ip}, ${session.id} from d
        )
        select exists (select 1 from d) as removed,
          (select case when facts.step_up is null and facts.with_code then null else 'step_up_required' end from facts) as step_up`,
  );
  if (row?.removed) return;
  if (!(await isEnrolled(deps, session.userId))) {
    throw new DomainError("not_found", "No one-time-code app is enrolled.");
  }
  throw stepUpRequired(maxAge);
}

/**
 * The time step of `code` for the user's sealed secret, or null when the secret does not open or
 * the code is not one of the previous, current or next step. The caller takes the step in its
 * own statement (`last_step < step`), which is what makes each step's code count once.
 */
export function stepOfSealedCode(
  deps: ServiceDeps,
  userId: number,
  sealed: string,
  code: string,
): number | null {
  const secret = openSecret(otpKey(deps), userId, sealed);
  return secret ? stepOfCode(secret, code) : null;
}
