import type { Metadata, Viewport } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";
import { ImpersonationBanner } from "~/components/impersonation-banner";
import { PageNotice } from "~/components/notice";
import { SiteHeader } from "~/components/site-header";
import { TRPCReactProvider } from "~/trpc/react";
import { serverApi } from "~/trpc/server";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Coworking portal", template: "%s · Coworking portal" },
};
export const viewport: Viewport = { width: "device-width", initialScale: 1 };

/** Who is signed in, rendered on the server so the banner is there from the first paint. */
async function currentMe() {
  // Every page depends on the request's cookies: never prerender one at build time (that would
  // open the database during `next build`).
  await connection();
  const { api, session } = await serverApi();
  if (!session) return null;
  // A failure here (database down) must not take every page with it: render as signed out.
  return api.auth.me().catch(() => null);
}

export default async function RootLayout({ children }: { children: ReactNode }) {
  const me = await currentMe();
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
            {children}
          </main>
        </TRPCReactProvider>
      </body>
    </html>
  );
}
