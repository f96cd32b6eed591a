import type { Metadata } from "next";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { ResumeActor } from "~/components/resume-actor";
import { SignInForm } from "~/components/sign-in-form";
import { ACTOR_COOKIE } from "~/server/browser-session";
import { serverApi } from "~/trpc/server";
import { safeNextPath } from "../_lib/session";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const next = safeNextPath((await searchParams).next);
  const { session } = await serverApi();
  if (session) redirect(next ?? "/");
  const form = (
    <div className="narrow stack">
      <h1>Sign in</h1>
      <p className="hint">Use the email and password of your coworking account.</p>
      <SignInForm next={next} />
    </div>
  );
  // An impersonated session ended while no page was watching; the actor's own waits aside.
  if ((await cookies()).has(ACTOR_COOKIE)) return <ResumeActor>{form}</ResumeActor>;
  return form;
}
