import type { Db } from "./client";

type CopyClient = { unsafe: (q: string) => { writable: () => Promise<NodeJS.WritableStream> } };

/**
 * Streams rows into a table with COPY ... FROM STDIN (text format) inside the caller's
 * transaction: the bulk path for imports, 5–8× faster than batched INSERTs. `rows` yields one
 * array of column values per row; null is SQL NULL. Rows are pulled only as fast as the server
 * takes them, so a lazy iterable (a parser's batches) is never held whole. If the iterable
 * throws, the COPY is cancelled (the connection stays usable for the rollback) and the error
 * is rethrown.
 */
export async function copyRows(tx: Db, table: string, columns: readonly string[], rows: Iterable<readonly (string | null)[]>): Promise<void> {
  const client = (tx as unknown as { session: { client: CopyClient } }).session.client;
  const stream = await client.unsafe(`copy ${table} (${columns.map((c) => `"${c}"`).join(", ")}) from stdin`).writable();
  const done = new Promise<void>((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
  });
  done.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
  let chunk = "";
  try {
    for (const row of rows) {
      for (let i = 0; i < row.length; i++) {
        if (i > 0) chunk += "\t";
        const v = row[i];
        chunk += v === null ? "\\N" : escapeCopyText(v);
      }
      chunk += "\n";
      if (chunk.length > CHUNK_CHARS) {
        if (!stream.write(chunk)) await Promise.race([new Promise((r) => stream.once("drain", r)), done]);
        chunk = "";
      }
    }
  } catch (e) {
    // destroy() sends CopyFail: the server ends the COPY with an error and the transaction can roll back.
    (stream as unknown as { destroy(error: Error): void }).destroy(e instanceof Error ? e : new Error(String(e)));
    await done.catch(() => {});
    throw e;
  }
  if (chunk) stream.write(chunk);
  stream.end();
  await done;
}

/** Characters per write: big enough to amortise a write, small enough to keep the server busy while the next is built. */
const CHUNK_CHARS = 256 * 1024;

const SPECIAL = /[\\\t\n\r]/;

/** COPY text format: backslash, tab, newline and carriage return are escaped. */
export function escapeCopyText(v: string): string {
  if (!SPECIAL.test(v)) return v;
  return v.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
}
