"use client";
// Any page that fails to render says so in words, with a way to try again.
export default function ErrorPage({ retry }: { error: unknown; retry: () => void }) {
  return (
    <div className="stack" role="alert">
      <h1>Something went wrong</h1>
      <p>This page could not be shown. It may be a passing problem: try again in a moment.</p>
      <p>
        <button type="button" onClick={() => retry()}>
          Try again
        </button>
      </p>
    </div>
  );
}
