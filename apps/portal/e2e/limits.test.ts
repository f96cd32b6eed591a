// What people read when a limit is reached: throttled impersonation and throttled sign-in.
import { type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Portal, startPortal } from "../test/support/portal";
import { banner, launchBrowser, newPage, pathOf, signedInPage } from "./support";

let portal: Portal;
let browser: Browser;

beforeAll(async () => {
  [portal, browser] = await Promise.all([
    startPortal({ env: { IMPERSONATE_LIMIT_PER_MINUTE: "1", SIGNIN_LIMIT_PER_15_MINUTES: "2" } }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
});

describe("limits", () => {
  it("says in words that impersonation is throttled, and stays on the console", async () => {
    // The limit counts over any 60 s (a sliding log): the second attempt is refused whenever it
    // comes within a minute of the first, with no calendar minute to wait for.
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test");
    await page.getByRole("button", { name: "Impersonate Milo Member" }).click();
    await banner(page).waitFor();
    await page.getByRole("button", { name: "Stop impersonating" }).click();
    await page.waitForURL((url) => url.pathname === "/admin/impersonate");

    await page.getByRole("button", { name: "Impersonate Nora Nomad" }).click();
    await page
      .getByRole("main")
      .getByRole("alert")
      .filter({ hasText: "Too many requests — try again in a minute." })
      .waitFor();
    expect(pathOf(page)).toBe("/admin/impersonate");
    expect(await banner(page).count()).toBe(0);
    // The buttons are usable again (the failure is reported, not stuck).
    expect(await page.getByRole("button", { name: "Impersonate Nora Nomad" }).isEnabled()).toBe(
      true,
    );
    await context.close();
  });

  it("says in words that sign-in is throttled", async () => {
    const { context, page } = await newPage(browser);
    await page.goto(`${portal.url}/sign-in`);
    const alert = page.getByRole("main").getByRole("alert");
    for (let attempt = 0; attempt < 3; attempt++) {
      await page.getByLabel("Email").fill("ivan.indie@demo.test");
      await page.getByLabel("Password").fill(`wrong-${attempt}`);
      const answered = page.waitForResponse((response) =>
        response.url().includes("/api/trpc/auth.signIn"),
      );
      await page.getByRole("button", { name: "Sign in" }).click();
      await answered;
      await alert.waitFor();
    }
    expect(await alert.textContent()).toMatch(
      /^Too many requests — try again in (a minute|\d+ minutes)\.$/,
    );
    await context.close();
  });
});
