// /admin/policy: the active location's impersonation policy (CONTRACT §8), for its admins.
import type { Metadata } from "next";
import { NotAllowed } from "~/components/not-allowed";
import { PolicyForm } from "~/components/policy-form";
import { requireSession, serverErrorText } from "../../_lib/session";

export const metadata: Metadata = { title: "Impersonation policy" };
export const dynamic = "force-dynamic";

export default async function PolicyPage() {
  const { api, session } = await requireSession("/admin/policy");
  if (session.staffRole !== "admin") {
    return (
      <NotAllowed page="the impersonation policy" needs={`admins of ${session.locationName}`} />
    );
  }
  let policy;
  try {
    policy = await api.policy.getPolicy();
  } catch (error) {
    return (
      <p className="error" role="alert">
        {await serverErrorText(error)}
      </p>
    );
  }
  return (
    <div className="stack">
      <h1>Impersonation policy</h1>
      <p className="hint">
        How staff and team admins of {session.locationName} may view the portal as a member. A
        change applies at once, on every server.
      </p>
      <PolicyForm initial={policy} />
    </div>
  );
}
