// No page scrolls sideways, at 375 px (a small phone) or at 1280 px (a laptop): every page of
// the portal, in the states that make it widest (a `signin.failed` row and a pager on the audit
// log, a pager on the console, a filled access history, the impersonation banner, the
// not-allowed page). Measured in the browser: the document, every element against the viewport
// and against the card it sits in, every scroll box, and every table caption against its table.
import { type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, exchange, impersonationToken, jsonBody } from "../test/ops-helpers";
import { type Portal, bearer, signIn, startPortal } from "../test/support/portal";
import { banner, DESKTOP, launchBrowser, newPage, PHONE, signedInPage } from "./support";

let portal: Portal;
let browser: Browser;

/** What overflows on the page as it is now, one line per problem (empty when it all fits). */
function overflows(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const root = document.documentElement;
    const viewport = root.clientWidth;
    // Sub-pixel layout rounds; half a pixel is no visible overflow.
    const slack = 0.5;
    const name = (element: Element) => {
      const id = element.id ? `#${element.id}` : "";
      const classes = [...element.classList].map((c) => `.${c}`).join("");
      const text = (element.textContent ?? "").trim().replace(/\s+/g, " ").slice(0, 40);
      return `<${element.tagName.toLowerCase()}${id}${classes}> "${text}"`;
    };
    const isScrollBox = (element: Element) =>
      !["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName) &&
      ["auto", "scroll"].includes(getComputedStyle(element).overflowX);
    // Visually hidden text (.sr-only, the phone table's header) is clipped to a pixel on purpose.
    const hidden = (element: Element) => {
      for (let at: Element | null = element; at; at = at.parentElement) {
        const style = getComputedStyle(at);
        if (style.clip !== "auto" || style.display === "none") return true;
      }
      return false;
    };

    if (root.scrollWidth > viewport)
      problems.push(`the document is ${root.scrollWidth} px wide in a ${viewport} px viewport`);

    for (const element of document.body.querySelectorAll("*")) {
      if (hidden(element)) continue;
      const box = element.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      let inScrollBox = false;
      for (let at = element.parentElement; at && at !== document.body; at = at.parentElement)
        if (isScrollBox(at)) inScrollBox = true;
      // Content of a scroll box is judged by the box itself (below), not by the viewport.
      if (!inScrollBox && (box.right > viewport + slack || box.left < -slack))
        problems.push(
          `${name(element)} spans ${Math.round(box.left)}..${Math.round(box.right)} px of a ${viewport} px viewport`,
        );
      const card = element.parentElement?.closest(".card");
      if (card && !inScrollBox) {
        // The card's content box: its padding is margin to look at, not room to spill into.
        const outer = card.getBoundingClientRect();
        const style = getComputedStyle(card);
        const left = outer.left + parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft);
        const right =
          outer.right - parseFloat(style.borderRightWidth) - parseFloat(style.paddingRight);
        if (box.right > right + slack || box.left < left - slack)
          problems.push(
            `${name(element)} spans ${Math.round(box.left)}..${Math.round(box.right)} px, past its card's content (${Math.round(left)}..${Math.round(right)})`,
          );
      }
      // No box of the portal is meant to scroll sideways: tables fit, or turn into rows of cards.
      if (isScrollBox(element) && element.scrollWidth > element.clientWidth)
        problems.push(
          `${name(element)} scrolls sideways: content ${element.scrollWidth} px in a ${element.clientWidth} px box`,
        );
    }

    // A caption as wide as its table, not squeezed into a column beside or above it.
    for (const caption of document.querySelectorAll("caption")) {
      if (hidden(caption)) continue;
      const table = caption.closest("table")!.getBoundingClientRect();
      const own = caption.getBoundingClientRect();
      if (own.width < table.width * 0.9)
        problems.push(
          `${name(caption)} is ${Math.round(own.width)} × ${Math.round(own.height)} px under a ${Math.round(table.width)} px table`,
        );
    }
    return problems;
  });
}

/** Waits for fonts and the last render, then asserts nothing overflows. */
async function expectFits(page: Page, where: string): Promise<void> {
  await page.evaluate(() => document.fonts.ready);
  expect(await overflows(page), `${where} at ${page.viewportSize()?.width} px`).toEqual([]);
}

const widths = [
  ["375 px", PHONE],
  ["1280 px", DESKTOP],
] as const;

beforeAll(async () => {
  [portal, browser] = await Promise.all([startPortal(), launchBrowser()]);
  // The audit log at its widest: enough events for a second page (20 a page), a long reason,
  // and (below, last, so on the first page) a failed sign-in.
  for (let index = 0; index < 22; index++) await signIn(portal, "ada.admin@demo.test");
  // Milo's access history: one ended staff impersonation with a reason people typed.
  const otto = await signIn(portal, "otto.operator@demo.test");
  const session = await exchange(
    portal,
    await impersonationToken(portal, otto, 42, {
      reason: "Ticket 4711: the member cannot see their booking for next Tuesday's desk",
    }),
  );
  const stopped = await call(portal, "/api/sys/users/stop-impersonating", {
    method: "POST",
    headers: bearer(session),
  });
  expect(stopped.status).toBe(204);
  // A failed sign-in of a known account (so it belongs to a location's log): no target, refused,
  // a reason code in its detail.
  const failed = await call(
    portal,
    "/api/token",
    jsonBody({ grant_type: "password", username: "ada.admin@demo.test", password: "wrong-pass" }),
  );
  expect(failed.status).toBe(400);
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
});

describe.each(widths)("at %s", (_label, viewport) => {
  it("fits the sign-in page", async () => {
    const { context, page } = await newPage(browser, viewport);
    await page.goto(`${portal.url}/sign-in`);
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await expectFits(page, "/sign-in");
    await context.close();
  });

  it("fits the admin's home, console (with its pager) and audit log (two pages)", async () => {
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test", viewport);
    await page.goto(`${portal.url}/`);
    await page.getByRole("heading", { level: 1 }).waitFor();
    await expectFits(page, "/");

    await page.goto(`${portal.url}/admin/impersonate`);
    const consolePager = page.getByRole("navigation", { name: "Search result pages" });
    await consolePager.getByRole("button", { name: "Next page" }).waitFor();
    await page.locator("tbody tr").first().waitFor();
    await expectFits(page, "/admin/impersonate");

    await page.goto(`${portal.url}/admin/audit`);
    const auditPager = page.getByRole("navigation", { name: "Audit log pages" });
    const next = auditPager.getByRole("button", { name: "Next page" });
    await next.waitFor();
    await page.locator('td[data-label="Type"]', { hasText: "signin.failed" }).first().waitFor();
    expect(await next.isEnabled()).toBe(true);
    await expectFits(page, "/admin/audit");
    await next.click();
    await auditPager.getByText("Page 2").waitFor();
    await page.locator("tbody tr").first().waitFor();
    await expectFits(page, "/admin/audit, page 2");

    // Sign-in security, with the enrolment's QR code and secret showing (not confirmed: the
    // account stays as it was for the other tests).
    await page.goto(`${portal.url}/account/security`);
    await page.getByRole("button", { name: "Set up a one-time-code app" }).click();
    await page.getByRole("img", { name: /QR code/ }).waitFor();
    await expectFits(page, "/account/security");
    await context.close();
  });

  it("fits the team table of a team admin", async () => {
    const { context, page } = await signedInPage(
      browser,
      portal,
      "tess.teamadmin@demo.test",
      viewport,
    );
    await page.goto(`${portal.url}/team`);
    await page.getByRole("table").first().waitFor();
    await expectFits(page, "/team");
    await context.close();
  });

  it("fits a member's home and access history, and the not-allowed page", async () => {
    const { context, page } = await signedInPage(
      browser,
      portal,
      "milo.member@demo.test",
      viewport,
    );
    await expectFits(page, "/");
    await page.goto(`${portal.url}/account/access`);
    await page.getByRole("table").waitFor();
    await expectFits(page, "/account/access");
    await page.goto(`${portal.url}/admin/audit`);
    await page.getByRole("heading", { name: "Not allowed" }).waitFor();
    await expectFits(page, "not allowed");
    await context.close();
  });

  it("fits every page under the impersonation banner", async () => {
    const { context, page } = await signedInPage(browser, portal, "ada.admin@demo.test", viewport);
    await page.goto(`${portal.url}/admin/impersonate`);
    await page.getByLabel("Search coworkers").fill("milo");
    await page
      .getByLabel("Reason")
      .fill("Layout check: a reason long enough to wrap in the banner");
    await page.getByRole("button", { name: "Impersonate Milo Member" }).click();
    await page.waitForURL((url) => url.pathname === "/");
    await banner(page).waitFor();
    await expectFits(page, "/ impersonating");
    await page.goto(`${portal.url}/team`);
    await banner(page).waitFor();
    await expectFits(page, "/team impersonating");
    await page.goto(`${portal.url}/account/access`);
    await banner(page).waitFor();
    await expectFits(page, "/account/access impersonating");
    await page.getByRole("button", { name: "Stop impersonating" }).click();
    await page.waitForURL((url) => url.pathname === "/admin/impersonate");
    await context.close();
  });
});

it("has a favicon", async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${portal.url}/sign-in`);
  const href = await page.locator('link[rel="icon"]').first().getAttribute("href");
  expect(href).toBeTruthy();
  const icon = await fetch(new URL(href!, portal.url));
  expect(icon.status).toBe(200);
  expect(icon.headers.get("content-type")).toMatch(/^image\//);
  await context.close();
});
