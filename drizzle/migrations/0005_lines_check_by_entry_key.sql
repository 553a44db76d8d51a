-- The set-based line check of 0004 joined new lines to journal_entries on id, org_id, entity_id
-- and entry_date at once. PL/pgSQL plans that query once per session, on the first posting, when
-- journal_entries is nearly empty; the planner then found the org_id-leading one_reversal index
-- as cheap as the primary key and kept that plan, so every new line scanned all of the
-- organisation's entries (quadratic: 0.4 s per 1,000 entries at 2,000 entries, 3.7 s at 10,000).
-- Now each distinct entry of the statement is fetched by primary key alone (OFFSET 0 keeps the
-- lookup a separate subquery, so no other index can serve it) and compared afterwards. Same rule,
-- same errors.
CREATE OR REPLACE FUNCTION journal_lines_belong_to_new_entries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  me bigint := txid_current();
  bad record;
BEGIN
  SELECT n.entry_id, e.posted_txid INTO bad
  FROM (SELECT DISTINCT l.entry_id, l.org_id, l.entity_id, l.entry_date FROM new_lines l) n
  LEFT JOIN LATERAL (
    SELECT x.posted_txid, x.entity_id, x.entry_date, x.org_id FROM journal_entries x WHERE x.id = n.entry_id OFFSET 0
  ) e ON true
  WHERE e.posted_txid IS DISTINCT FROM me
     OR e.entity_id <> n.entity_id OR e.entry_date <> n.entry_date OR e.org_id <> n.org_id
  LIMIT 1;
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF bad.posted_txid = me THEN
    RAISE EXCEPTION 'journal line does not agree with its entry (entity, date or organisation)' USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_line_matches_entry';
  END IF;
  RAISE EXCEPTION 'journal entry % is already posted; lines cannot be added', bad.entry_id USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'journal_lines_append_only';
END $$;
