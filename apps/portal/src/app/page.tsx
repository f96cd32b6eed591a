// The member's home: who they are, where, and as which profile.
import Link from "next/link";
import { MemberNotices } from "~/components/member-notices";
import { ProfileSwitcher } from "~/components/profile-switcher";
import { requireSession, serverErrorText } from "./_lib/session";

export const dynamic = "force-dynamic";

export default async function HomePage() {
  const { api } = await requireSession("/");
  const me = await api.auth.me();
  let profiles: Awaited<ReturnType<typeof api.profiles.listProfiles>> = [];
  let profilesError: string | null = null;
  try {
    profiles = await api.profiles.listProfiles();
  } catch (error) {
    profilesError = await serverErrorText(error);
  }
  // Notices are the member's own: an impersonated session is never shown them (nor may it ask).
  let unread: Awaited<ReturnType<typeof api.notices.listNotices>>["items"] = [];
  let noticesError: string | null = null;
  if (!me.impersonation) {
    try {
      unread = (await api.notices.listNotices()).items.filter((notice) => notice.readAt === null);
    } catch (error) {
      noticesError = await serverErrorText(error);
    }
  }

  return (
    <div className="stack">
      <h1>Hello, {me.fullName}</h1>
      {unread.length > 0 || noticesError ? (
        <section className="card" aria-labelledby="notices-title">
          <h2 id="notices-title">Your account was accessed</h2>
          {noticesError ? (
            <p className="error" role="alert">
              {noticesError}
            </p>
          ) : (
            <MemberNotices notices={unread} />
          )}
          <p className="hint">
            Every access to your account is listed under{" "}
            <Link href="/account/access">Access history</Link>.
          </p>
        </section>
      ) : null}
      <section className="card" aria-labelledby="you-title">
        <h2 id="you-title">Your session</h2>
        <dl className="facts">
          <dt>Email</dt>
          <dd className="break">{me.email}</dd>
          <dt>Location</dt>
          <dd data-testid="location">{me.location.name}</dd>
          <dt>Active profile</dt>
          <dd>
            {me.profile
              ? `${me.profile.fullName} (coworker ${me.profile.coworkerId})`
              : `No member profile in ${me.location.name}`}
          </dd>
          {me.staffRole ? (
            <>
              <dt>Staff role</dt>
              <dd>
                {me.staffRole === "admin" ? "Admin" : "Operator"} of {me.location.name}
              </dd>
            </>
          ) : null}
        </dl>
        {profilesError ? (
          <p className="error" role="alert">
            {profilesError}
          </p>
        ) : null}
        {profiles.length > 1 && !me.impersonation ? <ProfileSwitcher profiles={profiles} /> : null}
      </section>
      <section className="card" aria-labelledby="next-title">
        <h2 id="next-title">Where to next</h2>
        <ul className="links">
          {me.profile ? (
            <li>
              <Link href="/team">Your team and its permissions</Link>
            </li>
          ) : null}
          {me.staffRole ? (
            <li>
              <Link href="/admin/impersonate">Operator console: view the portal as a coworker</Link>
            </li>
          ) : null}
          {me.staffRole === "admin" ? (
            <li>
              <Link href="/admin/audit">Audit log of {me.location.name}</Link>
            </li>
          ) : null}
          {!me.profile && !me.staffRole ? <li>Nothing else here yet.</li> : null}
        </ul>
      </section>
    </div>
  );
}
