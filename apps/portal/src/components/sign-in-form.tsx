"use client";
import { type FormEvent } from "react";
import { useHydrated } from "~/hooks/use-hydrated";
import { useSignIn } from "~/hooks/use-sign-in";

export function SignInForm({ next }: { next: string | null }) {
  const { signIn, signingIn, error } = useSignIn();
  const hydrated = useHydrated();

  // Uncontrolled fields: whatever was typed before hydration is still there on submit.
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => {
      const value = form.get(name);
      return typeof value === "string" ? value : "";
    };
    void signIn({ email: text("email"), password: text("password") }, next);
  };

  return (
    <form className="card form" method="post" onSubmit={submit}>
      <div className="field">
        <label htmlFor="email">Email</label>
        <input
          id="email"
          name="email"
          type="email"
          autoComplete="username"
          required
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "sign-in-error" : undefined}
        />
      </div>
      <div className="field">
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "sign-in-error" : undefined}
        />
      </div>
      {error ? (
        <p id="sign-in-error" className="error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" disabled={!hydrated || signingIn}>
        {signingIn ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
