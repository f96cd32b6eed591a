import type { Metadata } from "next";
import { AuditLog } from "~/components/audit-log";
import { NotAllowed } from "~/components/not-allowed";
import { formatInZone, shownZone } from "~/components/zoned-time";
import { requireSession } from "../../_lib/session";

export const metadata: Metadata = { title: "Audit log" };
export const dynamic = "force-dynamic";

export default async function AuditPage() {
  const { api, session } = await requireSession("/admin/audit");
  if (session.staffRole !== "admin") {
    return <NotAllowed page="the audit log" needs={`admins of ${session.locationName}`} />;
  }
  const [newest] = (await api.audit.listCheckpoints({ limit: 1 })).items;
  const timeZone = shownZone(session.locationTimeZone);
  return (
    <div className="stack">
      <h1>Audit log</h1>
      <p className="hint">
        Sign-ins, impersonations and profile switches in {session.locationName}, newest first. Times
        are in {timeZone}.
      </p>
      <p className="hint" id="audit-coverage">
        {newest ? (
          <>
            Covered by a signed checkpoint up to event {newest.size}, signed at{" "}
            <time dateTime={newest.signedAt}>{formatInZone(newest.signedAt, timeZone)}</time>.
          </>
        ) : (
          "No signed checkpoint covers this location's events yet."
        )}
      </p>
      <AuditLog timeZone={timeZone} />
    </div>
  );
}
