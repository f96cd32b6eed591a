"use client";
// The audit log of the active location: newest first, filtered by actor and target, paged by
// cursor; under each impersonation event, what its impersonated session did. Every value is rendered as text (React escapes it); nothing here injects HTML.
import { parseIdText } from "@cowork/validators";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { type FormEvent, Fragment, useState } from "react";
import { type RouterOutputs, useTRPC } from "~/trpc/react";
import { describeError } from "./error-text";
import { Pager } from "./pager";
import { SessionActions } from "./session-actions";

type AuditEvent = RouterOutputs["audit"]["listEvents"]["items"][number];

const PAGE_SIZE = 20;

const timeFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium" });

interface Filters {
  actorUserId?: number;
  targetCoworkerId?: number;
}

function details(event: AuditEvent): string {
  return [
    event.kind ? `${event.kind} impersonation` : null,
    event.mode === "readonly" ? "read-only" : null,
    event.detail,
  ]
    .filter(Boolean)
    .join(" · ");
}

/**
 * A code such as `signin.failed` or `invalid_credentials`, with a line-break opportunity after
 * each `.` and `_`: unbroken, the widest of them made the table wider than its card at 1280 px.
 * <wbr> adds no text, so what a person copies (and the cell's text) is unchanged.
 */
function Breakable({ text }: { text: string }) {
  const parts = text.split(/(?<=[._])/);
  return (
    <>
      {parts.map((part, index) => (
        <Fragment key={index}>
          {index > 0 ? <wbr /> : null}
          {part}
        </Fragment>
      ))}
    </>
  );
}

function IdField({
  id,
  label,
  value,
  onChange,
  invalid,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  invalid: boolean;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        inputMode="numeric"
        autoComplete="off"
        value={value}
        aria-invalid={invalid || undefined}
        aria-describedby={invalid ? `${id}-error` : undefined}
        onChange={(event) => onChange(event.target.value)}
      />
      {invalid ? (
        <p id={`${id}-error`} className="error">
          Enter a whole number, like 42.
        </p>
      ) : null}
    </div>
  );
}

export function AuditLog() {
  const trpc = useTRPC();
  const [actorText, setActorText] = useState("");
  const [targetText, setTargetText] = useState("");
  const [invalid, setInvalid] = useState<{ actor: boolean; target: boolean }>({
    actor: false,
    target: false,
  });
  const [view, setView] = useState<{ filters: Filters; cursors: number[] }>({
    filters: {},
    cursors: [],
  });

  const cursor = view.cursors.at(-1);
  const events = useQuery(
    trpc.audit.listEvents.queryOptions(
      { limit: PAGE_SIZE, cursor, ...view.filters },
      { placeholderData: keepPreviousData },
    ),
  );
  const items = events.data?.items ?? [];
  // What the impersonated sessions behind this page's impersonation events did: one call for the
  // page, answered only for the events that name such a session.
  const impersonationEvents = items
    .filter((item) => item.type.startsWith("impersonation."))
    .map((item) => item.id);
  const eventActions = useQuery(
    trpc.impersonationActions.listEventActions.queryOptions(
      { eventIds: impersonationEvents },
      { enabled: impersonationEvents.length > 0 },
    ),
  );
  const actionsOf = new Map(
    (eventActions.data?.items ?? []).map((entry) => [entry.eventId, entry.actions]),
  );
  const nextCursor = events.data?.nextCursor ?? null;
  const page = view.cursors.length + 1;
  const filtered =
    view.filters.actorUserId !== undefined || view.filters.targetCoworkerId !== undefined;

  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const actorUserId = actorText.trim() ? parseIdText(actorText.trim()) : undefined;
    const targetCoworkerId = targetText.trim() ? parseIdText(targetText.trim()) : undefined;
    const bad = { actor: actorUserId === null, target: targetCoworkerId === null };
    setInvalid(bad);
    if (bad.actor || bad.target) return;
    setView({
      filters: {
        actorUserId: actorUserId ?? undefined,
        targetCoworkerId: targetCoworkerId ?? undefined,
      },
      cursors: [],
    });
  };

  const clear = () => {
    setActorText("");
    setTargetText("");
    setInvalid({ actor: false, target: false });
    setView({ filters: {}, cursors: [] });
  };

  let summary: string;
  if (events.isPending || events.isPlaceholderData) summary = "Loading the audit log…";
  else if (events.isError) summary = "";
  else if (items.length === 0)
    summary = filtered ? "No events match these filters." : "No events yet.";
  else
    summary = `Page ${page}: ${items.length} ${items.length === 1 ? "event" : "events"}, newest first${filtered ? ", filtered" : ""}.`;

  return (
    <div className="stack">
      <section className="card" aria-labelledby="filter-title">
        <h2 id="filter-title">Filter</h2>
        <form className="filters" onSubmit={apply} noValidate>
          <IdField
            id="actor"
            label="Actor user id"
            value={actorText}
            onChange={setActorText}
            invalid={invalid.actor}
          />
          <IdField
            id="target"
            label="Target coworker id"
            value={targetText}
            onChange={setTargetText}
            invalid={invalid.target}
          />
          <div className="filter-buttons">
            <button type="submit">Apply filters</button>
            <button type="button" className="button-quiet" onClick={clear}>
              Clear filters
            </button>
          </div>
        </form>
      </section>

      <section className="card" aria-labelledby="events-title" aria-busy={events.isFetching}>
        <h2 id="events-title">Events</h2>
        <p className="hint" aria-live="polite">
          {summary}
        </p>
        {events.isError ? (
          <p className="error" role="alert">
            {describeError(events.error)}
          </p>
        ) : null}
        {items.length > 0 ? (
          <div className="table-scroll" role="region" aria-label="Audit events" tabIndex={0}>
            <table className="table table-audit">
              <caption className="sr-only">Audit events, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Type</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Target</th>
                  <th scope="col">Reason</th>
                  <th scope="col">IP</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {items.map((item) => (
                  <tr key={item.id}>
                    <td data-label="Time">
                      <time dateTime={item.at}>{timeFormat.format(new Date(item.at))}</time>
                    </td>
                    <td data-label="Type">
                      <code>
                        <Breakable text={item.type} />
                      </code>
                    </td>
                    <td data-label="Outcome">
                      <span
                        className={
                          item.outcome === "refused" ? "badge badge-refused" : "badge badge-success"
                        }
                      >
                        {item.outcome}
                      </span>
                    </td>
                    <td data-label="Actor">
                      {item.actor ? `${item.actor.fullName} (user ${item.actor.userId})` : "—"}
                    </td>
                    <td data-label="Target">
                      {item.target
                        ? `${item.target.fullName} (coworker ${item.target.coworkerId})`
                        : "—"}
                    </td>
                    <td data-label="Reason" className="break">
                      {item.reason ?? "—"}
                    </td>
                    <td data-label="IP">{item.ip ?? "—"}</td>
                    <td data-label="Detail" className="break">
                      <Breakable text={details(item) || "—"} />
                      {actionsOf.has(item.id) ? (
                        <div>
                          <SessionActions
                            actions={actionsOf.get(item.id)!}
                            formatTime={(iso) => timeFormat.format(new Date(iso))}
                          />
                        </div>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        <Pager
          label="Audit log pages"
          page={page}
          busy={events.isFetching}
          hasNext={nextCursor !== null}
          onPrevious={() =>
            setView((previous) => ({ ...previous, cursors: previous.cursors.slice(0, -1) }))
          }
          onNext={() => {
            if (nextCursor !== null)
              setView((previous) => ({ ...previous, cursors: [...previous.cursors, nextCursor] }));
          }}
        />
      </section>
    </div>
  );
}
