import type { Metadata } from "next";
import Link from "next/link";
import { requireActor, orNotFound } from "@/app/_lib/session";
import { db } from "@/app/_lib/db";
import { listAccounts, listEntities } from "@/server/ledger/queries";
import { getDraft, listDrafts } from "@/server/ledger/drafts";
import { can } from "@/server/tenancy/context";
import { JournalEntryForm } from "@/components/journal-entry-form";

export const metadata: Metadata = { title: "New journal entry" };

export default async function NewEntryPage({ searchParams }: { searchParams: Promise<{ entity?: string; draft?: string }> }) {
  const { ctx } = await requireActor();
  if (!can(ctx.role, "ledger.post")) {
    return (
      <>
        <h1>New journal entry</h1>
        <p role="alert" className="alert error">Your role ({ctx.role}) can read the ledger but not post to it. Ask an admin or accountant.</p>
      </>
    );
  }
  const sp = await searchParams;
  const [entities, accounts, drafts] = await Promise.all([listEntities(db(), ctx), listAccounts(db(), ctx), listDrafts(db(), ctx)]);
  const draft = sp.draft ? await orNotFound(getDraft(db(), ctx, sp.draft)) : undefined;
  const entityId = draft?.entityId ?? entities.find((e) => e.id === sp.entity)?.id ?? entities[0].id;
  return (
    <>
      <h1>{draft ? "Draft journal entry" : "New journal entry"}</h1>
      {draft && draft.status !== "draft" && <p className="alert info">This draft was {draft.status}.</p>}
      <JournalEntryForm
        key={draft?.draftId ?? "new"}
        entities={entities}
        accounts={accounts}
        initial={{
          draftId: draft?.status === "draft" ? draft.draftId : undefined,
          entityId,
          entryDate: draft?.entryDate ?? new Date().toISOString().slice(0, 10),
          description: draft?.description ?? "",
          lines: (draft?.lines ?? []).map((l) => ({ accountId: l.accountId, debit: l.debit ?? "", credit: l.credit ?? "", memo: l.memo ?? "" })),
        }}
      />
      {drafts.length > 0 && (
        <>
          <h2>Open drafts</h2>
          <ul>
            {drafts.map((d) => (
              <li key={d.id}><Link href={`/ledger/entries/new?draft=${d.id}`}>{d.entryDate} — {d.description || "(no description)"}</Link> <span className="muted">{d.entityName}</span></li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
