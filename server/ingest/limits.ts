import type { ServerEnv } from "@/server/env";
import type { ParseLimits } from "./parsers/canonical";

/** Upload size and record limits, from the configuration (IMPORT_MAX_BYTES, IMPORT_MAX_RECORDS). */
export const importLimits = (env: Pick<ServerEnv, "IMPORT_MAX_BYTES" | "IMPORT_MAX_RECORDS">): ParseLimits => ({
  maxBytes: env.IMPORT_MAX_BYTES,
  maxRecords: env.IMPORT_MAX_RECORDS,
});
