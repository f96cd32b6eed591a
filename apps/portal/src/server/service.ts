import "server-only";
// The pages reach the service through the very modules the server loaded at start, so that the
// process has one module graph: one set of services, one key set, one metrics registry. Next
// bundles workspace packages into the pages even when told to leave them external
// (vercel/next.js#84388), so this one import is left to Node at run time; everything else of
// @cowork/api that the pages name is a type.
import type * as Service from "@cowork/api";

export const service = (): Promise<typeof Service> =>
  import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@cowork/api");
