"use client";
// The audit log of the active location: newest first, filtered by person, type, outcome and a
// range of days, paged by cursor; under each impersonation event, what its impersonated session
// did. The filters live in the page's URL (a filtered view can be shared or reloaded, paging
// keeps them), and Export CSV downloads the same selection. Times are shown, and days read, in
// the location's time zone. Every value is rendered as text (React escapes it); nothing here
// injects HTML.
import { auditTypeSchema } from "@cowork/validators";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { usePathname, useSearchParams } from "next/navigation";
import { type FormEvent, Fragment, useState } from "react";
import { AUDIT_EXPORT_PATH } from "~/server/download-paths";
import { type RouterOutputs, useTRPC } from "~/trpc/react";
import { describeError } from "./error-text";
import { Pager } from "./pager";
import { SessionActions } from "./session-actions";
import { dayStartInZone, nextDay, partsInZone } from "./zoned-time";

type AuditEvent = RouterOutputs["audit"]["listEvents"]["items"][number];
type AuditType = AuditEvent["type"];

const PAGE_SIZE = 20;
const TYPES = auditTypeSchema.options;
const OUTCOMES = ["success", "refused"] as const;

/** The filters as the URL holds them: days are `YYYY-MM-DD` in the location's zone, both included. */
interface UrlFilters {
  person: string;
  type: string;
  outcome: string;
  from: string;
  to: string;
}

const FILTER_NAMES = ["person", "type", "outcome", "from", "to"] as const;

function readFilters(params: URLSearchParams): UrlFilters {
  return {
    person: params.get("person")?.trim() ?? "",
    type: params.get("type") ?? "",
    outcome: params.get("outcome") ?? "",
    from: params.get("from") ?? "",
    to: params.get("to") ?? "",
  };
}

/** The problems of a set of filters, by field; none when the list can be asked for. */
function problemsOf(
  filters: UrlFilters,
  timeZone: string,
): Partial<Record<keyof UrlFilters, string>> {
  const problems: Partial<Record<keyof UrlFilters, string>> = {};
  if (filters.person.length > 100) problems.person = "Enter at most 100 characters.";
  if (filters.type && !(TYPES as readonly string[]).includes(filters.type))
    problems.type = "Choose a type from the list.";
  if (filters.outcome && !(OUTCOMES as readonly string[]).includes(filters.outcome))
    problems.outcome = "Choose an outcome from the list.";
  if (filters.from && dayStartInZone(filters.from, timeZone) === null)
    problems.from = "Enter a date, like 2026-12-07.";
  if (filters.to && dayStartInZone(filters.to, timeZone) === null)
    problems.to = "Enter a date, like 2026-12-07.";
  if (!problems.from && !problems.to && filters.from && filters.to && filters.to < filters.from)
    problems.to = "The last day must not be before the first.";
  return problems;
}

/** The API's filter: days become instants in the location's zone, the last day included. */
function apiFilter(filters: UrlFilters, timeZone: string) {
  return {
    ...(filters.person ? { person: filters.person } : {}),
    ...(filters.type ? { type: filters.type as AuditType } : {}),
    ...(filters.outcome ? { outcome: filters.outcome as (typeof OUTCOMES)[number] } : {}),
    ...(filters.from ? { from: dayStartInZone(filters.from, timeZone)! } : {}),
    ...(filters.to ? { to: dayStartInZone(nextDay(filters.to), timeZone)! } : {}),
  };
}

function exportHref(filter: ReturnType<typeof apiFilter>): string {
  const params = new URLSearchParams({ format: "csv", ...filter });
  return `${AUDIT_EXPORT_PATH}?${params.toString()}`;
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

/** A time of the table: the zone named on a line of its own, so the column stays narrow. */
function ZonedTime({ iso, timeZone }: { iso: string; timeZone: string }) {
  const { text, zone } = partsInZone(iso, timeZone);
  return (
    <time dateTime={iso}>
      {text} <span className="time-zone">({zone})</span>
    </time>
  );
}

function FieldError({ id, text }: { id: string; text: string | undefined }) {
  return text ? (
    <p id={`${id}-error`} className="error">
      {text}
    </p>
  ) : null;
}

/** aria-describedby of a field: its hint and, when it is wrong, its error. */
const describedBy = (id: string, problem: string | undefined, hint?: string) =>
  [hint, problem ? `${id}-error` : undefined].filter(Boolean).join(" ") || undefined;

export function AuditLog({ timeZone }: { timeZone: string }) {
  const trpc = useTRPC();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const search = searchParams.toString();
  const filters = readFilters(searchParams);
  const urlProblems = problemsOf(filters, timeZone);
  const [formProblems, setFormProblems] = useState<{
    search: string;
    problems: Partial<Record<keyof UrlFilters, string>>;
  }>({ search, problems: {} });
  // What the form last refused, while the URL is the one it was refused on; else the URL's own.
  const problems =
    formProblems.search === search ? { ...urlProblems, ...formProblems.problems } : urlProblems;
  const valid = Object.keys(urlProblems).length === 0;
  const filter = valid ? apiFilter(filters, timeZone) : {};
  // The cursors of the pages before this one, for the filters they were taken with.
  const [paging, setPaging] = useState<{ search: string; cursors: number[] }>({
    search,
    cursors: [],
  });
  const cursors = paging.search === search ? paging.cursors : [];

  const cursor = cursors.at(-1);
  const events = useQuery(
    trpc.audit.listEvents.queryOptions(
      { limit: PAGE_SIZE, cursor, ...filter },
      { placeholderData: keepPreviousData, enabled: valid },
    ),
  );
  const items = valid ? (events.data?.items ?? []) : [];
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
  const nextCursor = valid ? (events.data?.nextCursor ?? null) : null;
  const page = cursors.length + 1;
  const filtered = FILTER_NAMES.some((name) => filters[name] !== "");

  /** Shows other filters: a new entry in the history, so Back returns to the previous view. */
  const navigate = (next: UrlFilters) => {
    const params = new URLSearchParams();
    for (const name of FILTER_NAMES) if (next[name]) params.set(name, next[name]);
    const query = params.toString();
    window.history.pushState(null, "", query ? `${pathname}?${query}` : pathname);
  };

  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => {
      const value = form.get(name);
      return typeof value === "string" ? value.trim() : "";
    };
    const next = {
      person: text("person"),
      type: text("type"),
      outcome: text("outcome"),
      from: text("from"),
      to: text("to"),
    };
    const refused = problemsOf(next, timeZone);
    setFormProblems({ search, problems: refused });
    if (Object.keys(refused).length > 0) return;
    navigate(next);
  };

  const clear = () => {
    setFormProblems({ search, problems: {} });
    navigate({ person: "", type: "", outcome: "", from: "", to: "" });
  };

  let summary: string;
  if (!valid) summary = "Correct the filters to see events.";
  else if (events.isPending || events.isPlaceholderData) summary = "Loading the audit log…";
  else if (events.isError) summary = "";
  else if (items.length === 0)
    summary = filtered ? "No events match these filters." : "No events yet.";
  else
    summary = `Page ${page}: ${items.length} ${items.length === 1 ? "event" : "events"}, newest first${filtered ? ", filtered" : ""}.`;

  return (
    <div className="stack">
      <section className="card" aria-labelledby="filter-title">
        <h2 id="filter-title">Filter</h2>
        {/* Keyed on the URL: Back, Forward and Clear show the filters of the view they open. */}
        <form key={search} className="filters filters-audit" onSubmit={apply} noValidate>
          <div className="field">
            <label htmlFor="filter-person">Person</label>
            <input
              id="filter-person"
              name="person"
              type="search"
              autoComplete="off"
              maxLength={100}
              defaultValue={filters.person}
              aria-invalid={problems.person ? true : undefined}
              aria-describedby={describedBy("filter-person", problems.person, "filter-person-hint")}
            />
            <p id="filter-person-hint" className="hint">
              Part of the actor&apos;s or the target&apos;s name.
            </p>
            <FieldError id="filter-person" text={problems.person} />
          </div>
          <div className="field">
            <label htmlFor="filter-type">Type</label>
            <select
              id="filter-type"
              name="type"
              defaultValue={filters.type}
              aria-invalid={problems.type ? true : undefined}
              aria-describedby={describedBy("filter-type", problems.type)}
            >
              <option value="">Any type</option>
              {TYPES.map((type) => (
                <option key={type} value={type}>
                  {type}
                </option>
              ))}
            </select>
            <FieldError id="filter-type" text={problems.type} />
          </div>
          <div className="field">
            <label htmlFor="filter-outcome">Outcome</label>
            <select
              id="filter-outcome"
              name="outcome"
              defaultValue={filters.outcome}
              aria-invalid={problems.outcome ? true : undefined}
              aria-describedby={describedBy("filter-outcome", problems.outcome)}
            >
              <option value="">Any outcome</option>
              {OUTCOMES.map((outcome) => (
                <option key={outcome} value={outcome}>
                  {outcome}
                </option>
              ))}
            </select>
            <FieldError id="filter-outcome" text={problems.outcome} />
          </div>
          <div className="field">
            <label htmlFor="filter-from">From</label>
            <input
              id="filter-from"
              name="from"
              type="date"
              defaultValue={filters.from}
              aria-invalid={problems.from ? true : undefined}
              aria-describedby={describedBy("filter-from", problems.from, "filter-days-hint")}
            />
            <FieldError id="filter-from" text={problems.from} />
          </div>
          <div className="field">
            <label htmlFor="filter-to">To</label>
            <input
              id="filter-to"
              name="to"
              type="date"
              defaultValue={filters.to}
              aria-invalid={problems.to ? true : undefined}
              aria-describedby={describedBy("filter-to", problems.to, "filter-days-hint")}
            />
            <FieldError id="filter-to" text={problems.to} />
          </div>
          <p id="filter-days-hint" className="hint filter-days-hint">
            Days in {timeZone}, from the start of the first to the end of the last.
          </p>
          <div className="filter-buttons">
            <button type="submit">Apply filters</button>
            <button type="button" className="button-quiet" onClick={clear}>
              Clear filters
            </button>
          </div>
        </form>
      </section>

      <p>
        {/* A download with the session cookie (the REST export takes a bearer only). */}
        {valid ? (
          <>
            <a href={exportHref(filter)} download>
              Export CSV
            </a>{" "}
            <span className="hint">
              {filtered ? "The events these filters select" : "Every event"}, oldest first.
            </span>
          </>
        ) : (
          <span className="hint">Export CSV: correct the filters first.</span>
        )}
      </p>

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
                      <ZonedTime iso={item.at} timeZone={timeZone} />
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
                            formatTime={(iso) => partsInZone(iso, timeZone, true).text}
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
          onPrevious={() => setPaging({ search, cursors: cursors.slice(0, -1) })}
          onNext={() => {
            if (nextCursor !== null) setPaging({ search, cursors: [...cursors, nextCursor] });
          }}
        />
      </section>
    </div>
  );
}
