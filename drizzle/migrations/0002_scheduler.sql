-- Scheduled work (the nightly trial-balance check, later reconciliation runs and FX sync) must
-- enumerate the tenants it runs for, but the application role sees an organisation only when
-- app.org_id names it or the current user is a member, and a scheduler has neither. Rather than
-- giving tieout_app BYPASSRLS or a policy that shows it every organisation, this function hands
-- out ids only, no names and no tenant data; all further work happens inside one organisation
-- with RLS applying as usual. SECURITY DEFINER: it runs as its owner, the role that ran the
-- migrations, with search_path pinned so a caller cannot substitute objects.
--
-- organisations has FORCE ROW LEVEL SECURITY, which binds its owner too. A superuser owner
-- (the embedded server) bypasses RLS anyway; for an owner that is not a superuser (managed
-- PostgreSQL) the policy below lets exactly that role, the owner of this function, read the
-- table. tieout_app is unaffected: policies apply only to the roles they name.
CREATE POLICY organisations_scheduler ON organisations FOR SELECT TO CURRENT_USER USING (true);
--> statement-breakpoint
CREATE FUNCTION scheduler_org_ids() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$ SELECT o.id FROM public.organisations o ORDER BY o.created_at, o.id $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION scheduler_org_ids() FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION scheduler_org_ids() TO tieout_app;
