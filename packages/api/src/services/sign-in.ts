// Sign-in with email and password, sign-out, and access tokens for sessions.
import { SESSION_LIFETIME_S, signToken, verifyAgainstDummy, verifyPassword } from "@cowork/auth";
import { coworkers, locations, preparedRead, queryRows, staffRoles } from "@cowork/db";
import { type SignInInput } from "@cowork/validators";
import { and, eq, isNotNull, or, type SQL, sql } from "drizzle-orm";
import { DomainError } from "../errors";
import { metrics } from "../observability/metrics";
import { recordAudit } from "./audit";
import { beforeDeadline } from "./deadline";
import { type RequestMeta, type ServiceDeps } from "./deps";
import { type SessionContext } from "./sessions";
import { pruneThrottle, settle, take } from "./throttle";

const SIGNIN_WINDOW_S = 15 * 60;
/**
 * How long a sign-in's place may stay pending before it counts as a failure: longer than any
 * sign-in takes from its place to its answer (CONTRACT: an answer within 5 s).
 */
const SIGNIN_HOLD_S = 10;
/** The first pause of an attempt that finds the places held by attempts being checked. */
const BUSY_RETRY_MS = 20;
/** What a sign-in needs after its place, before its deadline: check, location, session. */
const CHECK_RESERVE_MS = 750;

export interface IssuedAccessToken {
  accessToken: string;
  expiresIn: number;
  expiresAt: Date;
  sessionId: string;
  /** `DPoP` when the token is bound to a key (RFC 9449 §5), else `Bearer`. */
  tokenType: "Bearer" | "DPoP";
}

export function accessTokenFor(
  deps: ServiceDeps,
  session: {
    id: string;
    userId: number;
    expiresAt: Date;
    actorUserId: number | null;
    /** The DPoP key the session is bound to (RFC 9449 cnf.jkt), if any. */
    dpopJkt?: string | null;
  },
): IssuedAccessToken {
  const accessToken = signToken(
    deps.signer,
    "access",
    {
      sub: String(session.userId),
      sid: session.id,
      client_id: "cowork-portal",
      ...(session.actorUserId === null ? {} : { act: { sub: String(session.actorUserId) } }),
      ...(session.dpopJkt ? { cnf: { jkt: session.dpopJkt } } : {}),
    },
    { expiresAt: session.expiresAt },
  );
  return {
    accessToken,
    expiresIn: Math.max(0, Math.floor((session.expiresAt.getTime() - Date.now()) / 1000)),
    expiresAt: session.expiresAt,
    sessionId: session.id,
    tokenType: session.dpopJkt ? "DPoP" : "Bearer",
  };
}

/** The user's row, read in the throttle's statement (checked in row-types.test.ts). */
export interface SignInUserRow {
  id: number;
  password_hash: string;
}

/** The row of the statement that opens the session (checked in row-types.test.ts). */
export interface SignInSessionRow {
  id: string;
  expires_at: Date;
}

/** The sign-in limits' keys of an attempt: the account, and the client address when known. */
export const signInKeys = (email: string, meta: RequestMeta): string[] => [
  `signin:account:${email.toLowerCase()}`,
  ...(meta.ip ? [`signin:ip:${meta.ip}`] : []),
];

/**
 * Takes a pending place under the sign-in limits for an attempt that proves a password (a
 * sign-in, a reauthentication), with `alongside` read in the same statement. Only failures
 * count, and once an account (or an address) has its limit of them in the window, no further
 * password is checked for it (a correct one included) until the oldest leaves the window. So
 * the attempt takes its place in the count first, atomically and under both keys at once,
 * pending while its password is checked: a wrong one makes it count (`settle`), a right one
 * gives it back. Concurrent attempts (in one batch, over many connections, on many processes)
 * each take a place of their own, and no more than the limit of them ever reach the check.
 */
export async function takeSignInPlace<Row extends object>(
  deps: ServiceDeps,
  keys: string[],
  alongside: SQL,
  meta: RequestMeta,
) {
  const throttle = {
    windowS: SIGNIN_WINDOW_S,
    limit: deps.config.signinLimitPer15Minutes,
    holdS: SIGNIN_HOLD_S,
  };
  const attempt = () => take<Row>(deps.db, keys, throttle, alongside);
  let taken = await attempt();
  // Full only of attempts still being checked: one of them may prove right and give its place
  // back, so this one waits for them (correct passwords sent at once must not refuse each other),
  // asking again less and less often, and only while it could still sign in before its deadline.
  for (
    let pause = BUSY_RETRY_MS;
    !taken.admitted &&
    taken.busy &&
    Date.now() + pause < meta.deadline.getTime() - CHECK_RESERVE_MS;
    pause = Math.min(pause * 2, 320)
  ) {
    await new Promise((resolve) => setTimeout(resolve, pause));
    taken = await attempt();
  }
  if (taken.admitted && Math.random() < 0.01) await pruneThrottle(deps.db);
  return taken;
}

export async function signIn(
  deps: ServiceDeps,
  input: SignInInput,
  meta: RequestMeta,
  /** The DPoP key the new session is bound to (a valid proof came with the request), or null. */
  dpopJkt: string | null = null,
): Promise<IssuedAccessToken> {
  const email = input.email.toLowerCase();
  const keys = signInKeys(email, meta);
  // The user's row is read in the statement that takes the place (takeSignInPlace).
  const taken = await takeSignInPlace<SignInUserRow>(
    deps,
    keys,
    sql`select id, password_hash from users where lower(email) = ${email}`,
    meta,
  );
  if (!taken.admitted) {
    await recordAudit(
      deps.db,
      {
        type: "signin.failed",
        outcome: "refused",
        ip: meta.ip,
        detail: "throttled",
      },
      meta,
    );
    metrics.throttled("signin");
    metrics.signinFailed("throttled");
    throw new DomainError(
      "throttled",
      "Too many failed sign-in attempts. Try again later.",
      taken.retryAfterS,
    );
  }

  // The place is given back only when the password proves correct; a check that fails for want
  // of the database leaves it pending, so it counts once its hold has passed (that password may
  // have been wrong).
  const user = taken.row;
  const valid = user
    ? await verifyPassword(input.password, user.password_hash)
    : await verifyAgainstDummy(input.password);
  if (!user || !valid) {
    // Filed under the account's home location, so that location's admins see it.
    const home = user ? await chooseLocation(deps, user.id, undefined).catch(() => null) : null;
    await recordAudit(
      deps.db,
      {
        type: "signin.failed",
        outcome: "refused",
        actorUserId: user?.id ?? null,
        locationId: home?.locationId ?? null,
        ip: meta.ip,
        detail: "invalid_credentials",
      },
      meta,
    );
    // Failures without a location (an unknown email) reach no admin's audit log: counted here.
    metrics.signinFailed(user ? "wrong_password" : "unknown_email");
    // The place taken above counts from now on.
    await settle(deps.db, keys, taken.place, true);
    throw new DomainError("invalid_grant", "The email or password is not correct.");
  }
  await settle(deps.db, keys, taken.place, false);

  const location = await chooseLocation(deps, user.id, input.locationId);
  const [session] = await queryRows<SignInSessionRow>(
    deps.db,
    sql`with s as (
          insert into sessions (user_id, location_id, coworker_id, expires_at, auth_time, amr, dpop_jkt)
          select ${user.id}, ${location.locationId}, ${location.coworkerId}, now() + make_interval(secs => ${SESSION_LIFETIME_S}),
            now(), '{pwd}'::text[], ${dpopJkt}
          where ${beforeDeadline(meta)}
          returning id, expires_at, location_id
        ), e as (
          insert into audit_events (type, outcome, actor_user_id, location_id, ip, session_id)
          select 'signin', 'success', ${user.id}, s.location_id, ${meta.ip}, s.id from s
        )
        select id, expires_at from s`,
  );
  return accessTokenFor(deps, {
    id: session!.id,
    userId: user.id,
    expiresAt: session!.expires_at,
    actorUserId: null,
    dpopJkt,
  });
}

/** The locations where a user has a profile or a staff role (built once). */
const placesOf = preparedRead("sign_in_places", (db) =>
  db
    .select({
      locationId: locations.id,
      coworkerId: coworkers.id,
      isStaff: sql<boolean>`(${staffRoles.role} is not null)`,
    })
    .from(locations)
    .leftJoin(
      coworkers,
      and(eq(coworkers.locationId, locations.id), eq(coworkers.userId, sql.placeholder("userId"))),
    )
    .leftJoin(
      staffRoles,
      and(
        eq(staffRoles.locationId, locations.id),
        eq(staffRoles.userId, sql.placeholder("userId")),
      ),
    )
    .where(or(isNotNull(coworkers.id), isNotNull(staffRoles.role))),
);

/**
 * CONTRACT §4: the requested location (where the user is staff or has a profile), else the
 * first profile's location, else the first staff location (lowest ids).
 */
async function chooseLocation(
  deps: ServiceDeps,
  userId: number,
  requested: number | undefined,
): Promise<{ locationId: number; coworkerId: number | null }> {
  const places = await placesOf(deps.db, { userId });
  if (requested !== undefined) {
    const place = places.find((p) => p.locationId === requested);
    if (!place) throw new DomainError("invalid_request", "You have no access to that location.");
    return { locationId: place.locationId, coworkerId: place.coworkerId };
  }
  const byProfile = places
    .filter((p) => p.coworkerId !== null)
    .sort((a, b) => a.coworkerId! - b.coworkerId!);
  const byStaff = places.filter((p) => p.isStaff).sort((a, b) => a.locationId - b.locationId);
  const chosen = byProfile[0] ?? byStaff[0];
  if (!chosen) throw new DomainError("invalid_request", "This account has no location yet.");
  return { locationId: chosen.locationId, coworkerId: chosen.coworkerId };
}

/** Revokes the session; impersonations it started end with it. */
export async function signOut(
  deps: ServiceDeps,
  session: SessionContext,
  meta: RequestMeta,
): Promise<void> {
  await queryRows(
    deps.db,
    sql`with s as (
          update sessions set revoked_at = now(), revoked_reason = 'signed_out'
          where (id = ${session.id} or actor_session_id = ${session.id}) and revoked_at is null
            and ${beforeDeadline(meta)}
          returning id, user_id, actor_user_id, coworker_id, location_id
        )
        insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, ip, session_id, detail)
        select 'session.signed_out', 'success', coalesce(s.actor_user_id, s.user_id),
          case when s.actor_user_id is null then null else s.coworker_id end, s.location_id, ${meta.ip}, s.id,
          case when s.id = ${session.id} then null else 'ended with the actor''s session' end
        from s`,
  );
}
