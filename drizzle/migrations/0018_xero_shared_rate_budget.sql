CREATE TABLE "xero_call_leases" (
	"lease" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"scope" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "xero_call_windows" (
	"scope" text NOT NULL,
	"bucket" bigint NOT NULL,
	"calls" integer NOT NULL,
	CONSTRAINT "xero_call_windows_scope_bucket_pk" PRIMARY KEY("scope","bucket")
);
--> statement-breakpoint
CREATE TABLE "xero_tenant_budgets" (
	"scope" text PRIMARY KEY NOT NULL,
	"day_start" timestamp with time zone NOT NULL,
	"day_calls" integer NOT NULL,
	"paused_until" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "xero_call_leases_scope_idx" ON "xero_call_leases" USING btree ("scope");--> statement-breakpoint
-- Xero's limits belong to the app (a client id) and to each Xero organisation it calls, while
-- Tieout may run several processes that call Xero (the Next server, npm start's job runner, any
-- number of Inngest workers). Until now each process kept its own count, so two processes could
-- together go over 60 a minute for one organisation or over the app's 10,000 a minute. These
-- functions make the budget one thing in the database: every call takes a slot here first.
--
-- xero_take_call answers 'granted' with a lease (give it back with xero_release_call), 'wait'
-- with the milliseconds until a slot can free up (a minute window full, or a Retry-After pause),
-- 'busy' when the organisation has its concurrent calls in flight elsewhere, or 'parked' with the
-- instant the organisation's daily allowance renews. One transaction-scoped advisory lock makes
-- the checks and the take a single step for every caller; it is held for the few statements
-- below. Minute windows are kept in buckets of a sixtieth of the window, and a bucket counts while
-- any call in it may still be inside the window, so the count can run over by at most one bucket,
-- never under. A lease expires after p_lease_ms so a process that dies mid-call frees its slot.
--
-- SECURITY DEFINER with a pinned search_path (the pattern of 0002): tieout_app has no grant on the
-- tables, which hold no organisation's data and no org_id.
CREATE FUNCTION xero_take_call(
  p_client text, p_tenant text, p_minute_ms integer, p_per_minute integer, p_app_per_minute integer,
  p_concurrent integer, p_day_ms bigint, p_per_day integer, p_lease_ms integer)
RETURNS TABLE (outcome text, lease_id uuid, wait_ms integer, until_at timestamptz, day_began timestamptz, day_count integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  t_scope text := p_client || '/' || lower(p_tenant);
  a_scope text := p_client || '/*';
  width bigint := greatest(1, p_minute_ms / 60);
  now_at timestamptz;
  now_ms bigint;
  first_live bigint;
  d public.xero_tenant_budgets%ROWTYPE;
  n bigint;
  oldest bigint;
  granted uuid;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('tieout.xero_take_call'));
  now_at := clock_timestamp();
  now_ms := floor(extract(epoch FROM now_at) * 1000)::bigint;
  first_live := (now_ms - p_minute_ms) / width;

  INSERT INTO public.xero_tenant_budgets (scope, day_start, day_calls) VALUES (t_scope, now_at, 0) ON CONFLICT (scope) DO NOTHING;
  SELECT * INTO d FROM public.xero_tenant_budgets WHERE scope = t_scope;
  IF now_at - d.day_start >= make_interval(secs => p_day_ms / 1000.0) THEN
    UPDATE public.xero_tenant_budgets SET day_start = now_at, day_calls = 0 WHERE scope = t_scope;
    d.day_start := now_at;
    d.day_calls := 0;
  END IF;
  IF d.day_calls >= p_per_day THEN
    RETURN QUERY SELECT 'parked', NULL::uuid, NULL::integer, d.day_start + make_interval(secs => p_day_ms / 1000.0), d.day_start, d.day_calls;
    RETURN;
  END IF;
  IF d.paused_until > now_at THEN
    RETURN QUERY SELECT 'wait', NULL::uuid, ceil(extract(epoch FROM d.paused_until - now_at) * 1000)::integer, d.paused_until, d.day_start, d.day_calls;
    RETURN;
  END IF;

  DELETE FROM public.xero_call_windows w WHERE w.scope IN (t_scope, a_scope) AND w.bucket < first_live;
  SELECT coalesce(sum(w.calls), 0), min(w.bucket) INTO n, oldest FROM public.xero_call_windows w WHERE w.scope = t_scope;
  IF n >= p_per_minute THEN
    RETURN QUERY SELECT 'wait', NULL::uuid, greatest(1, (oldest + 1) * width + p_minute_ms - now_ms)::integer, NULL::timestamptz, d.day_start, d.day_calls;
    RETURN;
  END IF;
  SELECT coalesce(sum(w.calls), 0), min(w.bucket) INTO n, oldest FROM public.xero_call_windows w WHERE w.scope = a_scope;
  IF n >= p_app_per_minute THEN
    RETURN QUERY SELECT 'wait', NULL::uuid, greatest(1, (oldest + 1) * width + p_minute_ms - now_ms)::integer, NULL::timestamptz, d.day_start, d.day_calls;
    RETURN;
  END IF;

  DELETE FROM public.xero_call_leases l WHERE l.scope = t_scope AND l.expires_at <= now_at;
  SELECT count(*) INTO n FROM public.xero_call_leases l WHERE l.scope = t_scope;
  IF n >= p_concurrent THEN
    RETURN QUERY SELECT 'busy', NULL::uuid, NULL::integer, NULL::timestamptz, d.day_start, d.day_calls;
    RETURN;
  END IF;

  INSERT INTO public.xero_call_windows AS w (scope, bucket, calls) VALUES (t_scope, now_ms / width, 1), (a_scope, now_ms / width, 1)
    ON CONFLICT (scope, bucket) DO UPDATE SET calls = w.calls + 1;
  UPDATE public.xero_tenant_budgets SET day_calls = day_calls + 1 WHERE scope = t_scope;
  INSERT INTO public.xero_call_leases (scope, expires_at) VALUES (t_scope, now_at + make_interval(secs => p_lease_ms / 1000.0)) RETURNING lease INTO granted;
  RETURN QUERY SELECT 'granted', granted, 0, NULL::timestamptz, d.day_start, d.day_calls + 1;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION xero_take_call(text, text, integer, integer, integer, integer, bigint, integer, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION xero_take_call(text, text, integer, integer, integer, integer, bigint, integer, integer) TO tieout_app;
--> statement-breakpoint
CREATE FUNCTION xero_release_call(p_lease uuid) RETURNS void
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$ DELETE FROM public.xero_call_leases WHERE lease = p_lease $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION xero_release_call(uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION xero_release_call(uuid) TO tieout_app;
--> statement-breakpoint
-- A 429's Retry-After: no call to that organisation from any process before it has passed.
CREATE FUNCTION xero_pause_tenant(p_client text, p_tenant text, p_ms integer) RETURNS void
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$ INSERT INTO public.xero_tenant_budgets AS b (scope, day_start, day_calls, paused_until)
   VALUES (p_client || '/' || lower(p_tenant), clock_timestamp(), 0, clock_timestamp() + make_interval(secs => p_ms / 1000.0))
   ON CONFLICT (scope) DO UPDATE SET paused_until = greatest(b.paused_until, excluded.paused_until) $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION xero_pause_tenant(text, text, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION xero_pause_tenant(text, text, integer) TO tieout_app;
