import type { Metadata } from "next";
import { TeamTable } from "~/components/team-table";
import { requireSession, serverErrorText } from "../_lib/session";

export const metadata: Metadata = { title: "Team" };
export const dynamic = "force-dynamic";

export default async function TeamPage() {
  const { api, session } = await requireSession("/team");
  let result: Awaited<ReturnType<typeof api.directory.listTeamMembers>> | null = null;
  let error: string | null = null;
  try {
    result = await api.directory.listTeamMembers();
  } catch (failure) {
    error = await serverErrorText(failure);
  }

  return (
    <div className="stack">
      <h1>Team permissions</h1>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : session.coworkerId === null ? (
        <p>You have no member profile in {session.locationName}, so there is no team to show.</p>
      ) : result && result.teams.length === 0 ? (
        <p>You are not in any team in {session.locationName}.</p>
      ) : result ? (
        <TeamTable teams={result.teams} />
      ) : null}
    </div>
  );
}
