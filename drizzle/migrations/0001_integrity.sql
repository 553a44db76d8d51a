-- Rules the business depends on, enforced by the database so that no code path can skip them:
-- the application role, row-level security, balanced and immutable postings, period locks and
-- the append-only audit chain.

-- The application connects as tieout_app: it owns no table, is no superuser and cannot bypass RLS.
-- LOGIN and its password are set by the bootstrap (server/db/bootstrap.ts), not here.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tieout_app') THEN
    CREATE ROLE tieout_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END $$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO tieout_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON users, auth_sessions, organisations, memberships, entities, accounts, fiscal_periods, entry_sequences, check_runs, journal_drafts TO tieout_app;
--> statement-breakpoint
GRANT DELETE ON memberships TO tieout_app;
--> statement-breakpoint
-- Posted entries, their lines and the audit log are append-only for the application.
GRANT SELECT, INSERT ON journal_entries, journal_lines, audit_log TO tieout_app;
--> statement-breakpoint
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO tieout_app;
--> statement-breakpoint

-- The organisation and user of the current transaction, set with set_config(..., true) (the
-- parameterised form of SET LOCAL). Unset means NULL, which matches no row: fail closed.
CREATE FUNCTION app_org_id() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('app.org_id', true), '')::uuid $$;
--> statement-breakpoint
CREATE FUNCTION app_user_id() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;
--> statement-breakpoint

ALTER TABLE organisations ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE organisations FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- A user sees the organisations they belong to (for the switcher) and the current one.
CREATE POLICY organisations_tenant ON organisations
  USING (id = app_org_id() OR id IN (SELECT m.org_id FROM memberships m WHERE m.user_id = app_user_id()))
  WITH CHECK (id = app_org_id());
--> statement-breakpoint
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY memberships_tenant ON memberships
  USING (org_id = app_org_id() OR user_id = app_user_id())
  WITH CHECK (org_id = app_org_id());
--> statement-breakpoint
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['entities', 'accounts', 'fiscal_periods', 'journal_entries', 'journal_lines', 'journal_drafts', 'entry_sequences', 'audit_log', 'check_runs']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id())', t || '_tenant', t);
  END LOOP;
END $$;
--> statement-breakpoint

-- I1: a posted entry balances in functional currency and has at least two lines. Deferred to
-- commit so the entry and its lines can be inserted by separate statements.
CREATE FUNCTION journal_entry_must_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  total numeric;
  n int;
BEGIN
  SELECT coalesce(sum(functional_amount), 0), count(*) INTO total, n FROM journal_lines WHERE entry_id = NEW.id;
  IF n < 2 THEN
    RAISE EXCEPTION 'journal entry % has % line(s); a posted entry needs at least two', NEW.entry_number, n USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_lines';
  END IF;
  IF total <> 0 THEN
    RAISE EXCEPTION 'journal entry % does not balance: functional debits and credits differ by %', NEW.entry_number, total USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_balanced';
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER journal_entry_balanced AFTER INSERT ON journal_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_must_balance();
--> statement-breakpoint

-- I8: posting needs an open fiscal period of the entity covering the entry date.
CREATE FUNCTION journal_entry_period_open() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  period_status period_status;
BEGIN
  -- FOR SHARE: a concurrent period close waits for this posting to commit, or this posting
  -- waits for the close and then sees the period closed.
  SELECT p.status INTO period_status FROM fiscal_periods p
    WHERE p.org_id = NEW.org_id AND p.entity_id = NEW.entity_id AND NEW.entry_date BETWEEN p.starts_on AND p.ends_on
    FOR SHARE;
  IF period_status IS NULL THEN
    RAISE EXCEPTION 'no fiscal period covers % for this entity', NEW.entry_date USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_period_missing';
  END IF;
  IF period_status = 'closed' THEN
    RAISE EXCEPTION 'the fiscal period containing % is closed', NEW.entry_date USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_period_closed';
  END IF;
  NEW.posted_txid := txid_current();
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER journal_entry_period_open BEFORE INSERT ON journal_entries
  FOR EACH ROW EXECUTE FUNCTION journal_entry_period_open();
--> statement-breakpoint

-- I5 on lines: a posted entry's lines are written once, in the posting transaction; each line
-- repeats its entry's entity and date, and the copy must be exact.
CREATE FUNCTION journal_line_belongs_to_new_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  e record;
BEGIN
  SELECT posted_txid, entity_id, entry_date, org_id INTO e FROM journal_entries WHERE id = NEW.entry_id;
  IF e.posted_txid IS DISTINCT FROM txid_current() THEN
    RAISE EXCEPTION 'journal entry % is already posted; lines cannot be added', NEW.entry_id USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'journal_lines_append_only';
  END IF;
  IF NEW.entity_id <> e.entity_id OR NEW.entry_date <> e.entry_date OR NEW.org_id <> e.org_id THEN
    RAISE EXCEPTION 'journal line does not agree with its entry (entity, date or organisation)' USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_line_matches_entry';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER journal_line_belongs_to_new_entry BEFORE INSERT ON journal_lines
  FOR EACH ROW EXECUTE FUNCTION journal_line_belongs_to_new_entry();
--> statement-breakpoint

-- Append-only tables refuse UPDATE, DELETE and TRUNCATE (RLS does not cover TRUNCATE).
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = TG_TABLE_NAME || '_append_only';
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER journal_lines_append_only BEFORE UPDATE OR DELETE ON journal_lines FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER journal_lines_no_truncate BEFORE TRUNCATE ON journal_lines FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
--> statement-breakpoint

-- The chain is continuous: each row names the hash of the row before it (or 64 zeros for the first).
CREATE FUNCTION audit_log_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  previous text;
BEGIN
  IF NEW.seq = 1 THEN
    previous := repeat('0', 64);
  ELSE
    SELECT hash INTO previous FROM audit_log WHERE org_id = NEW.org_id AND seq = NEW.seq - 1;
  END IF;
  IF previous IS NULL OR previous <> NEW.prev_hash THEN
    RAISE EXCEPTION 'audit row % does not continue the chain', NEW.seq USING ERRCODE = 'check_violation', CONSTRAINT = 'audit_log_chain';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_log_link BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_link();
