import type { Metadata, Viewport } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";
import { ImpersonationBanner } from "~/components/impersonation-banner";
import { PageNotice } from "~/components/notice";
import { ServiceUnavailable } from "~/components/service-unavailable";
import { SiteHeader } from "~/components/site-header";
import { TRPCReactProvider } from "~/trpc/react";
import { service } from "~/server/service";
import { serverApi } from "~/trpc/server";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Coworking portal", template: "%s · Coworking portal" },
};
export const viewport: Viewport = { width: "device-width", initialScale: 1 };

/**
 * Who is signed in, rendered on the server so the banner is there from the first paint; and
 * whether the service is unavailable (the session could not be looked up in time), in which case
 * no page can be shown: the layout shows "temporarily unavailable" instead, answered with 503.
 */
async function currentMe() {
  // Every page depends on the request's cookies: never prerender one at build time (that would
  // open the database during `next build`).
  await connection();
  try {
    const { api, session, sessionError } = await serverApi();
    if (sessionError) return { me: null, unavailable: sessionError.code === "unavailable" };
    if (!session) return { me: null, unavailable: false };
    // A failure of this call alone must not take every page with it: render as signed out.
    return { me: await api.auth.me().catch(() => null), unavailable: false };
  } catch (error) {
    if ((await service()).domainErrorOf(error).code === "unavailable")
      return { me: null, unavailable: true };
    throw error;
  }
}

export default async function RootLayout({ children }: { children: ReactNode }) {
  const { me, unavailable } = await currentMe();
  return (
    <html lang="en">
      <body>
        <TRPCReactProvider>
          <a className="skip-link" href="#main">
            Skip to content
          </a>
          {me?.impersonation ? <ImpersonationBanner initial={me} renderedAt={Date.now()} /> : null}
          <SiteHeader me={me} />
          <main id="main" className="page">
            <PageNotice />
            {unavailable ? <ServiceUnavailable /> : children}
          </main>
        </TRPCReactProvider>
      </body>
    </html>
  );
}
