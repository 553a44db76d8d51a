CREATE TABLE "matching_backlog" (
	"org_id" uuid NOT NULL,
	"source_id" uuid PRIMARY KEY NOT NULL,
	"date_from" date NOT NULL,
	"date_to" date NOT NULL,
	"since" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "matching_backlog_range" CHECK ("matching_backlog"."date_from" <= "matching_backlog"."date_to")
);
--> statement-breakpoint
ALTER TABLE "matching_backlog" ADD CONSTRAINT "matching_backlog_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_backlog" ADD CONSTRAINT "matching_backlog_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- The app widens a source's range as lines land and deletes it when a run takes it: a backlog row
-- is a promise of work, not a record anyone audits (the run it becomes is in match_runs).
GRANT SELECT, INSERT, UPDATE, DELETE ON matching_backlog TO tieout_app;
ALTER TABLE matching_backlog ENABLE ROW LEVEL SECURITY;
ALTER TABLE matching_backlog FORCE ROW LEVEL SECURITY;
CREATE POLICY matching_backlog_tenant ON matching_backlog USING (org_id = (SELECT app_org_id())) WITH CHECK (org_id = (SELECT app_org_id()));
