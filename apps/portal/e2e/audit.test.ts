// The audit log page: what an admin reads there, filters (in the URL, days and times in the
// location's zone, named), pages, and that whatever people typed (a reason) is shown as text,
// never run as markup.
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
    await admin.page.getByLabel("Person").fill("milo");
    await admin.page.getByLabel("Outcome").selectOption("refused");
    await admin.page.getByRole("button", { name: "Apply filters" }).click();
    const row = admin.page.locator("tbody tr", { hasText: "refused" }).first();
    await row.waitFor();
    const cells = await row.locator("td").allTextContents();
    expect(cells[1]).toBe("impersonation.issued");
    expect(cells[3]).toBe("Milo Member (user 4)");
    expect(cells[7]).toContain("not_team_admin");
    await admin.context.close();
  });

  it("filters by person, type, outcome and days in the location's zone, named, kept in the URL", async () => {
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test");
    await page.goto(`${portal.url}/admin/audit`);
    await page.getByRole("table").waitFor();
    const rows = page.locator("tbody tr");
    const column = (n: number) => page.locator(`tbody tr td:nth-child(${n})`).allTextContents();
    const apply = () => page.getByRole("button", { name: "Apply filters" }).click();
    // Downtown Hub's zone, named beside the days and in every time.
    await page
      .getByText("Days in Europe/London, from the start of the first to the end of the last.")
      .waitFor();
    for (const time of await column(1))
      expect(time).toMatch(/^\d{1,2} \w{3,4} \d{4}, \d{2}:\d{2}:\d{2} \(Europe\/London\)$/);

    await page.getByLabel("Person").fill("MILO mem");
    await apply();
    await page.waitForURL((url) => url.searchParams.get("person") === "MILO mem");
    await page.getByText(/filtered\.$/).waitFor();
    const people = await rows.evaluateAll((trs) =>
      trs.map((tr) => [tr.children[3]!.textContent, tr.children[4]!.textContent].join(" | ")),
    );
    expect(people.length).toBeGreaterThan(0);
    for (const row of people) expect(row).toContain("Milo Member");
    await screenshot(page, "audit");

    await page.getByLabel("Type").selectOption("impersonation.issued");
    await page.getByLabel("Outcome").selectOption("refused");
    await apply();
    await page.waitForURL((url) => url.searchParams.get("outcome") === "refused");
    await expect.poll(() => column(3)).toEqual(["refused"]);
    expect(await column(2)).toEqual(["impersonation.issued"]);
    expect(await column(4)).toEqual(["Milo Member (user 4)"]);

    // Today in London: the refusal is in the range; a day long past holds nothing.
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London" }).format(
      new Date(),
    );
    await page.getByLabel("From").fill(today);
    await page.getByLabel("To").fill(today);
    await apply();
    await page.waitForURL((url) => url.searchParams.get("to") === today);
    await expect.poll(() => column(2)).toEqual(["impersonation.issued"]);
    const href = await page.getByRole("link", { name: "Export CSV" }).getAttribute("href");
    const exported = new URL(href!, portal.url).searchParams;
    expect(Object.fromEntries(exported)).toMatchObject({
      format: "csv",
      person: "MILO mem",
      type: "impersonation.issued",
      outcome: "refused",
    });
    // The days became instants at London's midnights, the last day included.
    expect(
      Date.parse(exported.get("to")!) - Date.parse(exported.get("from")!),
    ).toBeGreaterThanOrEqual(23 * 3_600_000);

    // The URL is the view: opened afresh, it shows the same filters and the same events.
    const shared = page.url();
    const other = await context.newPage();
    await other.goto(shared);
    await expect
      .poll(() => other.locator("tbody tr td:nth-child(2)").allTextContents())
      .toEqual(["impersonation.issued"]);
    expect(await other.getByLabel("Person").inputValue()).toBe("MILO mem");
    expect(await other.getByLabel("Type").inputValue()).toBe("impersonation.issued");
    expect(await other.getByLabel("Outcome").inputValue()).toBe("refused");
    expect(await other.getByLabel("From").inputValue()).toBe(today);
    await other.close();

    await page.getByLabel("From").fill("2020-01-01");
    await page.getByLabel("To").fill("2020-01-02");
    await apply();
    await page.getByText("No events match these filters.").waitFor();
    expect(await rows.count()).toBe(0);

    await page.getByLabel("From").fill("2020-01-03");
    await apply();
    await page.getByText("The last day must not be before the first.").waitFor();
    expect(await page.getByLabel("To").getAttribute("aria-invalid")).toBe("true");

    // Back returns to the view before; Clear filters shows everything.
    await page.goBack();
    await page.waitForURL((url) => url.searchParams.get("from") === today);
    await expect.poll(() => column(2)).toEqual(["impersonation.issued"]);
    await page.getByRole("button", { name: "Clear filters" }).click();
    await page.waitForURL((url) => url.search === "");
    await expect.poll(() => rows.count()).toBeGreaterThan(1);
    expect(await page.getByLabel("Person").inputValue()).toBe("");
    await context.close();
  });

  it("pages through older events with Next page, keeping the filters", async () => {
    // Enough sign-ins to fill more than one page (20 events a page).
    for (let index = 0; index < 22; index++) await signIn(portal, "ada.admin@demo.test");
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test");
    await page.goto(`${portal.url}/admin/audit?type=signin`);
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
    // Paging keeps the filters: still sign-ins only, still in the URL.
    expect(new Set(await page.locator("tbody tr td:nth-child(2)").allTextContents())).toEqual(
      new Set(["signin"]),
    );
    expect(new URL(page.url()).searchParams.get("type")).toBe("signin");
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
      /^Covered by a signed checkpoint up to event \d+, signed at \d{1,2} \w{3,4} \d{4}, \d{2}:\d{2}:\d{2} \(Europe\/London\)\.$/,
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
