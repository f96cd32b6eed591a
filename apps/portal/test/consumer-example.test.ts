// The example internal consumer (examples/consumer) runs against a started portal.
import { runConsumer } from "@cowork/example-consumer";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Portal, startPortal } from "./support/portal";

let portal: Portal;
beforeAll(async () => {
  portal = await startPortal();
});
afterAll(() => portal?.stop());

it("signs in, verifies the token against the JWKS and impersonates through the typed client", async () => {
  const report = await runConsumer(portal.url);
  expect(report).toEqual({
    operator: "Otto Operator",
    impersonated: "Milo Member",
    actor: "Otto Operator",
    verifiedActorUserId: 2,
  });
});
