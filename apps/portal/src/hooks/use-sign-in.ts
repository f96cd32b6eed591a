// Signing in — as oneself with a password, or as a member through an impersonation token. Both
// end in a full page load, so every server component (header, banner) renders the new session.
import { returnPathSchema, type ReasonCategory } from "@cowork/validators";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { describeError, errorCode } from "~/components/error-text";
import { useTRPC } from "~/trpc/react";

export interface ImpersonateOptions {
  reason?: string;
  readOnly?: boolean;
  reasonCategory?: ReasonCategory | "";
  ticket?: string;
  /** `staff`: the operator console's right; `team`: a team admin's right over their members. */
  kind: "staff" | "team";
}

/** The page to come back to when the impersonation stops, if the server will accept it. */
function currentPath(): string | undefined {
  const full = window.location.pathname + window.location.search;
  for (const candidate of [full, window.location.pathname]) {
    if (returnPathSchema.safeParse(candidate).success) return candidate;
  }
  return undefined;
}

export function useSignIn() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const signInMutation = useMutation(trpc.auth.signIn.mutationOptions());
  const issueForStaff = useMutation(trpc.impersonation.impersonate.mutationOptions());
  const issueForTeam = useMutation(trpc.impersonation.impersonateTeamMember.mutationOptions());
  const exchange = useMutation(trpc.impersonation.exchange.mutationOptions());
  // The coworker being switched to (kept while the page navigates away) and the last failure.
  const [pendingId, setPendingId] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  // An impersonation the server refused until the session steps up (CONTRACT §10): asked for
  // again, exactly as it was, once the person has confirmed it's them.
  const [stepUp, setStepUp] = useState<{ coworkerId: number; options: ImpersonateOptions } | null>(
    null,
  );

  const goTo = useCallback(
    (path: string) => {
      queryClient.clear();
      window.location.assign(path);
    },
    [queryClient],
  );

  const impersonate = useCallback(
    async (coworkerId: number, options: ImpersonateOptions): Promise<boolean> => {
      setError(null);
      setPendingId(coworkerId);
      try {
        const input = {
          coworkerId,
          reason: options.reason?.trim() ? options.reason : undefined,
          readOnly: options.readOnly ? true : undefined,
          reasonCategory: options.reasonCategory ? options.reasonCategory : undefined,
          ticket: options.ticket?.trim() ? options.ticket.trim() : undefined,
          returnPath: currentPath(),
        };
        const { token } =
          options.kind === "staff"
            ? await issueForStaff.mutateAsync(input)
            : await issueForTeam.mutateAsync(input);
        // The server swaps the cookies: the member's session in, the actor's own kept aside.
        await exchange.mutateAsync({ token });
        goTo("/");
        return true;
      } catch (failure) {
        setPendingId(null);
        if (errorCode(failure) === "step_up_required") {
          setStepUp({ coworkerId, options });
          return false;
        }
        setError(describeError(failure));
        return false;
      }
    },
    [exchange, goTo, issueForStaff, issueForTeam],
  );

  /** The session stepped up: carry on with the impersonation that needed it. */
  const resumeAfterStepUp = useCallback(() => {
    const waiting = stepUp;
    setStepUp(null);
    if (waiting) void impersonate(waiting.coworkerId, waiting.options);
  }, [impersonate, stepUp]);

  const signIn = useCallback(
    async (
      credentials: { email: string; password: string },
      next: string | null,
    ): Promise<boolean> => {
      setError(null);
      try {
        await signInMutation.mutateAsync(credentials);
        const me = await queryClient.fetchQuery(trpc.auth.me.queryOptions());
        // Staff without a member profile here have nothing on the home page but the console.
        goTo(next ?? (me.staffRole && !me.profile ? "/admin/impersonate" : "/"));
        return true;
      } catch (failure) {
        setError(describeError(failure));
        return false;
      }
    },
    [goTo, queryClient, signInMutation, trpc],
  );

  return {
    impersonate,
    /** Set while an impersonation waits for the person to confirm it's them. */
    stepUpPending: stepUp !== null,
    resumeAfterStepUp,
    cancelStepUp: () => setStepUp(null),
    signIn,
    /** The coworker an impersonation is under way for, if any. */
    pendingId,
    signingIn: signInMutation.isPending || (signInMutation.isSuccess && error === null),
    error,
    clearError: () => setError(null),
  };
}
