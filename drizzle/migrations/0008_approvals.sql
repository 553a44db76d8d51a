CREATE TABLE "approval_decisions" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"request_id" uuid NOT NULL,
	"maker_id" uuid NOT NULL,
	"approver_id" uuid NOT NULL,
	"approver_label" text NOT NULL,
	"approver_role" text NOT NULL,
	"decision" text NOT NULL,
	"comment" text DEFAULT '' NOT NULL,
	"request_version" integer NOT NULL,
	"content_hash" text NOT NULL,
	"decided_at" timestamp with time zone DEFAULT now() NOT NULL,
	"voided_at" timestamp with time zone,
	CONSTRAINT "approval_decisions_not_maker" CHECK ("approval_decisions"."approver_id" <> "approval_decisions"."maker_id"),
	CONSTRAINT "approval_decisions_decision" CHECK ("approval_decisions"."decision" in ('approved', 'rejected')),
	CONSTRAINT "approval_decisions_role" CHECK ("approval_decisions"."approver_role" in ('approver', 'admin'))
);
--> statement-breakpoint
CREATE TABLE "approval_policies" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"min_amount" numeric(20, 4) DEFAULT '0' NOT NULL,
	"approvals_required" integer NOT NULL,
	"admin_required" boolean DEFAULT false NOT NULL,
	"updated_by" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "approval_policies_approvals_range" CHECK ("approval_policies"."approvals_required" between 0 and 5),
	CONSTRAINT "approval_policies_min_amount" CHECK ("approval_policies"."min_amount" >= 0),
	CONSTRAINT "approval_policies_admin_needs_approval" CHECK (not "approval_policies"."admin_required" or "approval_policies"."approvals_required" >= 1)
);
--> statement-breakpoint
CREATE TABLE "approval_requests" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"target_key" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"entity_id" uuid,
	"effective_date" date,
	"amount" numeric(20, 4),
	"currency" text,
	"summary" text NOT NULL,
	"content" jsonb NOT NULL,
	"content_hash" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"maker_id" uuid NOT NULL,
	"maker_label" text NOT NULL,
	"reason" text NOT NULL,
	"links" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"policy" jsonb NOT NULL,
	"approvals_required" integer NOT NULL,
	"admin_required" boolean NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_at" timestamp with time zone,
	"result" jsonb,
	CONSTRAINT "approval_requests_id_maker_key" UNIQUE("id","maker_id"),
	CONSTRAINT "approval_requests_status" CHECK ("approval_requests"."status" in ('pending', 'executed', 'rejected', 'expired', 'withdrawn')),
	CONSTRAINT "approval_requests_required" CHECK ("approval_requests"."approvals_required" between 1 and 5),
	CONSTRAINT "approval_requests_version" CHECK ("approval_requests"."version" >= 1)
);
--> statement-breakpoint
CREATE TABLE "control_settings" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"request_ttl_hours" integer DEFAULT 336 NOT NULL,
	"closed_period_postings" text DEFAULT 'refuse' NOT NULL,
	"closed_period_imports" text DEFAULT 'refuse' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "control_settings_ttl" CHECK ("control_settings"."request_ttl_hours" between 1 and 8760),
	CONSTRAINT "control_settings_postings" CHECK ("control_settings"."closed_period_postings" in ('refuse', 'next_open_period')),
	CONSTRAINT "control_settings_imports" CHECK ("control_settings"."closed_period_imports" in ('refuse', 'flag'))
);
--> statement-breakpoint
CREATE TABLE "period_close_events" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"period_id" uuid NOT NULL,
	"action" text NOT NULL,
	"actor_id" uuid,
	"actor_label" text NOT NULL,
	"checklist" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"overrides" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"reason" text,
	"approval_request_id" uuid,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "period_close_events_action" CHECK ("period_close_events"."action" in ('closed', 'reopened')),
	CONSTRAINT "period_close_events_reopen_approved" CHECK ("period_close_events"."action" <> 'reopened' or "period_close_events"."approval_request_id" is not null)
);
--> statement-breakpoint
ALTER TABLE "approval_decisions" ADD CONSTRAINT "approval_decisions_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approval_decisions" ADD CONSTRAINT "approval_decisions_approver_id_users_id_fk" FOREIGN KEY ("approver_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approval_decisions" ADD CONSTRAINT "approval_decisions_request_maker_fk" FOREIGN KEY ("request_id","maker_id") REFERENCES "public"."approval_requests"("id","maker_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approval_policies" ADD CONSTRAINT "approval_policies_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approval_policies" ADD CONSTRAINT "approval_policies_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approval_requests" ADD CONSTRAINT "approval_requests_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approval_requests" ADD CONSTRAINT "approval_requests_maker_id_users_id_fk" FOREIGN KEY ("maker_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approval_requests" ADD CONSTRAINT "approval_requests_org_id_entity_id_entities_org_id_id_fk" FOREIGN KEY ("org_id","entity_id") REFERENCES "public"."entities"("org_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control_settings" ADD CONSTRAINT "control_settings_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "period_close_events" ADD CONSTRAINT "period_close_events_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "period_close_events" ADD CONSTRAINT "period_close_events_period_id_fiscal_periods_id_fk" FOREIGN KEY ("period_id") REFERENCES "public"."fiscal_periods"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "period_close_events" ADD CONSTRAINT "period_close_events_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "period_close_events" ADD CONSTRAINT "period_close_events_approval_request_id_approval_requests_id_fk" FOREIGN KEY ("approval_request_id") REFERENCES "public"."approval_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "approval_decisions_one_per_approver_key" ON "approval_decisions" USING btree ("request_id","approver_id") WHERE "approval_decisions"."voided_at" is null;--> statement-breakpoint
CREATE INDEX "approval_decisions_org_request_idx" ON "approval_decisions" USING btree ("org_id","request_id");--> statement-breakpoint
CREATE UNIQUE INDEX "approval_policies_kind_tier_key" ON "approval_policies" USING btree ("org_id","kind","min_amount");--> statement-breakpoint
CREATE UNIQUE INDEX "approval_requests_one_pending_key" ON "approval_requests" USING btree ("org_id","kind","target_key") WHERE "approval_requests"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "approval_requests_org_status_idx" ON "approval_requests" USING btree ("org_id","status","created_at");--> statement-breakpoint
CREATE INDEX "approval_requests_org_maker_idx" ON "approval_requests" USING btree ("org_id","maker_id","created_at");--> statement-breakpoint
CREATE INDEX "period_close_events_period_idx" ON "period_close_events" USING btree ("org_id","period_id","at");--> statement-breakpoint
-- Four-eyes in the database: tenants isolated; a decision names the request's true maker (the
-- composite key above) and is never the maker's (CHECK); only members holding the approver or
-- admin role decide; a decision is for the request's current version and content; a change of
-- content voids every decision given; a request executes only with the approvals its tier asks
-- for; a closed period opens again only through an executed reopening request.
GRANT SELECT, INSERT, UPDATE ON approval_requests, approval_decisions, approval_policies, control_settings TO tieout_app;
--> statement-breakpoint
GRANT DELETE ON approval_policies TO tieout_app;
--> statement-breakpoint
GRANT SELECT, INSERT ON period_close_events TO tieout_app;
--> statement-breakpoint
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['approval_requests', 'approval_decisions', 'approval_policies', 'control_settings', 'period_close_events'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I USING (org_id = (SELECT app_org_id())) WITH CHECK (org_id = (SELECT app_org_id()))', t || '_tenant', t);
  END LOOP;
END $$;
--> statement-breakpoint
CREATE TRIGGER period_close_events_append_only BEFORE UPDATE OR DELETE ON period_close_events FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER approval_decisions_no_delete BEFORE DELETE ON approval_decisions FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER approval_requests_no_delete BEFORE DELETE ON approval_requests FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER approval_decisions_no_truncate BEFORE TRUNCATE ON approval_decisions FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER approval_requests_no_truncate BEFORE TRUNCATE ON approval_requests FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE FUNCTION approval_decision_checks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r record;
  member_role text;
BEGIN
  -- FOR UPDATE: decisions on one request are serialised with its status changes and edits.
  SELECT q.org_id, q.status, q.version, q.content_hash, q.expires_at INTO r FROM approval_requests q WHERE q.id = NEW.request_id FOR UPDATE;
  IF NOT FOUND OR r.org_id <> NEW.org_id THEN
    RAISE EXCEPTION 'approval request % not found in this organisation', NEW.request_id USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'approval_decisions_request';
  END IF;
  IF r.status <> 'pending' OR r.expires_at <= now() THEN
    RAISE EXCEPTION 'approval request is no longer pending (%)', CASE WHEN r.status = 'pending' THEN 'expired' ELSE r.status END USING ERRCODE = 'check_violation', CONSTRAINT = 'approval_decisions_pending';
  END IF;
  IF NEW.request_version <> r.version OR NEW.content_hash <> r.content_hash THEN
    RAISE EXCEPTION 'approval request changed since it was shown (version % is current)', r.version USING ERRCODE = 'check_violation', CONSTRAINT = 'approval_decisions_current_version';
  END IF;
  SELECT m.role::text INTO member_role FROM memberships m WHERE m.org_id = NEW.org_id AND m.user_id = NEW.approver_id;
  IF member_role IS NULL OR member_role NOT IN ('approver', 'admin') OR member_role <> NEW.approver_role THEN
    RAISE EXCEPTION 'only members holding the approver or admin role decide approval requests' USING ERRCODE = 'check_violation', CONSTRAINT = 'approval_decisions_role';
  END IF;
  IF NEW.voided_at IS NOT NULL THEN
    RAISE EXCEPTION 'a decision is recorded live' USING ERRCODE = 'check_violation', CONSTRAINT = 'approval_decisions_live';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER approval_decision_checks BEFORE INSERT ON approval_decisions FOR EACH ROW EXECUTE FUNCTION approval_decision_checks();
--> statement-breakpoint
-- A decision is kept as given; the only change is voiding it, once.
CREATE FUNCTION approval_decision_only_voided() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.voided_at IS NOT NULL OR NEW.voided_at IS NULL
     OR (to_jsonb(NEW) - 'voided_at') IS DISTINCT FROM (to_jsonb(OLD) - 'voided_at') THEN
    RAISE EXCEPTION 'approval decisions are append-only; they can only be voided once' USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'approval_decisions_append_only';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER approval_decision_only_voided BEFORE UPDATE ON approval_decisions FOR EACH ROW EXECUTE FUNCTION approval_decision_only_voided();
--> statement-breakpoint
CREATE FUNCTION approval_request_checks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  approvals int;
  admins int;
BEGIN
  IF NEW.org_id <> OLD.org_id OR NEW.id <> OLD.id OR NEW.kind <> OLD.kind OR NEW.maker_id <> OLD.maker_id OR NEW.created_at <> OLD.created_at THEN
    RAISE EXCEPTION 'an approval request keeps its organisation, kind and maker' USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'approval_requests_fixed';
  END IF;
  -- Decided requests are final; the one later write is the executed action's result, once.
  IF OLD.status <> 'pending' AND (to_jsonb(NEW) IS DISTINCT FROM to_jsonb(OLD))
     AND NOT (OLD.status = 'executed' AND OLD.result IS NULL AND (to_jsonb(NEW) - 'result') = (to_jsonb(OLD) - 'result')) THEN
    RAISE EXCEPTION 'approval request is already %', OLD.status USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'approval_requests_decided';
  END IF;
  IF NEW.content_hash <> OLD.content_hash AND NEW.version <= OLD.version THEN
    RAISE EXCEPTION 'a change of content is a new version' USING ERRCODE = 'check_violation', CONSTRAINT = 'approval_requests_version_bump';
  END IF;
  IF NEW.status = 'executed' AND OLD.status = 'pending' THEN
    SELECT count(*), count(*) FILTER (WHERE d.approver_role = 'admin') INTO approvals, admins
    FROM approval_decisions d
    WHERE d.request_id = NEW.id AND d.voided_at IS NULL AND d.decision = 'approved'
      AND d.request_version = NEW.version AND d.content_hash = NEW.content_hash AND d.approver_id <> NEW.maker_id;
    IF approvals < NEW.approvals_required OR (NEW.admin_required AND admins = 0) THEN
      RAISE EXCEPTION 'approval request has % of % required approvals%', approvals, NEW.approvals_required, CASE WHEN NEW.admin_required AND admins = 0 THEN ' and no admin among them' ELSE '' END
        USING ERRCODE = 'check_violation', CONSTRAINT = 'approval_requests_enough_approvals';
    END IF;
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER approval_request_checks BEFORE UPDATE ON approval_requests FOR EACH ROW EXECUTE FUNCTION approval_request_checks();
--> statement-breakpoint
-- Edited content voids what was approved before: the approvers saw something else.
CREATE FUNCTION approval_request_void_decisions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE approval_decisions SET voided_at = now() WHERE request_id = NEW.id AND voided_at IS NULL;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER approval_request_void_decisions AFTER UPDATE OF content_hash, version ON approval_requests FOR EACH ROW
  WHEN (OLD.content_hash IS DISTINCT FROM NEW.content_hash OR OLD.version IS DISTINCT FROM NEW.version) EXECUTE FUNCTION approval_request_void_decisions();
--> statement-breakpoint
-- A closed period opens again only inside the transaction that executes an approved reopening
-- request for it (the executor names the request in app.approval_request_id).
CREATE FUNCTION fiscal_period_reopen_approved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'closed' AND NEW.status <> 'closed' AND NOT EXISTS (
    SELECT 1 FROM approval_requests q
    WHERE q.id = nullif(current_setting('app.approval_request_id', true), '')::uuid
      AND q.org_id = NEW.org_id AND q.kind = 'period_reopen' AND q.status = 'executed' AND q.content->>'periodId' = NEW.id::text
  ) THEN
    RAISE EXCEPTION 'period % is closed; reopening it needs an approved reopening request', NEW.name USING ERRCODE = 'check_violation', CONSTRAINT = 'fiscal_period_reopen_approved';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER fiscal_period_reopen_approved BEFORE UPDATE OF status ON fiscal_periods FOR EACH ROW EXECUTE FUNCTION fiscal_period_reopen_approved();
