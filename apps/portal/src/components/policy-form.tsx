"use client";
// The location policy form (/admin/policy): each field of CONTRACT §8 under its own name, with a
// line saying what it does, and one "Save policy" that sends only what changed.
import { type PolicyOutput } from "@cowork/validators";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useHydrated } from "~/hooks/use-hydrated";
import { useTRPC } from "~/trpc/react";
import { describeError } from "./error-text";

type Fields = Omit<PolicyOutput, "locationId">;

interface Choice {
  field: "impersonation" | "staffConsent" | "teamConsent" | "justification";
  options: readonly string[];
  hint: string;
}

const CHOICES: Choice[] = [
  {
    field: "impersonation",
    options: ["on", "off"],
    hint: "off: nobody can impersonate here, and every live impersonation here ends now.",
  },
  {
    field: "staffConsent",
    options: ["not_required", "required"],
    hint: "required: staff may impersonate a member only while the member allows staff access.",
  },
  {
    field: "teamConsent",
    options: ["not_required", "required"],
    hint: "required: team admins may impersonate a member only while the member allows team access.",
  },
  {
    field: "justification",
    options: ["optional", "required"],
    hint: "required: every impersonation needs a reason and a reason category.",
  },
];

export function PolicyForm({ initial }: { initial: PolicyOutput }) {
  const trpc = useTRPC();
  const router = useRouter();
  const hydrated = useHydrated();
  const save = useMutation(trpc.policy.updatePolicy.mutationOptions());
  const { locationId: _location, ...start } = initial;
  const [saved, setSaved] = useState<Fields>(start);
  const [value, setValue] = useState<Fields>(start);
  const [status, setStatus] = useState<string>("");
  const [error, setError] = useState<string | null>(null);
  const set = <K extends keyof Fields>(field: K, next: Fields[K]) =>
    setValue((previous) => ({ ...previous, [field]: next }));

  const submit = async () => {
    setError(null);
    setStatus("");
    const changed = Object.fromEntries(
      (Object.keys(value) as (keyof Fields)[])
        .filter((field) => value[field] !== saved[field])
        .map((field) => [field, value[field]]),
    ) as Partial<Fields>;
    try {
      const next = await save.mutateAsync(changed);
      const { locationId: _id, ...fields } = next;
      setSaved(fields);
      setValue(fields);
      setStatus("Policy saved.");
      router.refresh();
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  return (
    <form
      className="form card"
      aria-labelledby="policy-title"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <h2 id="policy-title">Policy</h2>
      {CHOICES.map(({ field, options, hint }) => (
        <div className="field" key={field}>
          <label htmlFor={`policy-${field}`}>{field}</label>
          <select
            id={`policy-${field}`}
            value={value[field]}
            aria-describedby={`policy-${field}-hint`}
            onChange={(event) => set(field, event.target.value as Fields[typeof field])}
          >
            {options.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
          <p id={`policy-${field}-hint`} className="hint">
            {hint}
          </p>
        </div>
      ))}
      <div className="field field-check">
        <input
          id="policy-notifyMember"
          type="checkbox"
          checked={value.notifyMember}
          aria-describedby="policy-notifyMember-hint"
          onChange={(event) => set("notifyMember", event.target.checked)}
        />
        <label htmlFor="policy-notifyMember">notifyMember</label>
        <p id="policy-notifyMember-hint" className="hint">
          Tell members, in the portal and by mail, each time their account is entered.
        </p>
      </div>
      <div className="field">
        <label htmlFor="policy-maxSessionMinutes">maxSessionMinutes</label>
        <input
          id="policy-maxSessionMinutes"
          type="number"
          min={5}
          max={60}
          step={1}
          required
          value={value.maxSessionMinutes}
          aria-describedby="policy-maxSessionMinutes-hint"
          onChange={(event) => set("maxSessionMinutes", Number(event.target.value))}
        />
        <p id="policy-maxSessionMinutes-hint" className="hint">
          5 to 60: how long impersonated sessions issued from now on may last, in minutes.
        </p>
      </div>
      <div className="field field-check">
        <input
          id="policy-allowFullMode"
          type="checkbox"
          checked={value.allowFullMode}
          aria-describedby="policy-allowFullMode-hint"
          onChange={(event) => set("allowFullMode", event.target.checked)}
        />
        <label htmlFor="policy-allowFullMode">allowFullMode</label>
        <p id="policy-allowFullMode-hint" className="hint">
          Off: only read-only impersonation is allowed.
        </p>
      </div>
      <button type="submit" disabled={!hydrated || save.isPending}>
        Save policy
      </button>
      <p aria-live="polite" className="hint">
        {status}
      </p>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}
