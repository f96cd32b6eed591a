// /admin/sessions: every live impersonated session of the active location, each with a way to
// end it at once (CONTRACT §8, §11), for its admins.
import type { Metadata } from "next";
import { EndSessionButton } from "~/components/end-session-button";
import { NotAllowed } from "~/components/not-allowed";
import { formatInZone } from "~/components/zoned-time";
import { requireSession, serverErrorText } from "../../_lib/session";

export const metadata: Metadata = { title: "Live impersonations" };
export const dynamic = "force-dynamic";

export default async function SessionsPage() {
  const { api, session } = await requireSession("/admin/sessions");
  if (session.staffRole !== "admin") {
    return <NotAllowed page="live impersonations" needs={`admins of ${session.locationName}`} />;
  }
  const at = (iso: string) => formatInZone(iso, session.locationTimeZone);
  let items;
  try {
    items = (await api.oversight.listImpersonations()).items;
  } catch (error) {
    return (
      <p className="error" role="alert">
        {await serverErrorText(error)}
      </p>
    );
  }
  return (
    <div className="stack">
      <h1>Live impersonations</h1>
      <p className="hint">
        Everyone viewing the portal as a member of {session.locationName} right now, newest first.
      </p>
      {items.length === 0 ? (
        <p>Nobody is impersonating anyone now.</p>
      ) : (
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">By</th>
                <th scope="col">As</th>
                <th scope="col">Mode</th>
                <th scope="col">Why</th>
                <th scope="col">Since</th>
                <th scope="col">Until</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.sessionId}>
                  <th scope="row" data-label="Member">
                    {item.target.fullName}
                  </th>
                  <td data-label="By">{item.actor.fullName}</td>
                  <td data-label="As">{item.kind === "staff" ? "Staff" : "Team admin"}</td>
                  <td data-label="Mode">{item.mode === "readonly" ? "Read-only" : "Full"}</td>
                  <td data-label="Why">
                    {[item.reason, item.reasonCategory, item.ticket]
                      .filter((part) => part !== null)
                      .join(" · ") || <span className="hint">No reason given</span>}
                  </td>
                  <td data-label="Since">
                    <time dateTime={item.startedAt}>{at(item.startedAt)}</time>
                  </td>
                  <td data-label="Until">
                    <time dateTime={item.expiresAt}>{at(item.expiresAt)}</time>
                  </td>
                  <td className="actions">
                    <EndSessionButton
                      sessionId={item.sessionId}
                      label={`End session ${item.target.fullName}`}
                      by="admin"
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
