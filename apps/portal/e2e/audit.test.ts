// The audit log page: what an admin reads there, filters, pages, and that whatever people typed
// (a reason) is shown as text, never run as markup.
import { type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Portal, signIn, startPortal } from "../test/support/portal";
import { banner, launchBrowser, screenshot, signedInPage } from "./support";

let portal: Portal;
let browser: Browser;

const HOSTILE_REASON = `<img src=x onerror="window.__pwned=1"><b>Ticket 99</b> & "quotes"`;

beforeAll(async () => {
  [portal, browser] = await Promise.all([startPortal(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
});

describe("the audit log", () => {
  it("shows impersonations newest first, with every column, reasons as plain text", async () => {
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test");
    await page.getByLabel("Search coworkers").fill("milo");
    await page.getByRole("button", { name: "Impersonate Milo Member" }).waitFor();
    await page.getByLabel("Reason").fill(HOSTILE_REASON);
    await page.getByRole("button", { name: "Impersonate Milo Member" }).click();
    await page.waitForURL((url) => url.pathname === "/");
    await banner(page).waitFor();
    await page.getByRole("button", { name: "Stop impersonating" }).click();
    await page.waitForURL((url) => url.pathname === "/admin/impersonate");

    await page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Audit" })
      .click();
    await page.waitForURL((url) => url.pathname === "/admin/audit");
    const table = page.getByRole("table");
    await table.waitFor();
    const headers = await table.locator("thead th").allTextContents();
    expect(headers).toEqual([
      "Time",
      "Type",
      "Outcome",
      "Actor",
      "Target",
      "Reason",
      "IP",
      "Detail",
    ]);

    const types = await table.locator("tbody tr td:nth-child(2)").allTextContents();
    // Newest first: the stop, the exchange, the issue, then Ada's sign-in.
    expect(types.slice(0, 4)).toEqual([
      "impersonation.stopped",
      "impersonation.exchanged",
      "impersonation.issued",
      "signin",
    ]);
    const issued = table.locator("tbody tr").nth(2);
    const cells = await issued.locator("td").allTextContents();
    expect(cells[2]).toBe("success");
    expect(cells[3]).toBe("Ada Admin (user 1)");
    expect(cells[4]).toBe("Milo Member (coworker 42)");
    expect(cells[5]).toBe(HOSTILE_REASON);
    expect(cells[6]).toMatch(/127\.0\.0\.1|::1/);
    expect(cells[7]).toContain("staff impersonation");
    // The reason was text: no element came out of it, no script ran.
    expect(await table.locator("img, b").count()).toBe(0);
    expect(
      await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned),
    ).toBeUndefined();
    await screenshot(page, "audit");
    await context.close();
  });

  it("records refusals with their reason code", async () => {
    // Through the API, as a crafted request would: Milo is no team admin.
    const token = await signIn(portal, "milo.member@demo.test");
    const refused = await fetch(`${portal.url}/api/public/coworkers/43/impersonate`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(refused.status).toBe(403);

    const admin = await signedInPage(browser, portal, "ada.admin@demo.test");
    await admin.page.goto(`${portal.url}/admin/audit`);
    await admin.page.getByLabel("Actor user id").fill("4");
    await admin.page.getByRole("button", { name: "Apply filters" }).click();
    const row = admin.page.locator("tbody tr", { hasText: "refused" }).first();
    await row.waitFor();
    const cells = await row.locator("td").allTextContents();
    expect(cells[1]).toBe("impersonation.issued");
    expect(cells[3]).toBe("Milo Member (user 4)");
    expect(cells[7]).toContain("not_team_admin");
    await admin.context.close();
  });

  it("filters by actor and by target, and says so when nothing matches", async () => {
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test");
    await page.goto(`${portal.url}/admin/audit`);
    await page.getByRole("table").waitFor();
    const rows = page.locator("tbody tr");

    await page.getByLabel("Target coworker id").fill("42");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByText(/filtered\.$/).waitFor();
    const targets = await page.locator("tbody tr td:nth-child(5)").allTextContents();
    expect(targets.length).toBeGreaterThan(0);
    expect(new Set(targets)).toEqual(new Set(["Milo Member (coworker 42)"]));

    await page.getByLabel("Target coworker id").fill("");
    await page.getByLabel("Actor user id").fill("3");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByText("No events match these filters.").waitFor();
    expect(await rows.count()).toBe(0);

    await page.getByLabel("Actor user id").fill("abc");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByText("Enter a whole number, like 42.").waitFor();
    expect(await page.getByLabel("Actor user id").getAttribute("aria-invalid")).toBe("true");

    await page.getByRole("button", { name: "Clear filters" }).click();
    await expect.poll(() => rows.count()).toBeGreaterThan(0);
    await context.close();
  });

  it("pages through older events with Next page", async () => {
    // Enough sign-ins to fill more than one page (20 events a page).
    for (let index = 0; index < 22; index++) await signIn(portal, "ada.admin@demo.test");
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test");
    await page.goto(`${portal.url}/admin/audit`);
    await page.getByRole("table").waitFor();
    const rows = page.locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(20);
    const firstPage = await page
      .locator("tbody tr td:first-child time")
      .evaluateAll((times) => times.map((time) => time.getAttribute("datetime")));
    const next = page.getByRole("button", { name: "Next page" });
    await expect.poll(() => next.isEnabled()).toBe(true);
    await next.click();
    await page.getByText(/^Page 2:/).waitFor();
    const secondPage = await page
      .locator("tbody tr td:first-child time")
      .evaluateAll((times) => times.map((time) => time.getAttribute("datetime")));
    expect(secondPage.length).toBeGreaterThan(0);
    // Strictly older, newest first within the page.
    expect(secondPage[0]! <= firstPage.at(-1)!).toBe(true);
    expect([...secondPage].sort().reverse()).toEqual(secondPage);
    await page.getByRole("button", { name: "Previous page" }).click();
    await page.getByText(/^Page 1:/).waitFor();
    await context.close();
  });

  it("says up to which event a signed checkpoint covers the log, and offers Export CSV", async () => {
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test");
    // The portal's sealer signs within 10 s of an event; the line names the newest checkpoint.
    let coverage = "";
    for (let attempt = 0; attempt < 30 && !coverage.startsWith("Covered"); attempt++) {
      await page.goto(`${portal.url}/admin/audit`);
      coverage = (await page.locator("#audit-coverage").textContent()) ?? "";
      if (!coverage.startsWith("Covered")) await page.waitForTimeout(500);
    }
    expect(coverage).toMatch(
      /^Covered by a signed checkpoint up to event \d+, signed at .+ UTC\.$/,
    );
    const link = page.getByRole("link", { name: "Export CSV" });
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    const path = await download.path();
    const { readFile } = await import("node:fs/promises");
    const text = await readFile(path, "utf8");
    expect(text.split("\r\n")[0]!.startsWith("seq,leafHash,")).toBe(true);
    expect(text.split("\r\n").length).toBeGreaterThan(2);
    await context.close();
  });
});
