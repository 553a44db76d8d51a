import type { Metadata } from "next";
import Link from "next/link";
import { db } from "@/app/_lib/db";
import { requireActor } from "@/app/_lib/session";
import { ImportHistory } from "@/components/import-history";
import { ImportWizard } from "@/components/import-wizard";
import { listMappingProfiles } from "@/server/ingest/mapping-profiles";
import { listImports } from "@/server/ingest/queries";
import { listSources } from "@/server/ingest/sources";
import { can } from "@/server/tenancy/context";

export const metadata: Metadata = { title: "Imports" };

export default async function ImportsPage({ searchParams }: { searchParams: Promise<{ source?: string }> }) {
  const { ctx } = await requireActor();
  const sp = await searchParams;
  const [sources, profiles, imports] = await Promise.all([listSources(db(), ctx), listMappingProfiles(db(), ctx), listImports(db(), ctx, { limit: 50 })]);
  const fileSources = sources.filter((s) => s.kind !== "xero");
  return (
    <>
      <h1>Imports</h1>
      {can(ctx.role, "imports.run") ? (
        fileSources.length ? (
          <ImportWizard
            sources={fileSources.map((s) => ({ id: s.id, name: s.name, currency: s.currency }))}
            profiles={profiles}
            initialSourceId={fileSources.some((s) => s.id === sp.source) ? sp.source : undefined}
          />
        ) : (
          <p className="alert info">Create a <Link href="/sources">source</Link> first: every import belongs to a bank or payment-provider account.</p>
        )
      ) : (
        <p className="muted">Your role ({ctx.role}) can see imports but not run them.</p>
      )}
      <h2>History</h2>
      <ImportHistory imports={imports} />
    </>
  );
}
