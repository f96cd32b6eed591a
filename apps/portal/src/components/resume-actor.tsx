"use client";
// Shown instead of the sign-in form when the browser still keeps an actor's own session aside
// but its impersonated session is gone (ended while no banner was watching): end it properly
// and take the actor back to their own session, saying what happened.
import { useMutation } from "@tanstack/react-query";
import { type ReactNode, useEffect, useRef, useState } from "react";
import { useTRPC } from "~/trpc/react";
import { leaveNotice, takeImpersonation } from "./notice";

export function ResumeActor({ children }: { children: ReactNode }) {
  const trpc = useTRPC();
  const leave = useMutation(trpc.impersonation.leave.mutationOptions());
  const [state, setState] = useState<"resuming" | "failed">("resuming");
  const started = useRef(false);
  const { mutateAsync } = leave;

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    mutateAsync()
      .then((result) => {
        const target = takeImpersonation();
        const text = target
          ? `Your impersonation of ${target} has ended.`
          : "Your impersonation has ended.";
        if (result.restored) {
          leaveNotice(text);
          window.location.assign(result.returnPath ?? "/");
        } else {
          setState("failed");
        }
      })
      .catch(() => setState("failed"));
  }, [mutateAsync]);

  if (state === "failed") return <>{children}</>;
  return (
    <p className="hint" aria-live="polite">
      Your impersonation has ended. Taking you back to your own session…
    </p>
  );
}
