// The REST door: route handlers and the HTTP helpers they share.
export { rest, type RestRequest } from "./routes";
export {
  answer,
  bodyTooLarge,
  errorAnswer,
  json,
  MAX_BODY_BYTES,
  repeatedAuthorization,
  type RestAnswer,
  type RestCall,
} from "./http";
export { endpoints } from "./endpoints";
export { oauthAnswer } from "./oauth";
export { openApiDocument } from "./openapi";
export { restRoutes, type RestRoute } from "./table";
export { allowedMethods, opsPaths, restContract } from "./contract";
export { auditExportAnswer, CSV_COLUMNS, type ExportRequest } from "./audit-export";
