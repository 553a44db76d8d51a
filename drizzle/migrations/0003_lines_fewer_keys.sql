ALTER TABLE "journal_lines" DROP CONSTRAINT "journal_lines_org_id_organisations_id_fk";
