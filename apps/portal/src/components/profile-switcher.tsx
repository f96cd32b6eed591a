"use client";
// Switches the session's active profile; the active location follows it, so the page is
// rendered again on the server.
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { useHydrated } from "~/hooks/use-hydrated";
import { type RouterOutputs, useTRPC } from "~/trpc/react";
import { describeError } from "./error-text";

type Profile = RouterOutputs["profiles"]["listProfiles"][number];

export function ProfileSwitcher({ profiles }: { profiles: Profile[] }) {
  const trpc = useTRPC();
  const router = useRouter();
  const [refreshing, startRefresh] = useTransition();
  const current = profiles.find((profile) => profile.isCurrent)?.coworkerId;
  const [selected, setSelected] = useState<number | undefined>(current);
  const switchProfile = useMutation(
    trpc.profiles.setCurrentProfile.mutationOptions({
      onSuccess: () => startRefresh(() => router.refresh()),
      onError: () => setSelected(current),
    }),
  );
  const busy = switchProfile.isPending || refreshing;
  const hydrated = useHydrated();

  return (
    <div className="field">
      <label htmlFor="profile">Profile</label>
      <select
        id="profile"
        value={selected ?? ""}
        aria-describedby="profile-hint"
        aria-busy={busy}
        disabled={!hydrated}
        onChange={(event) => {
          const coworkerId = Number(event.target.value);
          setSelected(coworkerId);
          switchProfile.mutate({ coworkerId });
        }}
      >
        {current === undefined ? <option value="">Choose a profile</option> : null}
        {profiles.map((profile) => (
          <option key={profile.coworkerId} value={profile.coworkerId}>
            {profile.fullName} — {profile.locationName}
          </option>
        ))}
      </select>
      <p id="profile-hint" className="hint" aria-live="polite">
        {busy ? "Switching profile…" : "Your location follows the profile you choose."}
      </p>
      {switchProfile.error ? (
        <p className="error" role="alert">
          {describeError(switchProfile.error)}
        </p>
      ) : null}
    </div>
  );
}
