"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useHydrated } from "~/hooks/use-hydrated";
import { useTRPC } from "~/trpc/react";

export function SignOutButton() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const hydrated = useHydrated();
  const signOut = useMutation(
    trpc.auth.signOut.mutationOptions({
      // Whatever the answer (even "already signed out"), the cookie is gone or useless: leave.
      onSettled: () => {
        queryClient.clear();
        window.location.assign("/sign-in");
      },
    }),
  );
  return (
    <button
      type="button"
      className="button-quiet"
      onClick={() => signOut.mutate()}
      disabled={!hydrated || signOut.isPending}
    >
      {signOut.isPending ? "Signing out…" : "Sign out"}
    </button>
  );
}
