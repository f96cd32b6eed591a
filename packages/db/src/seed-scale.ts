// `pnpm db:seed-scale`: a year of a large operator's data, added beside whatever the database
// holds, in set-based SQL (generate_series … insert … select), chunk by chunk with a progress
// line. Everything it writes lives in its own id range (SCALE_ID and up), far above any fixture's,
// and no sequence moves: a fixture loaded before keeps its rows, one loaded after still inserts.
// Idempotent: each table's rows are numbered 1…N, and a run only adds the numbers not there yet
// (so a second run with the same sizes adds nothing; a larger size adds the difference).
// PostgreSQL only: PGlite is one in-process database meant for a demo, not for millions of rows.
import { hashPassword } from "@cowork/auth";
import type postgres from "postgres";
import { type DatabaseHandle } from "./client";

/** The first id of the seeded range: every seeded location, user, coworker and team is above. */
export const SCALE_ID = 1_000_000_000;
/** Seeded members' user ids are SCALE_MEMBER_USER + n (staff users: SCALE_ID + location n). */
export const SCALE_MEMBER_USER = SCALE_ID + 1_000_000;
/** The password of every seeded user (a development database's, never a real one). */
export const SCALE_PASSWORD = "scale-pass";
/** Teams per seeded location. */
const TEAMS_PER_LOCATION = 10;
/** Impersonations of the hot member (coworker SCALE_ID + 1), for the access-history bench. */
export const HOT_MEMBER_IMPERSONATIONS = 1000;
/** Rows per insert statement: short enough for a progress line every few seconds. */
const CHUNK = 250_000;

export interface ScaleSizes {
  locations: number;
  coworkers: number;
  audit: number;
  sessions: number;
  grants: number;
}

export const FULL_SCALE: ScaleSizes = {
  locations: 50,
  coworkers: 200_000,
  audit: 10_000_000,
  sessions: 3_000_000,
  grants: 3_000_000,
};

export class ScaleSeedError extends Error {
  override name = "ScaleSeedError";
}

/** `--locations 50 --coworkers 200000 …` over FULL_SCALE's defaults. */
export function parseScaleArgs(args: readonly string[]): ScaleSizes {
  const sizes = { ...FULL_SCALE };
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i]?.replace(/^--/, "") as keyof ScaleSizes;
    const value = args[i + 1];
    if (!args[i]?.startsWith("--") || !(name in sizes))
      throw new ScaleSeedError(`unknown argument ${args[i]}`);
    if (!value || !/^[0-9]{1,9}$/.test(value))
      throw new ScaleSeedError(`--${name} needs a whole number`);
    sizes[name] = Number(value);
  }
  if (sizes.locations < 1 || sizes.locations > 10_000)
    throw new ScaleSeedError("--locations must be between 1 and 10000");
  if (sizes.coworkers < 1 || sizes.coworkers > 100_000_000)
    throw new ScaleSeedError("--coworkers must be between 1 and 100000000");
  return sizes;
}

/**
 * A fixed pseudo-random number in [0, 1) for the integer `expr` (Knuth's multiplicative hash),
 * so that reruns and readers (the bench) find the same people in the same places.
 */
const unit = (expr: string, multiplier = 2654435761) =>
  `(((${expr})::bigint * ${multiplier}) % 4294967296)::float8 / 4294967296`;

/**
 * The location number (1…L) of coworker `n`: cubed, so that a few locations are busy (the first
 * holds about L^(-1/3) of everyone: a quarter of 50) and a long tail is quiet.
 */
const locationOf = (n: string, locations: number) =>
  `(1 + floor(${locations} * power(${unit(n)}, 3))::int)`;
/** The coworker number (1…C) of the g-th row of an event-like table. */
const coworkerOf = (g: string, coworkers: number) =>
  `(1 + floor(${coworkers} * ${unit(g, 2246822519)})::int)`;

/** The location id of seeded coworker `n`: where the bench finds its members and admins. */
export function scaleLocationOf(n: number, locations: number): number {
  const u = Number((BigInt(n) * 2654435761n) % 4294967296n) / 4294967296;
  return SCALE_ID + 1 + Math.floor(locations * u ** 3);
}

/** The hot member: the user the access-history bench signs in as (1,000 impersonations). */
export const HOT_MEMBER = { userId: SCALE_MEMBER_USER + 1, coworkerId: SCALE_ID + 1 };

export interface ScaleSeedProgress {
  (line: string): void;
}

type Sql = postgres.Sql;

async function countSeeded(client: Sql, table: string, where: string): Promise<number> {
  const [row] = await client.unsafe<{ n: string }[]>(
    `select count(*) as n from ${table} where ${where}`,
  );
  return Number(row?.n ?? 0);
}

/**
 * Inserts rows numbered `from`…`to` of a table in chunks, one statement each; `insert(lo, hi)` is
 * the statement for numbers lo…hi. Prints a line per chunk and one at the end.
 */
async function chunked(
  client: Sql,
  table: string,
  existing: number,
  target: number,
  insert: (lo: number, hi: number) => string,
  progress: ScaleSeedProgress,
): Promise<void> {
  const started = Date.now();
  if (existing >= target) {
    progress(`${table}: ${existing} seeded rows already, nothing to add`);
    return;
  }
  for (let lo = existing + 1; lo <= target; lo += CHUNK) {
    const hi = Math.min(target, lo + CHUNK - 1);
    await client.unsafe(insert(lo, hi));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    progress(`${table}: ${hi}/${target} (${seconds} s)`);
  }
}

/**
 * Adds the scaled data set. Returns the ids the bench uses. The audit events it adds are
 * unsealed: the caller seals them (the API's sealer: `pnpm db:seed-scale` does both).
 */
export async function seedScale(
  handle: DatabaseHandle,
  sizes: ScaleSizes,
  progress: ScaleSeedProgress = console.log,
): Promise<void> {
  if (handle.connection.driver !== "postgres")
    throw new ScaleSeedError(
      "seed-scale needs PostgreSQL (set DATABASE_URL): the embedded PGlite database is for the demo",
    );
  const client = handle.connection.client;
  const { locations: L, coworkers: C } = sizes;
  const hash = await hashPassword(SCALE_PASSWORD);
  // No statement timeout for a tool; its big statements hold row locks only on rows it adds.
  await client.unsafe("set statement_timeout = 0");

  await chunked(
    client,
    "locations",
    await countSeeded(client, "locations", `id > ${SCALE_ID}`),
    L,
    (lo, hi) => `
    insert into locations (id, name, time_zone)
    select ${SCALE_ID} + i, 'Scale location ' || i,
      (array['Europe/Paris','Europe/London','America/New_York','Asia/Tokyo','Australia/Sydney'])[1 + i % 5]
    from generate_series(${lo}, ${hi}) i
    on conflict (id) do nothing`,
    progress,
  );

  // Staff: one admin per location (user SCALE_ID + i), who made the seeded impersonations.
  await chunked(
    client,
    "users (staff)",
    await countSeeded(client, "users", `id > ${SCALE_ID} and id <= ${SCALE_MEMBER_USER}`),
    L,
    (lo, hi) => `
    with added as (
      insert into users (id, email, full_name, password_hash, created_at)
      select ${SCALE_ID} + i, 'scale-admin-' || i || '@scale.test', 'Scale Admin ' || i, '${hash}',
        now() - interval '400 days'
      from generate_series(${lo}, ${hi}) i
      on conflict do nothing
      returning id)
    insert into staff_roles (user_id, location_id, role)
    select id, id, 'admin' from added on conflict do nothing`,
    progress,
  );

  await chunked(
    client,
    "users (members)",
    await countSeeded(client, "users", `id > ${SCALE_MEMBER_USER}`),
    C,
    (lo, hi) => `
    insert into users (id, email, full_name, password_hash, created_at)
    select ${SCALE_MEMBER_USER} + n, 'scale-member-' || n || '@scale.test', 'Scale Member ' || n, '${hash}',
      now() - interval '400 days' + (n::float8 / ${C}) * interval '365 days'
    from generate_series(${lo}, ${hi}) n
    on conflict do nothing`,
    progress,
  );

  await chunked(
    client,
    "coworkers",
    await countSeeded(client, "coworkers", `id > ${SCALE_ID}`),
    C,
    (lo, hi) => `
    insert into coworkers (id, user_id, location_id, full_name)
    select ${SCALE_ID} + n, ${SCALE_MEMBER_USER} + n, ${SCALE_ID} + ${locationOf("n", L)}, 'Scale Member ' || n
    from generate_series(${lo}, ${hi}) n
    on conflict do nothing`,
    progress,
  );

  await chunked(
    client,
    "teams",
    await countSeeded(client, "teams", `id > ${SCALE_ID}`),
    L * TEAMS_PER_LOCATION,
    (lo, hi) => `
    insert into teams (id, location_id, name)
    select ${SCALE_ID} + t, ${SCALE_ID} + 1 + (t - 1) / ${TEAMS_PER_LOCATION}, 'Scale team ' || t
    from generate_series(${lo}, ${hi}) t
    on conflict do nothing`,
    progress,
  );

  // A third of the members are in one of their location's teams; one in twenty of those leads it.
  await chunked(
    client,
    "team_members",
    await countSeeded(client, "team_members", `coworker_id > ${SCALE_ID}`),
    Math.floor(C / 3),
    (lo, hi) => `
    insert into team_members (team_id, coworker_id, location_id, team_admin)
    select ${SCALE_ID} + (loc - 1) * ${TEAMS_PER_LOCATION} + 1 + n % ${TEAMS_PER_LOCATION}, ${SCALE_ID} + n, ${SCALE_ID} + loc, n % 60 = 0
    from (select 3 * k as n, ${locationOf("3 * k", L)} as loc from generate_series(${lo}, ${hi}) k) m
    on conflict do nothing`,
    progress,
  );

  // Each admin's own session, long expired: the one their seeded impersonations were issued from.
  await chunked(
    client,
    "sessions (staff)",
    await countSeeded(
      client,
      "sessions",
      `user_id > ${SCALE_ID} and user_id <= ${SCALE_MEMBER_USER}`,
    ),
    L,
    (lo, hi) => `
    insert into sessions (id, user_id, location_id, created_at, expires_at, auth_time, amr)
    select md5('scale-admin-session-' || i)::uuid, ${SCALE_ID} + i, ${SCALE_ID} + i,
      now() - interval '366 days', now() - interval '365 days', now() - interval '366 days', '{pwd}'
    from generate_series(${lo}, ${hi}) i
    on conflict do nothing`,
    progress,
  );

  await seedSessions(client, sizes, progress);
  await seedHotMember(client, progress);
  await seedConsents(client, sizes, progress);
  await seedAudit(client, sizes, progress);

  progress("analyze …");
  await client.unsafe(
    "analyze locations, users, coworkers, teams, team_members, staff_roles, sessions, impersonation_grants, impersonation_actions, support_access_grants, audit_events",
  );
}

/**
 * Members' sessions over the last 12 months, oldest first: 12-hour sessions, so all but the last
 * half day's are expired; a third signed out early. One in ten is an impersonation by the
 * location's admin, with its consumed grant and two recorded actions.
 */
async function seedSessions(client: Sql, sizes: ScaleSizes, progress: ScaleSeedProgress) {
  const { locations: L, coworkers: C, sessions: S } = sizes;
  const existing =
    (await countSeeded(client, "sessions", `user_id > ${SCALE_MEMBER_USER}`)) -
    (await countHotSessions(client));
  const rows = (lo: number, hi: number) => `
    select g, ${SCALE_ID} + n as coworker_id, ${SCALE_MEMBER_USER} + n as user_id, ${SCALE_ID} + loc as location_id,
      now() - interval '365 days' + ((g - 1)::float8 / ${S}) * interval '365 days' as created_at,
      g % 10 = 0 as impersonated, loc
    from (select g, ${coworkerOf("g", C)} as n from generate_series(${lo}, ${hi}) g) x,
      lateral (select ${locationOf("x.n", L)} as loc) l`;
  await chunked(
    client,
    "sessions (members)",
    existing,
    S,
    (lo, hi) => `
    with r as (${rows(lo, hi)}),
    grants as (
      insert into impersonation_grants (jti, kind, actor_user_id, actor_session_id, target_user_id, coworker_id,
        location_id, reason, read_only, issued_at, expires_at, consumed_at, reason_category)
      select md5('scale-grant-' || g)::uuid, 'staff', ${SCALE_ID} + loc, md5('scale-admin-session-' || loc)::uuid,
        user_id, coworker_id, location_id, 'Seeded support request', g % 20 = 0,
        created_at - interval '10 seconds', created_at + interval '50 seconds', created_at, 'member_request'
      from r where impersonated
      on conflict do nothing),
    added as (
      insert into sessions (id, user_id, location_id, coworker_id, grant_jti, actor_user_id, actor_session_id,
        created_at, expires_at, revoked_at, revoked_reason, auth_time, amr)
      select md5('scale-session-' || g)::uuid, user_id, location_id, coworker_id,
        case when impersonated then md5('scale-grant-' || g)::uuid end,
        case when impersonated then ${SCALE_ID} + loc end,
        case when impersonated then md5('scale-admin-session-' || loc)::uuid end,
        created_at,
        created_at + case when impersonated then interval '30 minutes' else interval '12 hours' end,
        case when g % 3 = 0 then created_at + interval '1 hour' end,
        case when g % 3 = 0 then 'signed_out' end,
        created_at, '{pwd}'
      from r
      on conflict do nothing
      returning id, location_id, created_at, actor_user_id)
    insert into impersonation_actions (session_id, location_id, at, procedure, kind, outcome)
    select id, location_id, created_at + a * interval '1 minute', p, 'query', 'success'
    from added, unnest(array['auth.me', 'profiles.list']) with ordinality as t(p, a)
    where actor_user_id is not null`,
    progress,
  );
}

const countHotSessions = (client: Sql) =>
  countSeeded(
    client,
    "sessions",
    `id in (select md5('scale-hot-session-' || k)::uuid from generate_series(1, ${HOT_MEMBER_IMPERSONATIONS}) k)`,
  );

/** The hot member (coworker SCALE_ID + 1): 1,000 impersonations over the year, 3 actions each. */
async function seedHotMember(client: Sql, progress: ScaleSeedProgress) {
  await chunked(
    client,
    "sessions (hot member)",
    await countHotSessions(client),
    HOT_MEMBER_IMPERSONATIONS,
    (lo, hi) => `
    with c as (select id, user_id, location_id from coworkers where id = ${HOT_MEMBER.coworkerId}),
    r as (
      select k, now() - interval '365 days' + (k::float8 / ${HOT_MEMBER_IMPERSONATIONS}) * interval '364 days' as created_at
      from generate_series(${lo}, ${hi}) k),
    grants as (
      insert into impersonation_grants (jti, kind, actor_user_id, actor_session_id, target_user_id, coworker_id,
        location_id, reason, read_only, issued_at, expires_at, consumed_at, reason_category, ticket)
      select md5('scale-hot-grant-' || k)::uuid, 'staff', c.location_id, md5('scale-admin-session-' || (c.location_id - ${SCALE_ID}))::uuid,
        c.user_id, c.id, c.location_id, 'Member asked for help ' || k, k % 2 = 0,
        created_at - interval '10 seconds', created_at + interval '50 seconds', created_at, 'member_request', 'T-' || k
      from r, c
      on conflict do nothing),
    added as (
      insert into sessions (id, user_id, location_id, coworker_id, grant_jti, actor_user_id, actor_session_id,
        created_at, expires_at, revoked_at, revoked_reason, auth_time, amr)
      select md5('scale-hot-session-' || k)::uuid, c.user_id, c.location_id, c.id, md5('scale-hot-grant-' || k)::uuid,
        c.location_id, md5('scale-admin-session-' || (c.location_id - ${SCALE_ID}))::uuid,
        created_at, created_at + interval '30 minutes', created_at + interval '10 minutes', 'stopped', created_at, '{pwd}'
      from r, c
      on conflict do nothing
      returning id, location_id, created_at)
    insert into impersonation_actions (session_id, location_id, at, procedure, kind, outcome)
    select id, location_id, created_at + a * interval '1 minute', p, 'query', 'success'
    from added, unnest(array['auth.me', 'profiles.list', 'notices.list']) with ordinality as t(p, a)`,
    progress,
  );
}

/** Members' consents to support access, over the year: three days each, a fifth revoked early. */
async function seedConsents(client: Sql, sizes: ScaleSizes, progress: ScaleSeedProgress) {
  const { locations: L, coworkers: C, grants: G } = sizes;
  const existing = await countSeeded(client, "support_access_grants", `location_id > ${SCALE_ID}`);
  await chunked(
    client,
    "support_access_grants",
    existing,
    G,
    (lo, hi) => `
    insert into support_access_grants (user_id, coworker_id, location_id, granted_to, read_only, created_at, expires_at, revoked_at)
    select ${SCALE_MEMBER_USER} + n, ${SCALE_ID} + n, ${SCALE_ID} + ${locationOf("n", L)},
      case when g % 4 = 0 then 'team' else 'staff' end::impersonation_kind, g % 2 = 0,
      t, t + interval '72 hours', case when g % 5 = 0 then t + interval '1 hour' end
    from (select g, ${coworkerOf("g", C)} as n,
            now() - interval '365 days' + ((g - 1)::float8 / ${G}) * interval '365 days' as t
          from generate_series(${lo}, ${hi}) g) x`,
    progress,
  );
}

/**
 * Audit events over 12 months, oldest first (ids in time order, as live events get them), in
 * the locations of the members they are about: sign-ins and sign-outs by members, impersonations
 * by the location's admin, a few refusals. Written unsealed, with seq null.
 */
async function seedAudit(client: Sql, sizes: ScaleSizes, progress: ScaleSeedProgress) {
  const { locations: L, coworkers: C, audit: A } = sizes;
  const existing = await countSeeded(client, "audit_events", `location_id > ${SCALE_ID}`);
  // By g % 20: 0-7 signin, 8 signin.failed, 9-10 issued, 11-12 exchanged, 13 stopped,
  // 14 expired, 15-17 signed out, 18 consent granted, 19 profile switched.
  const types = `(array['signin','signin','signin','signin','signin','signin','signin','signin',
    'signin.failed','impersonation.issued','impersonation.issued','impersonation.exchanged',
    'impersonation.exchanged','impersonation.stopped','impersonation.expired','session.signed_out',
    'session.signed_out','session.signed_out','consent.granted','profile.switched'])[1 + g % 20]`;
  await chunked(
    client,
    "audit_events",
    existing,
    A,
    (lo, hi) => `
    insert into audit_events (at, type, outcome, actor_user_id, target_coworker_id, location_id, kind, reason, ip,
      detail, jti, session_id, read_only, reason_category)
    select now() - interval '365 days' + ((g - 1)::float8 / ${A}) * interval '365 days',
      ${types},
      case when g % 20 = 8 then 'refused' else 'success' end,
      case when g % 20 between 9 and 14 then ${SCALE_ID} + loc
           when g % 20 = 8 then null else ${SCALE_MEMBER_USER} + n end,
      case when g % 20 between 9 and 14 or g % 20 = 18 then ${SCALE_ID} + n end,
      ${SCALE_ID} + loc,
      case when g % 20 between 9 and 14 then 'staff'::impersonation_kind end,
      case when g % 20 in (9, 10) then 'Seeded support request' end,
      '203.0.113.' || (1 + g % 254),
      case when g % 20 = 8 then 'bad_credentials' end,
      case when g % 20 between 9 and 14 then md5('scale-audit-grant-' || g)::uuid end,
      case when g % 20 between 11 and 14 then md5('scale-audit-session-' || g)::uuid end,
      case when g % 20 between 9 and 14 then g % 40 < 20 end,
      case when g % 20 in (9, 10) then 'member_request' end
    from (select g, ${coworkerOf("g", C)} as n from generate_series(${lo}, ${hi}) g) x,
      lateral (select ${locationOf("x.n", L)} as loc) l`,
    progress,
  );
}
