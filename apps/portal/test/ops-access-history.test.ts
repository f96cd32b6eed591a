// /account/access: a member reads every impersonation of their own account (who, when, why, how
// long, staff or team admin, read-only or full); an impersonated session is refused in words.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPortal, type Portal } from "./support/portal";
import {
  anyString,
  bearer,
  browserSignIn,
  call,
  exchange,
  impersonationToken,
  signIn,
} from "./ops-helpers";

let portal: Portal;
let staffSession: string;

beforeAll(async () => {
  portal = await startPortal();
  const [otto, tess] = [
    await signIn(portal, "otto.operator@demo.test"),
    await signIn(portal, "tess.teamadmin@demo.test"),
  ];
  // Otto (staff) looked at Milo's account read-only and stopped; Tess (his team admin) has full access now.
  const first = await exchange(
    portal,
    await impersonationToken(portal, otto, 42, {
      mode: "readonly",
      reason: "Invoice <question> & refund",
    }),
  );
  await call(portal, "/api/sys/users/stop-impersonating", {
    method: "POST",
    headers: bearer(first),
  });
  staffSession = await exchange(portal, await impersonationToken(portal, tess, 42, { team: true }));
});
afterAll(() => portal?.stop());

const page = (cookie?: string) =>
  call(
    portal,
    "/account/access",
    cookie ? { headers: { cookie: `portal_session=${cookie}` } } : {},
  );

describe("/account/access", () => {
  it("shows the member every impersonation of their account", async () => {
    const milo = await browserSignIn(portal, "milo.member@demo.test", "demo-member-pass");
    const answer = await page(milo);
    expect(answer.status).toBe(200);
    const html = answer.text;
    expect(html).toContain("<h1>Who accessed my account</h1>");
    expect(html).toContain("2 times");
    // Newest first: Tess (team admin, full, still live), then Otto (staff, read-only, ended).
    const tess = html.indexOf("Tess Teamadmin");
    const otto = html.indexOf("Otto Operator");
    expect(tess).toBeGreaterThan(0);
    expect(otto).toBeGreaterThan(tess);
    const [tessRow, ottoRow] = [
      html.slice(tess, otto),
      html.slice(otto, html.indexOf("</tr>", otto)),
    ];
    expect(tessRow).toContain("Team admin");
    expect(tessRow).toContain(">Full<");
    expect(tessRow).toContain("No reason given");
    expect(tessRow).toContain("Not ended yet");
    expect(ottoRow).toContain(">Staff<");
    expect(ottoRow).toContain("Read-only");
    expect(ottoRow).toContain("Invoice &lt;question&gt; &amp; refund");
    expect(ottoRow).toMatch(/\d+ seconds?|\d+ minutes?/);
    expect(ottoRow).toMatch(/<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">/i);
    // What each did in the account: Otto's session only stopped itself; Tess's did nothing yet.
    expect(ottoRow).toContain("<summary>Actions (1)</summary>");
    expect(ottoRow).toMatch(/impersonation\.(<!-- -->)?(<wbr\/>)?stopImpersonating/);
    expect(tessRow).toContain("No actions recorded");
  });

  it("agrees with GET /api/public/coworkers/access-history", async () => {
    const milo = await signIn(portal, "milo.member@demo.test");
    const answer = await call<{
      items: {
        actor: { fullName: string };
        kind: string;
        readOnly: boolean;
        reason: string | null;
        endedAt: string | null;
        actions: { at: string; procedure: string; kind: string; outcome: string }[];
        actionCount: number;
      }[];
    }>(portal, "/api/public/coworkers/access-history", { headers: bearer(milo) });
    expect(answer.body.items).toMatchObject([
      {
        actor: { fullName: "Tess Teamadmin" },
        kind: "team",
        readOnly: false,
        reason: null,
        endedAt: null,
        actions: [],
        actionCount: 0,
      },
      {
        actor: { fullName: "Otto Operator" },
        kind: "staff",
        readOnly: true,
        reason: "Invoice <question> & refund",
        endedAt: anyString,
        actions: [
          {
            at: anyString,
            procedure: "impersonation.stopImpersonating",
            kind: "mutation",
            outcome: "success",
          },
        ],
        actionCount: 1,
      },
    ]);
  });

  it("says so when nobody has accessed the account", async () => {
    const ivan = await browserSignIn(portal, "ivan.indie@demo.test", "demo-member-pass");
    const answer = await page(ivan);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain("Nobody has accessed your account.");
    expect(answer.text).not.toContain("<table");
  });

  it("refuses an impersonated session in words", async () => {
    const answer = await page(staffSession);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain(
      "This page is not available while someone is viewing this account for its owner",
    );
    expect(answer.text).toContain('role="alert"');
    expect(answer.text).not.toContain("<table");
    expect(answer.text).not.toContain("Invoice");
  });

  it("sends a signed-out visitor to sign in, and back", async () => {
    const answer = await page();
    expect([303, 307]).toContain(answer.status);
    expect(answer.headers.get("location")).toMatch(/\/sign-in\?next=%2Faccount%2Faccess$/);
  });
});
