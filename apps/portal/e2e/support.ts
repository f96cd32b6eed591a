// Shared pieces of the browser tests: Debian's Chromium through playwright-core, signing in
// through the real form, and screenshots for the docs (only with SCREENSHOTS=1).
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { type Portal } from "../test/support/portal";

export const PASSWORDS: Record<string, string> = {
  "ada.admin@demo.test": "demo-admin-pass",
  "otto.operator@demo.test": "demo-operator-pass",
};

export const passwordOf = (email: string) => PASSWORDS[email] ?? "demo-member-pass";

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };

/** A fresh browser context (own cookies) with one page. */
export async function newPage(
  browser: Browser,
  viewport = DESKTOP,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport,
    locale: "en-GB",
    timezoneId: "Europe/London",
  });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  return { context, page };
}

/** Signs in through the form and waits until the portal has moved on from /sign-in. */
export async function signInThroughForm(
  page: Page,
  portal: Portal,
  email: string,
  password = passwordOf(email),
): Promise<void> {
  await page.goto(`${portal.url}/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/sign-in"));
}

export async function signedInPage(
  browser: Browser,
  portal: Portal,
  email: string,
  viewport = DESKTOP,
) {
  const opened = await newPage(browser, viewport);
  await signInThroughForm(opened.page, portal, email);
  return opened;
}

/** The path of the page, without origin. */
export const pathOf = (page: Page) => new URL(page.url()).pathname;

/** The banner of an impersonated session (the only `status` role the portal renders). */
export const banner = (page: Page) => page.getByRole("status");

const screenshotDir = fileURLToPath(new URL("../../../docs/screenshots/", import.meta.url));

/** Saves a screenshot for docs/screenshots when SCREENSHOTS=1; a no-op otherwise. */
export async function screenshot(
  page: Page,
  name: string,
  options: { fullPage?: boolean } = {},
): Promise<void> {
  if (process.env.SCREENSHOTS !== "1") return;
  mkdirSync(screenshotDir, { recursive: true });
  // Let fonts and the last re-render settle so the picture shows what a person sees.
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({
    path: `${screenshotDir}${name}.png`,
    fullPage: options.fullPage ?? true,
    animations: "disabled",
    caret: "hide",
  });
}
