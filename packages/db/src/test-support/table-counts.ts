// Row counts of the directory's tables, for the seeding suites (library and command line alike).
import { sql } from "drizzle-orm";
import { type Database, queryRows } from "../client";

export interface Counts {
  locations: number;
  users: number;
  staff_roles: number;
  coworkers: number;
  teams: number;
  team_members: number;
}

export async function tableCounts(db: Database): Promise<Counts> {
  const [row] = await queryRows<Counts>(
    db,
    sql`select
          (select count(*) from locations)::int as locations,
          (select count(*) from users)::int as users,
          (select count(*) from staff_roles)::int as staff_roles,
          (select count(*) from coworkers)::int as coworkers,
          (select count(*) from teams)::int as teams,
          (select count(*) from team_members)::int as team_members`,
  );
  return row!;
}

export const NOTHING: Counts = {
  locations: 0,
  users: 0,
  staff_roles: 0,
  coworkers: 0,
  teams: 0,
  team_members: 0,
};

/** What the demo fixture (seed/demo.json) holds. */
export const DEMO_COUNTS: Counts = {
  locations: 2,
  users: 8,
  staff_roles: 3,
  coworkers: 8,
  teams: 3,
  team_members: 8,
};
