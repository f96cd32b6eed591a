// The webhook workers' Prometheus series, in the service's registry (as mail/metrics.ts).
import { Counter, register } from "prom-client";

const NAME = "cowork_webhook_attempts_total";

const attempts =
  (register.getSingleMetric(NAME) as Counter<"outcome"> | undefined) ??
  new Counter({
    name: NAME,
    help: "Attempts to deliver a webhook message, by outcome: delivered, failed, refused (an address that may not be called).",
    labelNames: ["outcome"],
  });

export const webhookMetrics = {
  attempted(outcome: "delivered" | "failed" | "refused"): void {
    attempts.inc({ outcome });
  },
};
