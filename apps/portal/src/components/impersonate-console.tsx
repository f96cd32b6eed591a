"use client";
// The operator console: search the location's coworkers (debounced, paged by cursor) and view
// the portal as one of them.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useSignIn } from "~/hooks/use-sign-in";
import { useTRPC } from "~/trpc/react";
import { ConfirmItsYou } from "./confirm-its-you";
import { describeError } from "./error-text";
import { type ImpersonationChoice, ImpersonationOptions } from "./impersonation-options";
import { Pager } from "./pager";

export const SEARCH_DEBOUNCE_MS = 250;
const PAGE_SIZE = 5;

export function ImpersonateConsole({ locationName }: { locationName: string }) {
  const trpc = useTRPC();
  const {
    impersonate,
    pendingId,
    error: impersonateError,
    stepUpPending,
    resumeAfterStepUp,
    cancelStepUp,
  } = useSignIn();
  const [text, setText] = useState("");
  // The query and the cursors of the pages visited so far change together: a new query starts
  // again from its first page.
  const [search, setSearch] = useState<{ query: string; cursors: number[] }>({
    query: "",
    cursors: [],
  });
  const [choice, setChoice] = useState<ImpersonationChoice>({
    reason: "",
    readOnly: false,
    reasonCategory: "",
    ticket: "",
  });

  useEffect(() => {
    const timer = window.setTimeout(() => {
      const query = text.trim();
      setSearch((previous) => (previous.query === query ? previous : { query, cursors: [] }));
    }, SEARCH_DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [text]);

  const cursor = search.cursors.at(-1);
  const results = useQuery(
    trpc.directory.searchCoworkers.queryOptions(
      { query: search.query, limit: PAGE_SIZE, cursor },
      { placeholderData: keepPreviousData },
    ),
  );
  const items = results.data?.items ?? [];
  const nextCursor = results.data?.nextCursor ?? null;
  const page = search.cursors.length + 1;
  const pendingName = items.find((item) => item.coworkerId === pendingId)?.fullName;

  let summary: string;
  if (results.isPending || results.isPlaceholderData) summary = "Searching…";
  else if (results.isError) summary = "";
  else if (items.length === 0)
    summary = search.query
      ? `No coworkers match “${search.query}”.`
      : `No coworkers in ${locationName} yet.`;
  else
    summary = `Page ${page}: ${items.length} ${items.length === 1 ? "coworker" : "coworkers"}${search.query ? ` matching “${search.query}”` : ""}.`;

  return (
    <div className="stack">
      <ConfirmItsYou open={stepUpPending} onConfirmed={resumeAfterStepUp} onCancel={cancelStepUp} />
      <section className="card" aria-labelledby="find-title">
        <h2 id="find-title">Find a coworker</h2>
        <form className="search" role="search" onSubmit={(event) => event.preventDefault()}>
          <div className="field">
            <label htmlFor="search">Search coworkers</label>
            <input
              id="search"
              type="search"
              autoComplete="off"
              maxLength={100}
              value={text}
              aria-describedby="search-hint"
              onChange={(event) => setText(event.target.value)}
            />
            <p id="search-hint" className="hint">
              By name or email, in {locationName}.
            </p>
          </div>
        </form>
        <ImpersonationOptions value={choice} onChange={setChoice} />
      </section>

      <section className="card" aria-labelledby="results-title" aria-busy={results.isFetching}>
        <h2 id="results-title">Coworkers</h2>
        <p className="hint" aria-live="polite">
          {pendingName ? `Opening the portal as ${pendingName}…` : summary}
        </p>
        {results.isError ? (
          <p className="error" role="alert">
            {describeError(results.error)}
          </p>
        ) : null}
        {impersonateError ? (
          <p className="error" role="alert">
            {impersonateError}
          </p>
        ) : null}
        {items.length > 0 ? (
          <table className="table">
            <caption className="sr-only">Coworkers of {locationName}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.coworkerId}>
                  <th scope="row" data-label="Name">
                    {item.fullName}
                  </th>
                  <td data-label="Email" className="break">
                    {item.email}
                  </td>
                  <td data-label="Role">
                    {item.staffRole ? `Staff (${item.staffRole})` : "Member"}
                  </td>
                  <td className="actions">
                    {item.canImpersonate ? (
                      <button
                        type="button"
                        disabled={pendingId !== null}
                        aria-busy={pendingId === item.coworkerId}
                        onClick={() =>
                          void impersonate(item.coworkerId, { ...choice, kind: "staff" })
                        }
                      >
                        {`Impersonate ${item.fullName}`}
                      </button>
                    ) : (
                      <span className="hint">Not allowed for your role</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <Pager
          label="Search result pages"
          page={page}
          busy={results.isFetching}
          hasNext={nextCursor !== null}
          onPrevious={() =>
            setSearch((previous) => ({ ...previous, cursors: previous.cursors.slice(0, -1) }))
          }
          onNext={() => {
            if (nextCursor !== null)
              setSearch((previous) => ({
                ...previous,
                cursors: [...previous.cursors, nextCursor],
              }));
          }}
        />
      </section>
    </div>
  );
}
