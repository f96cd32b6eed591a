// The refusal page for signed-in people who open a page their role does not cover.
import Link from "next/link";

export function NotAllowed({ page, needs }: { page: string; needs: string }) {
  return (
    <section className="stack" aria-labelledby="not-allowed-title">
      <h1 id="not-allowed-title">Not allowed</h1>
      <p>
        You are signed in, but {page} is only for {needs}. Your account does not have access to it.
      </p>
      <p>
        <Link href="/">Go to your home page</Link>
      </p>
    </section>
  );
}
