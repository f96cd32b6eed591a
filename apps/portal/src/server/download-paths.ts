// Paths the browser downloads from with its session cookie, served by the API application
// (api-app.ts) and linked from pages. Pure: pages import it.

/** The audit page's **Export CSV**: GET /api/sys/audit/export's answer, for the session cookie. */
export const AUDIT_EXPORT_PATH = "/admin/audit/export";
