// Actions while impersonating, as people read them: the admin under the impersonation's events
// on /admin/audit, the member in their history on /account/access. Each sees the page the
// impersonated session was refused, and the stop it ended with.
import { type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Portal, startPortal } from "../test/support/portal";
import { banner, launchBrowser, screenshot, signedInPage } from "./support";

let portal: Portal;
let browser: Browser;

beforeAll(async () => {
  [portal, browser] = await Promise.all([startPortal(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
});

describe("actions while impersonating", () => {
  it("are listed under the impersonation on /admin/audit and in the member's /account/access", async () => {
    const admin = await signedInPage(browser, portal, "ada.admin@demo.test");
    const { page } = admin;
    await page.getByLabel("Search coworkers").fill("milo");
    await page.getByRole("button", { name: "Impersonate Milo Member" }).click();
    await page.waitForURL((url) => url.pathname === "/");
    await banner(page).waitFor();
    // The history is the owner's: refused to the impersonated session, and recorded as such.
    await page.goto(`${portal.url}/account/access`);
    await page.getByText("This page is not available while someone is viewing").waitFor();
    await page.getByRole("button", { name: "Stop impersonating" }).click();
    await page.waitForURL((url) => url.pathname === "/admin/impersonate");

    await page.goto(`${portal.url}/admin/audit`);
    const stopped = page.locator("tbody tr", { hasText: "impersonation.stopped" }).first();
    const summary = stopped.locator("summary");
    await summary.waitFor();
    expect(await summary.textContent()).toMatch(/^Actions \(\d+\)$/);
    await summary.click();
    const calls = await stopped.locator(".session-actions li").allTextContents();
    expect(calls.some((text) => /profiles\.accessHistory.*refused/.test(text))).toBe(true);
    expect(calls.at(-1)).toMatch(/impersonation\.leave.*change.*done/);
    // The issue names no session: nothing under it.
    const issued = page.locator("tbody tr", { hasText: "impersonation.issued" }).first();
    expect(await issued.locator("summary").count()).toBe(0);
    await screenshot(page, "audit-actions");
    await admin.context.close();

    const member = await signedInPage(browser, portal, "milo.member@demo.test");
    await member.page.goto(`${portal.url}/account/access`);
    const row = member.page.locator("tbody tr", { hasText: "Ada Admin" }).first();
    await row.locator("summary").click();
    const seen = await row.locator(".session-actions li").allTextContents();
    expect(seen).toEqual(calls.map((text) => expect.stringMatching(procedureOf(text)) as string));
    await member.context.close();
  });
});

/** The procedure named in an action's line, as a pattern that finds it in another rendering. */
function procedureOf(text: string): RegExp {
  const name = /[a-zA-Z]+\.[a-zA-Z]+/.exec(text)?.[0] ?? "";
  return new RegExp(name.replace(".", "\\."));
}
