import { jsonRoute } from "@/app/_lib/route";
import { filtersFromSearchParams, listExceptionQueue } from "@/server/exceptions/queue";

/** GET /api/exceptions?severity=high&sort=amount&after=… — one page of the queue as JSON (the queue page's client reads it). */
export const GET = jsonRoute("exceptions.queue", "ledger.read", (db, ctx, req) =>
  listExceptionQueue(db, ctx, filtersFromSearchParams(new URL(req.url).searchParams)),
);
