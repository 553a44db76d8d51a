ALTER TABLE "match_members" DROP CONSTRAINT "match_members_org_id_organisations_id_fk";
--> statement-breakpoint
ALTER TABLE "match_members" DROP CONSTRAINT "match_members_match_id_matches_id_fk";
--> statement-breakpoint
ALTER TABLE "matches" DROP CONSTRAINT "matches_org_id_organisations_id_fk";
--> statement-breakpoint
ALTER TABLE "matches" DROP CONSTRAINT "matches_run_id_match_runs_id_fk";
--> statement-breakpoint
ALTER TABLE "matches" DROP CONSTRAINT "matches_source_id_sources_id_fk";
--> statement-breakpoint

-- Writing a run's matches ran one foreign-key probe per key per row: organisation, run and source
-- for each match, organisation and match for each member (about 1.5 million probes for a run over
-- 200,000 bank lines: 5.6 s of a 15.5 s write). The same rules now run once per INSERT statement
-- over its new rows (transition tables), as drizzle/migrations/0006 does for the ledger: each
-- distinct parent is looked up once, in the row's own organisation, and locked FOR KEY SHARE as a
-- foreign key would; the parents refuse a delete or a key change while referenced. Error codes and
-- constraint names are those of the keys they replace. (decided_by keeps its declared key: it is
-- empty on the bulk insert, so it costs nothing there, and it is set later by an UPDATE.)
CREATE FUNCTION matches_checks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  -- One pass over the new rows: a run's matches share one organisation, run and source.
  SELECT k.org_id, k.run_id, k.source_id, o.ok AS org_ok, r.ok AS run_ok INTO bad
  FROM (SELECT DISTINCT n.org_id, n.run_id, n.source_id FROM new_matches n) k
  LEFT JOIN LATERAL (SELECT true AS ok FROM organisations x WHERE x.id = k.org_id FOR KEY SHARE) o ON true
  LEFT JOIN LATERAL (SELECT true AS ok FROM match_runs x WHERE x.id = k.run_id AND x.org_id = k.org_id FOR KEY SHARE) r ON true
  LEFT JOIN LATERAL (SELECT true AS ok FROM sources x WHERE x.id = k.source_id AND x.org_id = k.org_id FOR KEY SHARE) s ON true
  WHERE o.ok IS NULL OR (k.run_id IS NOT NULL AND r.ok IS NULL) OR s.ok IS NULL
  LIMIT 1;
  IF FOUND AND bad.org_ok IS NULL THEN
    RAISE EXCEPTION 'insert on table "matches" violates foreign key constraint "matches_org_id_organisations_id_fk"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'matches_org_id_organisations_id_fk', DETAIL = format('Key (org_id)=(%s) is not present in table "organisations".', bad.org_id);
  END IF;
  IF FOUND AND bad.run_id IS NOT NULL AND bad.run_ok IS NULL THEN
    RAISE EXCEPTION 'insert on table "matches" violates foreign key constraint "matches_run_id_match_runs_id_fk"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'matches_run_id_match_runs_id_fk', DETAIL = format('Key (run_id)=(%s) is not present in table "match_runs" for this organisation.', bad.run_id);
  END IF;
  IF FOUND THEN
    RAISE EXCEPTION 'insert on table "matches" violates foreign key constraint "matches_source_id_sources_id_fk"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'matches_source_id_sources_id_fk', DETAIL = format('Key (source_id)=(%s) is not present in table "sources" for this organisation.', bad.source_id);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER matches_checks AFTER INSERT ON matches
  REFERENCING NEW TABLE AS new_matches FOR EACH STATEMENT EXECUTE FUNCTION matches_checks();
--> statement-breakpoint

-- Members: their match exists in the same organisation and reconciliation (pairing). No lock is
-- needed: a match can be neither deleted (matches_no_delete, no truncate) nor re-keyed
-- (matches_transition), so a match that is there now stays there, with this organisation and pairing.
CREATE FUNCTION match_members_checks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT k.match_id INTO bad
  FROM (SELECT DISTINCT n.org_id, n.match_id, n.pairing FROM new_members n) k
  LEFT JOIN LATERAL (SELECT x.pairing FROM matches x WHERE x.id = k.match_id AND x.org_id = k.org_id OFFSET 0) f ON true
  WHERE f.pairing IS DISTINCT FROM k.pairing LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'insert on table "match_members" violates foreign key constraint "match_members_match_id_matches_id_fk"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'match_members_match_id_matches_id_fk',
        DETAIL = format('Key (match_id)=(%s) is not present in table "matches" for this organisation and pairing.', bad.match_id);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER match_members_checks AFTER INSERT ON match_members
  REFERENCING NEW TABLE AS new_members FOR EACH STATEMENT EXECUTE FUNCTION match_members_checks();
--> statement-breakpoint

-- The parent side (NO ACTION, as the keys were): a run or source that matches refer to can be
-- neither deleted nor given another id or organisation. One function serves both; each trigger
-- names the column of matches that refers to its table (TG_ARGV[0]) and the constraint a refusal
-- reports (TG_ARGV[1]). The lookup is in the parent's own organisation, which a caller under
-- row-level security sees whole. A source's matches are read without an index of their own: only
-- changing a source's id or organisation, or the owner deleting it, reads them. Organisations are
-- checked with row_security off, as in 0006.
CREATE FUNCTION matches_keep_parent() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  referenced boolean;
BEGIN
  IF TG_OP = 'UPDATE' AND (NEW.org_id, NEW.id) IS NOT DISTINCT FROM (OLD.org_id, OLD.id) THEN RETURN NEW; END IF;
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM matches m WHERE m.org_id = $1 AND m.%I = $2)', TG_ARGV[0]) INTO referenced USING OLD.org_id, OLD.id;
  IF referenced THEN
    RAISE EXCEPTION '% on table "%" violates foreign key constraint "%" on table "matches"', TG_OP, TG_TABLE_NAME, TG_ARGV[1]
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[1];
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
-- Runs cannot be deleted at all (match_runs_no_delete).
CREATE TRIGGER match_runs_keep_referenced AFTER UPDATE OF org_id, id ON match_runs
  FOR EACH ROW EXECUTE FUNCTION matches_keep_parent('run_id', 'matches_run_id_match_runs_id_fk');
--> statement-breakpoint
CREATE TRIGGER sources_keep_referenced AFTER UPDATE OF org_id, id OR DELETE ON sources
  FOR EACH ROW EXECUTE FUNCTION matches_keep_parent('source_id', 'matches_source_id_sources_id_fk');
--> statement-breakpoint
-- Members need no check of their own here: each one's match is in the same organisation.
CREATE OR REPLACE FUNCTION organisations_keep_referenced() RETURNS trigger LANGUAGE plpgsql SET row_security = off AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.id IS NOT DISTINCT FROM OLD.id THEN RETURN NEW; END IF;
  IF EXISTS (SELECT 1 FROM audit_log a WHERE a.org_id = OLD.id) THEN
    RAISE EXCEPTION '% on table "organisations" violates foreign key constraint "audit_log_org_id_organisations_id_fk" on table "audit_log"', TG_OP
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'audit_log_org_id_organisations_id_fk';
  END IF;
  IF EXISTS (SELECT 1 FROM matches m WHERE m.org_id = OLD.id) THEN
    RAISE EXCEPTION '% on table "organisations" violates foreign key constraint "matches_org_id_organisations_id_fk" on table "matches"', TG_OP
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'matches_org_id_organisations_id_fk';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
