// /account/security: staff and team admins enrol or remove a one-time-code app (RFC 6238), whose
// codes then go with their password whenever viewing the portal as someone else needs them to
// confirm it's them (CONTRACT §10, §11). Never from an impersonated session.
import type { Metadata } from "next";
import { NotAllowed } from "~/components/not-allowed";
import { OtpSettings } from "~/components/otp-settings";
import { requireSession } from "../../_lib/session";

export const metadata: Metadata = { title: "Sign-in security" };
export const dynamic = "force-dynamic";

export default async function SecurityPage() {
  const { api, session } = await requireSession("/account/security");
  if (session.impersonation) {
    return <NotAllowed page="this page" needs="the account's owner, signed in themselves" />;
  }
  const administersTeam = session.staffRole
    ? false
    : (await api.directory.listTeamMembers()).teams.some((team) => team.callerIsTeamAdmin);
  if (!session.staffRole && !administersTeam) {
    return <NotAllowed page="sign-in security" needs="staff and team admins" />;
  }
  const status = await api.security.otpStatus();
  return (
    <div className="stack">
      <h1>Sign-in security</h1>
      <p>
        Before you view the portal as someone else, you confirm it&apos;s you with your password if
        you have not entered it in the last {Math.round(status.stepUpMaxAgeSeconds / 60)} minutes.
        With a one-time-code app (any authenticator app: 6 digits, every 30 seconds) you also enter
        a code from it, so your password alone is not enough.
      </p>
      <OtpSettings initial={{ enrolled: status.enrolled }} />
    </div>
  );
}
