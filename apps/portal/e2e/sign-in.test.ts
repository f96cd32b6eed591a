// Signing in and out, the home page and its profile switcher, and the refusals people without
// the right role see — in Chromium, reading what a person reads.
import { type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Portal, startPortal } from "../test/support/portal";
import {
  DESKTOP,
  PHONE,
  launchBrowser,
  newPage,
  pathOf,
  screenshot,
  signedInPage,
} from "./support";

let portal: Portal;
let browser: Browser;

beforeAll(async () => {
  [portal, browser] = await Promise.all([startPortal(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
});

describe("signing in", () => {
  it("sends anonymous visitors to the sign-in page, and back where they were going", async () => {
    const { context, page } = await newPage(browser);
    await page.goto(`${portal.url}/team`);
    expect(pathOf(page)).toBe("/sign-in");
    await page.getByLabel("Email").fill("tess.teamadmin@demo.test");
    await page.getByLabel("Password").fill("demo-member-pass");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((url) => url.pathname === "/team");
    await page.getByRole("heading", { name: "Team permissions" }).waitFor();
    await context.close();
  });

  it("says a wrong password is wrong, in the same words whether or not the email exists", async () => {
    const { context, page } = await newPage(browser);
    await page.goto(`${portal.url}/sign-in`);
    await screenshot(page, "sign-in");
    await page.getByLabel("Email").fill("milo.member@demo.test");
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    // Scoped to the page body: Next's route announcer is an (empty) alert of its own.
    const alert = page.getByRole("main").getByRole("alert");
    await alert.waitFor();
    const known = (await alert.textContent())?.trim();
    expect(known).toBe("Wrong email or password.");
    expect(pathOf(page)).toBe("/sign-in");
    await screenshot(page, "sign-in-failed");

    await page.getByLabel("Email").fill("nobody@demo.test");
    await page.getByLabel("Password").fill("not-the-password");
    const answered = page.waitForResponse((response) =>
      response.url().includes("/api/trpc/auth.signIn"),
    );
    await page.getByRole("button", { name: "Sign in" }).click();
    await answered;
    await alert.waitFor();
    expect((await alert.textContent())?.trim()).toBe(known);
    // Nothing of the typed password ever lands in the address.
    expect(page.url()).not.toContain("not-the-password");
    await context.close();
  });

  it("signs a member in to their home: who, where, which profile", async () => {
    const { context, page } = await signedInPage(browser, portal, "milo.member@demo.test");
    expect(pathOf(page)).toBe("/");
    await page.getByRole("heading", { name: "Hello, Milo Member" }).waitFor();
    expect(await page.getByTestId("location").textContent()).toBe("Downtown Hub");
    expect(await page.locator("main").textContent()).toContain("Milo Member (coworker 42)");
    // One profile: no switcher; a member: no staff links.
    expect(await page.getByLabel("Profile").count()).toBe(0);
    const nav = page.getByRole("navigation", { name: "Main" });
    expect(await nav.getByRole("link").allTextContents()).toEqual([
      "Home",
      "Team",
      "Access history",
    ]);
    await context.close();
  });

  it("takes staff without a member profile straight to the console, with staff links", async () => {
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test");
    expect(pathOf(page)).toBe("/admin/impersonate");
    const nav = page.getByRole("navigation", { name: "Main" });
    expect(await nav.getByRole("link").allTextContents()).toEqual([
      "Home",
      "Team",
      "Access history",
      "Console",
      "Audit",
      "Live sessions",
      "Policy",
      "Security",
    ]);
    await context.close();
  });

  it("signs out from the header", async () => {
    const { context, page } = await signedInPage(browser, portal, "ivan.indie@demo.test");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.pathname === "/sign-in");
    await page.goto(`${portal.url}/`);
    expect(pathOf(page)).toBe("/sign-in");
    await context.close();
  });
});

describe("profiles", () => {
  it("switches Nora's profile, and the location shown follows", async () => {
    const { context, page } = await signedInPage(browser, portal, "nora.nomad@demo.test");
    const location = page.getByTestId("location");
    expect(await location.textContent()).toBe("Downtown Hub");
    const profile = page.getByLabel("Profile");
    await expect.poll(() => profile.isEnabled()).toBe(true);
    await screenshot(page, "home-profile-switcher");
    await profile.selectOption({ label: "Nora Nomad — Riverside Loft" });
    await expect.poll(() => location.textContent()).toBe("Riverside Loft");
    expect(await page.locator("main").textContent()).toContain("Nora Nomad (coworker 50)");
    expect(await page.locator("header").textContent()).toContain("Riverside Loft");
    // The switch is the session's, not the page's: it survives a reload.
    await page.reload();
    expect(await page.getByTestId("location").textContent()).toBe("Riverside Loft");
    await context.close();
  });

  it("works on a 375 px wide screen", async () => {
    const { context, page } = await signedInPage(browser, portal, "nora.nomad@demo.test", PHONE);
    await page.getByLabel("Profile").waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, "home-375px");
    await context.close();
  });
});

describe("pages a role does not cover", () => {
  it("tells a customer the console and the audit log are not for them", async () => {
    const { context, page } = await signedInPage(browser, portal, "milo.member@demo.test");
    for (const path of ["/admin/impersonate", "/admin/audit"]) {
      const response = await page.goto(`${portal.url}${path}`);
      expect(response?.status()).toBeLessThan(500);
      await page.getByRole("heading", { name: "Not allowed" }).waitFor();
      expect(await page.locator("main").textContent()).toContain(
        "Your account does not have access",
      );
      expect(await page.getByLabel("Search coworkers").count()).toBe(0);
    }
    await screenshot(page, "not-allowed");
    await context.close();
  });

  it("keeps the audit log for admins: an operator is refused too", async () => {
    const { context, page } = await signedInPage(browser, portal, "otto.operator@demo.test");
    await page.goto(`${portal.url}/admin/audit`);
    await page.getByRole("heading", { name: "Not allowed" }).waitFor();
    await page.goto(`${portal.url}/admin/impersonate`);
    await page.getByLabel("Search coworkers").waitFor();
    await context.close();
  });

  it("sends anonymous visitors of admin pages to sign in", async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    await page.goto(`${portal.url}/admin/audit`);
    expect(pathOf(page)).toBe("/sign-in");
    expect(new URL(page.url()).searchParams.get("next")).toBe("/admin/audit");
    await page.getByLabel("Email").fill("ada.admin@demo.test");
    await page.getByLabel("Password").fill("demo-admin-pass");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((url) => url.pathname === "/admin/audit");
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    await context.close();
  });
});
