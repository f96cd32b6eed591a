// The mail worker's Prometheus series, in the service's registry (prom-client's default, as
// observability/metrics.ts): looked up before being created, so a module loaded twice in one
// process still counts into the same series.
import { Counter, register } from "prom-client";

const NAME = "cowork_mail_attempts_total";

const attempts =
  (register.getSingleMetric(NAME) as Counter<"outcome"> | undefined) ??
  new Counter({
    name: NAME,
    help: "Attempts to send an outbox mail (member notices), by outcome: sent, failed.",
    labelNames: ["outcome"],
  });

export const mailMetrics = {
  attempted(outcome: "sent" | "failed"): void {
    attempts.inc({ outcome });
  },
};
