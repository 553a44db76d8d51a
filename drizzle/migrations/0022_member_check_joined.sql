-- A run writes a member for each record it proposes: 1.8 million for a run over a million bank
-- lines, one INSERT statement. match_members_checks (0021) looked each distinct match up with its
-- own index probe (9.4 s at that size). As a plain join the planner chooses: it knows a transition
-- table's row count, so a handful of members (a manual match) still probe the index and a run's
-- million are one hash join against matches. No LIMIT: a limit would make the planner cost the
-- join as if a bad row came early, and the members of a valid INSERT have none.
CREATE OR REPLACE FUNCTION match_members_checks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT k.match_id INTO bad
  FROM (SELECT DISTINCT n.org_id, n.match_id, n.pairing FROM new_members n) k
  LEFT JOIN matches x ON x.id = k.match_id AND x.org_id = k.org_id
  WHERE x.pairing IS DISTINCT FROM k.pairing;
  IF FOUND THEN
    RAISE EXCEPTION 'insert on table "match_members" violates foreign key constraint "match_members_match_id_matches_id_fk"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'match_members_match_id_matches_id_fk',
        DETAIL = format('Key (match_id)=(%s) is not present in table "matches" for this organisation and pairing.', bad.match_id);
  END IF;
  RETURN NULL;
END $$;
