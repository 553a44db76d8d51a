/**
 * The in-process scheduler's fan-out: `run` for each item, one after another. One item's failure
 * is recorded with the item and handed to `failed` (which logs it); it does not stop the others.
 */
export async function eachInTurn<I extends object, R>(
  items: I[],
  run: (item: I) => Promise<R>,
  failed: (item: I, error: string) => void,
): Promise<{ results: R[]; failures: (I & { error: string })[] }> {
  const results: R[] = [];
  const failures: (I & { error: string })[] = [];
  for (const item of items) {
    try {
      results.push(await run(item));
    } catch (e) {
      const error = String(e);
      failures.push({ ...item, error });
      failed(item, error);
    }
  }
  return { results, failures };
}

/** The organisations as items for eachInTurn. */
export const asOrgItems = (orgIds: string[]) => orgIds.map((orgId) => ({ orgId }));
