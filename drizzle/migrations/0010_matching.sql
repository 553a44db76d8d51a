CREATE TABLE "match_feedback" (
	"org_id" uuid NOT NULL,
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "match_feedback_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"match_id" uuid NOT NULL,
	"decision" text NOT NULL,
	"signals" jsonb NOT NULL,
	"confidence" numeric(6, 5) NOT NULL,
	"actor_user_id" uuid,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "match_feedback_decision" CHECK ("match_feedback"."decision" in ('accept', 'reject', 'unmatch'))
);
--> statement-breakpoint
CREATE TABLE "match_members" (
	"org_id" uuid NOT NULL,
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "match_members_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"match_id" uuid NOT NULL,
	"pairing" text NOT NULL,
	"side" text NOT NULL,
	"canonical_transaction_id" bigint,
	"journal_line_id" bigint,
	"amount" numeric(20, 4) NOT NULL,
	"record_date" date NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	CONSTRAINT "match_members_one_record" CHECK (("match_members"."canonical_transaction_id" is null) <> ("match_members"."journal_line_id" is null)),
	CONSTRAINT "match_members_side" CHECK ("match_members"."side" in ('left', 'right')),
	CONSTRAINT "match_members_pairing" CHECK ("match_members"."pairing" in ('ledger', 'source'))
);
--> statement-breakpoint
CREATE TABLE "match_rule_outcomes" (
	"org_id" uuid NOT NULL,
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "match_rule_outcomes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" uuid NOT NULL,
	"rule_id" uuid NOT NULL,
	"side" text NOT NULL,
	"record_key" text NOT NULL,
	"action" jsonb NOT NULL,
	"draft_id" uuid,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "match_runs" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source_id" uuid NOT NULL,
	"counterpart_kind" text NOT NULL,
	"counterpart_source_id" uuid,
	"date_from" date NOT NULL,
	"date_to" date NOT NULL,
	"trigger" text NOT NULL,
	"status" text NOT NULL,
	"settings_version" integer,
	"counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text,
	"requested_by" uuid,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "match_runs_counterpart" CHECK (("match_runs"."counterpart_kind" = 'source') = ("match_runs"."counterpart_source_id" is not null) and "match_runs"."counterpart_kind" in ('ledger', 'source')),
	CONSTRAINT "match_runs_trigger" CHECK ("match_runs"."trigger" in ('manual', 'import', 'schedule', 'cli')),
	CONSTRAINT "match_runs_status" CHECK ("match_runs"."status" in ('queued', 'running', 'succeeded', 'failed')),
	CONSTRAINT "match_runs_range" CHECK ("match_runs"."date_from" <= "match_runs"."date_to")
);
--> statement-breakpoint
CREATE TABLE "matches" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"run_id" uuid,
	"source_id" uuid NOT NULL,
	"pairing" text NOT NULL,
	"level" text NOT NULL,
	"confidence" numeric(6, 5) NOT NULL,
	"decision" text NOT NULL,
	"status" text NOT NULL,
	"signals" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"difference" numeric(20, 4) NOT NULL,
	"currency" text NOT NULL,
	"reason" text NOT NULL,
	"rule_id" uuid,
	"decided_by" uuid,
	"decided_at" timestamp with time zone,
	"undo_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "matches_status" CHECK ("matches"."status" in ('suggested', 'auto_matched', 'confirmed', 'rejected', 'undone', 'superseded')),
	CONSTRAINT "matches_decision" CHECK ("matches"."decision" in ('auto', 'suggest', 'manual')),
	CONSTRAINT "matches_pairing" CHECK ("matches"."pairing" in ('ledger', 'source')),
	CONSTRAINT "matches_level" CHECK ("matches"."level" in ('rule', 'exact', 'amount_date', 'fuzzy', 'group', 'manual'))
);
--> statement-breakpoint
CREATE TABLE "matching_rule_versions" (
	"org_id" uuid NOT NULL,
	"rule_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"definition" jsonb NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "matching_rules" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"position" integer NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"current_version" integer NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "matching_settings" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source_id" uuid,
	"version" integer NOT NULL,
	"settings" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "matching_settings_changes" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source_id" uuid,
	"version" integer NOT NULL,
	"kind" text NOT NULL,
	"before" jsonb,
	"after" jsonb NOT NULL,
	"why" text NOT NULL,
	"feedback_through" bigint,
	"restores_version" integer,
	"actor_user_id" uuid,
	"actor_label" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "matching_settings_changes_kind" CHECK ("matching_settings_changes"."kind" in ('initial', 'learn', 'calibrate', 'manual', 'rollback'))
);
--> statement-breakpoint
CREATE TABLE "rejected_pairs" (
	"org_id" uuid NOT NULL,
	"left_key" text NOT NULL,
	"right_key" text NOT NULL,
	"match_id" uuid,
	"rejected_by" uuid,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "canonical_transaction_id" bigint;--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "assignee_id" uuid;--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "resolved_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "match_feedback" ADD CONSTRAINT "match_feedback_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_feedback" ADD CONSTRAINT "match_feedback_match_id_matches_id_fk" FOREIGN KEY ("match_id") REFERENCES "public"."matches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_feedback" ADD CONSTRAINT "match_feedback_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_members" ADD CONSTRAINT "match_members_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_members" ADD CONSTRAINT "match_members_match_id_matches_id_fk" FOREIGN KEY ("match_id") REFERENCES "public"."matches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_rule_outcomes" ADD CONSTRAINT "match_rule_outcomes_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_rule_outcomes" ADD CONSTRAINT "match_rule_outcomes_run_id_match_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."match_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_runs" ADD CONSTRAINT "match_runs_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_runs" ADD CONSTRAINT "match_runs_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_runs" ADD CONSTRAINT "match_runs_counterpart_source_id_sources_id_fk" FOREIGN KEY ("counterpart_source_id") REFERENCES "public"."sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_runs" ADD CONSTRAINT "match_runs_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_run_id_match_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."match_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_decided_by_users_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_rule_versions" ADD CONSTRAINT "matching_rule_versions_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_rule_versions" ADD CONSTRAINT "matching_rule_versions_rule_id_matching_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."matching_rules"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_rule_versions" ADD CONSTRAINT "matching_rule_versions_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_rules" ADD CONSTRAINT "matching_rules_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_rules" ADD CONSTRAINT "matching_rules_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_settings" ADD CONSTRAINT "matching_settings_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_settings" ADD CONSTRAINT "matching_settings_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_settings_changes" ADD CONSTRAINT "matching_settings_changes_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_settings_changes" ADD CONSTRAINT "matching_settings_changes_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_settings_changes" ADD CONSTRAINT "matching_settings_changes_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rejected_pairs" ADD CONSTRAINT "rejected_pairs_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rejected_pairs" ADD CONSTRAINT "rejected_pairs_match_id_matches_id_fk" FOREIGN KEY ("match_id") REFERENCES "public"."matches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rejected_pairs" ADD CONSTRAINT "rejected_pairs_rejected_by_users_id_fk" FOREIGN KEY ("rejected_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "match_feedback_org_idx" ON "match_feedback" USING btree ("org_id","id");--> statement-breakpoint
CREATE INDEX "match_members_match_idx" ON "match_members" USING btree ("match_id");--> statement-breakpoint
CREATE UNIQUE INDEX "match_members_one_active_transaction" ON "match_members" USING btree ("canonical_transaction_id","pairing") WHERE "match_members"."active" and "match_members"."canonical_transaction_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "match_members_one_active_line" ON "match_members" USING btree ("journal_line_id") WHERE "match_members"."active" and "match_members"."journal_line_id" is not null;--> statement-breakpoint
CREATE INDEX "match_rule_outcomes_run_idx" ON "match_rule_outcomes" USING btree ("run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "match_rule_outcomes_one_draft" ON "match_rule_outcomes" USING btree ("org_id","record_key") WHERE "match_rule_outcomes"."draft_id" is not null;--> statement-breakpoint
CREATE INDEX "match_runs_org_idx" ON "match_runs" USING btree ("org_id","queued_at");--> statement-breakpoint
CREATE INDEX "matches_org_status_idx" ON "matches" USING btree ("org_id","status","created_at");--> statement-breakpoint
CREATE INDEX "matches_run_idx" ON "matches" USING btree ("run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "matching_rule_versions_key" ON "matching_rule_versions" USING btree ("rule_id","version");--> statement-breakpoint
CREATE INDEX "matching_rules_org_idx" ON "matching_rules" USING btree ("org_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "matching_settings_org_key" ON "matching_settings" USING btree ("org_id") WHERE "matching_settings"."source_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "matching_settings_source_key" ON "matching_settings" USING btree ("org_id","source_id") WHERE "matching_settings"."source_id" is not null;--> statement-breakpoint
CREATE INDEX "matching_settings_changes_org_idx" ON "matching_settings_changes" USING btree ("org_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "rejected_pairs_key" ON "rejected_pairs" USING btree ("org_id","left_key","right_key");--> statement-breakpoint
ALTER TABLE "exceptions" ADD CONSTRAINT "exceptions_assignee_id_users_id_fk" FOREIGN KEY ("assignee_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "exceptions_open_unmatched_key" ON "exceptions" USING btree ("org_id","canonical_transaction_id") WHERE "exceptions"."kind" = 'unmatched_transaction' and "exceptions"."status" = 'open';--> statement-breakpoint
-- Matching's rules in the database: tenants isolated, history append-only, a match's lifecycle
-- enforced here as well as in the service, and a record in at most one active match.
GRANT SELECT, INSERT, UPDATE ON matching_settings, match_runs, matches, match_members, matching_rules TO tieout_app;
--> statement-breakpoint
GRANT SELECT, INSERT ON matching_settings_changes, rejected_pairs, match_feedback, matching_rule_versions, match_rule_outcomes TO tieout_app;
--> statement-breakpoint
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO tieout_app;
--> statement-breakpoint
-- Existing organisations start on the defaults too (written before row-level security is forced).
INSERT INTO matching_settings (org_id, version, settings) SELECT id, 1, '{}'::jsonb FROM organisations;
--> statement-breakpoint
INSERT INTO matching_settings_changes (org_id, version, kind, before, after, why, actor_label)
SELECT id, 1, 'initial', NULL, '{}'::jsonb, 'Start on the engine''s default weights, thresholds, windows and tolerances.', 'system:defaults' FROM organisations;
--> statement-breakpoint
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['matching_settings', 'matching_settings_changes', 'match_runs', 'matches', 'match_members', 'rejected_pairs', 'match_feedback', 'matching_rules', 'matching_rule_versions', 'match_rule_outcomes'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I USING (org_id = (SELECT app_org_id())) WITH CHECK (org_id = (SELECT app_org_id()))', t || '_tenant', t);
  END LOOP;
END $$;
--> statement-breakpoint
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['matching_settings_changes', 'rejected_pairs', 'match_feedback', 'matching_rule_versions', 'match_rule_outcomes'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION refuse_change()', t || '_append_only', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()', t || '_no_truncate', t);
  END LOOP;
END $$;
--> statement-breakpoint
CREATE TRIGGER matches_no_delete BEFORE DELETE ON matches FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER match_members_no_delete BEFORE DELETE ON match_members FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER match_runs_no_delete BEFORE DELETE ON match_runs FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
-- A match's content is fixed when it is proposed; only its status (and who decided, when, why)
-- moves, and only along the lifecycle. Services check first and say why in words; this is the wall.
CREATE FUNCTION matches_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.org_id, NEW.id, NEW.source_id, NEW.pairing, NEW.level, NEW.confidence, NEW.decision, NEW.signals, NEW.difference, NEW.currency, NEW.reason, NEW.created_at)
     IS DISTINCT FROM (OLD.org_id, OLD.id, OLD.source_id, OLD.pairing, OLD.level, OLD.confidence, OLD.decision, OLD.signals, OLD.difference, OLD.currency, OLD.reason, OLD.created_at)
     OR NEW.run_id IS DISTINCT FROM OLD.run_id OR NEW.rule_id IS DISTINCT FROM OLD.rule_id THEN
    RAISE EXCEPTION 'a match''s records, scores and reason cannot change; only its status moves'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'matches_immutable';
  END IF;
  IF NOT ((OLD.status, NEW.status) IN (
      ('suggested', 'confirmed'), ('suggested', 'rejected'), ('suggested', 'superseded'),
      ('auto_matched', 'confirmed'), ('auto_matched', 'undone'), ('auto_matched', 'superseded'),
      ('confirmed', 'undone'))) THEN
    RAISE EXCEPTION 'a match cannot go from % to %', OLD.status, NEW.status
      USING ERRCODE = 'check_violation', CONSTRAINT = 'matches_transition';
  END IF;
  IF NEW.status = 'undone' AND coalesce(btrim(NEW.undo_reason), '') = '' THEN
    RAISE EXCEPTION 'undoing a match needs a reason' USING ERRCODE = 'check_violation', CONSTRAINT = 'matches_undo_reason';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER matches_transition BEFORE UPDATE ON matches FOR EACH ROW EXECUTE FUNCTION matches_transition();
--> statement-breakpoint
-- Members are active exactly while their match is suggested, auto-matched or confirmed: one
-- statement per UPDATE of matches (a re-run supersedes thousands at once), not one per row.
CREATE FUNCTION matches_members_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE match_members m SET active = n.status IN ('suggested', 'auto_matched', 'confirmed')
  FROM new_rows n
  WHERE m.match_id = n.id AND m.active <> (n.status IN ('suggested', 'auto_matched', 'confirmed'));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER matches_members_follow AFTER UPDATE ON matches REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION matches_members_follow();
--> statement-breakpoint
CREATE FUNCTION match_members_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.org_id, NEW.id, NEW.match_id, NEW.pairing, NEW.side, NEW.amount, NEW.record_date) IS DISTINCT FROM (OLD.org_id, OLD.id, OLD.match_id, OLD.pairing, OLD.side, OLD.amount, OLD.record_date)
     OR NEW.canonical_transaction_id IS DISTINCT FROM OLD.canonical_transaction_id OR NEW.journal_line_id IS DISTINCT FROM OLD.journal_line_id THEN
    RAISE EXCEPTION 'a match''s members cannot change' USING ERRCODE = 'check_violation', CONSTRAINT = 'match_members_immutable';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER match_members_fixed BEFORE UPDATE ON match_members FOR EACH ROW EXECUTE FUNCTION match_members_fixed();
--> statement-breakpoint
-- Every organisation starts on the engine's defaults (settings '{}' = defaults, see
-- drizzle/schema/matching.ts), recorded as version 1. Organisations are created inside a
-- transaction acting for the new organisation, so the rows pass row-level security.
CREATE FUNCTION organisations_matching_defaults() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO matching_settings (org_id, version, settings) VALUES (NEW.id, 1, '{}'::jsonb);
  INSERT INTO matching_settings_changes (org_id, version, kind, before, after, why, actor_label)
  VALUES (NEW.id, 1, 'initial', NULL, '{}'::jsonb, 'Start on the engine''s default weights, thresholds, windows and tolerances.', 'system:defaults');
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER organisations_matching_defaults AFTER INSERT ON organisations FOR EACH ROW EXECUTE FUNCTION organisations_matching_defaults();
--> statement-breakpoint
-- The CLI and scheduled runs name a source, not an organisation: this hands out the source's
-- organisation and nothing else (same shape as webhook_source in 0007).
CREATE FUNCTION source_org_id(p_source_id uuid) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$ SELECT s.org_id FROM public.sources s WHERE s.id = p_source_id AND s.archived_at IS NULL $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION source_org_id(uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION source_org_id(uuid) TO tieout_app;
