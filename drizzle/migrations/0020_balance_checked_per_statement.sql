CREATE TABLE "journal_entry_balance_due" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "journal_entry_balance_due_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"org_id" uuid NOT NULL,
	"entry_ids" uuid[] NOT NULL
);
--> statement-breakpoint

-- I1, a posted entry balances in functional currency and has at least two lines, was one deferred
-- trigger call per entry: at commit a 1,000-entry posting made 1,000 calls, each switching planner
-- settings and probing its lines, about 12 ms of a 120 ms posting. The rule and its refusals are
-- unchanged and it is still checked at commit, after every line has arrived; it now runs once per
-- INSERT statement into journal_entries, over that statement's entries in one query. The
-- statement's trigger records their ids here; the deferred check reads the row and removes it.
GRANT SELECT, INSERT, DELETE ON journal_entry_balance_due TO tieout_app;
--> statement-breakpoint
ALTER TABLE journal_entry_balance_due ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE journal_entry_balance_due FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY journal_entry_balance_due_tenant ON journal_entry_balance_due USING (org_id = (SELECT app_org_id())) WITH CHECK (org_id = (SELECT app_org_id()));
--> statement-breakpoint
DROP TRIGGER journal_entry_balanced ON journal_entries;
--> statement-breakpoint
DROP FUNCTION journal_entry_must_balance();
--> statement-breakpoint
CREATE FUNCTION journal_entries_balance_due() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO journal_entry_balance_due (org_id, entry_ids) SELECT n.org_id, array_agg(n.id) FROM new_entries n GROUP BY n.org_id;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER journal_entries_balance_due AFTER INSERT ON journal_entries
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION journal_entries_balance_due();
--> statement-breakpoint
CREATE FUNCTION journal_entries_must_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
  entry_number bigint;
BEGIN
  SELECT d.id, coalesce(s.n, 0) AS n, s.total INTO bad
  FROM unnest(NEW.entry_ids) AS d(id)
  LEFT JOIN LATERAL (SELECT count(*) AS n, sum(l.functional_amount) AS total FROM journal_lines l WHERE l.entry_id = d.id) s ON true
  WHERE coalesce(s.n, 0) < 2 OR s.total <> 0
  LIMIT 1;
  IF FOUND THEN
    SELECT e.entry_number INTO entry_number FROM journal_entries e WHERE e.id = bad.id;
    IF bad.n < 2 THEN
      RAISE EXCEPTION 'journal entry % has % line(s); a posted entry needs at least two', entry_number, bad.n USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_lines';
    END IF;
    RAISE EXCEPTION 'journal entry % does not balance: functional debits and credits differ by %', entry_number, bad.total USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_balanced';
  END IF;
  DELETE FROM journal_entry_balance_due WHERE id = NEW.id;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Each id is one probe of journal_lines_entry_line_key. The plan is made once per session, maybe
-- on a young table where row-level security's org_id filter makes a bitmap or a scan of the
-- organisation's lines look cheaper; these settings hold for this function only.
ALTER FUNCTION journal_entries_must_balance() SET enable_bitmapscan = off;
--> statement-breakpoint
ALTER FUNCTION journal_entries_must_balance() SET enable_seqscan = off;
--> statement-breakpoint
ALTER FUNCTION journal_entries_must_balance() SET enable_hashjoin = off;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER journal_entry_balanced AFTER INSERT ON journal_entry_balance_due
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entries_must_balance();
