"use client";
// The team permissions table: who is in the active profile's teams, who administers them, and —
// for a team admin — whom they may view the portal as.
import Link from "next/link";
import { useState } from "react";
import { useHydrated } from "~/hooks/use-hydrated";
import { useSignIn } from "~/hooks/use-sign-in";
import { type RouterOutputs } from "~/trpc/react";
import { ConfirmItsYou } from "./confirm-its-you";
import { type ImpersonationChoice, ImpersonationOptions } from "./impersonation-options";

type Team = RouterOutputs["directory"]["listTeamMembers"]["teams"][number];
type Member = Team["members"][number];

function note(member: Member): string {
  if (member.isSelf) return "You";
  if (member.isStaff) return "Staff: cannot be impersonated";
  return "";
}

export function TeamTable({ teams }: { teams: Team[] }) {
  const { impersonate, pendingId, error, stepUpPending, resumeAfterStepUp, cancelStepUp } =
    useSignIn();
  const hydrated = useHydrated();
  const [choice, setChoice] = useState<ImpersonationChoice>({
    reason: "",
    readOnly: false,
    reasonCategory: "",
    ticket: "",
  });
  const mayImpersonate = teams.some((team) => team.members.some((member) => member.canImpersonate));
  const pendingName = teams
    .flatMap((team) => team.members)
    .find((member) => member.coworkerId === pendingId)?.fullName;

  return (
    <div className="stack">
      <ConfirmItsYou open={stepUpPending} onConfirmed={resumeAfterStepUp} onCancel={cancelStepUp} />
      {mayImpersonate ? (
        <section className="card" aria-labelledby="impersonate-title">
          <h2 id="impersonate-title">View the portal as a member</h2>
          <p className="hint">
            As a team admin you can see the portal as a member of your team sees it. You confirm
            it&apos;s you first; <Link href="/account/security">sign-in security</Link> sets up a
            one-time-code app for that.
          </p>
          <ImpersonationOptions value={choice} onChange={setChoice} />
        </section>
      ) : null}
      <p className="hint" aria-live="polite">
        {pendingName ? `Opening the portal as ${pendingName}…` : ""}
      </p>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      {teams.map((team) => (
        <section key={team.teamId} className="card" aria-labelledby={`team-${team.teamId}`}>
          <h2 id={`team-${team.teamId}`}>{team.name}</h2>
          <p className="hint">
            {team.callerIsTeamAdmin
              ? "You are a team admin of this team."
              : "You are a member of this team."}{" "}
            {team.members.length} {team.members.length === 1 ? "member" : "members"}.
          </p>
          <table className="table">
            <caption className="sr-only">Members of {team.name} and their permissions</caption>
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">Team admin</th>
                <th scope="col">Notes</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {team.members.map((member) => (
                <tr key={member.coworkerId}>
                  <th scope="row" data-label="Member">
                    {member.fullName}
                  </th>
                  <td data-label="Team admin">{member.teamAdmin ? "Yes" : "No"}</td>
                  <td data-label="Notes">{note(member) || <span aria-hidden="true">—</span>}</td>
                  <td className="actions">
                    {member.canImpersonate ? (
                      <button
                        type="button"
                        disabled={!hydrated || pendingId !== null}
                        aria-busy={pendingId === member.coworkerId}
                        onClick={() =>
                          void impersonate(member.coworkerId, { ...choice, kind: "team" })
                        }
                      >
                        {`Impersonate ${member.fullName}`}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}
