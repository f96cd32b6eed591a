"use client";
// "Confirm it's you": issuing an impersonation needs a recent proof of the password (and of the
// one-time code where an app is enrolled: CONTRACT §10). When the server asks for it, this
// dialog takes the password (and code), steps the session up, and hands back to the caller,
// which carries on with the impersonation it was asked for.
import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { useTRPC } from "~/trpc/react";
import { describeError, errorCode } from "./error-text";

export function ConfirmItsYou({
  open,
  onConfirmed,
  onCancel,
}: {
  open: boolean;
  onConfirmed: () => void;
  onCancel: () => void;
}) {
  const trpc = useTRPC();
  const dialog = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState<string | null>(null);
  const status = useQuery({ ...trpc.security.otpStatus.queryOptions(), enabled: open });
  const reauthenticate = useMutation(trpc.security.reauthenticate.mutationOptions());
  const withCode = status.data?.enrolled ?? false;

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      setError(null);
      element.showModal();
    }
    if (!open && element.open) element.close();
  }, [open]);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const element = event.currentTarget;
    const form = new FormData(element);
    const text = (name: string) => {
      const value = form.get(name);
      return typeof value === "string" ? value : "";
    };
    setError(null);
    try {
      await reauthenticate.mutateAsync({
        password: text("password"),
        ...(withCode ? { otp: text("otp").replace(/\s+/g, "") } : {}),
      });
      element.reset();
      onConfirmed();
    } catch (failure) {
      setError(
        errorCode(failure) === "invalid_grant"
          ? withCode
            ? "The password or the code is not correct (a code works once)."
            : "The password is not correct."
          : describeError(failure),
      );
    }
  };

  return (
    <dialog
      ref={dialog}
      className="card dialog"
      aria-labelledby="confirm-title"
      aria-describedby="confirm-hint"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <form className="form" onSubmit={(event) => void submit(event)}>
        <h2 id="confirm-title">Confirm it&apos;s you</h2>
        <p id="confirm-hint" className="hint">
          {withCode
            ? "Viewing the portal as someone else needs your password and a code from your authenticator app, entered recently."
            : "Viewing the portal as someone else needs your password, entered recently."}
        </p>
        <div className="field">
          <label htmlFor="confirm-password">Password</label>
          <input
            id="confirm-password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "confirm-error" : undefined}
          />
        </div>
        {withCode ? (
          <div className="field">
            <label htmlFor="confirm-otp">One-time code</label>
            <input
              id="confirm-otp"
              name="otp"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9 ]{6,7}"
              maxLength={7}
              required
            />
          </div>
        ) : null}
        {error ? (
          <p id="confirm-error" className="error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="dialog-buttons">
          <button type="submit" disabled={reauthenticate.isPending || status.isPending}>
            {reauthenticate.isPending ? "Confirming…" : "Confirm"}
          </button>
          <button type="button" className="button-quiet" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
