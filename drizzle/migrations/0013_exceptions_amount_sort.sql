-- The amount sort key becomes a bigint (see drizzle/schema/exceptions.ts: amountSort): numeric
-- comparison is not leakproof, so under row-level security a deep page sorted by amount filtered
-- row by row instead of starting from the cursor in the index.
DROP INDEX "exceptions_queue_amount_idx";--> statement-breakpoint
ALTER TABLE "exceptions" DROP COLUMN "abs_amount";
--> statement-breakpoint
ALTER TABLE "exceptions" ADD COLUMN "amount_sort" bigint GENERATED ALWAYS AS ((least(coalesce(abs(amount), 0), 900000000000000) * 10000)::bigint) STORED;--> statement-breakpoint
CREATE INDEX "exceptions_queue_amount_idx" ON "exceptions" USING btree ("org_id","status","amount_sort","id");