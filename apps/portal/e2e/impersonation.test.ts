// Impersonation end to end: from the operator console and from the team table, the banner while
// it lasts, and every way it ends (stop, revoked elsewhere, time up).
import { type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Portal, startPortal } from "../test/support/portal";
import { PHONE, banner, launchBrowser, pathOf, screenshot, signedInPage } from "./support";

let portal: Portal;
let browser: Browser;

beforeAll(async () => {
  [portal, browser] = await Promise.all([startPortal(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
});

/** On the console: search, then impersonate the named coworker with the given options. */
async function impersonateFromConsole(
  page: Page,
  name: string,
  options: { reason?: string; readOnly?: boolean } = {},
) {
  await page.getByLabel("Search coworkers").fill(name.split(" ")[0]!);
  const button = page.getByRole("button", { name: `Impersonate ${name}` });
  await button.waitFor();
  if (options.reason) await page.getByLabel("Reason").fill(options.reason);
  if (options.readOnly) await page.getByLabel("Read-only").check();
  await button.click();
  await page.waitForURL((url) => url.pathname === "/");
  await banner(page).waitFor();
}

const header = (page: Page) => page.locator("header");

describe("from the operator console", () => {
  it("searches with a debounce, pages by cursor and says when nothing matches", async () => {
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test");
    const rows = page.locator("tbody tr");
    await page.getByRole("button", { name: "Impersonate Tess Teamadmin" }).waitFor();
    // Six coworkers in Downtown Hub, five a page.
    expect(await rows.count()).toBe(5);
    await page.getByRole("button", { name: "Next page" }).click();
    await page.getByRole("button", { name: "Impersonate Otto Operator" }).waitFor();
    expect(await rows.count()).toBe(1);
    expect(await page.getByRole("button", { name: "Next page" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Previous page" }).click();
    await page.getByRole("button", { name: "Impersonate Tess Teamadmin" }).waitFor();

    // Typing fast asks once, after the pause.
    const searches: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes("directory.searchCoworkers")) searches.push(request.url());
    });
    await page.getByLabel("Search coworkers").pressSequentially("nora", { delay: 40 });
    await page.getByRole("button", { name: "Impersonate Nora Nomad" }).waitFor();
    await expect.poll(() => rows.count()).toBe(1);
    expect(searches).toHaveLength(1);
    expect(decodeURIComponent(searches[0]!)).toContain('"query":"nora"');

    await page.getByLabel("Search coworkers").fill("nobody-by-that-name");
    await page.getByText("No coworkers match “nobody-by-that-name”.").waitFor();
    await context.close();
  });

  it("views the portal as a member, with a reason, and Stop brings the admin back to the console", async () => {
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test");
    await page.getByLabel("Search coworkers").waitFor();
    await page.getByRole("button", { name: "Impersonate Milo Member" }).waitFor();
    await screenshot(page, "console");
    await impersonateFromConsole(page, "Milo Member", {
      reason: "Ticket 4711: cannot book a desk",
    });

    const text = await banner(page).textContent();
    expect(text).toContain("Viewing as Milo Member");
    expect(text).toContain("Ada Admin");
    expect(text).toMatch(/\b(1:00:00|59:\d\d) left/);
    expect(text).toContain("Ticket 4711: cannot book a desk");
    expect(text).not.toContain("read-only");
    // The member's view: their home, no staff links, no sign-out while impersonating.
    await page.getByRole("heading", { name: "Hello, Milo Member" }).waitFor();
    expect(await header(page).getByRole("link").allTextContents()).not.toContain("Console");
    expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);
    await screenshot(page, "banner-impersonating");

    // The banner is on every page, and the countdown runs.
    const before = await page.locator(".countdown").textContent();
    await page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Team" })
      .click();
    await page.waitForURL((url) => url.pathname === "/team");
    expect(await banner(page).textContent()).toContain("Viewing as Milo Member");
    await expect
      .poll(() => page.locator(".countdown").textContent(), { timeout: 5_000 })
      .not.toBe(before);
    // Staff pages are not part of the member's view.
    await page.goto(`${portal.url}/admin/impersonate`);
    await page.getByRole("heading", { name: "Not allowed" }).waitFor();
    expect(await banner(page).textContent()).toContain("Viewing as Milo Member");

    await page.getByRole("button", { name: "Stop impersonating" }).click();
    await page.waitForURL((url) => url.pathname === "/admin/impersonate");
    await page.getByLabel("Search coworkers").waitFor();
    expect(await banner(page).count()).toBe(0);
    expect(await header(page).textContent()).toContain("Ada Admin");
    await context.close();
  });

  it("says read-only in the banner of a read-only impersonation", async () => {
    const { context, page } = await signedInPage(browser, portal, "otto.operator@demo.test");
    // Otto also has a member profile: he lands on his home, the console is one link away.
    await page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Console" })
      .click();
    await page.getByRole("button", { name: "Impersonate Nora Nomad" }).waitFor();
    await impersonateFromConsole(page, "Nora Nomad", { readOnly: true });
    const text = await banner(page).textContent();
    expect(text).toContain("Viewing as Nora Nomad");
    expect(text).toContain("Otto Operator");
    expect(text).toContain("read-only");
    // One profile in an impersonated session: nothing to switch.
    expect(await page.getByLabel("Profile").count()).toBe(0);
    await page.getByRole("button", { name: "Stop impersonating" }).click();
    await page.waitForURL((url) => url.pathname === "/admin/impersonate");
    await context.close();
  });

  it("fits a 375 px wide screen, banner included", async () => {
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test", PHONE);
    await page.getByRole("button", { name: "Impersonate Milo Member" }).waitFor();
    await screenshot(page, "console-375px");
    await impersonateFromConsole(page, "Sam Second", { reason: "Phone support call" });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, "banner-375px");
    await page.getByRole("button", { name: "Stop impersonating" }).click();
    await page.waitForURL((url) => url.pathname === "/admin/impersonate");
    await context.close();
  });
});

describe("from the team table", () => {
  it("lets Tess impersonate her members, but not herself nor staff, and brings her back to /team", async () => {
    const { context, page } = await signedInPage(browser, portal, "tess.teamadmin@demo.test");
    await page.goto(`${portal.url}/team`);
    const table = page.getByRole("table");
    await table.waitFor();
    expect(await table.textContent()).toContain("Tess Teamadmin");
    expect(await table.textContent()).toContain("Otto Operator");
    const buttons = page.getByRole("button", { name: /^Impersonate / });
    expect((await buttons.allTextContents()).sort()).toEqual([
      "Impersonate Milo Member",
      "Impersonate Nora Nomad",
    ]);
    expect(await page.getByRole("button", { name: "Impersonate Tess Teamadmin" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Impersonate Otto Operator" }).count()).toBe(0);
    await screenshot(page, "team");

    await page.getByRole("button", { name: "Impersonate Milo Member" }).click();
    await page.waitForURL((url) => url.pathname === "/");
    const text = await banner(page).textContent();
    expect(text).toContain("Viewing as Milo Member");
    expect(text).toContain("Tess Teamadmin");
    // Milo is no team admin: his team table has no impersonate buttons at all.
    await page.goto(`${portal.url}/team`);
    await page.getByRole("table").waitFor();
    expect(await page.getByRole("button", { name: /^Impersonate / }).count()).toBe(0);

    // Already on /team: the way back is a reload of it without the banner.
    await page.getByRole("button", { name: "Stop impersonating" }).click();
    await banner(page).waitFor({ state: "detached" });
    expect(pathOf(page)).toBe("/team");
    expect(await header(page).textContent()).toContain("Tess Teamadmin");
    await context.close();
  });

  it("shows a member without admin rights the table, without buttons", async () => {
    const { context, page } = await signedInPage(browser, portal, "milo.member@demo.test");
    await page.goto(`${portal.url}/team`);
    await page.getByRole("heading", { name: "Acme Design" }).waitFor();
    expect(await page.getByRole("button", { name: /^Impersonate / }).count()).toBe(0);
    await context.close();
  });
});

describe("when the impersonated session ends on its own", () => {
  it("notices a revocation, goes back to the actor's session and says so", async () => {
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test");
    await page.getByRole("button", { name: "Impersonate Ivan Indie" }).waitFor();
    await impersonateFromConsole(page, "Ivan Indie");
    // Revoke it behind the page's back, as another tab or the API would: the browser's session
    // cookie holds the impersonated access token.
    const session = (await context.cookies(portal.url)).find(
      (cookie) => cookie.name === "portal_session",
    );
    expect(session).toBeDefined();
    const stopped = await fetch(`${portal.url}/api/sys/users/stop-impersonating`, {
      method: "POST",
      headers: { authorization: `Bearer ${decodeURIComponent(session!.value)}` },
    });
    expect(stopped.status).toBe(204);

    // The banner's next poll finds out.
    const notice = page.getByText("Your impersonation of Ivan Indie has ended.");
    await notice.waitFor({ timeout: 20_000 });
    expect(await banner(page).count()).toBe(0);
    expect(await header(page).textContent()).toContain("Ada Admin");
    await context.close();
  });

  it("brings the actor back when the next page load finds the session gone", async () => {
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test");
    await page.getByRole("button", { name: "Impersonate Milo Member" }).waitFor();
    await impersonateFromConsole(page, "Milo Member");
    const session = (await context.cookies(portal.url)).find(
      (cookie) => cookie.name === "portal_session",
    );
    const stopped = await fetch(`${portal.url}/api/sys/users/stop-impersonating`, {
      method: "POST",
      headers: { authorization: `Bearer ${decodeURIComponent(session!.value)}` },
    });
    expect(stopped.status).toBe(204);
    // Before any poll: a navigation finds no session, and the actor's own is restored.
    await page.goto(`${portal.url}/team`);
    await page.getByText("Your impersonation of Milo Member has ended.").waitFor();
    // Back on the page the impersonation started from, known from the server's grant.
    expect(pathOf(page)).toBe("/admin/impersonate");
    expect(await banner(page).count()).toBe(0);
    expect(await header(page).textContent()).toContain("Ada Admin");
    await context.close();
  });

  it("ends when the countdown reaches zero and says so", async () => {
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test");
    await page.getByRole("button", { name: "Impersonate Sam Second" }).waitFor();
    // The page's clock is ours from here: an hour can pass in a moment.
    await page.clock.install();
    await impersonateFromConsole(page, "Sam Second", { reason: "Clock test" });
    expect(await banner(page).textContent()).toContain("Viewing as Sam Second");
    await page.clock.fastForward("01:00:05");
    await page
      .getByText("Your impersonation of Sam Second has ended.")
      .waitFor({ timeout: 20_000 });
    expect(pathOf(page)).toBe("/admin/impersonate");
    expect(await banner(page).count()).toBe(0);
    await context.close();
  });
});
