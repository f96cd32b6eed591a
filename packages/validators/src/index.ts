// Shared zod schemas.
export * from "./ids";
export * from "./inputs";
export * from "./fixture";
export * from "./responses";
export * from "./actions";
