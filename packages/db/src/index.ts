// Public surface of the data layer.
export * from "./client";
export * from "./migration-status";
export * as schema from "./schema";
export * from "./schema";
export * from "./advisory-lock";
export * from "./recording";
