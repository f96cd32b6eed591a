// The screens of CONTRACT §8 and §11 in Chromium: an admin requires staff consent at
// /admin/policy, a member allows support access at /account/access, staff impersonate under that
// consent, an admin ends the session at /admin/sessions, and the member revokes the grant.
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

describe("policy, consent and live sessions", () => {
  it("takes an admin, a member and an operator through the three screens", async () => {
    // The admin asks for staff consent.
    const admin = await signedInPage(browser, portal, "ada.admin@demo.test");
    await admin.page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Policy" })
      .click();
    await admin.page.waitForURL((url) => url.pathname === "/admin/policy");
    for (const field of [
      "impersonation",
      "staffConsent",
      "teamConsent",
      "justification",
      "notifyMember",
      "maxSessionMinutes",
      "allowFullMode",
    ]) {
      await expect(admin.page.getByLabel(field, { exact: true }).count(), field).resolves.toBe(1);
    }
    await admin.page.getByLabel("staffConsent", { exact: true }).selectOption("required");
    await admin.page.getByRole("button", { name: "Save policy" }).click();
    await admin.page.getByText("Policy saved.").waitFor();
    await screenshot(admin.page, "policy");

    // Without consent the operator is refused, in words.
    const operator = await signedInPage(browser, portal, "otto.operator@demo.test");
    await operator.page.goto(`${portal.url}/admin/impersonate`);
    await operator.page.getByLabel("Search coworkers").fill("milo");
    await operator.page.getByRole("button", { name: "Impersonate Milo Member" }).click();
    await operator.page.getByText("This member has not allowed support access.").waitFor();

    // The member allows staff in, for four hours, in full.
    const member = await signedInPage(browser, portal, "milo.member@demo.test");
    await member.page.goto(`${portal.url}/account/access`);
    await member.page.getByLabel("Who").selectOption("staff");
    await member.page.getByLabel("How long").selectOption("4");
    await member.page.getByLabel("Mode").selectOption("full");
    await member.page.getByRole("button", { name: "Allow support access" }).click();
    const grants = member.page.getByRole("region", { name: "Support access you allow" });
    await grants.getByRole("button", { name: "Revoke", exact: true }).waitFor();

    // Now the operator gets in, with a category and a ticket the banner shows.
    await operator.page.getByLabel("Reason", { exact: true }).fill("Cannot book a room");
    await operator.page.getByLabel("Category").selectOption("member_request");
    await operator.page.getByLabel("Ticket").fill("HD-42");
    await operator.page.getByRole("button", { name: "Impersonate Milo Member" }).click();
    await operator.page.waitForURL((url) => url.pathname === "/");
    await expect(banner(operator.page).textContent()).resolves.toContain("Ticket: HD-42");
    await expect(banner(operator.page).textContent()).resolves.toContain(
      "Category: Member request",
    );

    // The member sees the live session; the admin ends it from /admin/sessions.
    await member.page.reload();
    const live = member.page.getByRole("region", { name: "In your account now" });
    await live.getByRole("button", { name: "End now" }).waitFor();
    await expect(live.getByRole("row").nth(1).textContent()).resolves.toContain("Otto Operator");

    await admin.page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Live sessions" })
      .click();
    await admin.page.waitForURL((url) => url.pathname === "/admin/sessions");
    await screenshot(admin.page, "sessions");
    await admin.page.getByRole("button", { name: "End session Milo Member" }).click();
    await admin.page.getByText("Nobody is impersonating anyone now.").waitFor();

    // The operator's impersonation is over: the banner takes them back (it polls the session).
    await operator.page.waitForURL((url) => url.pathname !== "/", { timeout: 30_000 });
    await expect(banner(operator.page).count()).resolves.toBe(0);

    await member.page.reload();
    await member.page.getByText("Nobody is viewing the portal as you now.").waitFor();
    await screenshot(member.page, "account-access");
    await grants.getByRole("button", { name: "Revoke", exact: true }).click();
    await member.page.getByText("You allow no support access now.").waitFor();

    for (const opened of [admin, operator, member]) await opened.context.close();
  });

  it("shows members and operators a clear 'not allowed' on the admin screens", async () => {
    for (const email of ["milo.member@demo.test", "otto.operator@demo.test"]) {
      const { context, page } = await signedInPage(browser, portal, email);
      for (const path of ["/admin/policy", "/admin/sessions"]) {
        await page.goto(`${portal.url}${path}`);
        await page.getByRole("heading", { name: "Not allowed" }).waitFor();
      }
      await context.close();
    }
  });
});
