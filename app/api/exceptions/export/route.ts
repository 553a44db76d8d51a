import { fileRoute } from "@/app/_lib/route";
import { exportExceptionQueue, exportFormat } from "@/server/exceptions/export";
import { filtersFromSearchParams } from "@/server/exceptions/queue";

/** GET /api/exceptions/export?format=csv&severity=high&sort=amount — the queue view as a CSV or XLSX file (viewers too). */
export const GET = fileRoute("exceptions.export", "ledger.read", async (db, ctx, req) => {
  const params = new URL(req.url).searchParams;
  const format = exportFormat(params.get("format"));
  return exportExceptionQueue(db, ctx, filtersFromSearchParams(params), format);
});
