import type { ActionResult } from "@/app/_lib/action";

/** A refused action in one sentence: the service's message, then the first field's complaint if there is one. */
export function failureText(r: Extract<ActionResult<unknown>, { ok: false }>): string {
  const field = Object.values(r.fieldErrors ?? {})[0]?.[0];
  return field ? `${r.message} ${field}` : r.message;
}
