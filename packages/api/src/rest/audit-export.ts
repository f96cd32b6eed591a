// GET /api/sys/audit/export (CONTRACT §9): the location's audit events, filtered, oldest first,
// as a CSV (RFC 4180) or NDJSON attachment. The answer streams: each page is asked of the
// audit.exportPage procedure when the client has taken the previous one, so memory holds one page
// whatever the size of the log, and every page is authorized again (a session revoked during a
// long export ends it). Each line is the audit item exactly as the list returns it, so an NDJSON
// line hashes to the item's leafHash; CSV columns follow the item's schema, nested fields dotted.
import { type AuditItem, auditItemOutput } from "@cowork/validators";
import { decodeJwt } from "jose";
import { z } from "zod";
import { createContext } from "../context";
import { logFailure } from "../observability/failures";
import { createCaller } from "../root";
import { requestTimes } from "../services/deadline";
import { type RequestMeta, type ServiceDeps } from "../services/deps";
import { type DpopRequest } from "../services/dpop";
import { restContract } from "./contract";
import { answer, invalidRequest, type RestAnswer, singleParam } from "./http";

const PAGE = 500;

export const EXPORT_FORMATS = {
  csv: { type: "text/csv; charset=utf-8", extension: "csv" },
  ndjson: { type: "application/x-ndjson", extension: "ndjson" },
} as const;
type Format = keyof typeof EXPORT_FORMATS;

/** An object schema's shape, through nullable. */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | null {
  const inner = schema instanceof z.ZodNullable ? (schema.unwrap() as z.ZodType) : schema;
  return inner instanceof z.ZodObject ? inner.shape : null;
}

/** The CSV columns: seq and leafHash, then every field of the item, nested ones as `a.b`. */
export const CSV_COLUMNS: readonly string[] = (() => {
  const columns: string[] = [];
  for (const [name, schema] of Object.entries(auditItemOutput.shape as Record<string, z.ZodType>)) {
    const nested = objectShape(schema);
    if (nested) columns.push(...Object.keys(nested).map((field) => `${name}.${field}`));
    else columns.push(name);
  }
  return ["seq", "leafHash", ...columns.filter((name) => name !== "seq" && name !== "leafHash")];
})();

/**
 * One field (RFC 4180 §2): quoted when it holds a quote, comma, CR or LF, quotes doubled. A null
 * is an empty field and an empty text a quoted one (""), so the item can be read back exactly.
 */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  // A field deeper than one level (none yet) goes as its JSON text.
  const text =
    typeof value === "string"
      ? value
      : typeof value === "number" || typeof value === "boolean"
        ? String(value)
        : JSON.stringify(value);
  return text === "" || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Each column's item field and nested field, split once rather than on every line. */
const CSV_PATHS = CSV_COLUMNS.map(
  (column) => column.split(".") as [keyof AuditItem, string | undefined],
);

function csvLine(item: AuditItem): string {
  let line = "";
  for (let index = 0; index < CSV_PATHS.length; index++) {
    const [name, field] = CSV_PATHS[index]!;
    const value = item[name];
    const cell =
      field === undefined || value === null ? value : (value as Record<string, unknown>)[field];
    line += index === 0 ? csvField(cell) : `,${csvField(cell)}`;
  }
  return `${line}\r\n`;
}

/** The export's filter from the query: the procedure's schema refuses what is not valid. */
function exportFilter(query: URLSearchParams) {
  const known = new Set<string>(restContract.auditExport.query);
  const filter: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const name of new Set(query.keys())) {
    if (name === "format") continue;
    // The pages are the export's own business: no page size or cursor comes from outside.
    if (name === "limit" || name === "after")
      throw invalidRequest(`Unknown query parameter ${name}: the export is never paged.`);
    const value = singleParam(query, name);
    if (!known.has(name) || value === undefined) {
      // Unknown parameters reach the strict schema, which refuses them as the tRPC door does.
      filter[name] = value;
      continue;
    }
    filter[name] =
      name === "actorUserId" || name === "targetCoworkerId"
        ? /^[0-9]{1,10}$/.test(value)
          ? Number(value)
          : Number.NaN
        : value;
  }
  return filter;
}

/** The `cnf.jkt` of a token the first page has verified (jose checked its signature then). */
function boundKeyOf(token: string): string | undefined {
  const claims = decodeJwt(token) as { cnf?: { jkt?: unknown } };
  return typeof claims.cnf?.jkt === "string" ? claims.cnf.jkt : undefined;
}

export interface ExportRequest {
  deps: ServiceDeps;
  meta: RequestMeta;
  /** The session's access token: the bearer (REST) or the browser's session cookie (the page). */
  token: string | null;
  /** The request's DPoP side (REST; null for the page's cookie download). */
  dpop: DpopRequest | null;
  url: string;
}

/**
 * The export's answer. Failures before the first byte (no admin session: 401; a bad format or
 * filter: 400) are answered as any REST error; a failure while streaming ends the answer
 * without its last chunk, which clients see as a cut-off transfer, never as a complete file.
 */
export function auditExportAnswer(request: ExportRequest): Promise<RestAnswer> {
  return answer(async () => {
    const query = new URL(request.url, "http://portal").searchParams;
    const formatText = singleParam(query, "format");
    if (formatText !== "csv" && formatText !== "ndjson")
      throw invalidRequest('format must be "csv" or "ndjson".');
    const format: Format = formatText;
    const filter = exportFilter(query);
    // A caller per page, each with its own request times: a long export outlives one request's
    // deadlines, while every page is still checked against the live session.
    const caller = async (meta: RequestMeta, dpop: DpopRequest | null) =>
      createCaller(await createContext({ deps: request.deps, token: request.token, meta, dpop }));
    const first = await (
      await caller(request.meta, request.dpop)
    ).audit.exportPage({ ...filter, limit: PAGE });
    // The first page proved the key of a DPoP-bound token (its proof is now used up); the later
    // pages of this same request are authorized again without asking for another.
    const boundKey = request.token ? boundKeyOf(request.token) : undefined;
    const laterDpop =
      request.dpop && boundKey ? { ...request.dpop, provenJkt: boundKey } : request.dpop;
    const location = first.items[0]?.locationId;

    async function* lines(): AsyncGenerator<string> {
      if (format === "csv") yield `${CSV_COLUMNS.join(",")}\r\n`;
      let page = first;
      try {
        for (;;) {
          let chunk = "";
          for (const item of page.items)
            chunk += format === "csv" ? csvLine(item) : `${JSON.stringify(item)}\n`;
          if (chunk) yield chunk;
          if (page.nextCursor === null) return;
          const meta = { ...request.meta, ...requestTimes() };
          page = await (
            await caller(meta, laterDpop)
          ).audit.exportPage({
            ...filter,
            limit: PAGE,
            after: page.nextCursor,
          });
        }
      } catch (error) {
        // Past the first byte there is no status left to answer with: the transfer is cut short.
        logFailure(error, request.meta.requestId, { door: "rest" });
        throw error;
      }
    }

    const stamp = new Date().toISOString().slice(0, 10);
    const name = `audit${location ? `-location-${location}` : ""}-${stamp}.${EXPORT_FORMATS[format].extension}`;
    return {
      status: 200,
      headers: {
        "content-type": EXPORT_FORMATS[format].type,
        "content-disposition": `attachment; filename="${name}"`,
        "cache-control": "no-store",
      },
      body: null,
      stream: lines(),
    };
  }, request.meta.requestId);
}
