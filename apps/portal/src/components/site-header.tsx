// The header on every page: where you are, what you may open, and the way out.
import Link from "next/link";
import { type RouterOutputs } from "~/trpc/react";
import { NavLinks } from "./nav-links";
import { SignOutButton } from "./sign-out-button";

type Me = RouterOutputs["auth"]["me"];

function linksFor(me: Me) {
  return [
    { href: "/", label: "Home" },
    { href: "/team", label: "Team" },
    ...(me.impersonation ? [] : [{ href: "/account/access", label: "Access history" }]),
    ...(me.staffRole ? [{ href: "/admin/impersonate", label: "Console" }] : []),
    ...(me.staffRole === "admin"
      ? [
          { href: "/admin/audit", label: "Audit" },
          { href: "/admin/sessions", label: "Live sessions" },
          { href: "/admin/policy", label: "Policy" },
        ]
      : []),
    // Sign-in security (one-time-code app): staff; team admins reach it from the team page.
    ...(me.staffRole && !me.impersonation
      ? [{ href: "/account/security", label: "Security" }]
      : []),
  ];
}

export function SiteHeader({ me }: { me: Me | null }) {
  return (
    <header className="site-header">
      <div className="site-header-inner">
        <Link href="/" className="brand">
          Coworking portal
        </Link>
        {me ? (
          <nav aria-label="Main">
            <NavLinks links={linksFor(me)} />
          </nav>
        ) : null}
        <div className="account">
          {me ? (
            <>
              <span className="who">
                {me.fullName}
                <span className="where"> · {me.location.name}</span>
              </span>
              {/* While impersonating, the banner's "Stop impersonating" is the way out. */}
              {me.impersonation ? null : <SignOutButton />}
            </>
          ) : (
            <Link href="/sign-in">Sign in</Link>
          )}
        </div>
      </div>
    </header>
  );
}
