CREATE TABLE "xero_account_map" (
	"org_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"xero_account_id" text NOT NULL,
	"account_id" uuid,
	"mapped_by" text NOT NULL,
	"mapped_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "xero_account_map_connection_id_xero_account_id_pk" PRIMARY KEY("connection_id","xero_account_id")
);
--> statement-breakpoint
CREATE TABLE "xero_auth_requests" (
	"org_id" uuid NOT NULL,
	"state" text PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"key_id" text NOT NULL,
	"code_verifier" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "xero_connections" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"grant_id" uuid NOT NULL,
	"xero_connection_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"tenant_name" text NOT NULL,
	"tenant_type" text NOT NULL,
	"entity_id" uuid,
	"source_id" uuid,
	"status" text DEFAULT 'unmapped' NOT NULL,
	"journals" text,
	"parked_until" timestamp with time zone,
	"day_window_start" timestamp with time zone,
	"day_calls" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"disconnected_at" timestamp with time zone,
	CONSTRAINT "xero_connections_status" CHECK ("xero_connections"."status" in ('unmapped', 'active', 'needs_reauth', 'disconnected'))
);
--> statement-breakpoint
CREATE TABLE "xero_grants" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"xero_user_id" text,
	"auth_event_id" text,
	"scopes" text NOT NULL,
	"key_id" text NOT NULL,
	"access_token" "bytea" NOT NULL,
	"access_expires_at" timestamp with time zone NOT NULL,
	"refresh_token" "bytea" NOT NULL,
	"refreshed_at" timestamp with time zone,
	"refresh_count" integer DEFAULT 0 NOT NULL,
	"status_reason" text,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "xero_grants_status" CHECK ("xero_grants"."status" in ('active', 'needs_reauth', 'revoked'))
);
--> statement-breakpoint
CREATE TABLE "xero_records" (
	"org_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"resource" text NOT NULL,
	"xero_id" text NOT NULL,
	"status" text,
	"xero_updated_at" timestamp with time zone,
	"content_hash" text NOT NULL,
	"data" jsonb NOT NULL,
	"landed" boolean DEFAULT false NOT NULL,
	"first_job_id" uuid,
	"last_changed_job_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "xero_records_connection_id_resource_xero_id_pk" PRIMARY KEY("connection_id","resource","xero_id")
);
--> statement-breakpoint
CREATE TABLE "xero_sync_cursors" (
	"org_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"resource" text NOT NULL,
	"watermark" timestamp with time zone,
	"journal_offset" bigint,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "xero_sync_cursors_connection_id_resource_pk" PRIMARY KEY("connection_id","resource")
);
--> statement-breakpoint
CREATE TABLE "xero_sync_jobs" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"connection_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"trigger" text NOT NULL,
	"resources" text[] NOT NULL,
	"requested_by" uuid,
	"retry_of" uuid,
	"calls" integer DEFAULT 0 NOT NULL,
	"parked_until" timestamp with time zone,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"heartbeat_at" timestamp with time zone,
	CONSTRAINT "xero_sync_jobs_kind" CHECK ("xero_sync_jobs"."kind" in ('full', 'incremental')),
	CONSTRAINT "xero_sync_jobs_status" CHECK ("xero_sync_jobs"."status" in ('queued', 'running', 'parked', 'succeeded', 'failed', 'cancelled')),
	CONSTRAINT "xero_sync_jobs_trigger" CHECK ("xero_sync_jobs"."trigger" in ('manual', 'schedule', 'webhook', 'retry'))
);
--> statement-breakpoint
CREATE TABLE "xero_sync_progress" (
	"org_id" uuid NOT NULL,
	"job_id" uuid NOT NULL,
	"resource" text NOT NULL,
	"position" integer NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"cursor" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"pages" integer DEFAULT 0 NOT NULL,
	"new_count" integer DEFAULT 0 NOT NULL,
	"updated_count" integer DEFAULT 0 NOT NULL,
	"unchanged_count" integer DEFAULT 0 NOT NULL,
	"note" text,
	"error" text,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "xero_sync_progress_job_id_resource_pk" PRIMARY KEY("job_id","resource"),
	CONSTRAINT "xero_sync_progress_status" CHECK ("xero_sync_progress"."status" in ('pending', 'running', 'done', 'skipped', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "xero_webhook_events" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"connection_id" uuid NOT NULL,
	"event_key" text NOT NULL,
	"category" text NOT NULL,
	"event_type" text NOT NULL,
	"resource_id" text NOT NULL,
	"event_date" text NOT NULL,
	"job_id" uuid,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "xero_account_map" ADD CONSTRAINT "xero_account_map_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_account_map" ADD CONSTRAINT "xero_account_map_connection_id_xero_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."xero_connections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_account_map" ADD CONSTRAINT "xero_account_map_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_auth_requests" ADD CONSTRAINT "xero_auth_requests_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_auth_requests" ADD CONSTRAINT "xero_auth_requests_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_connections" ADD CONSTRAINT "xero_connections_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_connections" ADD CONSTRAINT "xero_connections_grant_id_xero_grants_id_fk" FOREIGN KEY ("grant_id") REFERENCES "public"."xero_grants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_connections" ADD CONSTRAINT "xero_connections_entity_id_entities_id_fk" FOREIGN KEY ("entity_id") REFERENCES "public"."entities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_connections" ADD CONSTRAINT "xero_connections_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_grants" ADD CONSTRAINT "xero_grants_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_grants" ADD CONSTRAINT "xero_grants_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_records" ADD CONSTRAINT "xero_records_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_records" ADD CONSTRAINT "xero_records_connection_id_xero_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."xero_connections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_sync_cursors" ADD CONSTRAINT "xero_sync_cursors_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_sync_cursors" ADD CONSTRAINT "xero_sync_cursors_connection_id_xero_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."xero_connections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_sync_jobs" ADD CONSTRAINT "xero_sync_jobs_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_sync_jobs" ADD CONSTRAINT "xero_sync_jobs_connection_id_xero_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."xero_connections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_sync_jobs" ADD CONSTRAINT "xero_sync_jobs_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_sync_progress" ADD CONSTRAINT "xero_sync_progress_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_sync_progress" ADD CONSTRAINT "xero_sync_progress_job_id_xero_sync_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."xero_sync_jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_webhook_events" ADD CONSTRAINT "xero_webhook_events_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "xero_webhook_events" ADD CONSTRAINT "xero_webhook_events_connection_id_xero_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."xero_connections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "xero_connections_org_tenant_key" ON "xero_connections" USING btree ("org_id","tenant_id");--> statement-breakpoint
CREATE INDEX "xero_connections_tenant_idx" ON "xero_connections" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "xero_records_org_resource_idx" ON "xero_records" USING btree ("org_id","connection_id","resource","xero_updated_at");--> statement-breakpoint
CREATE INDEX "xero_sync_jobs_connection_idx" ON "xero_sync_jobs" USING btree ("org_id","connection_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "xero_webhook_events_key" ON "xero_webhook_events" USING btree ("connection_id","event_key");--> statement-breakpoint
-- Xero's rules in the database: tenants isolated; the application role reads and writes its own
-- organisation's connections, tokens (ciphertexts only), sync state and copies of Xero records.
GRANT SELECT, INSERT, UPDATE ON xero_auth_requests, xero_grants, xero_connections, xero_sync_jobs, xero_sync_progress, xero_sync_cursors, xero_records, xero_account_map, xero_webhook_events TO tieout_app;
GRANT DELETE ON xero_auth_requests TO tieout_app;
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['xero_auth_requests', 'xero_grants', 'xero_connections', 'xero_sync_jobs', 'xero_sync_progress', 'xero_sync_cursors', 'xero_records', 'xero_account_map', 'xero_webhook_events'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I USING (org_id = (SELECT app_org_id())) WITH CHECK (org_id = (SELECT app_org_id()))', t || '_tenant', t);
  END LOOP;
END $$;
--> statement-breakpoint
-- Xero's OAuth callback and its webhooks arrive with no organisation set. The callback finds its
-- request by the unguessable state; a webhook finds the connections of a Xero tenant. Each gets ids
-- and nothing else (the scheduler_org_ids pattern of 0002).
CREATE POLICY xero_auth_requests_lookup ON xero_auth_requests FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY xero_connections_lookup ON xero_connections FOR SELECT TO CURRENT_USER USING (true);
CREATE FUNCTION xero_auth_request_org(p_state text) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$ SELECT r.org_id FROM public.xero_auth_requests r WHERE r.state = p_state AND r.used_at IS NULL AND r.expires_at > now() $$;
REVOKE ALL ON FUNCTION xero_auth_request_org(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION xero_auth_request_org(text) TO tieout_app;
CREATE FUNCTION xero_tenant_connections(p_tenant_id text) RETURNS TABLE (org_id uuid, connection_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$ SELECT c.org_id, c.id FROM public.xero_connections c WHERE c.tenant_id = lower(p_tenant_id) AND c.status = 'active' $$;
REVOKE ALL ON FUNCTION xero_tenant_connections(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION xero_tenant_connections(text) TO tieout_app;
--> statement-breakpoint
-- Every organisation's active connections, for the hourly incremental sync (ids only).
CREATE FUNCTION xero_active_connections() RETURNS TABLE (org_id uuid, connection_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$ SELECT c.org_id, c.id FROM public.xero_connections c WHERE c.status = 'active' ORDER BY c.created_at, c.id $$;
REVOKE ALL ON FUNCTION xero_active_connections() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION xero_active_connections() TO tieout_app;
--> statement-breakpoint
-- The AR/AP sub-ledger as Xero states it (invoices, bills and credit notes with what is still
-- open), for the GL-variance work. security_invoker: the reader's row-level security applies.
CREATE VIEW xero_open_items WITH (security_invoker = true) AS
SELECT r.org_id, r.connection_id, c.entity_id, r.resource, r.xero_id,
       coalesce(r.data->>'Type', '') AS type,
       CASE WHEN r.data->>'Type' IN ('ACCREC', 'ACCRECCREDIT') THEN 'AR' ELSE 'AP' END AS ledger,
       coalesce(r.data->>'InvoiceNumber', r.data->>'CreditNoteNumber') AS number,
       r.data->'Contact'->>'Name' AS contact_name,
       (r.data->>'Date')::date AS date,
       (r.data->>'DueDate')::date AS due_date,
       r.status,
       r.data->>'CurrencyCode' AS currency,
       (r.data->>'Total')::numeric(20,4) AS total,
       coalesce((r.data->>'AmountDue')::numeric(20,4), (r.data->>'RemainingCredit')::numeric(20,4), 0) AS amount_due,
       r.xero_updated_at
FROM xero_records r JOIN xero_connections c ON c.id = r.connection_id
WHERE r.resource IN ('invoices', 'credit_notes');
GRANT SELECT ON xero_open_items TO tieout_app;
