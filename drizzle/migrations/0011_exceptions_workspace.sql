CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE TABLE "exception_comments" (
	"org_id" uuid NOT NULL,
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "exception_comments_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"exception_id" uuid NOT NULL,
	"author_id" uuid,
	"author_label" text NOT NULL,
	"body" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "exception_counts" (
	"org_id" uuid NOT NULL,
	"status" text NOT NULL,
	"severity" text NOT NULL,
	"occurred_on" date NOT NULL,
	"n" bigint NOT NULL,
	CONSTRAINT "exception_counts_org_id_status_severity_occurred_on_pk" PRIMARY KEY("org_id","status","severity","occurred_on")
);
--> statement-breakpoint
CREATE TABLE "exception_events" (
	"org_id" uuid NOT NULL,
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "exception_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"exception_id" uuid NOT NULL,
	"action" text NOT NULL,
	"actor_user_id" uuid,
	"actor_label" text NOT NULL,
	"data" jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "exception_policies" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"amount_medium" numeric(20, 4) DEFAULT '1000' NOT NULL,
	"amount_high" numeric(20, 4) DEFAULT '10000' NOT NULL,
	"age_step_days" integer[] DEFAULT '{30,60}'::integer[] NOT NULL,
	"sla_days_critical" integer DEFAULT 1 NOT NULL,
	"sla_days_high" integer DEFAULT 2 NOT NULL,
	"sla_days_medium" integer DEFAULT 5 NOT NULL,
	"sla_days_low" integer DEFAULT 10 NOT NULL,
	"stale_source_days" integer DEFAULT 3 NOT NULL,
	"write_off_account_id" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_by" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "exception_policies_amounts" CHECK ("exception_policies"."amount_medium" >= 0 and "exception_policies"."amount_high" >= "exception_policies"."amount_medium"),
	CONSTRAINT "exception_policies_sla" CHECK (least("exception_policies"."sla_days_critical", "exception_policies"."sla_days_high", "exception_policies"."sla_days_medium", "exception_policies"."sla_days_low") >= 0 and "exception_policies"."stale_source_days" >= 1)
);
--> statement-breakpoint
DROP INDEX "exceptions_org_status_idx";--> statement-breakpoint
DROP INDEX "exceptions_open_unmatched_key";--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "severity_rank" smallint GENERATED ALWAYS AS (case severity when 'critical' then 0 when 'high' then 1 when 'medium' then 2 else 3 end) STORED;--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "subject_key" text;--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "abs_amount" numeric(20, 4) GENERATED ALWAYS AS (coalesce(abs(amount), 0)) STORED;--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "occurred_on" date DEFAULT current_date NOT NULL;--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "journal_line_id" bigint;--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "match_id" uuid;--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "snoozed_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "resolution" text;--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "reason_code" text;--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "resolution_note" text;--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "resolved_by" uuid;--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "search_text" text GENERATED ALWAYS AS (lower(title || ' ' || coalesce(details->>'counterparty', '') || ' ' || coalesce(details->>'reference', ''))) STORED;--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "exception_comments" ADD CONSTRAINT "exception_comments_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exception_comments" ADD CONSTRAINT "exception_comments_exception_id_exceptions_id_fk" FOREIGN KEY ("exception_id") REFERENCES "public"."exceptions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exception_comments" ADD CONSTRAINT "exception_comments_author_id_users_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exception_counts" ADD CONSTRAINT "exception_counts_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exception_events" ADD CONSTRAINT "exception_events_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exception_events" ADD CONSTRAINT "exception_events_exception_id_exceptions_id_fk" FOREIGN KEY ("exception_id") REFERENCES "public"."exceptions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exception_policies" ADD CONSTRAINT "exception_policies_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exception_policies" ADD CONSTRAINT "exception_policies_write_off_account_id_accounts_id_fk" FOREIGN KEY ("write_off_account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exception_policies" ADD CONSTRAINT "exception_policies_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "exception_comments_exception_idx" ON "exception_comments" USING btree ("exception_id","id");--> statement-breakpoint
CREATE INDEX "exception_events_exception_idx" ON "exception_events" USING btree ("exception_id","id");--> statement-breakpoint
ALTER TABLE "exceptions" ADD CONSTRAINT "exceptions_resolved_by_users_id_fk" FOREIGN KEY ("resolved_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Exceptions raised before this migration: name their subject, day and resolution the new way
-- (row-level security is lifted for the owner while it rewrites every organisation's rows).
ALTER TABLE exceptions NO FORCE ROW LEVEL SECURITY;--> statement-breakpoint
UPDATE exceptions SET
  subject_key = CASE WHEN canonical_transaction_id IS NOT NULL THEN 'ct:' || canonical_transaction_id WHEN statement_id IS NOT NULL THEN 'statement:' || statement_id END,
  occurred_on = COALESCE((details->>'date')::date, raised_at::date),
  resolution = CASE WHEN status = 'resolved' THEN CASE details->>'resolution' WHEN 'matched by hand' THEN 'matched_manually' WHEN 'excluded by a rule' THEN 'excluded' ELSE 'matched' END END,
  resolved_at = CASE WHEN status = 'resolved' THEN COALESCE(resolved_at, raised_at) END;--> statement-breakpoint
CREATE INDEX "exceptions_queue_priority_idx" ON "exceptions" USING btree ("org_id","status","severity_rank","due_at","id");--> statement-breakpoint
CREATE INDEX "exceptions_queue_amount_idx" ON "exceptions" USING btree ("org_id","status","abs_amount","id");--> statement-breakpoint
CREATE INDEX "exceptions_queue_age_idx" ON "exceptions" USING btree ("org_id","status","occurred_on","id");--> statement-breakpoint
CREATE INDEX "exceptions_queue_raised_idx" ON "exceptions" USING btree ("org_id","status","raised_at","id");--> statement-breakpoint
CREATE INDEX "exceptions_search_idx" ON "exceptions" USING gin ("search_text" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "exceptions_snoozed_idx" ON "exceptions" USING btree ("org_id","snoozed_until") WHERE "exceptions"."status" = 'snoozed';--> statement-breakpoint
CREATE INDEX "exceptions_ct_idx" ON "exceptions" USING btree ("canonical_transaction_id") WHERE "exceptions"."canonical_transaction_id" is not null;--> statement-breakpoint
CREATE INDEX "exceptions_jl_idx" ON "exceptions" USING btree ("journal_line_id") WHERE "exceptions"."journal_line_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "exceptions_unresolved_subject_key" ON "exceptions" USING btree ("org_id","kind","subject_key") WHERE "exceptions"."status" <> 'resolved' and "exceptions"."subject_key" is not null;--> statement-breakpoint
ALTER TABLE "exceptions" ADD CONSTRAINT "exceptions_status" CHECK ("exceptions"."status" in ('open', 'snoozed', 'resolved'));--> statement-breakpoint
ALTER TABLE "exceptions" ADD CONSTRAINT "exceptions_snoozed_until" CHECK ("exceptions"."status" <> 'snoozed' or "exceptions"."snoozed_until" is not null);--> statement-breakpoint
ALTER TABLE "exceptions" ADD CONSTRAINT "exceptions_resolved" CHECK (("exceptions"."status" = 'resolved') = ("exceptions"."resolution" is not null and "exceptions"."resolved_at" is not null));--> statement-breakpoint
ALTER TABLE "exceptions" ADD CONSTRAINT "exceptions_resolution" CHECK ("exceptions"."resolution" in ('matched', 'matched_manually', 'explained', 'written_off', 'adjusted', 'excluded', 'cleared'));--> statement-breakpoint
-- The workspace's rules in the database: severity and deadlines from the organisation's policy,
-- a history row for every change whoever makes it, counts kept as rows change, nothing deleted.
CREATE FUNCTION exception_severity(p_amount numeric, p_occurred date, p_today date, p exception_policies) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT (ARRAY['low', 'medium', 'high', 'critical'])[1 + least(3,
    (CASE WHEN abs(coalesce(p_amount, 0)) >= p.amount_high THEN 2 WHEN abs(coalesce(p_amount, 0)) >= p.amount_medium THEN 1 ELSE 0 END)
    + (SELECT count(*)::int FROM unnest(p.age_step_days) AS step WHERE p_today - p_occurred > step))]
$$;
--> statement-breakpoint
CREATE FUNCTION exceptions_due() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE p exception_policies;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    NEW.updated_at := now();
    IF NEW.severity IS NOT DISTINCT FROM OLD.severity OR NEW.due_at IS DISTINCT FROM OLD.due_at THEN RETURN NEW; END IF;
  ELSIF NEW.due_at IS NOT NULL THEN
    RETURN NEW;
  END IF;
  SELECT * INTO p FROM exception_policies WHERE org_id = NEW.org_id;
  NEW.due_at := NEW.raised_at + make_interval(days => CASE NEW.severity
    WHEN 'critical' THEN coalesce(p.sla_days_critical, 1) WHEN 'high' THEN coalesce(p.sla_days_high, 2)
    WHEN 'medium' THEN coalesce(p.sla_days_medium, 5) ELSE coalesce(p.sla_days_low, 10) END);
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER exceptions_due BEFORE INSERT OR UPDATE ON exceptions FOR EACH ROW EXECUTE FUNCTION exceptions_due();
--> statement-breakpoint
-- Who acted: the transaction's user and label (set by inOrg), or "system" for a bare connection.
CREATE FUNCTION exceptions_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  actor_id uuid := nullif(current_setting('app.user_id', true), '')::uuid;
  actor text := coalesce(nullif(current_setting('app.actor', true), ''), 'system');
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO exception_events (org_id, exception_id, action, actor_user_id, actor_label, data)
    SELECT n.org_id, n.id, 'raised', actor_id, actor, jsonb_build_object('severity', n.severity, 'kind', n.kind) || CASE WHEN n.assignee_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('assignee', n.assignee_id) END
    FROM new_rows n;
    INSERT INTO exception_counts AS c (org_id, status, severity, occurred_on, n)
    SELECT org_id, status, severity, occurred_on, count(*) FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (org_id, status, severity, occurred_on) DO UPDATE SET n = c.n + excluded.n;
  ELSE
    INSERT INTO exception_events (org_id, exception_id, action, actor_user_id, actor_label, data)
    SELECT n.org_id, n.id,
      CASE WHEN n.status = 'resolved' AND o.status <> 'resolved' THEN 'resolved'
           WHEN o.status = 'resolved' AND n.status <> 'resolved' THEN 'reopened'
           WHEN n.status = 'snoozed' THEN 'snoozed'
           WHEN o.status = 'snoozed' THEN 'woke'
           WHEN n.assignee_id IS DISTINCT FROM o.assignee_id THEN 'assigned'
           ELSE 'severity_changed' END,
      actor_id, actor,
      jsonb_strip_nulls(jsonb_build_object(
        'status', CASE WHEN n.status <> o.status THEN jsonb_build_object('from', o.status, 'to', n.status) END,
        'severity', CASE WHEN n.severity <> o.severity THEN jsonb_build_object('from', o.severity, 'to', n.severity) END,
        'assignee', CASE WHEN n.assignee_id IS DISTINCT FROM o.assignee_id THEN jsonb_build_object('from', o.assignee_id, 'to', n.assignee_id) END,
        'snoozedUntil', CASE WHEN n.snoozed_until IS DISTINCT FROM o.snoozed_until THEN n.snoozed_until END,
        'resolution', CASE WHEN n.status = 'resolved' AND o.status <> 'resolved' THEN n.resolution END,
        'reasonCode', CASE WHEN n.status = 'resolved' AND o.status <> 'resolved' THEN n.reason_code END,
        'note', CASE WHEN n.resolution_note IS DISTINCT FROM o.resolution_note THEN n.resolution_note END))
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.status <> o.status OR n.severity <> o.severity OR n.assignee_id IS DISTINCT FROM o.assignee_id OR n.snoozed_until IS DISTINCT FROM o.snoozed_until;
    INSERT INTO exception_counts AS c (org_id, status, severity, occurred_on, n)
    SELECT org_id, status, severity, occurred_on, sum(d) FROM (
      SELECT n.org_id, n.status, n.severity, n.occurred_on, 1 AS d FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.status, n.severity, n.occurred_on) IS DISTINCT FROM (o.status, o.severity, o.occurred_on)
      UNION ALL
      SELECT o.org_id, o.status, o.severity, o.occurred_on, -1 FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.status, n.severity, n.occurred_on) IS DISTINCT FROM (o.status, o.severity, o.occurred_on)
    ) d GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (org_id, status, severity, occurred_on) DO UPDATE SET n = c.n + excluded.n;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER exceptions_history_insert AFTER INSERT ON exceptions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION exceptions_history();
--> statement-breakpoint
CREATE TRIGGER exceptions_history_update AFTER UPDATE ON exceptions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION exceptions_history();
--> statement-breakpoint
CREATE TRIGGER exceptions_no_delete BEFORE DELETE ON exceptions FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER exceptions_no_truncate BEFORE TRUNCATE ON exceptions FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE FUNCTION organisations_exception_policy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO exception_policies (org_id) VALUES (NEW.id);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER organisations_exception_policy AFTER INSERT ON organisations FOR EACH ROW EXECUTE FUNCTION organisations_exception_policy();
--> statement-breakpoint
INSERT INTO exception_policies (org_id) SELECT id FROM organisations;
--> statement-breakpoint
UPDATE exceptions e SET due_at = e.raised_at + make_interval(days => CASE e.severity WHEN 'critical' THEN p.sla_days_critical WHEN 'high' THEN p.sla_days_high WHEN 'medium' THEN p.sla_days_medium ELSE p.sla_days_low END)
FROM exception_policies p WHERE p.org_id = e.org_id;
--> statement-breakpoint
INSERT INTO exception_counts (org_id, status, severity, occurred_on, n)
SELECT org_id, status, severity, occurred_on, count(*) FROM exceptions GROUP BY 1, 2, 3, 4;
--> statement-breakpoint
ALTER TABLE exceptions FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT ON exception_comments, exception_events TO tieout_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON exception_counts, exception_policies TO tieout_app;
--> statement-breakpoint
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO tieout_app;
--> statement-breakpoint
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['exception_comments', 'exception_events', 'exception_counts', 'exception_policies'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I USING (org_id = (SELECT app_org_id())) WITH CHECK (org_id = (SELECT app_org_id()))', t || '_tenant', t);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['exception_comments', 'exception_events'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION refuse_change()', t || '_append_only', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()', t || '_no_truncate', t);
  END LOOP;
END $$;
