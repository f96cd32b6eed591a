// /account/access: a member sees every impersonation of their own account — who, when, why, for
// how long, as staff or as team admin, read-only or with full access, and every call they made
// while in the account (refused ones too). Never from an impersonated session: the record is
// for the account's owner.
import type { AccessHistoryOutput, SupportAccessOutput } from "@cowork/validators";
import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { SessionActions } from "~/components/session-actions";
import { SupportAccess } from "~/components/support-access";
import { formatInZone, partsInZone, shownZone } from "~/components/zoned-time";
import { service } from "~/server/service";
import { serverApi } from "~/trpc/server";

export const metadata: Metadata = { title: "Who accessed my account" };
export const dynamic = "force-dynamic";

type Item = AccessHistoryOutput["items"][number];

function Instant({ iso, timeZone }: { iso: string; timeZone: string }) {
  return <time dateTime={iso}>{formatInZone(iso, timeZone)}</time>;
}

/** "45 seconds", "12 minutes", "1 hour 5 minutes". */
function describeDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (seconds < 60) return plural(seconds, "second");
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return plural(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? plural(hours, "hour") : `${plural(hours, "hour")} ${plural(rest, "minute")}`;
}

/** One impersonation, its times in the member's location's zone. */
function Row({ item, timeZone }: { item: Item; timeZone: string }) {
  return (
    <tr>
      <td data-label="When">
        <Instant iso={item.at} timeZone={timeZone} />
      </td>
      <th scope="row" data-label="Who">
        {item.actor.fullName}
      </th>
      <td data-label="As">{item.kind === "staff" ? "Staff" : "Team admin"}</td>
      <td data-label="Access">{item.readOnly ? "Read-only" : "Full"}</td>
      <td data-label="Why">
        {item.reason ?? <span className="hint">No reason given</span>}
        {item.reasonCategory ? (
          <span className="hint"> · {item.reasonCategory.replace("_", " ")}</span>
        ) : null}
        {item.ticket ? <span className="hint"> · ticket {item.ticket}</span> : null}
      </td>
      <td data-label="How long">
        {item.endedAt ? (
          <>
            {describeDuration(Date.parse(item.endedAt) - Date.parse(item.at))}
            <span className="hint">
              {" "}
              (ended <Instant iso={item.endedAt} timeZone={timeZone} />)
            </span>
          </>
        ) : (
          "Not ended yet"
        )}
      </td>
      <td data-label="What they did">
        <SessionActions
          actions={item.actions}
          total={item.actionCount}
          formatTime={(iso) => partsInZone(iso, timeZone, true).text}
        />
      </td>
    </tr>
  );
}

async function refusalText(error: unknown): Promise<string> {
  const domain = (await service()).domainErrorOf(error);
  switch (domain.code) {
    case "forbidden":
      return (
        "This page is not available while someone is viewing this account for its owner (an impersonated session). " +
        "Only the owner, signed in themselves, can see who has accessed the account."
      );
    case "unavailable":
      return "The service is temporarily unavailable. Please try again shortly.";
    default:
      return "Something went wrong on our side. Please try again.";
  }
}

export default async function AccessHistoryPage() {
  const { api, session, sessionError } = await serverApi();
  // Not looked up (database down) is not signed out: the layout says "temporarily unavailable".
  if (sessionError) throw sessionError;
  if (!session) redirect(`/sign-in?next=${encodeURIComponent("/account/access")}`);

  const timeZone = shownZone(session.locationTimeZone);
  let items: Item[] | null = null;
  let support: SupportAccessOutput | null = null;
  let refusal: string | null = null;
  try {
    items = (await api.profiles.accessHistory()).items;
    // Support access is per profile: without one here there is nothing to allow.
    if (session.coworkerId !== null) support = await api.supportAccess.listSupportAccess();
  } catch (error) {
    refusal = await refusalText(error);
  }

  return (
    <div className="stack">
      <h1>Who accessed my account</h1>
      <p>
        Staff (admins and operators of a location) and the admins of your team can view the portal
        as you, for support. Every time they do, it is recorded here, with the reason they gave.
      </p>
      {support ? <SupportAccess initial={support} now={Date.now()} timeZone={timeZone} /> : null}
      {refusal !== null ? (
        <p className="error" role="alert">
          {refusal}
        </p>
      ) : items && items.length === 0 ? (
        <p>Nobody has accessed your account.</p>
      ) : items ? (
        <section aria-labelledby="access-history-heading">
          <h2 id="access-history-heading">
            Accessed {items.length === 1 ? "1 time" : `${items.length} times`}, newest first
          </h2>
          <div className="table-scroll">
            <table className="table">
              <caption className="hint">
                Read-only: they could look but not change anything. Full: they could act as you,
                except change your sign-in or profile.
              </caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">As</th>
                  <th scope="col">Access</th>
                  <th scope="col">Why</th>
                  <th scope="col">How long</th>
                  <th scope="col">What they did</th>
                </tr>
              </thead>
              <tbody>
                {items.map((item, index) => (
                  <Row key={`${item.at}-${index}`} item={item} timeZone={timeZone} />
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}
    </div>
  );
}
