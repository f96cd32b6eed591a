// An example internal service using the portal: signs in over REST, checks the access token
// against the JWKS, then drives an impersonation through the typed tRPC client.
import { createPortalClient, createTokenVerifier, endpoints } from "@cowork/client";

export interface ConsumerReport {
  operator: string;
  impersonated: string;
  actor: string | undefined;
  verifiedActorUserId: number | null;
}

export async function runConsumer(
  baseUrl: string,
  credentials = { username: "otto.operator@demo.test", password: "demo-operator-pass" },
  coworkerId = 42,
): Promise<ConsumerReport> {
  const response = await fetch(new URL(endpoints.token(), baseUrl), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ grant_type: "password", ...credentials }),
  });
  if (!response.ok) throw new Error(`sign-in failed: ${response.status}`);
  const { access_token: operatorToken } = (await response.json()) as { access_token: string };

  const verify = createTokenVerifier({ issuer: baseUrl });
  await verify(operatorToken);

  const asOperator = createPortalClient({ baseUrl, token: operatorToken });
  const operator = await asOperator.auth.me.query();
  const { token } = await asOperator.impersonation.impersonate.mutate({
    coworkerId,
    reason: "example consumer",
  });
  const exchanged = await createPortalClient({ baseUrl }).impersonation.exchange.mutate({ token });
  if (!exchanged.accessToken) throw new Error("exchange returned no token");
  const verified = await verify(exchanged.accessToken);

  const asMember = createPortalClient({ baseUrl, token: exchanged.accessToken });
  const member = await asMember.auth.me.query();
  await asMember.impersonation.stopImpersonating.mutate();
  return {
    operator: operator.fullName,
    impersonated: member.fullName,
    actor: member.impersonation?.actor.fullName,
    verifiedActorUserId: verified.actorUserId,
  };
}
