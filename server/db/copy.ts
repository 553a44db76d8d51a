import type { Db } from "./client";

type CopyClient = { unsafe: (q: string) => { writable: () => Promise<NodeJS.WritableStream> } };

/**
 * Streams rows into a table with COPY ... FROM STDIN (text format) inside the caller's
 * transaction: the bulk path for imports, 5–8× faster than batched INSERTs. `rows` yields one
 * array of column values per row; null is SQL NULL.
 */
export async function copyRows(tx: Db, table: string, columns: readonly string[], rows: Iterable<readonly (string | null)[]>): Promise<void> {
  const client = (tx as unknown as { session: { client: CopyClient } }).session.client;
  const stream = await client.unsafe(`copy ${table} (${columns.map((c) => `"${c}"`).join(", ")}) from stdin`).writable();
  const done = new Promise<void>((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
  });
  let chunk = "";
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) {
      if (i > 0) chunk += "\t";
      const v = row[i];
      chunk += v === null ? "\\N" : escapeCopyText(v);
    }
    chunk += "\n";
    if (chunk.length > 256 * 1024) {
      if (!stream.write(chunk)) await new Promise((r) => stream.once("drain", r));
      chunk = "";
    }
  }
  if (chunk) stream.write(chunk);
  stream.end();
  await done;
}

const SPECIAL = /[\\\t\n\r]/;

/** COPY text format: backslash, tab, newline and carriage return are escaped. */
export function escapeCopyText(v: string): string {
  if (!SPECIAL.test(v)) return v;
  return v.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
}
