import type { Metadata } from "next";
import { db } from "@/app/_lib/db";
import { requireActor } from "@/app/_lib/session";
import { ExceptionQueue } from "@/components/exceptions/exception-queue";
import { canonicalSearch } from "@/components/exceptions/search";
import { listAssignees } from "@/server/exceptions/assignees";
import { filtersFromSearchParams, listExceptionQueue, searchParamsOf } from "@/server/exceptions/queue";
import { listSources } from "@/server/ingest/sources";
import { AppError } from "@/server/errors";
import { can } from "@/server/tenancy/context";

export const metadata: Metadata = { title: "Exceptions" };

/** The queue: filters live in the URL; the first page is rendered here, later pages come from /api/exceptions. */
export default async function ExceptionsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { ctx, user } = await requireActor();
  const raw = await searchParams;
  let filtersError: string | null = null;
  let filters;
  try {
    filters = filtersFromSearchParams(raw);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    filtersError = e.message;
    filters = filtersFromSearchParams({});
  }
  const [page, sources, assignees] = await Promise.all([listExceptionQueue(db(), ctx, { ...filters, after: undefined }), listSources(db(), ctx), listAssignees(db(), ctx)]);
  return (
    <>
      <h1>Exceptions</h1>
      {filtersError && <p role="alert" className="alert error">{filtersError} Showing the default view instead.</p>}
      <ExceptionQueue
        initial={page}
        initialSearch={canonicalSearch(searchParamsOf({ ...filters, after: undefined }).entries())}
        sources={sources.map((s) => ({ id: s.id, name: s.name }))}
        assignees={assignees}
        me={user.userId}
        canWork={can(ctx.role, "exceptions.work")}
        canDecide={can(ctx.role, "matching.decide")}
        today={new Date().toISOString().slice(0, 10)}
      />
    </>
  );
}
