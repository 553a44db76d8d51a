-- The write-off account is an account of the same organisation, by a composite key: a policy can
-- no more name another tenant's account than a journal line can. Only SQL could have set one
-- before; such a value is cleared (row-level security is lifted for the owner while it looks
-- across organisations), so the key can be added.
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_org_id_key" UNIQUE("org_id","id");--> statement-breakpoint
ALTER TABLE exception_policies NO FORCE ROW LEVEL SECURITY;--> statement-breakpoint
UPDATE exception_policies p SET write_off_account_id = NULL
WHERE p.write_off_account_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.org_id = p.org_id AND a.id = p.write_off_account_id);--> statement-breakpoint
ALTER TABLE exception_policies FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "exception_policies" DROP CONSTRAINT "exception_policies_write_off_account_id_accounts_id_fk";--> statement-breakpoint
ALTER TABLE "exception_policies" ADD CONSTRAINT "exception_policies_write_off_account_fk" FOREIGN KEY ("org_id","write_off_account_id") REFERENCES "public"."accounts"("org_id","id") ON DELETE no action ON UPDATE no action;
