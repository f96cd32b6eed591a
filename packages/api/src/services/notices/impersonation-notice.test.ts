// The notice of an entry and its mail are written by the exchange itself, in its statement: one
// of each for a successful exchange, none for a refused one, names escaped in the HTML, and no
// token or sign-in link anywhere in the mail.
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../../testing";
import { expectRefused } from "../../testing-refusals";
import { NOTICE_MAIL_SUBJECT } from "./impersonation-notice";

interface NoticeRow {
  id: number;
  user_id: number;
  coworker_id: number;
  session_id: string;
  text: string;
  read_at: Date | null;
}
interface MailRow {
  notice_id: number;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string;
  attempts: number;
  sent_at: Date | null;
}

let api: TestApi;
let otto: string;
let tess: string;

// A name and a reason that would be markup if they reached the HTML unescaped.
const HOSTILE_NAME = `Otto <img src=x onerror="alert('o')"> & Co`;
const HOSTILE_REASON = `Billing <script>alert("r")</script> & 'refund'`;

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
  await rows(sql`update users set full_name = ${HOSTILE_NAME} where id = 2`);
  otto = await api.signIn("otto.operator@demo.test");
  tess = await api.signIn("tess.teamadmin@demo.test");
});
afterAll(() => api.close());

const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);
const noticesOf = (userId: number) =>
  rows<NoticeRow>(sql`select * from notices where user_id = ${userId} order by id`);
const mailsOf = (userId: number) =>
  rows<MailRow>(
    sql`select m.* from mail_outbox m join notices n on n.id = m.notice_id where n.user_id = ${userId} order by m.id`,
  );
const counts = async () =>
  (
    await rows<{ notices: number; mails: number }>(
      sql`select (select count(*)::int from notices) as notices, (select count(*)::int from mail_outbox) as mails`,
    )
  )[0]!;

async function issue(
  actor: string,
  coworkerId: number,
  input: { reason?: string; readOnly?: boolean } = {},
) {
  const caller = await api.caller(actor);
  return actor === tess
    ? caller.impersonation.impersonateTeamMember({ coworkerId, ...input })
    : caller.impersonation.impersonate({ coworkerId, ...input });
}

describe("a successful exchange", () => {
  it("writes one notice naming the actor, the time, the reason and the mode, and one mail saying the same", async () => {
    const { token } = await issue(otto, 43, { reason: HOSTILE_REASON });
    const before = new Date();
    const exchanged = await (await api.caller(null)).impersonation.exchange({ token });

    const [notice, ...more] = await noticesOf(5);
    expect(more).toEqual([]);
    expect(notice).toMatchObject({ user_id: 5, coworker_id: 43, read_at: null });
    const [session] = await rows<{ id: string }>(
      sql`select id from sessions where grant_jti is not null and user_id = 5`,
    );
    expect(notice!.session_id).toBe(session!.id);
    // The location's local time (Downtown Hub: Europe/London), its zone named.
    const local = new Intl.DateTimeFormat("sv-SE", {
      timeZone: "Europe/London",
      dateStyle: "short",
      timeStyle: "short",
    });
    const at = (date: Date) => `${local.format(date)} (Europe/London)`;
    expect([at(before), at(new Date())]).toContain(
      /on (\d{4}-\d\d-\d\d \d\d:\d\d \(Europe\/London\))/.exec(notice!.text)?.[1],
    );
    expect(notice!.text).toBe(
      `${HOSTILE_NAME} (staff) entered your account on ${/on (.+\)) in/.exec(notice!.text)![1]} in full mode. Reason: "${HOSTILE_REASON}".`,
    );

    const [mail, ...moreMail] = await mailsOf(5);
    expect(moreMail).toEqual([]);
    expect(mail).toMatchObject({
      notice_id: notice!.id,
      to_address: "nora.nomad@demo.test",
      subject: NOTICE_MAIL_SUBJECT,
      attempts: 0,
      sent_at: null,
    });
    expect(mail!.text_body).toContain(notice!.text);
    expect(mail!.text_body).toMatch(/^Hello Nora Nomad,/);
    // The HTML says the same, every name and the reason escaped.
    expect(mail!.html_body).toContain(
      "Otto &lt;img src=x onerror=&quot;alert(&#39;o&#39;)&quot;&gt; &amp; Co (staff)",
    );
    expect(mail!.html_body).toContain(
      "Billing &lt;script&gt;alert(&quot;r&quot;)&lt;/script&gt; &amp; &#39;refund&#39;",
    );
    expect(mail!.html_body).not.toContain("<img");
    expect(mail!.html_body).not.toContain("<script");
    // No token, and no link of any kind.
    for (const body of [mail!.text_body, mail!.html_body, mail!.subject]) {
      expect(body).not.toContain(token);
      expect(body).not.toContain(exchanged.accessToken!);
      expect(body).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
      expect(body).not.toMatch(/https?:|<a\b|href/i);
    }
  });

  it("names a read-only mode, a team admin, and a missing reason", async () => {
    const { token } = await issue(tess, 42, { readOnly: true });
    await (await api.caller(null)).impersonation.exchange({ token });
    const [notice] = await noticesOf(4);
    expect(notice!.text).toMatch(
      /^Tess Teamadmin \(team admin\) entered your account on \d{4}-\d\d-\d\d \d\d:\d\d \(Europe\/London\) in read-only mode\. Reason: none given\.$/,
    );
    const [mail] = await mailsOf(4);
    expect(mail!.to_address).toBe("milo.member@demo.test");
  });

  it("writes its time in UTC, named so, when the location's zone is unknown to the database", async () => {
    await rows(sql`update locations set time_zone = 'Mars/Olympus_Mons' where id = 1`);
    try {
      const { token } = await issue(otto, 42);
      await (await api.caller(null)).impersonation.exchange({ token });
      const notices = await noticesOf(4);
      expect(notices.at(-1)!.text).toMatch(/on \d{4}-\d\d-\d\d \d\d:\d\d \(UTC\) in full mode/);
    } finally {
      await rows(sql`update locations set time_zone = 'Europe/London' where id = 1`);
    }
  });
});

describe("a refused exchange", () => {
  it("writes no notice and no mail: replayed, garbled, or the actor signed out in between", async () => {
    const { token } = await issue(otto, 43);
    await (await api.caller(null)).impersonation.exchange({ token });
    const after = await counts();

    await expectRefused(
      (async () => (await api.caller(null)).impersonation.exchange({ token }))(),
      401,
      "invalid_token",
      "replay",
    );
    await expectRefused(
      (async () => (await api.caller(null)).impersonation.exchange({ token: `${token}x` }))(),
      401,
      "invalid_token",
      "tampered",
    );
    const ada = await api.signIn("ada.admin@demo.test");
    const { token: orphan } = await (
      await api.caller(ada)
    ).impersonation.impersonate({
      coworkerId: 43,
    });
    await (await api.caller(ada)).auth.signOut();
    await expectRefused(
      (async () => (await api.caller(null)).impersonation.exchange({ token: orphan }))(),
      401,
      "invalid_token",
      "actor signed out",
    );
    expect(await counts()).toEqual(after);
  });

  it("of one token exchanged concurrently, writes exactly one notice and one mail", async () => {
    const { token } = await issue(otto, 43);
    const before = await counts();
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, async () =>
        (await api.caller(null)).impersonation.exchange({ token }),
      ),
    );
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    expect(await counts()).toEqual({ notices: before.notices + 1, mails: before.mails + 1 });
  });
});
