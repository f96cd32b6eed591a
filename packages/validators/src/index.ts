// Shared zod schemas.
export * from "./ids";
export * from "./inputs";
export * from "./fixture";
export * from "./responses";
export * from "./policy";
export * from "./justification";
export * from "./actions";
