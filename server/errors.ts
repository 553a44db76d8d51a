/**
 * Expected failures carry a code and a message a person can act on. Anything else is a bug:
 * it is logged with a request id and the browser sees a generic message.
 */
export type ErrorCode =
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "validation"
  | "unbalanced"
  | "period_closed"
  | "no_period"
  | "idempotency_conflict"
  | "already_reversed"
  | "immutable"
  | "conflict"
  | "expired"
  | "throttled";

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fieldErrors?: Record<string, string[]>,
  ) {
    super(message);
    this.name = "AppError";
  }
}

/** zod issues as the field-error map forms show next to each field ("lines.0.amount" → messages). */
export function fieldErrorsOf(error: { issues: { path: PropertyKey[]; message: string }[] }): Record<string, string[]> {
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of error.issues) (fieldErrors[issue.path.map(String).join(".")] ??= []).push(issue.message);
  return fieldErrors;
}

export const notFound = (what: string) => new AppError("not_found", `${what} was not found.`);

/** Maps a PostgreSQL error raised by one of our constraints or triggers to an AppError. */
export function fromDbError(e: unknown): AppError | undefined {
  const err = e as { code?: string; constraint_name?: string; message?: string; cause?: unknown };
  const inner = (err?.code ? err : (err?.cause as typeof err)) ?? {};
  const constraint = inner.constraint_name ?? "";
  switch (constraint) {
    case "journal_entry_period_closed":
      return new AppError("period_closed", capitalise(inner.message ?? "The fiscal period is closed."));
    case "journal_entry_period_missing":
      return new AppError("no_period", capitalise(inner.message ?? "No fiscal period covers that date."));
    case "journal_entry_balanced":
    case "journal_entry_lines":
      return new AppError("unbalanced", capitalise(inner.message ?? "The entry does not balance."));
    case "approval_decisions_not_maker":
      return new AppError("forbidden", "Nobody approves their own request: someone other than the maker must decide it.");
    case "approval_decisions_role":
      return new AppError("forbidden", "Only members holding the approver or admin role decide approval requests.");
    case "approval_decisions_one_per_approver_key":
      return new AppError("conflict", "You have already decided this request; another approver is needed.");
    case "approval_decisions_pending":
    case "approval_requests_decided":
      return new AppError("conflict", capitalise(inner.message ?? "The request is no longer pending."));
    case "approval_decisions_current_version":
      return new AppError("conflict", "The request changed since you opened it; review the new version.");
    case "approval_requests_enough_approvals":
      return new AppError("conflict", capitalise(inner.message ?? "Not enough approvals."));
    case "approval_requests_one_pending_key":
      return new AppError("conflict", "A request for this is already waiting for approval.");
    case "fiscal_period_reopen_approved":
      return new AppError("forbidden", capitalise(inner.message ?? "Reopening a period needs an approved request."));
    case "journal_entries_one_reversal_key":
      return new AppError("already_reversed", "That entry has already been reversed.");
    case "journal_entries_append_only":
    case "journal_lines_append_only":
    case "audit_log_append_only":
      return new AppError("immutable", capitalise(inner.message ?? "Posted records cannot be changed."));
  }
  return undefined;
}

function capitalise(s: string) {
  return s.charAt(0).toUpperCase() + s.slice(1) + (s.endsWith(".") ? "" : ".");
}
