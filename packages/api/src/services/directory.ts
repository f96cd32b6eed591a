// Read-only views over the location's people: the operator console's search and the team table.
import { queryRows } from "@cowork/db";
import { type SearchCoworkersInput } from "@cowork/validators";
import { sql } from "drizzle-orm";
import { type ServiceDeps } from "./deps";
import { highestRankOf, impersonationRefusal } from "./grant-rules";
import { type SessionContext } from "./sessions";

/** Coworkers of the active location matching a name or email, with whether the caller may impersonate each. */
export async function searchCoworkers(
  deps: ServiceDeps,
  session: SessionContext,
  input: SearchCoworkersInput,
) {
  const pattern = `%${input.query.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await queryRows<{
    id: number;
    full_name: string;
    email: string;
    rank: number;
    can_impersonate: boolean;
  }>(
    deps.db,
    sql`select c.id, c.full_name, u.email, ${highestRankOf("c.user_id")} as rank,
          ${impersonationRefusal("staff", session, { userId: sql`c.user_id`, rank: highestRankOf("c.user_id") })} is null as can_impersonate
        from coworkers c join users u on u.id = c.user_id
        where c.location_id = ${session.locationId}
          and (c.full_name ilike ${pattern} or u.email ilike ${pattern})
          and (${input.cursor ?? null}::int is null or c.id > ${input.cursor ?? null}::int)
        order by c.id
        limit ${input.limit + 1}`,
  );
  const page = rows.slice(0, input.limit);
  return {
    items: page.map((row) => ({
      coworkerId: row.id,
      fullName: row.full_name,
      email: row.email,
      staffRole:
        row.rank === 2 ? ("admin" as const) : row.rank === 1 ? ("operator" as const) : null,
      canImpersonate: row.can_impersonate,
    })),
    nextCursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
  };
}

/** The teams of the session's active profile, their members, and who the caller may impersonate. */
export async function listTeamMembers(deps: ServiceDeps, session: SessionContext) {
  if (session.coworkerId === null) return [];
  const rows = await queryRows<{
    team_id: number;
    team_name: string;
    caller_is_admin: boolean;
    coworker_id: number;
    user_id: number;
    full_name: string;
    team_admin: boolean;
    is_staff: boolean;
    rule_allows: boolean;
  }>(
    deps.db,
    sql`select t.id as team_id, t.name as team_name, mine.team_admin as caller_is_admin,
          c.id as coworker_id, c.user_id, c.full_name, m.team_admin,
          exists (select 1 from staff_roles r where r.user_id = c.user_id) as is_staff,
          ${impersonationRefusal("team", session, { userId: sql`c.user_id`, rank: highestRankOf("c.user_id") })} is null as rule_allows
        from team_members mine
        join teams t on t.id = mine.team_id
        join team_members m on m.team_id = t.id
        join coworkers c on c.id = m.coworker_id
        where mine.coworker_id = ${session.coworkerId}
        order by t.id, m.team_admin desc, c.full_name, c.id`,
  );
  const teams = new Map<
    number,
    {
      teamId: number;
      name: string;
      callerIsTeamAdmin: boolean;
      members: {
        coworkerId: number;
        fullName: string;
        teamAdmin: boolean;
        isStaff: boolean;
        isSelf: boolean;
        canImpersonate: boolean;
      }[];
    }
  >();
  for (const row of rows) {
    let team = teams.get(row.team_id);
    if (!team) {
      team = {
        teamId: row.team_id,
        name: row.team_name,
        callerIsTeamAdmin: row.caller_is_admin,
        members: [],
      };
      teams.set(row.team_id, team);
    }
    const isSelf = row.user_id === session.userId;
    team.members.push({
      coworkerId: row.coworker_id,
      fullName: row.full_name,
      teamAdmin: row.team_admin,
      isStaff: row.is_staff,
      isSelf,
      // The rule (impersonation_refusal: not self, not staff) as the issue asks it; and an
      // impersonated session never impersonates again, whatever the target's flags.
      canImpersonate: row.caller_is_admin && row.rule_allows && session.impersonation === null,
    });
  }
  return [...teams.values()];
}
