CREATE TABLE "throttle_hits" (
	"key" text NOT NULL,
	"seq" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"pending_until" timestamp with time zone,
	CONSTRAINT "throttle_hits_key_seq_pk" PRIMARY KEY("key","seq")
);
--> statement-breakpoint
CREATE TABLE "throttle_log" (
	"key" text PRIMARY KEY NOT NULL,
	"next_seq" bigint DEFAULT 1 NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
DROP TABLE "throttle_counters" CASCADE;--> statement-breakpoint
CREATE INDEX "throttle_log_expires_idx" ON "throttle_log" USING btree ("expires_at");--> statement-breakpoint
-- Sliding-log throttling (packages/api/src/services/throttle.ts says why a log, not a counter).
-- Takes one place for an attempt under every key of it (an account and a client address), all
-- or nothing: admitted only when each key has fewer than `p_limit` hits in the last
-- `p_window_s` seconds; then a hit with the attempt's time is added under every key, otherwise
-- nothing is written. The keys' heads are locked in sorted order, so attempts that share keys
-- never deadlock, and the time is read from the database clock only once every lock is held: a
-- key's hits are numbered in the order of their times, in every process, so the hit `p_limit`
-- places before the new one decides: inside the window, the last `p_limit` hits all are.
-- With `p_hold_s` > 0 the new hit is pending (its attempt is still being decided) for at most
-- that long; a key that is full only because of pending hits answers 'busy' (try again in a
-- moment: a place may be given back), one full of decided hits 'refused'.
-- `retry_after_s` (when refused): seconds until the deciding hit leaves the window under every
-- key that refused (at least 1, at most the window). `hit_at`: the attempt's time, exact to the
-- microsecond (ISO text in UTC), with which the caller settles its place.
CREATE FUNCTION "throttle_take"(
  "p_keys" text[],
  "p_window_s" double precision,
  "p_limit" integer,
  "p_hold_s" double precision
) RETURNS TABLE ("outcome" text, "hit_at" text, "retry_after_s" integer)
  LANGUAGE plpgsql VOLATILE
  AS $$
declare
  v_keys text[] := array(select distinct k from unnest(p_keys) as k order by k);
  v_window interval := make_interval(secs => p_window_s);
  v_key text;
  v_now timestamptz;
  v_next bigint;
  v_deciding timestamptz;
  v_refused boolean := false;
  v_busy boolean := false;
  v_wait double precision := 0;
begin
  foreach v_key in array v_keys loop
    loop
      perform 1 from throttle_log where key = v_key for update;
      exit when found;
      -- A new key: the inserted head is this transaction's until it commits. Lost to a
      -- concurrent insert (or that head pruned meanwhile): lock again.
      insert into throttle_log (key, expires_at) values (v_key, clock_timestamp())
        on conflict (key) do nothing;
      exit when found;
    end loop;
  end loop;
  v_now := clock_timestamp();
  foreach v_key in array v_keys loop
    -- No such hit: it was deleted as out of the window (or never was), and so is every older one.
    select l.next_seq, h.at into v_next, v_deciding
      from throttle_log l join throttle_hits h on h.key = l.key and h.seq = l.next_seq - p_limit
      where l.key = v_key;
    if found and v_deciding > v_now - v_window then
      if exists (select 1 from throttle_hits h
                 where h.key = v_key and h.seq >= v_next - p_limit and h.pending_until > v_now) then
        v_busy := true;
      else
        v_refused := true;
        v_wait := greatest(v_wait, extract(epoch from (v_deciding + v_window - v_now)));
      end if;
    end if;
  end loop;
  if v_refused or v_busy then
    return query select case when v_refused then 'refused' else 'busy' end,
      to_char(v_now at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
      case when v_refused then least(greatest(1, ceil(v_wait)), ceil(p_window_s))::integer else 1 end;
    return;
  end if;
  insert into throttle_hits (key, seq, at, pending_until)
    select l.key, l.next_seq, v_now,
      case when p_hold_s > 0 then v_now + make_interval(secs => p_hold_s) end
    from throttle_log l where l.key = any (v_keys)
    on conflict (key, seq) do update set at = excluded.at, pending_until = excluded.pending_until;
  update throttle_log l set next_seq = l.next_seq + 1, expires_at = v_now + v_window
    where l.key = any (v_keys);
  -- The hit that decided this take had left the window, and so had every older one: no take
  -- reads them again.
  delete from throttle_hits h using throttle_log l
    where l.key = any (v_keys) and h.key = l.key and h.seq < l.next_seq - p_limit;
  return query select 'admitted', to_char(v_now at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 0;
end
$$;
--> statement-breakpoint
-- Settles the pending place `throttle_take` took at `p_at` under every key: `p_counts` true, it
-- counts from now on as any other hit (a wrong password); false, it is given back (a correct
-- one): its hit is deleted and the later hits move down one number, so that the numbering stays
-- gapless and in the order of the times. Every change to a key's hits is made under its head's
-- lock, taken in sorted order as by a take, so settling never deadlocks with anything.
CREATE FUNCTION "throttle_settle"("p_keys" text[], "p_at" timestamptz, "p_counts" boolean)
  RETURNS void
  LANGUAGE plpgsql VOLATILE
  AS $$
declare
  v_key text;
  v_seq bigint;
begin
  foreach v_key in array array(select distinct k from unnest(p_keys) as k order by k) loop
    perform 1 from throttle_log where key = v_key for update;
    continue when not found;
    if p_counts then
      update throttle_hits set pending_until = null where key = v_key and at = p_at;
      continue;
    end if;
    delete from throttle_hits
      where key = v_key
        and seq = (select max(h.seq) from throttle_hits h where h.key = v_key and h.at = p_at)
      returning seq into v_seq;
    continue when v_seq is null;
    -- Through negative numbers, so that no two hits ever share one (the key is unique).
    update throttle_hits set seq = -(seq - 1) where key = v_key and seq > v_seq;
    update throttle_hits set seq = -seq where key = v_key and seq < 0;
    update throttle_log set next_seq = next_seq - 1 where key = v_key;
  end loop;
end
$$;
