CREATE TABLE "canonical_transactions" (
	"org_id" uuid NOT NULL,
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "canonical_transactions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"source_id" uuid NOT NULL,
	"import_id" uuid NOT NULL,
	"statement_id" uuid,
	"external_id" text,
	"dedupe_key" text NOT NULL,
	"booked_date" date NOT NULL,
	"value_date" date,
	"amount" numeric(20, 4) NOT NULL,
	"currency" text NOT NULL,
	"counterparty_name" text,
	"counterparty_account" text,
	"reference" text,
	"description" text,
	"bank_transaction_code" text,
	"type" text NOT NULL,
	"original_amount" numeric(20, 4),
	"original_currency" text,
	"raw" jsonb NOT NULL,
	"parser" text NOT NULL,
	"parser_version" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "canonical_transactions_type" CHECK ("canonical_transactions"."type" in ('payment', 'refund', 'fee', 'chargeback', 'payout', 'transfer', 'interest', 'other'))
);
--> statement-breakpoint
CREATE TABLE "exceptions" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"severity" text NOT NULL,
	"title" text NOT NULL,
	"source_id" uuid,
	"statement_id" uuid,
	"amount" numeric(20, 4),
	"currency" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"raised_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "exceptions_severity" CHECK ("exceptions"."severity" in ('low', 'medium', 'high', 'critical'))
);
--> statement-breakpoint
CREATE TABLE "imports" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source_id" uuid NOT NULL,
	"upload_id" uuid,
	"channel" text NOT NULL,
	"file_name" text,
	"format" text NOT NULL,
	"parser_version" text NOT NULL,
	"new_count" integer NOT NULL,
	"duplicate_count" integer NOT NULL,
	"rejected_count" integer NOT NULL,
	"statement_count" integer NOT NULL,
	"unbalanced_statement_count" integer NOT NULL,
	"rejections" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"warnings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"imported_by" uuid,
	"imported_at" timestamp with time zone DEFAULT now() NOT NULL,
	"duration_ms" integer
);
--> statement-breakpoint
CREATE TABLE "mapping_profiles" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"mapping" jsonb NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sources" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"entity_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"currency" text NOT NULL,
	"account_number" text,
	"provider" text,
	"gl_account_id" uuid NOT NULL,
	"webhook_secret" text,
	"csv_profile_id" uuid,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"archived_at" timestamp with time zone,
	CONSTRAINT "sources_kind" CHECK ("sources"."kind" in ('bank', 'psp', 'xero')),
	CONSTRAINT "sources_provider" CHECK (("sources"."kind" = 'psp') = ("sources"."provider" is not null)),
	CONSTRAINT "sources_currency_iso" CHECK ("sources"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "statements" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source_id" uuid NOT NULL,
	"import_id" uuid NOT NULL,
	"statement_ref" text,
	"account" text,
	"currency" text NOT NULL,
	"opening_date" date,
	"opening_balance" numeric(20, 4),
	"closing_date" date,
	"closing_balance" numeric(20, 4),
	"movements" numeric(20, 4) NOT NULL,
	"line_count" integer NOT NULL,
	"balanced" boolean
);
--> statement-breakpoint
CREATE TABLE "uploads" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source_id" uuid NOT NULL,
	"file_name" text NOT NULL,
	"sha256" text NOT NULL,
	"size_bytes" integer NOT NULL,
	"content" "bytea" NOT NULL,
	"uploaded_by" uuid,
	"uploaded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"org_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source_id" uuid NOT NULL,
	"event_id" text NOT NULL,
	"event_type" text NOT NULL,
	"import_id" uuid,
	"transaction_count" integer NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"payload" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "exceptions" ADD CONSTRAINT "exceptions_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exceptions" ADD CONSTRAINT "exceptions_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exceptions" ADD CONSTRAINT "exceptions_statement_id_statements_id_fk" FOREIGN KEY ("statement_id") REFERENCES "public"."statements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "imports" ADD CONSTRAINT "imports_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "imports" ADD CONSTRAINT "imports_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "imports" ADD CONSTRAINT "imports_upload_id_uploads_id_fk" FOREIGN KEY ("upload_id") REFERENCES "public"."uploads"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "imports" ADD CONSTRAINT "imports_imported_by_users_id_fk" FOREIGN KEY ("imported_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mapping_profiles" ADD CONSTRAINT "mapping_profiles_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mapping_profiles" ADD CONSTRAINT "mapping_profiles_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sources" ADD CONSTRAINT "sources_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sources" ADD CONSTRAINT "sources_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sources" ADD CONSTRAINT "sources_org_id_entity_id_entities_org_id_id_fk" FOREIGN KEY ("org_id","entity_id") REFERENCES "public"."entities"("org_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sources" ADD CONSTRAINT "sources_org_id_entity_id_gl_account_id_accounts_org_id_entity_id_id_fk" FOREIGN KEY ("org_id","entity_id","gl_account_id") REFERENCES "public"."accounts"("org_id","entity_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "statements" ADD CONSTRAINT "statements_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "statements" ADD CONSTRAINT "statements_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "statements" ADD CONSTRAINT "statements_import_id_imports_id_fk" FOREIGN KEY ("import_id") REFERENCES "public"."imports"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_uploaded_by_users_id_fk" FOREIGN KEY ("uploaded_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_import_id_imports_id_fk" FOREIGN KEY ("import_id") REFERENCES "public"."imports"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "canonical_transactions_dedupe_key" ON "canonical_transactions" USING btree ("source_id","dedupe_key");--> statement-breakpoint
CREATE INDEX "canonical_transactions_source_date_idx" ON "canonical_transactions" USING btree ("org_id","source_id","booked_date");--> statement-breakpoint
CREATE INDEX "exceptions_org_status_idx" ON "exceptions" USING btree ("org_id","status","raised_at");--> statement-breakpoint
CREATE INDEX "imports_source_idx" ON "imports" USING btree ("org_id","source_id","imported_at");--> statement-breakpoint
CREATE UNIQUE INDEX "mapping_profiles_org_name_key" ON "mapping_profiles" USING btree ("org_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "sources_org_name_key" ON "sources" USING btree ("org_id","name");--> statement-breakpoint
CREATE INDEX "statements_source_idx" ON "statements" USING btree ("org_id","source_id","closing_date");--> statement-breakpoint
CREATE INDEX "uploads_source_idx" ON "uploads" USING btree ("org_id","source_id","uploaded_at");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_events_source_event_key" ON "webhook_events" USING btree ("source_id","event_id");--> statement-breakpoint
-- The upload is kept byte for byte; compressing tens of megabytes inside the import transaction costs
-- more than the disk it saves.
ALTER TABLE uploads ALTER COLUMN content SET STORAGE EXTERNAL;
--> statement-breakpoint
-- Ingestion's rules in the database: tenants isolated, what the outside world said is never
-- rewritten, and every canonical line belongs to an import of its own source and organisation.
GRANT SELECT, INSERT, UPDATE ON sources, mapping_profiles, exceptions TO tieout_app;
--> statement-breakpoint
GRANT DELETE ON mapping_profiles TO tieout_app;
--> statement-breakpoint
GRANT SELECT, INSERT ON uploads, imports, statements, canonical_transactions, webhook_events TO tieout_app;
--> statement-breakpoint
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO tieout_app;
--> statement-breakpoint
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['sources', 'mapping_profiles', 'uploads', 'imports', 'statements', 'canonical_transactions', 'webhook_events', 'exceptions'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I USING (org_id = (SELECT app_org_id())) WITH CHECK (org_id = (SELECT app_org_id()))', t || '_tenant', t);
  END LOOP;
END $$;
--> statement-breakpoint
CREATE TRIGGER canonical_transactions_append_only BEFORE UPDATE OR DELETE ON canonical_transactions FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER canonical_transactions_no_truncate BEFORE TRUNCATE ON canonical_transactions FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER imports_append_only BEFORE UPDATE OR DELETE ON imports FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER statements_append_only BEFORE UPDATE OR DELETE ON statements FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER uploads_append_only BEFORE UPDATE OR DELETE ON uploads FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER webhook_events_append_only BEFORE UPDATE OR DELETE ON webhook_events FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
-- Checked once per statement over the new rows (an import writes up to millions of lines in one
-- INSERT ... SELECT): one lookup per distinct import, not one foreign-key probe per line.
CREATE FUNCTION canonical_transactions_belong_to_imports() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM (SELECT DISTINCT org_id, source_id, import_id FROM new_rows) n
    WHERE NOT EXISTS (SELECT 1 FROM imports i WHERE i.id = n.import_id AND i.org_id = n.org_id AND i.source_id = n.source_id)
  ) THEN
    RAISE EXCEPTION 'canonical transactions must belong to an import of the same source and organisation'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'canonical_transactions_import';
  END IF;
  IF EXISTS (
    SELECT 1 FROM (SELECT DISTINCT import_id, statement_id FROM new_rows WHERE statement_id IS NOT NULL) n
    WHERE NOT EXISTS (SELECT 1 FROM statements s WHERE s.id = n.statement_id AND s.import_id = n.import_id)
  ) THEN
    RAISE EXCEPTION 'canonical transactions must belong to a statement of their import'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'canonical_transactions_statement';
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER canonical_transactions_belong_to_imports AFTER INSERT ON canonical_transactions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION canonical_transactions_belong_to_imports();
--> statement-breakpoint
-- A webhook arrives with no signed-in user: the receiver may look up one source by id to learn its
-- organisation, provider and signing secret, and nothing else (same shape as scheduler_org_ids,
-- including the owner-only policy for a migrating role that is not a superuser).
CREATE POLICY sources_webhook_lookup ON sources FOR SELECT TO CURRENT_USER USING (true);
--> statement-breakpoint
CREATE FUNCTION webhook_source(p_source_id uuid) RETURNS TABLE (org_id uuid, provider text, webhook_secret text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$ SELECT s.org_id, s.provider, s.webhook_secret FROM public.sources s WHERE s.id = p_source_id AND s.kind = 'psp' AND s.archived_at IS NULL $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION webhook_source(uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION webhook_source(uuid) TO tieout_app;
