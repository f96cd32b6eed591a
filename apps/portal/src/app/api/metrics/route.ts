// GET /api/metrics: Prometheus text. With METRICS_TOKEN set, the scrape must send it as a bearer
// token (401 otherwise); without it, only clients on this machine may scrape (403 otherwise).
import {
  checkMetricsAccess,
  loadConfig,
  METRICS_CONTENT_TYPE,
  renderMetrics,
  type ServiceConfig,
} from "@cowork/api";
import { errorResponse } from "@cowork/api/rest";
import { FORWARDED_HEADER } from "~/server/peer-header";
import { clientAddress, getServices } from "~/server/services";

export const dynamic = "force-dynamic";

let config: ServiceConfig | undefined;

export async function GET(request: Request): Promise<Response> {
  config ??= loadConfig(process.env);
  const refusal = checkMetricsAccess(
    {
      authorization: request.headers.get("authorization"),
      clientAddress: clientAddress((name) => request.headers.get(name), config.trustedProxies),
      // Set by server.ts from the request as it arrived; anything else counts as forwarded.
      forwarded: request.headers.get(FORWARDED_HEADER) !== "0",
    },
    config.metricsToken,
  );
  if (refusal) return errorResponse(refusal);
  // Without the database the process metrics still answer; the live-session gauge reads NaN.
  const deps = await getServices().then(
    (services) => services.deps,
    () => null,
  );
  return new Response(await renderMetrics(deps), {
    headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" },
  });
}
