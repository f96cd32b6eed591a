"use client";
// The banner of an impersonated session: who is being viewed, by whom, for how long, and the way
// back. It also notices when the session ends on its own (time up, revoked elsewhere) and brings
// the actor back to their own session with a message in words.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { useHydrated } from "~/hooks/use-hydrated";
import { UNAUTHORIZED_EVENT } from "~/trpc/query-client";
import { type RouterOutputs, useTRPC, useTRPCClient } from "~/trpc/react";
import { describeError, errorCode } from "./error-text";
import { REASON_CATEGORY_LABELS } from "./impersonation-options";
import { leaveNotice, rememberImpersonation } from "./notice";

type Me = RouterOutputs["auth"]["me"];

/** How often the banner asks whether the session still lives (revocation is server-side). */
const POLL_MS = 5_000;

function formatLeft(totalSeconds: number): string {
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const mmss = `${String(minutes).padStart(2, "0")}:${String(seconds).padStart(2, "0")}`;
  return hours > 0 ? `${hours}:${mmss}` : mmss;
}

export function ImpersonationBanner({ initial, renderedAt }: { initial: Me; renderedAt: number }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const me = useQuery(
    trpc.auth.me.queryOptions(undefined, {
      initialData: initial,
      initialDataUpdatedAt: renderedAt,
      refetchInterval: POLL_MS,
    }),
  );
  const leave = useMutation(trpc.impersonation.leave.mutationOptions());
  const current = me.data.impersonation ? me.data : initial;
  const impersonation = current.impersonation;
  const targetName = current.profile?.fullName ?? current.fullName;
  const expiresAt = impersonation ? Date.parse(impersonation.expiresAt) : renderedAt;

  // Starts from the server's clock so the first client render matches the server's HTML.
  const [now, setNow] = useState(renderedAt);
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const secondsLeft = Math.max(0, Math.ceil((expiresAt - now) / 1000));

  const [leaving, setLeaving] = useState<"stop" | "ended" | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const leavingRef = useRef(false);
  const hydrated = useHydrated();

  const end = useCallback(
    async (why: "stop" | "ended") => {
      if (leavingRef.current) return;
      leavingRef.current = true;
      setLeaving(why);
      setFailure(null);
      let result: RouterOutputs["impersonation"]["leave"] | null = null;
      try {
        result = await leave.mutateAsync();
      } catch (error) {
        if (why === "stop") {
          // Nothing changed on the server: stay, say so, let them try again.
          setFailure(`Could not stop impersonating: ${describeError(error)}`);
          setLeaving(null);
          leavingRef.current = false;
          return;
        }
      }
      rememberImpersonation(null);
      if (why === "ended") {
        leaveNotice(`Your impersonation of ${targetName} has ended.`);
      } else if (!result?.restored) {
        leaveNotice(
          `You stopped impersonating ${targetName}. Your own session has ended too: sign in again.`,
        );
      }
      queryClient.clear();
      window.location.assign(result?.restored ? (result.returnPath ?? "/") : "/sign-in");
    },
    [leave, queryClient, targetName],
  );

  useEffect(() => {
    rememberImpersonation(targetName);
  }, [targetName]);

  // Time is up.
  useEffect(() => {
    if (impersonation && secondsLeft === 0) void end("ended");
  }, [end, impersonation, secondsLeft]);

  // The poll (or anything else) says the session is gone: revoked, or the actor lost the right.
  useEffect(() => {
    if (errorCode(me.error) === "unauthorized") void end("ended");
  }, [end, me.error]);
  useEffect(() => {
    const check = () => {
      client.auth.me.query().catch((error: unknown) => {
        if (errorCode(error) === "unauthorized") void end("ended");
      });
    };
    window.addEventListener(UNAUTHORIZED_EVENT, check);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, check);
  }, [client, end]);

  if (!impersonation) return null;
  return (
    <div className="banner-slot">
      <div className="banner" role="status">
        <p className="banner-text">
          <strong>Viewing as {targetName}</strong>
          <span className="banner-detail">
            {" "}
            · by {impersonation.actor.fullName}
            {impersonation.readOnly ? (
              <>
                {" "}
                · <span className="badge">read-only</span>
              </>
            ) : null}{" "}
            ·{" "}
            <span aria-live="off" className="countdown">
              {formatLeft(secondsLeft)}
            </span>{" "}
            left
          </span>
          {impersonation.reason ? (
            <span className="banner-reason"> Reason: {impersonation.reason}</span>
          ) : null}
          {impersonation.reasonCategory ? (
            <span className="banner-reason">
              {" "}
              Category: {REASON_CATEGORY_LABELS[impersonation.reasonCategory]}
            </span>
          ) : null}
          {impersonation.ticket ? (
            <span className="banner-reason"> Ticket: {impersonation.ticket}</span>
          ) : null}
        </p>
        <button
          type="button"
          className="banner-button"
          onClick={() => void end("stop")}
          disabled={!hydrated || leaving !== null}
        >
          {leaving === "stop" ? "Stopping…" : "Stop impersonating"}
        </button>
        {failure ? <p className="banner-error">{failure}</p> : null}
      </div>
    </div>
  );
}
