// The one schema both drivers run.
export * from "./directory";
export * from "./sessions";
export * from "./policy";
export * from "./notices";
export * from "./step-up";
export * from "./actions";
export * from "./audit-log";
export * from "./webhooks";
