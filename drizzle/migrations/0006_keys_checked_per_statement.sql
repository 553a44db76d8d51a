ALTER TABLE "journal_entries" DROP CONSTRAINT "journal_entries_org_id_organisations_id_fk";
--> statement-breakpoint
ALTER TABLE "journal_entries" DROP CONSTRAINT "journal_entries_posted_by_users_id_fk";
--> statement-breakpoint
ALTER TABLE "journal_entries" DROP CONSTRAINT "journal_entries_org_id_entity_id_entities_org_id_id_fk";
--> statement-breakpoint
ALTER TABLE "journal_lines" DROP CONSTRAINT "journal_lines_entry_id_journal_entries_id_fk";
--> statement-breakpoint
ALTER TABLE "journal_lines" DROP CONSTRAINT "journal_lines_org_id_entity_id_account_id_accounts_org_id_entity_id_id_fk";
--> statement-breakpoint
ALTER TABLE "audit_log" DROP CONSTRAINT "audit_log_org_id_organisations_id_fk";
--> statement-breakpoint
ALTER TABLE "audit_log" DROP CONSTRAINT "audit_log_actor_user_id_users_id_fk";
--> statement-breakpoint
DROP INDEX "journal_entries_one_reversal_key";--> statement-breakpoint
ALTER TABLE "journal_entries" ALTER COLUMN "posted_txid" SET DEFAULT txid_current();--> statement-breakpoint
CREATE UNIQUE INDEX "journal_entries_one_reversal_key" ON "journal_entries" USING btree ("org_id","reverses_entry_id") WHERE "journal_entries"."reverses_entry_id" is not null;--> statement-breakpoint

-- Posting 1,000 entries used to run about 11,000 row-level checks: one foreign-key probe per key
-- per row (entries: organisation, entity, poster; lines: entry, account; audit rows:
-- organisation, actor) and the period trigger once per entry. Each probe locked the same handful
-- of parent rows again. The same rules now run once per INSERT statement over its new rows
-- (transition tables), locking each distinct parent once, FOR KEY SHARE as a foreign key does;
-- the parents refuse DELETE, a key change or TRUNCATE while referenced, as NO ACTION keys did
-- (after the row is written, as those keys checked, so row-level security speaks first).
-- Error codes and constraint names are those of the keys they replace.

-- Entries: posted by this transaction, in an existing entity, by an existing user (or none), on a
-- date that an open fiscal period of the entity covers.
DROP TRIGGER journal_entry_period_open ON journal_entries;
--> statement-breakpoint
DROP FUNCTION journal_entry_period_open();
--> statement-breakpoint
CREATE FUNCTION journal_entries_checks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  me bigint := txid_current();
  bad record;
BEGIN
  SELECT n.entry_number INTO bad FROM new_entries n WHERE n.posted_txid IS DISTINCT FROM me LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal entry % names another transaction as its poster', bad.entry_number USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_posted_txid';
  END IF;

  SELECT k.org_id, k.entity_id INTO bad
  FROM (SELECT DISTINCT n.org_id, n.entity_id FROM new_entries n) k
  LEFT JOIN LATERAL (SELECT true AS ok FROM entities x WHERE x.id = k.entity_id AND x.org_id = k.org_id FOR KEY SHARE) f ON true
  WHERE f.ok IS NULL LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'insert on table "journal_entries" violates foreign key constraint "journal_entries_org_id_entity_id_entities_org_id_id_fk"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'journal_entries_org_id_entity_id_entities_org_id_id_fk', DETAIL = format('Key (org_id, entity_id)=(%s, %s) is not present in table "entities".', bad.org_id, bad.entity_id);
  END IF;

  SELECT k.posted_by INTO bad
  FROM (SELECT DISTINCT n.posted_by FROM new_entries n WHERE n.posted_by IS NOT NULL) k
  LEFT JOIN LATERAL (SELECT true AS ok FROM users x WHERE x.id = k.posted_by FOR KEY SHARE) f ON true
  WHERE f.ok IS NULL LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'insert on table "journal_entries" violates foreign key constraint "journal_entries_posted_by_users_id_fk"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'journal_entries_posted_by_users_id_fk', DETAIL = format('Key (posted_by)=(%s) is not present in table "users".', bad.posted_by);
  END IF;

  -- FOR SHARE on the covering periods: a concurrent period close waits for this posting to commit,
  -- or this posting waits for the close and then sees the period closed.
  WITH d AS (SELECT DISTINCT n.org_id, n.entity_id, n.entry_date FROM new_entries n),
  p AS MATERIALIZED (
    SELECT x.org_id, x.entity_id, x.starts_on, x.ends_on, x.status FROM fiscal_periods x
    WHERE EXISTS (SELECT 1 FROM d WHERE d.org_id = x.org_id AND d.entity_id = x.entity_id AND d.entry_date BETWEEN x.starts_on AND x.ends_on)
    FOR SHARE)
  SELECT d.entry_date, count(p.status) AS periods INTO bad
  FROM d LEFT JOIN p ON p.org_id = d.org_id AND p.entity_id = d.entity_id AND d.entry_date BETWEEN p.starts_on AND p.ends_on
  GROUP BY d.org_id, d.entity_id, d.entry_date
  HAVING count(p.status) = 0 OR bool_or(p.status = 'closed')
  ORDER BY d.entry_date LIMIT 1;
  IF FOUND AND bad.periods = 0 THEN
    RAISE EXCEPTION 'no fiscal period covers % for this entity', bad.entry_date USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_period_missing';
  END IF;
  IF FOUND THEN
    RAISE EXCEPTION 'the fiscal period containing % is closed', bad.entry_date USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_period_closed';
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER journal_entries_checks AFTER INSERT ON journal_entries
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION journal_entries_checks();
--> statement-breakpoint

-- Lines: their entry exists and was posted by this transaction with the same organisation, entity
-- and date; their (org, entity, account) exists.
CREATE OR REPLACE FUNCTION journal_lines_belong_to_new_entries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  me bigint := txid_current();
  bad record;
BEGIN
  SELECT n.entry_id, e.found, e.posted_txid INTO bad
  FROM (SELECT DISTINCT l.entry_id, l.org_id, l.entity_id, l.entry_date FROM new_lines l) n
  LEFT JOIN LATERAL (
    SELECT true AS found, x.posted_txid, x.entity_id, x.entry_date, x.org_id FROM journal_entries x WHERE x.id = n.entry_id OFFSET 0
  ) e ON true
  WHERE e.posted_txid IS DISTINCT FROM me
     OR e.entity_id <> n.entity_id OR e.entry_date <> n.entry_date OR e.org_id <> n.org_id
  LIMIT 1;
  IF FOUND AND bad.found IS NULL THEN
    RAISE EXCEPTION 'insert on table "journal_lines" violates foreign key constraint "journal_lines_entry_id_journal_entries_id_fk"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'journal_lines_entry_id_journal_entries_id_fk', DETAIL = format('Key (entry_id)=(%s) is not present in table "journal_entries".', bad.entry_id);
  END IF;
  IF FOUND AND bad.posted_txid = me THEN
    RAISE EXCEPTION 'journal line does not agree with its entry (entity, date or organisation)' USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_line_matches_entry';
  END IF;
  IF FOUND THEN
    RAISE EXCEPTION 'journal entry % is already posted; lines cannot be added', bad.entry_id USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'journal_lines_append_only';
  END IF;

  SELECT k.org_id, k.entity_id, k.account_id INTO bad
  FROM (SELECT DISTINCT l.org_id, l.entity_id, l.account_id FROM new_lines l) k
  LEFT JOIN LATERAL (
    SELECT true AS ok FROM accounts x WHERE x.id = k.account_id AND x.org_id = k.org_id AND x.entity_id = k.entity_id FOR KEY SHARE
  ) f ON true
  WHERE f.ok IS NULL LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'insert on table "journal_lines" violates foreign key constraint "journal_lines_org_id_entity_id_account_id_accounts_org_id_entit"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'journal_lines_org_id_entity_id_account_id_accounts_org_id_entit',
        DETAIL = format('Key (org_id, entity_id, account_id)=(%s, %s, %s) is not present in table "accounts".', bad.org_id, bad.entity_id, bad.account_id);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint

-- Audit rows: each links to the row before it. Within the statement that is the previous new
-- row; only the first new row of each organisation (or one after a gap) looks up the table.
-- Organisation and actor exist.
CREATE OR REPLACE FUNCTION audit_log_links() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  broken bigint;
  bad record;
BEGIN
  SELECT n.seq INTO broken
  FROM (SELECT r.org_id, r.seq, r.prev_hash,
               lag(r.seq) OVER w AS before_seq, lag(r.hash) OVER w AS before_hash
        FROM new_rows r WINDOW w AS (PARTITION BY r.org_id ORDER BY r.seq)) n
  WHERE n.prev_hash IS DISTINCT FROM CASE
      WHEN n.before_seq = n.seq - 1 THEN n.before_hash
      WHEN n.seq = 1 THEN repeat('0', 64)
      ELSE (SELECT p.hash FROM audit_log p WHERE p.org_id = n.org_id AND p.seq = n.seq - 1) END
  ORDER BY n.seq LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'audit row % does not continue the chain', broken USING ERRCODE = 'check_violation', CONSTRAINT = 'audit_log_chain';
  END IF;

  SELECT k.org_id INTO bad
  FROM (SELECT DISTINCT r.org_id FROM new_rows r) k
  LEFT JOIN LATERAL (SELECT true AS ok FROM organisations x WHERE x.id = k.org_id FOR KEY SHARE) f ON true
  WHERE f.ok IS NULL LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'insert on table "audit_log" violates foreign key constraint "audit_log_org_id_organisations_id_fk"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'audit_log_org_id_organisations_id_fk', DETAIL = format('Key (org_id)=(%s) is not present in table "organisations".', bad.org_id);
  END IF;

  SELECT k.actor_user_id INTO bad
  FROM (SELECT DISTINCT r.actor_user_id FROM new_rows r WHERE r.actor_user_id IS NOT NULL) k
  LEFT JOIN LATERAL (SELECT true AS ok FROM users x WHERE x.id = k.actor_user_id FOR KEY SHARE) f ON true
  WHERE f.ok IS NULL LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'insert on table "audit_log" violates foreign key constraint "audit_log_actor_user_id_users_id_fk"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'audit_log_actor_user_id_users_id_fk', DETAIL = format('Key (actor_user_id)=(%s) is not present in table "users".', bad.actor_user_id);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint

-- The parent side of the replaced keys (NO ACTION): a referenced row can be neither deleted nor
-- given another key. Accounts and entities share their organisation with everything that
-- references them, so a caller under row-level security who can see the parent row sees its
-- references too. Users and organisations are referenced across tenants; their checks run with
-- row_security off, so a role under row-level security is refused (fails closed) rather than
-- trusted with a partial view. Only the owner may delete rows at all (the app has no grant).
CREATE FUNCTION accounts_keep_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND (NEW.org_id, NEW.entity_id, NEW.id) IS NOT DISTINCT FROM (OLD.org_id, OLD.entity_id, OLD.id) THEN RETURN NEW; END IF;
  IF EXISTS (SELECT 1 FROM journal_lines l WHERE l.org_id = OLD.org_id AND l.account_id = OLD.id AND l.entity_id = OLD.entity_id) THEN
    RAISE EXCEPTION '% on table "accounts" violates foreign key constraint "journal_lines_org_id_entity_id_account_id_accounts_org_id_entit" on table "journal_lines"', TG_OP
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'journal_lines_org_id_entity_id_account_id_accounts_org_id_entit';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER accounts_keep_referenced AFTER UPDATE OF org_id, entity_id, id OR DELETE ON accounts
  FOR EACH ROW EXECUTE FUNCTION accounts_keep_referenced();
--> statement-breakpoint
-- journal_lines can never be truncated, so neither could the accounts it referenced.
CREATE FUNCTION refuse_truncate_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'cannot truncate %: journal lines reference it', TG_TABLE_NAME USING ERRCODE = 'feature_not_supported';
END $$;
--> statement-breakpoint
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON accounts FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_referenced();
--> statement-breakpoint
CREATE FUNCTION entities_keep_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND (NEW.org_id, NEW.id) IS NOT DISTINCT FROM (OLD.org_id, OLD.id) THEN RETURN NEW; END IF;
  IF EXISTS (SELECT 1 FROM journal_entries e WHERE e.org_id = OLD.org_id AND e.entity_id = OLD.id) THEN
    RAISE EXCEPTION '% on table "entities" violates foreign key constraint "journal_entries_org_id_entity_id_entities_org_id_id_fk" on table "journal_entries"', TG_OP
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'journal_entries_org_id_entity_id_entities_org_id_id_fk';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER entities_keep_referenced AFTER UPDATE OF org_id, id OR DELETE ON entities
  FOR EACH ROW EXECUTE FUNCTION entities_keep_referenced();
--> statement-breakpoint
CREATE FUNCTION users_keep_referenced() RETURNS trigger LANGUAGE plpgsql SET row_security = off AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.id IS NOT DISTINCT FROM OLD.id THEN RETURN NEW; END IF;
  IF EXISTS (SELECT 1 FROM journal_entries e WHERE e.posted_by = OLD.id) THEN
    RAISE EXCEPTION '% on table "users" violates foreign key constraint "journal_entries_posted_by_users_id_fk" on table "journal_entries"', TG_OP
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'journal_entries_posted_by_users_id_fk';
  END IF;
  IF EXISTS (SELECT 1 FROM audit_log a WHERE a.actor_user_id = OLD.id) THEN
    RAISE EXCEPTION '% on table "users" violates foreign key constraint "audit_log_actor_user_id_users_id_fk" on table "audit_log"', TG_OP
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'audit_log_actor_user_id_users_id_fk';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER users_keep_referenced AFTER UPDATE OF id OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION users_keep_referenced();
--> statement-breakpoint
CREATE FUNCTION organisations_keep_referenced() RETURNS trigger LANGUAGE plpgsql SET row_security = off AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.id IS NOT DISTINCT FROM OLD.id THEN RETURN NEW; END IF;
  IF EXISTS (SELECT 1 FROM audit_log a WHERE a.org_id = OLD.id) THEN
    RAISE EXCEPTION '% on table "organisations" violates foreign key constraint "audit_log_org_id_organisations_id_fk" on table "audit_log"', TG_OP
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'audit_log_org_id_organisations_id_fk';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER organisations_keep_referenced AFTER UPDATE OF id OR DELETE ON organisations
  FOR EACH ROW EXECUTE FUNCTION organisations_keep_referenced();
