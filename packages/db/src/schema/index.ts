// The one schema both drivers run.
export * from "./directory";
export * from "./sessions";
export * from "./audit-log";
