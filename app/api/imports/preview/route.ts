import { jsonRoute } from "@/app/_lib/route";
import { AppError } from "@/server/errors";
import { importLimits } from "@/server/ingest/limits";
import { previewStoredUpload, previewUpload } from "@/server/ingest/import-file";
import { serverEnv } from "@/server/env";

export const dynamic = "force-dynamic";

/**
 * Multipart: sourceId + file (a new upload), or uploadId (parse a stored upload again, e.g. with
 * an edited CSV mapping); optional format and options (JSON). Returns the parse to review.
 */
export const POST = jsonRoute("imports.preview", "imports.run", async (db, ctx, req) => {
  const form = await req.formData().catch(() => {
    throw new AppError("validation", "Send the file as multipart form data.");
  });
  const format = (form.get("format") as string | null) || undefined;
  const options = parseOptions(form.get("options"));
  const limits = importLimits(serverEnv());
  const uploadId = form.get("uploadId");
  if (typeof uploadId === "string" && uploadId) return previewStoredUpload(db, ctx, { uploadId, format, options }, limits);
  const file = form.get("file");
  if (!(file instanceof File)) throw new AppError("validation", "Choose a file to import.", { file: ["Choose a file"] });
  return previewUpload(db, ctx, {
    sourceId: String(form.get("sourceId") ?? ""),
    fileName: file.name.slice(0, 255) || "upload",
    bytes: new Uint8Array(await file.arrayBuffer()),
    format,
    options,
  }, limits);
});

function parseOptions(v: FormDataEntryValue | null) {
  if (typeof v !== "string" || !v) return undefined;
  try {
    return JSON.parse(v);
  } catch {
    throw new AppError("validation", "The mapping could not be read.");
  }
}
