// The member's notices on their home page: after someone entered their account, the member reads
// who, when, how and why (a reason as plain text, never markup) and marks it read; the person
// acting as them never sees it.
import { type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Portal, startPortal } from "../test/support/portal";
import { banner, launchBrowser, screenshot, signedInPage } from "./support";

let portal: Portal;
let browser: Browser;

const HOSTILE_REASON = `<img src=x onerror="window.__pwned=1"><b>Ticket 7</b>`;

beforeAll(async () => {
  [portal, browser] = await Promise.all([startPortal(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
});

describe("notices on the home page", () => {
  it("shows the member an unread notice of each entry, with Mark read; never to the actor", async () => {
    const admin = await signedInPage(browser, portal, "ada.admin@demo.test");
    await admin.page.getByLabel("Search coworkers").fill("milo");
    await admin.page.getByRole("button", { name: "Impersonate Milo Member" }).waitFor();
    await admin.page.getByLabel("Reason").fill(HOSTILE_REASON);
    await admin.page.getByRole("button", { name: "Impersonate Milo Member" }).click();
    await admin.page.waitForURL((url) => url.pathname === "/");
    await banner(admin.page).waitFor();
    // Viewing as Milo: his home page, without his notices.
    await admin.page.getByRole("heading", { name: "Hello, Milo Member" }).waitFor();
    expect(
      await admin.page.getByRole("heading", { name: "Your account was accessed" }).count(),
    ).toBe(0);
    await admin.page.getByRole("button", { name: "Stop impersonating" }).click();
    await admin.page.waitForURL((url) => url.pathname === "/admin/impersonate");
    await admin.context.close();

    const { context, page } = await signedInPage(browser, portal, "milo.member@demo.test");
    const section = page.getByRole("region", { name: "Your account was accessed" });
    await section.waitFor();
    await screenshot(page, "home-notices");
    const text = await section.locator("li p").innerText();
    expect(text).toMatch(
      /^Ada Admin \(staff\) entered your account on \d{4}-\d\d-\d\d \d\d:\d\d \(Europe\/London\) in full mode\. Reason: "/,
    );
    expect(text).toContain(HOSTILE_REASON);
    expect(await section.locator("img, b").count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();

    await section.getByRole("button", { name: "Mark read" }).click();
    await section.waitFor({ state: "detached" });
    await page.reload();
    await page.getByRole("heading", { name: "Hello, Milo Member" }).waitFor();
    expect(await page.getByRole("region", { name: "Your account was accessed" }).count()).toBe(0);
    await context.close();
  });
});
