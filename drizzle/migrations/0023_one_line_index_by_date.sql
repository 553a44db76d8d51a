-- Exactly-once and date-range reads of a source's lines share one index led by the booked date.
-- Every dedupe key carries its line's date, so (source, date, key) is unique exactly when
-- (source, key) is. An import inserts its new lines in date order: they append to this index
-- instead of landing at a million random places in the old (source, key) index, and the
-- (org, source, date) index that every read already narrows by source is no longer needed.
CREATE UNIQUE INDEX "canonical_transactions_source_date_key" ON "canonical_transactions" USING btree ("source_id","booked_date","dedupe_key");--> statement-breakpoint
DROP INDEX "canonical_transactions_dedupe_key";--> statement-breakpoint
DROP INDEX "canonical_transactions_source_date_idx";
