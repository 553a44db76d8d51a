import type { z } from "zod";
import type { Db } from "@/server/db/client";
import type { Ctx, Permission } from "@/server/tenancy/context";

/** How the request page shows the content: fields, a table (journal lines, matched records) or a diff (rules). */
export type ContentView = {
  fields?: { label: string; value: string }[];
  table?: { caption: string; columns: string[]; rows: string[][]; numeric: number[] };
  diff?: { field: string; before: string; after: string }[];
};

/** What a request is about, worked out from its content when it is submitted (and re-submitted). */
export type Described = {
  /** The legal entity it touches, if any (its period checklist counts the request). */
  entityId: string | null;
  /** The date it takes effect: a pending request blocks closing the period containing it. */
  effectiveDate: string | null;
  /** Magnitude in the entity's functional currency, which picks the policy tier; null for kinds without one. */
  amount: string | null;
  currency: string | null;
  /** One line for lists and the badge. */
  summary: string;
};

/** What an executed request did, as the request page links it (the entry posted, the rule in effect). */
export type Outcome = { text: string; href: string };

export type RequestRef = { id: string; makerId: string; makerLabel: string; targetKey: string; version: number };

/**
 * A kind of controlled action. A feature that needs four eyes registers one executor and calls
 * `requestApproval`; the approvals service does the rest (policy tier, distinct approvers, voiding
 * on edit, expiry, the audit trail) and calls `execute` inside the transaction that records the
 * last required approval. `execute` must do all its writes with `tx` and throw an AppError when
 * the action can no longer run (period closed, record changed): the approval is then not recorded
 * and nothing of the action remains.
 */
export type Executor<C = unknown> = {
  kind: string;
  label: string;
  /** What the maker must be allowed to do to submit this kind. */
  submitPermission: Permission;
  /** Validates (and normalises) content; the hash is taken over the parsed form. */
  content: z.ZodType<C>;
  describe(tx: Db, ctx: Ctx, content: C): Promise<Described>;
  /** Refuses at submission what could not execute now (unbalanced, closed period); writes nothing. */
  check(tx: Db, ctx: Ctx, content: C): Promise<void>;
  /** Runs the action. `ctx` acts for the approval (role system, the final approver as user). */
  execute(tx: Db, ctx: Ctx, content: C, request: RequestRef): Promise<Record<string, unknown>>;
  /** Reads the stored result of `execute` back as a sentence and a link. */
  outcome(result: Record<string, unknown>, content: C): Outcome;
  /** The content as people read it (account names, not ids). */
  present(tx: Db, ctx: Ctx, content: C): Promise<ContentView>;
  /** After a rejection or withdrawal, in the same transaction (e.g. nothing; a draft stays editable). */
  onClosed?(tx: Db, ctx: Ctx, content: C, request: RequestRef, status: "rejected" | "withdrawn" | "expired"): Promise<void>;
};
