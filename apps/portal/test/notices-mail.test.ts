// Member notices through the started portal (production build): with SMTP_URL set, an exchange
// over HTTP ends as one mail at a real SMTP server on loopback, sent by the server's own worker;
// without it, production says so once at start, and the development outbox page is not there.
import { startSmtpReceiver, type SmtpReceiver } from "@cowork/api/testing-smtp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, call, exchange, impersonationToken, signIn } from "./ops-helpers";
import { startPortal, type Portal } from "./support/portal";

const NOT_SET = "SMTP_URL is not set";

interface LogLine {
  level?: string;
  msg?: string;
}
const lines = (portal: Portal) =>
  portal
    .logs()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as LogLine);

describe("with SMTP_URL set", () => {
  let smtp: SmtpReceiver;
  let portal: Portal;
  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    portal = await startPortal({
      env: { SMTP_URL: smtp.url, MAIL_FROM: "Portal <portal@portal.test>" },
    });
  });
  afterAll(async () => {
    await portal?.stop();
    await smtp?.close();
  });

  it("mails the member once when their account is entered, with no token in the mail", async () => {
    const otto = await signIn(portal, "otto.operator@demo.test");
    const token = await impersonationToken(portal, otto, 42, { reason: "printer <jam>" });
    const session = await exchange(portal, token);

    const deadline = Date.now() + 15_000;
    while (smtp.received.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(smtp.received).toHaveLength(1);
    const [mail] = smtp.received;
    expect(mail!.rcptTo).toEqual(["milo.member@demo.test"]);
    expect(mail!.mailFrom).toBe("portal@portal.test");
    expect(mail!.parsed.subject).toBe("Your coworking portal account was accessed");
    expect(mail!.parsed.text).toMatch(
      /Otto Operator \(staff\) entered your account on \d{4}-\d\d-\d\d \d\d:\d\d \(Europe\/London\) in full mode\. Reason: "printer <jam>"\./,
    );
    expect(String(mail!.parsed.html)).toContain("&quot;printer &lt;jam&gt;&quot;");
    for (const secret of [token, session]) expect(mail!.raw).not.toContain(secret);

    // The same words in the member's notices; the impersonated session may not read them.
    const milo = await signIn(portal, "milo.member@demo.test");
    const notices = await call<{ items: { text: string; readAt: string | null }[] }>(
      portal,
      "/api/public/coworkers/notices",
      { headers: bearer(milo) },
    );
    expect(notices.status).toBe(200);
    expect(notices.body.items).toHaveLength(1);
    expect(mail!.parsed.text).toContain(notices.body.items[0]!.text);
    expect(
      (await call(portal, "/api/public/coworkers/notices", { headers: bearer(session) })).status,
    ).toBe(403);
    expect(lines(portal).filter((line) => line.msg?.includes(NOT_SET))).toEqual([]);
  });
});

describe("without SMTP_URL, in production", () => {
  let portal: Portal;
  beforeAll(async () => {
    portal = await startPortal({ env: { SMTP_URL: "" } });
  });
  afterAll(() => portal?.stop());

  it("warns once at start that mail will not be sent, and has no outbox page", async () => {
    const warnings = lines(portal).filter((line) => line.msg?.includes(NOT_SET));
    expect(warnings).toMatchObject([{ level: "warn" }]);
    const page = await fetch(`${portal.url}/dev/mail`);
    expect(page.status).toBe(404);
    expect(await page.text()).not.toContain("Mail outbox");
  });
});
