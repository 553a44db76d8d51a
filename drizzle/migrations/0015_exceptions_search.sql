-- Text search in the queue. Row-level security keeps a LIKE (not a leakproof operator) off every
-- index, so under the application role a search walked the whole organisation's queue: a term that
-- matched nothing read every open row (77 ms at 100,000 in one organisation, growing with it).
-- btree_gin lets one GIN index hold the organisation and the trigrams, so a search touches only
-- this organisation's matches, and exception_search_ids reads it as the owner while handing out
-- only ids of the organisation set for the transaction (app.org_id), never another's.
CREATE EXTENSION IF NOT EXISTS btree_gin;
--> statement-breakpoint
DROP INDEX "exceptions_search_idx";--> statement-breakpoint
CREATE INDEX "exceptions_search_idx" ON "exceptions" USING gin ("org_id","search_text" gin_trgm_ops);
--> statement-breakpoint
CREATE FUNCTION exception_search_ids(p_pattern text) RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 500 AS
$$ SELECT e.id FROM public.exceptions e WHERE e.org_id = public.app_org_id() AND e.search_text LIKE p_pattern $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION exception_search_ids(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION exception_search_ids(text) TO tieout_app;
