import type { Metadata } from "next";
import { AuditLog } from "~/components/audit-log";
import { NotAllowed } from "~/components/not-allowed";
import { AUDIT_EXPORT_PATH } from "~/server/download-paths";
import { requireSession } from "../../_lib/session";

const when = new Intl.DateTimeFormat("en-GB", {
  dateStyle: "medium",
  timeStyle: "medium",
  timeZone: "UTC",
});

export const metadata: Metadata = { title: "Audit log" };
export const dynamic = "force-dynamic";

export default async function AuditPage() {
  const { api, session } = await requireSession("/admin/audit");
  if (session.staffRole !== "admin") {
    return <NotAllowed page="the audit log" needs={`admins of ${session.locationName}`} />;
  }
  const [newest] = (await api.audit.listCheckpoints({ limit: 1 })).items;
  return (
    <div className="stack">
      <h1>Audit log</h1>
      <p className="hint">
        Sign-ins, impersonations and profile switches in {session.locationName}, newest first.
      </p>
      <p className="hint" id="audit-coverage">
        {newest ? (
          <>
            Covered by a signed checkpoint up to event {newest.size}, signed at{" "}
            <time
              dateTime={newest.signedAt}
            >{`${when.format(new Date(newest.signedAt))} UTC`}</time>
            .
          </>
        ) : (
          "No signed checkpoint covers this location's events yet."
        )}
      </p>
      <p>
        {/* A download with the session cookie (the REST export takes a bearer only). */}
        <a href={`${AUDIT_EXPORT_PATH}?format=csv`} download>
          Export CSV
        </a>
      </p>
      <AuditLog />
    </div>
  );
}
