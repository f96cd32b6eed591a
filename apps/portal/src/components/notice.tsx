"use client";
// A one-time message carried across a full page load (e.g. "Your impersonation of … has ended."):
// kept in sessionStorage, shown once on the next page, then forgotten.
import { useEffect, useState } from "react";

const KEY = "portal:notice";
const TARGET_KEY = "portal:impersonating";

// Storage can be unavailable (private modes): these messages are a courtesy, never a must.
function write(key: string, value: string | null): void {
  try {
    if (value === null) window.sessionStorage.removeItem(key);
    else window.sessionStorage.setItem(key, value);
  } catch {
    // ignored, see above
  }
}

function take(key: string): string | null {
  try {
    const value = window.sessionStorage.getItem(key);
    window.sessionStorage.removeItem(key);
    return value;
  } catch {
    return null;
  }
}

export function leaveNotice(text: string): void {
  write(KEY, text);
}

/** Whom this tab is viewing as, so the message can name them even if the page lost track. */
export function rememberImpersonation(targetName: string | null): void {
  write(TARGET_KEY, targetName);
}

export function takeImpersonation(): string | null {
  return take(TARGET_KEY);
}

export function PageNotice() {
  const [text, setText] = useState<string | null>(null);
  useEffect(() => {
    // Read after hydration on purpose: the server cannot see sessionStorage.
    const stored = take(KEY);
    if (stored) setText(stored);
  }, []);
  if (!text) return null;
  return (
    <div className="notice" role="alert">
      <p>{text}</p>
      <button type="button" className="button-quiet" onClick={() => setText(null)}>
        Dismiss
      </button>
    </div>
  );
}
