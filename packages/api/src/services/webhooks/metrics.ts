// The webhook workers' Prometheus series, in the service's registry (as mail/metrics.ts).
import { Counter, Gauge, register } from "prom-client";

const NAME = "cowork_webhook_attempts_total";

const attempts =
  (register.getSingleMetric(NAME) as Counter<"outcome"> | undefined) ??
  new Counter({
    name: NAME,
    help: "Attempts to deliver a webhook message, by outcome: delivered, failed, refused (an address that may not be called).",
    labelNames: ["outcome"],
  });

const WAITING = "cowork_webhook_messages_waiting";

const waiting =
  (register.getSingleMetric(WAITING) as Gauge | undefined) ??
  new Gauge({
    name: WAITING,
    help: "Webhook messages not yet delivered nor given up, across all processes (as this process's worker last counted them).",
  });

export const webhookMetrics = {
  waiting(count: number): void {
    waiting.set(count);
  },
  attempted(outcome: "delivered" | "failed" | "refused"): void {
    attempts.inc({ outcome });
  },
};
