"use client";
// Enrol or remove a one-time-code app: a QR code and the secret in text to add the account to
// the app, its first code to confirm, and removal after confirming it's you with a code.
import { useMutation } from "@tanstack/react-query";
import QRCode from "qrcode";
import { type FormEvent, useState } from "react";
import { useHydrated } from "~/hooks/use-hydrated";
import { useTRPC } from "~/trpc/react";
import { ConfirmItsYou } from "./confirm-its-you";
import { describeError, errorCode } from "./error-text";

interface Pending {
  secret: string;
  qr: string;
}

/** The secret in groups of four, as authenticator apps show and take it. */
const grouped = (secret: string) => secret.replace(/(.{4})(?=.)/g, "$1 ");

export function OtpSettings({ initial }: { initial: { enrolled: boolean } }) {
  const trpc = useTRPC();
  const hydrated = useHydrated();
  const [enrolled, setEnrolled] = useState(initial.enrolled);
  const [pending, setPending] = useState<Pending | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const enrol = useMutation(trpc.security.enrolOtp.mutationOptions());
  const confirm = useMutation(trpc.security.confirmOtp.mutationOptions());
  const remove = useMutation(trpc.security.removeOtp.mutationOptions());

  const start = async () => {
    setError(null);
    setMessage(null);
    try {
      const { secret, otpauthUri } = await enrol.mutateAsync();
      const svg = await QRCode.toString(otpauthUri, { type: "svg", margin: 1 });
      setPending({ secret, qr: `data:image/svg+xml;base64,${btoa(svg)}` });
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  const finish = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const code = new FormData(event.currentTarget).get("code");
    setError(null);
    try {
      await confirm.mutateAsync({ code: typeof code === "string" ? code.replace(/\s+/g, "") : "" });
      setPending(null);
      setEnrolled(true);
      setMessage("Your one-time-code app is set up. You will be asked for a code from it.");
    } catch (failure) {
      setError(
        errorCode(failure) === "invalid_grant"
          ? "That code is not correct. Enter the code your app shows now."
          : describeError(failure),
      );
    }
  };

  const removeApp = async () => {
    setError(null);
    setMessage(null);
    try {
      await remove.mutateAsync();
      setEnrolled(false);
      setMessage("Your one-time-code app is removed.");
    } catch (failure) {
      if (errorCode(failure) === "step_up_required") setConfirming(true);
      else setError(describeError(failure));
    }
  };

  return (
    <section className="card stack" aria-labelledby="otp-title">
      <ConfirmItsYou
        open={confirming}
        onConfirmed={() => {
          setConfirming(false);
          void removeApp();
        }}
        onCancel={() => setConfirming(false)}
      />
      <h2 id="otp-title">One-time-code app</h2>
      <p aria-live="polite">
        {enrolled ? "A one-time-code app is set up for your account." : "No app is set up."}
      </p>
      {message ? (
        <p className="hint" aria-live="polite">
          {message}
        </p>
      ) : null}
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      {enrolled ? (
        <button
          type="button"
          className="button-quiet"
          disabled={!hydrated || remove.isPending}
          onClick={() => void removeApp()}
        >
          Remove one-time-code app
        </button>
      ) : pending ? (
        <form className="form" onSubmit={(event) => void finish(event)}>
          <p>
            Scan this QR code with your authenticator app, or type the secret into it. Then enter
            the 6-digit code the app shows.
          </p>
          <img
            className="otp-qr"
            src={pending.qr}
            alt="QR code to add this account to an authenticator app"
          />
          <p>
            Secret: <code className="otp-secret">{grouped(pending.secret)}</code>
          </p>
          <div className="field">
            <label htmlFor="otp-code">Code from the app</label>
            <input
              id="otp-code"
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9 ]{6,7}"
              maxLength={7}
              required
            />
          </div>
          <div className="dialog-buttons">
            <button type="submit" disabled={!hydrated || confirm.isPending}>
              Confirm code
            </button>
            <button type="button" className="button-quiet" onClick={() => void start()}>
              Start again with a new secret
            </button>
          </div>
        </form>
      ) : (
        <button type="button" disabled={!hydrated || enrol.isPending} onClick={() => void start()}>
          Set up a one-time-code app
        </button>
      )}
    </section>
  );
}
