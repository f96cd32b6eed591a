"use client";
// The member's support access (/account/access): allow staff or team admins in for a while, see
// and revoke the grants, end live sessions in the account.
import { type SupportAccessOutput } from "@cowork/validators";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useHydrated } from "~/hooks/use-hydrated";
import { useTRPC } from "~/trpc/react";
import { EndSessionButton } from "./end-session-button";
import { describeError } from "./error-text";
import { formatInZone } from "./zoned-time";

const HOURS = [1, 4, 24, 72, 168] as const;
const hoursLabel = (hours: number) =>
  hours === 1
    ? "1 hour"
    : hours < 24
      ? `${hours} hours`
      : hours === 24
        ? "1 day"
        : `${hours / 24} days`;
const who = (kind: "staff" | "team") => (kind === "staff" ? "Staff" : "Team admins");

export function SupportAccess({
  initial,
  now,
  timeZone,
}: {
  initial: SupportAccessOutput;
  now: number;
  /** The member's location's zone, in which times are shown. */
  timeZone: string;
}) {
  const at = (iso: string) => formatInZone(iso, timeZone);
  const trpc = useTRPC();
  const router = useRouter();
  const hydrated = useHydrated();
  const grant = useMutation(trpc.supportAccess.grantSupportAccess.mutationOptions());
  const revoke = useMutation(trpc.supportAccess.revokeSupportAccess.mutationOptions());
  const [grantedTo, setGrantedTo] = useState<"staff" | "team">("staff");
  const [hours, setHours] = useState<number>(24);
  const [mode, setMode] = useState<"full" | "readonly">("readonly");
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const open = initial.grants.filter(
    (item) => item.revokedAt === null && Date.parse(item.expiresAt) > now,
  );

  const run = async (work: () => Promise<unknown>, done: string) => {
    setError(null);
    setStatus("");
    try {
      await work();
      setStatus(done);
      router.refresh();
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  return (
    <div className="stack">
      <form
        className="form card"
        aria-labelledby="allow-title"
        onSubmit={(event) => {
          event.preventDefault();
          void run(() => grant.mutateAsync({ grantedTo, hours, mode }), "Support access allowed.");
        }}
      >
        <h2 id="allow-title">Allow support access</h2>
        <p className="hint">
          Where your location asks for your consent, staff or your team admins can view the portal
          as you only while you allow it.
        </p>
        <div className="field">
          <label htmlFor="grant-who">Who</label>
          <select
            id="grant-who"
            value={grantedTo}
            onChange={(event) => setGrantedTo(event.target.value as "staff" | "team")}
          >
            <option value="staff">Staff (admins and operators)</option>
            <option value="team">Team admins</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="grant-hours">How long</label>
          <select
            id="grant-hours"
            value={hours}
            onChange={(event) => setHours(Number(event.target.value))}
          >
            {HOURS.map((value) => (
              <option key={value} value={value}>
                {hoursLabel(value)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="grant-mode">Mode</label>
          <select
            id="grant-mode"
            value={mode}
            onChange={(event) => setMode(event.target.value as "full" | "readonly")}
          >
            <option value="readonly">Read-only: look, change nothing</option>
            <option value="full">Full: act as me</option>
          </select>
        </div>
        <button type="submit" disabled={!hydrated || grant.isPending}>
          Allow support access
        </button>
      </form>
      <p aria-live="polite" className="hint">
        {status}
      </p>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}

      <section className="card" aria-labelledby="grants-title">
        <h2 id="grants-title">Support access you allow</h2>
        {open.length === 0 ? (
          <p>You allow no support access now.</p>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Who</th>
                <th scope="col">Mode</th>
                <th scope="col">Until</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {open.map((item) => (
                <tr key={item.id}>
                  <th scope="row" data-label="Who">
                    {who(item.grantedTo)}
                  </th>
                  <td data-label="Mode">{item.mode === "readonly" ? "Read-only" : "Full"}</td>
                  <td data-label="Until">
                    <time dateTime={item.expiresAt}>{at(item.expiresAt)}</time>
                  </td>
                  <td className="actions">
                    <button
                      type="button"
                      disabled={!hydrated || revoke.isPending}
                      onClick={() =>
                        void run(
                          () => revoke.mutateAsync({ grantId: item.id }),
                          "Support access revoked.",
                        )
                      }
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="card" aria-labelledby="live-title">
        <h2 id="live-title">In your account now</h2>
        {initial.live.length === 0 ? (
          <p>Nobody is viewing the portal as you now.</p>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Who</th>
                <th scope="col">As</th>
                <th scope="col">Mode</th>
                <th scope="col">Why</th>
                <th scope="col">Until</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {initial.live.map((item) => (
                <tr key={item.sessionId}>
                  <th scope="row" data-label="Who">
                    {item.actor.fullName}
                  </th>
                  <td data-label="As">{item.kind === "staff" ? "Staff" : "Team admin"}</td>
                  <td data-label="Mode">{item.mode === "readonly" ? "Read-only" : "Full"}</td>
                  <td data-label="Why">{item.reason ?? <span className="hint">No reason</span>}</td>
                  <td data-label="Until">
                    <time dateTime={item.expiresAt}>{at(item.expiresAt)}</time>
                  </td>
                  <td className="actions">
                    <EndSessionButton sessionId={item.sessionId} label="End now" by="member" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
