// Webhooks (CONTRACT §9): the registry the procedures call, and the delivery worker each
// server process runs.
export { listDeliveries, listWebhooks, registerWebhook, removeWebhook } from "./registry";
export { startWebhookWorker, type WebhookWorker, type WebhookWorkerOptions } from "./worker";
