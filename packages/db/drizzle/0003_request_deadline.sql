-- A request's deadline, enforced where its effects happen. The service answers 503 when a
-- request has no answer in time; a statement that reaches PostgreSQL after that (queued by the
-- driver during an outage, or held by the network) must then change nothing. Every statement
-- that writes passes the request's deadline here: past it, the statement fails with
-- query_canceled (57014) and its transaction, whatever it had done, rolls back.
CREATE FUNCTION "before_deadline"("deadline" timestamptz) RETURNS boolean
  LANGUAGE plpgsql VOLATILE PARALLEL SAFE
  AS $$
BEGIN
  IF "deadline" IS NOT NULL AND clock_timestamp() > "deadline" THEN
    RAISE EXCEPTION 'the request''s deadline passed before this statement ran'
      USING ERRCODE = 'query_canceled';
  END IF;
  RETURN true;
END
$$;
