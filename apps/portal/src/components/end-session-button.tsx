"use client";
// A button that ends one live impersonated session (an admin's, or the member's own), then
// renders the page again from the server.
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useHydrated } from "~/hooks/use-hydrated";
import { useTRPC } from "~/trpc/react";
import { describeError } from "./error-text";

export function EndSessionButton({
  sessionId,
  label,
  by,
}: {
  sessionId: string;
  label: string;
  by: "admin" | "member";
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const hydrated = useHydrated();
  const byAdmin = useMutation(trpc.oversight.endImpersonation.mutationOptions());
  const byMember = useMutation(trpc.supportAccess.endImpersonation.mutationOptions());
  const [error, setError] = useState<string | null>(null);
  const pending = byAdmin.isPending || byMember.isPending;

  const end = async () => {
    setError(null);
    try {
      await (by === "admin" ? byAdmin : byMember).mutateAsync({ sessionId });
      router.refresh();
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  return (
    <>
      <button type="button" disabled={!hydrated || pending} onClick={() => void end()}>
        {label}
      </button>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
    </>
  );
}
