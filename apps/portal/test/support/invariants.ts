// What must hold in the database whatever happened (crashes, cuts, races, load): nothing
// half-written. Checked with SQL straight on PostgreSQL, never through the portal.
import type postgres from "postgres";

export interface Violation {
  rule: string;
  rows: unknown[];
}

const RULES: [string, string][] = [
  [
    "every consumed grant has exactly one session",
    `select g.jti, count(s.id)::int as sessions from impersonation_grants g left join sessions s on s.grant_jti = g.jti
     where g.consumed_at is not null group by g.jti having count(s.id) <> 1`,
  ],
  [
    "every consumed grant has exactly one success exchange event",
    `select g.jti from impersonation_grants g where g.consumed_at is not null
       and (select count(*) from audit_events e where e.jti = g.jti and e.type = 'impersonation.exchanged' and e.outcome = 'success') <> 1`,
  ],
  [
    "no session from a grant that is not consumed",
    `select s.id from sessions s join impersonation_grants g on g.jti = s.grant_jti where g.consumed_at is null`,
  ],
  [
    "every impersonated session has its success exchange event",
    `select s.id from sessions s where s.grant_jti is not null
       and not exists (select 1 from audit_events e where e.session_id = s.id and e.type = 'impersonation.exchanged' and e.outcome = 'success')`,
  ],
  [
    "every success exchange event names a session that exists",
    `select e.id from audit_events e where e.type = 'impersonation.exchanged' and e.outcome = 'success'
       and not exists (select 1 from sessions s where s.id = e.session_id and s.grant_jti = e.jti)`,
  ],
  [
    "every grant has exactly one success issue event",
    `select g.jti from impersonation_grants g
     where (select count(*) from audit_events e where e.jti = g.jti and e.type = 'impersonation.issued' and e.outcome = 'success') <> 1`,
  ],
  [
    "every success issue event names a grant that exists",
    `select e.id from audit_events e where e.type = 'impersonation.issued' and e.outcome = 'success'
       and not exists (select 1 from impersonation_grants g where g.jti = e.jti)`,
  ],
  [
    "every sign-in event names a session, every session from a sign-in has its event",
    `select s.id from sessions s where s.grant_jti is null
       and not exists (select 1 from audit_events e where e.session_id = s.id and e.type = 'signin' and e.outcome = 'success')`,
  ],
  [
    "an impersonated session lives at most one hour and never beyond its actor's session",
    `select s.id from sessions s left join sessions a on a.id = s.actor_session_id
     where s.grant_jti is not null and (s.expires_at > s.created_at + interval '1 hour' + interval '5 seconds' or s.expires_at > a.expires_at)`,
  ],
  [
    "a grant lives at most 300 s",
    `select jti from impersonation_grants where expires_at > issued_at + interval '300 seconds'`,
  ],
  [
    "every stopped session has its stop event",
    `select s.id from sessions s where s.revoked_reason = 'stopped'
       and not exists (select 1 from audit_events e where e.session_id = s.id and e.type = 'impersonation.stopped')`,
  ],
  [
    "every signed-out session has its event",
    `select s.id from sessions s where s.revoked_reason = 'signed_out'
       and not exists (select 1 from audit_events e where e.session_id = s.id and e.type = 'session.signed_out')`,
  ],
];

export async function invariantViolations(sql: postgres.Sql): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const [rule, query] of RULES) {
    const rows = await sql.unsafe(query);
    if (rows.length > 0) violations.push({ rule, rows: rows.slice(0, 5) });
  }
  return violations;
}
