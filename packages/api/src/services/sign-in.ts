// Sign-in with email and password, sign-out, and access tokens for sessions.
import { SESSION_LIFETIME_S, signToken, verifyAgainstDummy, verifyPassword } from "@cowork/auth";
import { queryRows } from "@cowork/db";
import { type SignInInput } from "@cowork/validators";
import { sql } from "drizzle-orm";
import { DomainError } from "../errors";
import { metrics } from "../observability/metrics";
import { recordAudit } from "./audit";
import { type RequestMeta, type ServiceDeps } from "./deps";
import { type SessionContext } from "./sessions";
import { hit, peek, pruneThrottle } from "./throttle";

const SIGNIN_WINDOW_S = 15 * 60;

export interface IssuedAccessToken {
  accessToken: string;
  expiresIn: number;
  expiresAt: Date;
  sessionId: string;
}

export function accessTokenFor(
  deps: ServiceDeps,
  session: { id: string; userId: number; expiresAt: Date; actorUserId: number | null },
): IssuedAccessToken {
  const accessToken = signToken(
    deps.signer,
    "access",
    {
      sub: String(session.userId),
      sid: session.id,
      client_id: "cowork-portal",
      ...(session.actorUserId === null ? {} : { act: { sub: String(session.actorUserId) } }),
    },
    { expiresAt: session.expiresAt },
  );
  return {
    accessToken,
    expiresIn: Math.max(0, Math.floor((session.expiresAt.getTime() - Date.now()) / 1000)),
    expiresAt: session.expiresAt,
    sessionId: session.id,
  };
}

export async function signIn(
  deps: ServiceDeps,
  input: SignInInput,
  meta: RequestMeta,
): Promise<IssuedAccessToken> {
  const email = input.email.toLowerCase();
  const keys = [`signin:account:${email}`, ...(meta.ip ? [`signin:ip:${meta.ip}`] : [])];
  // Only failures count. Once the limit is reached, every further attempt is refused before
  // any password check (a correct password included) until the window moves on.
  const { count, retryAfterS } = await peek(deps.db, keys, SIGNIN_WINDOW_S);
  if (count >= deps.config.signinLimitPer15Minutes) {
    await recordAudit(deps.db, {
      type: "signin.failed",
      outcome: "refused",
      ip: meta.ip,
      detail: "throttled",
    });
    metrics.throttled("signin");
    throw new DomainError(
      "throttled",
      "Too many failed sign-in attempts. Try again later.",
      retryAfterS,
    );
  }
  if (Math.random() < 0.01) await pruneThrottle(deps.db);

  const [user] = await queryRows<{ id: number; password_hash: string }>(
    deps.db,
    sql`select id, password_hash from users where lower(email) = ${email}`,
  );
  const valid = user
    ? await verifyPassword(input.password, user.password_hash)
    : await verifyAgainstDummy(input.password);
  if (!user || !valid) {
    // Filed under the account's home location, so that location's admins see it.
    const home = user ? await chooseLocation(deps, user.id, undefined).catch(() => null) : null;
    await recordAudit(deps.db, {
      type: "signin.failed",
      outcome: "refused",
      actorUserId: user?.id ?? null,
      locationId: home?.locationId ?? null,
      ip: meta.ip,
      detail: "invalid_credentials",
    });
    // One atomic upsert per key: concurrent failures are all counted.
    await hit(deps.db, keys, SIGNIN_WINDOW_S);
    throw new DomainError("invalid_grant", "The email or password is not correct.");
  }

  const location = await chooseLocation(deps, user.id, input.locationId);
  const [session] = await queryRows<{ id: string; expires_at: Date }>(
    deps.db,
    sql`with s as (
          insert into sessions (user_id, location_id, coworker_id, expires_at)
          values (${user.id}, ${location.locationId}, ${location.coworkerId}, now() + make_interval(secs => ${SESSION_LIFETIME_S}))
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
  });
}

/**
 * CONTRACT §4: the requested location (where the user is staff or has a profile), else the
 * first profile's location, else the first staff location (lowest ids).
 */
async function chooseLocation(
  deps: ServiceDeps,
  userId: number,
  requested: number | undefined,
): Promise<{ locationId: number; coworkerId: number | null }> {
  const places = await queryRows<{
    location_id: number;
    coworker_id: number | null;
    is_staff: boolean;
  }>(
    deps.db,
    sql`select l.id as location_id, c.id as coworker_id, (r.role is not null) as is_staff
        from locations l
        left join coworkers c on c.location_id = l.id and c.user_id = ${userId}
        left join staff_roles r on r.location_id = l.id and r.user_id = ${userId}
        where c.id is not null or r.role is not null`,
  );
  if (requested !== undefined) {
    const place = places.find((p) => p.location_id === requested);
    if (!place) throw new DomainError("invalid_request", "You have no access to that location.");
    return { locationId: place.location_id, coworkerId: place.coworker_id };
  }
  const byProfile = places
    .filter((p) => p.coworker_id !== null)
    .sort((a, b) => a.coworker_id! - b.coworker_id!);
  const byStaff = places.filter((p) => p.is_staff).sort((a, b) => a.location_id - b.location_id);
  const chosen = byProfile[0] ?? byStaff[0];
  if (!chosen) throw new DomainError("invalid_request", "This account has no location yet.");
  return { locationId: chosen.location_id, coworkerId: chosen.coworker_id };
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
          returning id, user_id, actor_user_id, coworker_id, location_id
        )
        insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, ip, session_id, detail)
        select 'session.signed_out', 'success', coalesce(s.actor_user_id, s.user_id),
          case when s.actor_user_id is null then null else s.coworker_id end, s.location_id, ${meta.ip}, s.id,
          case when s.id = ${session.id} then null else 'ended with the actor''s session' end
        from s`,
  );
}
