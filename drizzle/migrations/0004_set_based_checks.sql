-- The same rules as 0001, checked once per statement over its new rows (transition tables)
-- instead of one lookup per row: a 1,000-entry posting is a handful of set-based checks.

-- Lines: written only in the transaction that posted their entry, agreeing with it.
DROP TRIGGER journal_line_belongs_to_new_entry ON journal_lines;
--> statement-breakpoint
DROP FUNCTION journal_line_belongs_to_new_entry();
--> statement-breakpoint
CREATE FUNCTION journal_lines_belong_to_new_entries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad_entry uuid;
BEGIN
  -- Driven by the new rows: one primary-key probe of journal_entries per new line.
  SELECT n.entry_id INTO bad_entry FROM new_lines n
  WHERE NOT EXISTS (
    SELECT 1 FROM journal_entries e
    WHERE e.id = n.entry_id AND e.posted_txid = txid_current()
      AND e.entity_id = n.entity_id AND e.entry_date = n.entry_date AND e.org_id = n.org_id)
  LIMIT 1;
  IF bad_entry IS NULL THEN RETURN NULL; END IF;
  IF EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = bad_entry AND e.posted_txid = txid_current()) THEN
    RAISE EXCEPTION 'journal line does not agree with its entry (entity, date or organisation)' USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_line_matches_entry';
  END IF;
  RAISE EXCEPTION 'journal entry % is already posted; lines cannot be added', bad_entry USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'journal_lines_append_only';
END $$;
--> statement-breakpoint
CREATE TRIGGER journal_lines_belong_to_new_entries AFTER INSERT ON journal_lines
  REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION journal_lines_belong_to_new_entries();
--> statement-breakpoint

-- Audit chain: every new row links to the row before it (in the table or in the same statement).
DROP TRIGGER audit_log_link ON audit_log;
--> statement-breakpoint
DROP FUNCTION audit_log_link();
--> statement-breakpoint
CREATE FUNCTION audit_log_links() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  broken bigint;
BEGIN
  -- One primary-key lookup of the previous row per new row (it may itself be new).
  SELECT n.seq INTO broken FROM new_rows n
  WHERE n.prev_hash IS DISTINCT FROM CASE WHEN n.seq = 1 THEN repeat('0', 64)
    ELSE (SELECT p.hash FROM audit_log p WHERE p.org_id = n.org_id AND p.seq = n.seq - 1) END
  ORDER BY n.seq LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'audit row % does not continue the chain', broken USING ERRCODE = 'check_violation', CONSTRAINT = 'audit_log_chain';
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_log_links AFTER INSERT ON audit_log
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_log_links();
--> statement-breakpoint

-- The deferred balance check is one key lookup per entry. Row-level security adds an org_id
-- filter, and on a young table the planner may AND a bitmap of the org_id-leading index into it,
-- reading every line of the organisation per entry; the setting is scoped to this function only.
ALTER FUNCTION journal_entry_must_balance() SET enable_bitmapscan = off;
--> statement-breakpoint
-- The planner cannot know a transition table holds a few thousand rows at most; without this it may
-- hash the whole growing journal once per statement, which makes posting quadratic.
ALTER FUNCTION journal_lines_belong_to_new_entries() SET enable_hashjoin = off;
--> statement-breakpoint
ALTER FUNCTION journal_lines_belong_to_new_entries() SET enable_mergejoin = off;
--> statement-breakpoint
ALTER FUNCTION journal_entry_must_balance() SET enable_seqscan = off;
