// "Confirm it's you" end to end (CONTRACT §11): an actor with a one-time-code app, signed in with
// the password alone, asks to impersonate from the console and from the team table; the dialog
// asks for the password and a code, and the impersonation asked for goes ahead, reason kept.
// The app is set up through /account/security in the browser, reading the secret shown there.
import { Secret, TOTP } from "otpauth";
import { type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, type Portal, signIn, startPortal } from "../test/support/portal";
import { banner, launchBrowser, passwordOf, screenshot, signedInPage } from "./support";

let portal: Portal;
let browser: Browser;

beforeAll(async () => {
  [portal, browser] = await Promise.all([startPortal(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
});

const codeOf = (secret: string, at = Date.now()) =>
  new TOTP({
    secret: Secret.fromBase32(secret),
    digits: 6,
    period: 30,
    algorithm: "SHA1",
  }).generate({ timestamp: at });

/** Sets up a one-time-code app on /account/security, as a person would; returns its secret. */
async function enrolThroughPage(page: Page): Promise<string> {
  await page.goto(`${portal.url}/account/security`);
  await page.getByRole("heading", { name: "Sign-in security" }).waitFor();
  await page.getByRole("button", { name: "Set up a one-time-code app" }).click();
  const qr = page.getByRole("img", { name: /QR code/ });
  await qr.waitFor();
  expect(await qr.getAttribute("src")).toMatch(/^data:image\/svg\+xml;base64,/);
  const secret = ((await page.locator(".otp-secret").textContent()) ?? "").replace(/\s+/g, "");
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await screenshot(page, "account-security");
  await page.getByLabel("Code from the app").fill(codeOf(secret));
  await page.getByRole("button", { name: "Confirm code" }).click();
  await page.getByText("A one-time-code app is set up for your account.").waitFor();
  return secret;
}

/** The reason of the newest impersonation.exchanged event, as Ada's audit log shows it. */
async function lastExchangedReason(): Promise<string | null> {
  const ada = await signIn(portal, "ada.admin@demo.test");
  const response = await fetch(`${portal.url}/api/sys/audit?limit=50`, { headers: bearer(ada) });
  const { items } = (await response.json()) as {
    items: { type: string; reason: string | null }[];
  };
  return items.find((item) => item.type === "impersonation.exchanged")?.reason ?? null;
}

async function confirmItsYou(page: Page, email: string, code: string) {
  const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
  await dialog.waitFor();
  await dialog.getByLabel("Password").fill(passwordOf(email));
  await dialog.getByLabel("One-time code").fill(code);
  await dialog.getByRole("button", { name: "Confirm" }).click();
}

describe("Confirm it's you", () => {
  it("from the console: asks for the password and code, then impersonates with the reason typed", async () => {
    const enrolment = await signedInPage(browser, portal, "ada.admin@demo.test");
    const secret = await enrolThroughPage(enrolment.page);
    await enrolment.context.close();

    // A new sign-in proves the password only: issuing asks to step up.
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test");
    await page.goto(`${portal.url}/admin/impersonate`);
    await page.getByLabel("Search coworkers").fill("Milo");
    const button = page.getByRole("button", { name: "Impersonate Milo Member" });
    await button.waitFor();
    await page.getByLabel("Reason").fill("Ticket 9001: invoice question");
    await button.click();

    // A wrong code first: the dialog stays, says so, and nothing happened.
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    await screenshot(page, "confirm-its-you");
    await dialog.getByLabel("Password").fill(passwordOf("ada.admin@demo.test"));
    await dialog.getByLabel("One-time code").fill(codeOf(secret, Date.now() + 10 * 30_000));
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await dialog.getByRole("alert").waitFor();
    expect(await dialog.getByRole("alert").textContent()).toContain("not correct");

    await confirmItsYou(page, "ada.admin@demo.test", codeOf(secret, Date.now() + 30_000));
    await page.waitForURL((url) => url.pathname === "/");
    const text = await banner(page).textContent();
    expect(text).toContain("Viewing as Milo Member");
    expect(text).toContain("Ticket 9001: invoice question");
    expect(await lastExchangedReason()).toBe("Ticket 9001: invoice question");
    await context.close();
  });

  it("from the team table: a team admin confirms and carries on as the member asked for", async () => {
    const enrolment = await signedInPage(browser, portal, "tess.teamadmin@demo.test");
    const secret = await enrolThroughPage(enrolment.page);
    await enrolment.context.close();

    const { context, page } = await signedInPage(browser, portal, "tess.teamadmin@demo.test");
    await page.goto(`${portal.url}/team`);
    await page.getByLabel("Reason").fill("Helping Nora with her booking");
    await page.getByRole("button", { name: "Impersonate Nora Nomad" }).click();
    await confirmItsYou(page, "tess.teamadmin@demo.test", codeOf(secret, Date.now() + 30_000));
    await page.waitForURL((url) => url.pathname === "/");
    expect(await banner(page).textContent()).toContain("Viewing as Nora Nomad");
    expect(await lastExchangedReason()).toBe("Helping Nora with her booking");
    await context.close();
  });
});
