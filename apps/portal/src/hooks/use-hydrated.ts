// False in the server's HTML and during hydration, true once React runs in the browser. Controls
// that only work with JavaScript stay disabled until then, so an early click is never lost (and
// the sign-in form never falls back to a native submit).
import { useSyncExternalStore } from "react";

const subscribe = () => () => {};

export function useHydrated(): boolean {
  return useSyncExternalStore(
    subscribe,
    () => true,
    () => false,
  );
}
