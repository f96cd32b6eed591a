import type { Metadata } from "next";
import { ImpersonateConsole } from "~/components/impersonate-console";
import { NotAllowed } from "~/components/not-allowed";
import { requireSession } from "../../_lib/session";

export const metadata: Metadata = { title: "Operator console" };
export const dynamic = "force-dynamic";

export default async function ImpersonatePage() {
  const { session } = await requireSession("/admin/impersonate");
  // Impersonated sessions never carry a staff role, so they are refused here too.
  if (!session.staffRole) {
    return (
      <NotAllowed
        page="the operator console"
        needs={`admins and operators of ${session.locationName}`}
      />
    );
  }
  return (
    <div className="stack">
      <h1>Operator console</h1>
      <p className="hint">
        View the portal as a coworker of {session.locationName} to help them. Every impersonation is
        recorded in the audit log.
      </p>
      <ImpersonateConsole locationName={session.locationName} />
    </div>
  );
}
