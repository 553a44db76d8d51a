import { jsonRoute } from "@/app/_lib/route";
import { AppError } from "@/server/errors";
import { importLimits } from "@/server/ingest/limits";
import { importUpload } from "@/server/ingest/import-file";
import { serverEnv } from "@/server/env";
import { getImport } from "@/server/ingest/queries";
import { afterImportLanded } from "@/server/jobs/after-import";

export const dynamic = "force-dynamic";

/** JSON { uploadId, format?, options?, saveProfileAs? }: imports the reviewed upload, whole or not at all. */
export const POST = jsonRoute("imports.confirm", "imports.run", async (db, ctx, req) => {
  const body = (await req.json().catch(() => null)) as { uploadId?: unknown; format?: unknown; options?: unknown; saveProfileAs?: unknown } | null;
  if (!body || typeof body.uploadId !== "string") throw new AppError("validation", "Say which upload to import.");
  const summary = await importUpload(db, ctx, {
    uploadId: body.uploadId,
    format: typeof body.format === "string" && body.format ? body.format : undefined,
    options: (body.options ?? undefined) as never,
    saveProfileAs: typeof body.saveProfileAs === "string" && body.saveProfileAs.trim() ? body.saveProfileAs.trim() : undefined,
  }, importLimits(serverEnv()));
  const { sourceId } = await getImport(db, ctx, summary.importId);
  await afterImportLanded(db, ctx.orgId, { sourceId, newCount: summary.newCount, actor: "after-import" });
  return summary;
});
