// The notice of an entry into a member's account (CONTRACT §8) and the mail that says the same:
// composed and written inside the exchange's own statement (exchange.ts), so that the notice
// exists exactly when the impersonated session does, and the exchange never waits for a mail
// server (the mail waits in the outbox for the mail worker, mail/worker.ts).
//
// What the mail must never carry: a token, or a link that signs anyone in. It carries no link at
// all (a mail that says "someone entered your account" is what phishing imitates; the member
// finds the details in the portal they already know). Every name and the reason are escaped in
// the HTML body by html_escape (migration 0007).
import { sql } from "drizzle-orm";

/** The subject of every notice mail: fixed text, so that no name can reach a mail header. */
export const NOTICE_MAIL_SUBJECT = "Your coworking portal account was accessed";

/**
 * The CTEs that write the notice and its mail, to follow the exchange's `g` (the consumed grant)
 * and `s` (the new session) CTEs. The notice's text names the actor's full name, the time (in
 * the location's zone, named), the mode and the reason; the mail says the same to the member's
 * email address.
 */
export const noticeOfEntry = sql`n as (
          insert into notices (user_id, coworker_id, session_id, text)
          select g.target_user_id, g.coworker_id, s.id,
            format('%s (%s) entered your account on %s in %s mode. Reason: %s.',
              actor.full_name,
              case g.kind when 'staff' then 'staff' else 'team admin' end,
              local_time_text(now(), l.time_zone),
              case when g.read_only then 'read-only' else 'full' end,
              coalesce('"' || g.reason || '"', 'none given'))
          from g
          join s on true
          join users actor on actor.id = g.actor_user_id
          join locations l on l.id = g.location_id
          -- The location's notifyMember (every location has a policy row; the default is on).
          where coalesce((select p.notify_member from location_policies p
                          where p.location_id = g.location_id), true)
          returning id, user_id, coworker_id, text
        ), m as (
          insert into mail_outbox (notice_id, to_address, subject, text_body, html_body)
          select n.id, member.email, ${NOTICE_MAIL_SUBJECT},
            'Hello ' || c.full_name || ',' || chr(10) || chr(10) || n.text || chr(10) || chr(10)
              || 'While someone is in your account they see the portal as you see it. '
              || 'Every access is listed under "Access history" in the portal. '
              || 'If you did not expect this one, tell the staff of your location.' || chr(10),
            '<!doctype html><html><body>'
              || '<p>Hello ' || html_escape(c.full_name) || ',</p>'
              || '<p style="white-space:pre-wrap">' || html_escape(n.text) || '</p>'
              || '<p>While someone is in your account they see the portal as you see it. '
              || 'Every access is listed under &quot;Access history&quot; in the portal. '
              || 'If you did not expect this one, tell the staff of your location.</p>'
              || '</body></html>'
          from n
          join users member on member.id = n.user_id
          join coworkers c on c.id = n.coworker_id
        )`;
