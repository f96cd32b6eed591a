// The HTTP operations the bench measures. Each checks its answer, so a run that is fast because
// it is failing shows up as errors instead of as a good rate.
import { createDpopKey, createDpopProof, type DpopKey } from "@cowork/client";
import { BENCH_ACTOR, BENCH_REASON, BENCH_TARGET_COWORKER } from "./in-process";
import {
  createClient,
  type HttpResponse,
  type Operation,
  type Send,
  UnexpectedResponse,
} from "./http-load";

function expectOk(step: string, response: HttpResponse): HttpResponse {
  if (response.status !== 200) throw new UnexpectedResponse(step, response);
  return response;
}

const getOk =
  (step: string, path: string, headers?: Record<string, string>): Operation =>
  async (send) => {
    expectOk(step, await send("GET", path, headers));
  };

/** GET / on the bare node:http server: what any HTTP server in node costs. */
export const nodeFloor: Operation = getOk("node floor", "/");

const SIGN_IN_BODY = JSON.stringify({
  grant_type: "password",
  username: BENCH_ACTOR.email,
  password: BENCH_ACTOR.password,
});
const SIGN_IN_HEADERS = { "content-type": "application/json" };

/** Signs the bench's staff actor in once, for the operations that need a bearer token. */
export async function signIn(origin: string): Promise<string> {
  const client = createClient(origin, 1);
  const response = await client.send("POST", "/api/token", SIGN_IN_HEADERS, SIGN_IN_BODY);
  await client.close();
  return (JSON.parse(expectOk("sign-in", response).text) as { access_token: string }).access_token;
}

/** POST /api/token as the bench's actor, again and again: each one a session and an audit event. */
export const signInOperation = (): Operation => async (send) => {
  expectOk("sign-in", await send("POST", "/api/token", SIGN_IN_HEADERS, SIGN_IN_BODY));
};

/**
 * Signs the bench's actor in with a DPoP proof (RFC 9449): its token is bound to a new ES256 key,
 * and `me` with it sends a fresh proof on every request, made by the load generator, as any
 * DPoP client's would be.
 */
export async function boundMe(origin: string): Promise<Operation> {
  const key: DpopKey = await createDpopKey("ES256");
  const client = createClient(origin, 1);
  const response = await client.send(
    "POST",
    "/api/token",
    {
      "content-type": "application/json",
      dpop: await createDpopProof(key, { method: "POST", url: `${origin}/api/token` }),
    },
    JSON.stringify({
      grant_type: "password",
      username: BENCH_ACTOR.email,
      password: BENCH_ACTOR.password,
    }),
  );
  await client.close();
  const { access_token: token, token_type: type } = JSON.parse(
    expectOk("DPoP sign-in", response).text,
  ) as { access_token: string; token_type: string };
  if (type !== "DPoP") throw new Error(`the DPoP sign-in answered token_type ${type}`);
  const url = `${origin}/api/sys/users/me`;
  return async (send) => {
    const proof = await createDpopProof(key, { method: "GET", url, accessToken: token });
    expectOk(
      "me (DPoP)",
      await send("GET", "/api/sys/users/me", { authorization: `DPoP ${token}`, dpop: proof }),
    );
  };
}

/**
 * Registers an idle webhook in the actor's location (CONTRACT §9): one for consent revocations,
 * which the bench never makes. Every audit event the bench writes then passes the outbox trigger
 * that looks for the location's webhooks, as on a deployment that has one, and nothing is sent.
 */
export async function registerIdleWebhook(origin: string, actorToken: string): Promise<void> {
  const client = createClient(origin, 1);
  const response = await client.send(
    "POST",
    "/api/sys/webhooks",
    { "content-type": "application/json", authorization: `Bearer ${actorToken}` },
    JSON.stringify({
      url: "https://hooks.example.com/idle",
      events: ["consent.revoked"],
      format: "standard-webhooks",
    }),
  );
  await client.close();
  if (response.status !== 201) throw new UnexpectedResponse("idle webhook", response);
}

export interface PortalScenarios {
  doorFloor: Operation;
  nextFloor: Operation;
  me: Operation;
  /** Issue an impersonation token, then exchange it: two requests. */
  flow: Operation;
  /** Flows and me, alternating: the sustained load the memory verdict is taken under. */
  mixed: () => Operation;
}

export function portalScenarios(actorToken: string): PortalScenarios {
  const auth = { authorization: `Bearer ${actorToken}` };
  const issuePath = `/api/sys/users/impersonate?coworkerId=${BENCH_TARGET_COWORKER}&reason=${BENCH_REASON}`;
  const exchangeHeaders = { "content-type": "application/json" };
  const me = getOk("me", "/api/sys/users/me", auth);
  const flow: Operation = async (send: Send) => {
    const issued = expectOk("issue", await send("GET", issuePath, auth));
    const { token } = JSON.parse(issued.text) as { token: string };
    expectOk(
      "exchange",
      await send("POST", "/api/sys/users/exchange", exchangeHeaders, JSON.stringify({ token })),
    );
  };
  return {
    doorFloor: getOk("jwks", "/.well-known/jwks.json"),
    nextFloor: getOk("health", "/api/health"),
    me,
    flow,
    mixed: () => {
      let turn = 0;
      return (send) => (turn++ % 2 === 0 ? flow(send) : me(send));
    },
  };
}
