import type { Metadata } from "next";
import { AuditLog } from "~/components/audit-log";
import { NotAllowed } from "~/components/not-allowed";
import { requireSession } from "../../_lib/session";

export const metadata: Metadata = { title: "Audit log" };
export const dynamic = "force-dynamic";

export default async function AuditPage() {
  const { session } = await requireSession("/admin/audit");
  if (session.staffRole !== "admin") {
    return <NotAllowed page="the audit log" needs={`admins of ${session.locationName}`} />;
  }
  return (
    <div className="stack">
      <h1>Audit log</h1>
      <p className="hint">
        Sign-ins, impersonations and profile switches in {session.locationName}, newest first.
      </p>
      <AuditLog />
    </div>
  );
}
