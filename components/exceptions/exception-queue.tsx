"use client";
import type { ActionResult } from "@/app/_lib/action";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useMemo, useRef, useState } from "react";
import { acceptAction, assignAction, explainAction, reopenAction, snoozeAction, wakeAction, writeOffAction } from "@/app/(app)/exceptions/actions";
import type { SubmitResult } from "@/server/approvals/requests";
import type { Assignee } from "@/server/exceptions/assignees";
import { AGE_BUCKETS, EXCEPTION_KINDS, REASON_CODES, SEVERITIES } from "@/server/exceptions/kinds";
import type { FirstQueuePage, QueuePage, QueueRow } from "@/server/exceptions/queue";
import { formatMoney } from "@/server/money";
import { canonicalSearch } from "./search";
import { failureText } from "./failure-text";

type Result = ActionResult<unknown>;
/** What the page says after an action: a sentence, and where to follow it up (the approval request filed). */
type Notice = { kind: "ok" | "error"; text: string; link?: { href: string; label: string } };
/** A fixed sentence, or one read off what the action returned. */
type Label = string | ((data: unknown) => Omit<Notice, "kind">);

const SORTS = { priority: "Worst first", amount: "Largest amount", oldest: "Oldest first", newest: "Newest first" };
const KEYS: [string, string][] = [
  ["j / ↓", "Next exception"], ["k / ↑", "Previous exception"], ["Enter / o", "Open the exception"], ["x", "Select or unselect"],
  ["a", "Accept the proposed match or best candidate"], ["m", "Assign to me"], ["/", "Search"], ["?", "This help"], ["Esc", "Close help"],
];

async function fetchPage(search: string, after: string | null): Promise<QueuePage> {
  const p = new URLSearchParams(search);
  if (after) p.set("after", after);
  const r = await fetch(`/api/exceptions?${p}`, { headers: { accept: "application/json" } });
  const j = await r.json();
  if (!j.ok) throw new Error(j.message ?? "The queue could not be loaded.");
  return j.data as QueuePage;
}

export function ExceptionQueue(props: {
  initial: FirstQueuePage; initialSearch: string; sources: { id: string; name: string }[]; assignees: Assignee[];
  me: string; canWork: boolean; canDecide: boolean; today: string;
}) {
  const { initial, initialSearch, sources, assignees, me, canWork, canDecide, today } = props;
  const params = useSearchParams();
  const router = useRouter();
  const client = useQueryClient();
  const search = canonicalSearch(params.entries());
  const view = Object.fromEntries(new URLSearchParams(search));
  const status = view.status ?? "open";

  const query = useInfiniteQuery({
    queryKey: ["exceptions", search],
    queryFn: ({ pageParam }) => fetchPage(search, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
    initialData: search === initialSearch ? { pages: [initial], pageParams: [null] } : undefined,
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.rows) ?? [], [query.data]);
  const counts = query.data?.pages[0]?.counts ?? initial.counts;

  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [cursor, setCursor] = useState(0);
  const [help, setHelp] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const searchBox = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLDivElement>(null);
  useEffect(() => { setSelected(new Set()); setCursor(0); }, [search]);

  /** Filters live in the URL: a view can be bookmarked and shared; Back returns to the previous view. */
  const setFilter = (changes: Record<string, string | undefined>) => {
    const p = new URLSearchParams(search);
    for (const [k, v] of Object.entries(changes)) if (v) p.set(k, v); else p.delete(k);
    window.history.pushState(null, "", `/exceptions${p.size ? `?${canonicalSearch(p.entries())}` : ""}`);
  };

  const run = async (label: Label, fn: () => Promise<Result>) => {
    setNotice(null);
    const r = await fn();
    if (r.ok) {
      setNotice({ kind: "ok", ...(typeof label === "string" ? { text: label } : label(r.data)) });
      setSelected(new Set());
      await client.invalidateQueries({ queryKey: ["exceptions"] });
    } else {
      setNotice({ kind: "error", text: failureText(r) });
    }
    return r;
  };
  const bulk = useMutation({ mutationFn: (x: { label: Label; fn: () => Promise<Result> }) => run(x.label, x.fn) });

  const ids = [...selected];
  const current: QueueRow | undefined = rows[cursor];
  const toggle = (id: string) => setSelected((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });

  const onKey = (e: React.KeyboardEvent) => {
    if ((e.target as HTMLElement).closest("input, select, textarea, button, a") && e.key !== "Escape") return;
    const key = e.key;
    if (key === "?") { setHelp(true); e.preventDefault(); return; }
    if (key === "Escape") { setHelp(false); return; }
    if (key === "/") { searchBox.current?.focus(); e.preventDefault(); return; }
    if (key === "j" || key === "ArrowDown") { setCursor((c) => Math.min(rows.length - 1, c + 1)); e.preventDefault(); return; }
    if (key === "k" || key === "ArrowUp") { setCursor((c) => Math.max(0, c - 1)); e.preventDefault(); return; }
    if (!current) return;
    if (key === "Enter" || key === "o") router.push(`/exceptions/${current.id}`);
    if (key === "x" && canWork) toggle(current.id);
    if (key === "a" && canDecide) bulk.mutate({ label: "Accepted.", fn: () => acceptAction({ exceptionId: current.id }) as Promise<Result> });
    if (key === "m" && canWork) bulk.mutate({ label: "Assigned to you.", fn: () => assignAction({ ids: [current.id], assigneeId: me }) as Promise<Result> });
  };
  useEffect(() => { listRef.current?.querySelector<HTMLElement>(`[data-row="${cursor}"]`)?.scrollIntoView({ block: "nearest" }); }, [cursor]);

  return (
    <div className="queue" onKeyDown={onKey}>
      <section aria-label="Counts" className="counts row">
        <span className="muted">Open {counts.open.toLocaleString("en")}</span>
        {SEVERITIES.map((s) => (
          <button key={s} type="button" className={`chip sev-${s}${view.severity === s ? " on" : ""}`} aria-pressed={view.severity === s}
            onClick={() => setFilter({ severity: view.severity === s ? undefined : s, status: undefined })} data-testid={`count-${s}`}>
            {s} <strong>{counts.bySeverity[s].toLocaleString("en")}</strong>
          </button>
        ))}
        <span className="muted">·</span>
        {AGE_BUCKETS.map((b) => (
          <button key={b.key} type="button" className={`chip${view.age === b.key ? " on" : ""}`} aria-pressed={view.age === b.key}
            onClick={() => setFilter({ age: view.age === b.key ? undefined : b.key })} data-testid={`age-${b.key}`}>
            {b.label} <strong>{counts.byAge[b.key].toLocaleString("en")}</strong>
          </button>
        ))}
        <button type="button" className={`chip${status === "snoozed" ? " on" : ""}`} onClick={() => setFilter({ status: status === "snoozed" ? undefined : "snoozed" })}>
          snoozed <strong>{counts.snoozed.toLocaleString("en")}</strong>
        </button>
      </section>

      <form className="filters row" aria-label="Filters" onSubmit={(e) => { e.preventDefault(); setFilter({ q: new FormData(e.currentTarget).get("q")?.toString().trim() || undefined }); }}>
        <label>Status
          <select value={status} onChange={(e) => setFilter({ status: e.target.value === "open" ? undefined : e.target.value })}>
            <option value="open">Open</option><option value="snoozed">Snoozed</option><option value="resolved">Resolved</option>
          </select>
        </label>
        <label>Severity
          <select value={view.severity ?? ""} onChange={(e) => setFilter({ severity: e.target.value || undefined })}>
            <option value="">Any</option>
            {SEVERITIES.map((s) => <option key={s} value={s}>{s}</option>)}
            <option value="critical,high">critical or high</option>
          </select>
        </label>
        <label>Type
          <select value={view.kind ?? ""} onChange={(e) => setFilter({ kind: e.target.value || undefined })}>
            <option value="">Any</option>
            {Object.entries(EXCEPTION_KINDS).map(([k, label]) => <option key={k} value={k}>{label}</option>)}
          </select>
        </label>
        <label>Source
          <select value={view.source ?? ""} onChange={(e) => setFilter({ source: e.target.value || undefined })}>
            <option value="">Any</option>
            {sources.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          </select>
        </label>
        <label>Assignee
          <select value={view.assignee ?? ""} onChange={(e) => setFilter({ assignee: e.target.value || undefined })}>
            <option value="">Anyone</option><option value="me">Me</option><option value="none">Unassigned</option>
            {assignees.map((a) => <option key={a.userId} value={a.userId}>{a.name}</option>)}
          </select>
        </label>
        <label>Age
          <select value={view.age ?? ""} onChange={(e) => setFilter({ age: e.target.value || undefined })}>
            <option value="">Any</option>
            {AGE_BUCKETS.map((b) => <option key={b.key} value={b.key}>{b.label}</option>)}
          </select>
        </label>
        <label>Amount from <input name="min" inputMode="decimal" size={8} defaultValue={view.min ?? ""} key={`min${view.min}`} onBlur={(e) => setFilter({ min: e.target.value.trim() || undefined })} /></label>
        <label>to <input name="max" inputMode="decimal" size={8} defaultValue={view.max ?? ""} key={`max${view.max}`} onBlur={(e) => setFilter({ max: e.target.value.trim() || undefined })} /></label>
        <label>Search <input ref={searchBox} name="q" type="search" placeholder="counterparty, reference, text" defaultValue={view.q ?? ""} key={`q${view.q}`} /></label>
        <label>Sort
          <select value={view.sort ?? "priority"} onChange={(e) => setFilter({ sort: e.target.value === "priority" ? undefined : e.target.value })}>
            {Object.entries(SORTS).map(([k, label]) => <option key={k} value={k}>{label}</option>)}
          </select>
        </label>
        <button type="submit" className="secondary">Apply</button>
        {search && <button type="button" className="secondary" onClick={() => window.history.pushState(null, "", "/exceptions")}>Clear filters</button>}
      </form>

      <div className="spread">
        <span className="muted">Press ? for keyboard shortcuts.</span>
        <span className="row">
          <a href={`/api/exceptions/export?format=csv${search ? `&${search}` : ""}`} download>Export CSV</a>
          <a href={`/api/exceptions/export?format=xlsx${search ? `&${search}` : ""}`} download>Export XLSX</a>
        </span>
      </div>

      {canWork && selected.size > 0 && (
        <BulkBar
          ids={ids}
          status={status}
          assignees={assignees}
          today={today}
          busy={bulk.isPending}
          canDecide={canDecide}
          act={(label, fn) => bulk.mutate({ label, fn })}
          clear={() => setSelected(new Set())}
        />
      )}
      {notice && (
        <p role={notice.kind === "error" ? "alert" : "status"} className={`alert ${notice.kind === "error" ? "error" : "ok"}`}>
          {notice.text}{notice.link && <> <Link href={notice.link.href}>{notice.link.label}</Link></>}
        </p>
      )}
      {query.isError && <p role="alert" className="alert error">{(query.error as Error).message}</p>}

      <div className="table-wrap" ref={listRef}>
        <table aria-label="Exceptions queue" className="queue-table">
          <thead>
            <tr>
              {canWork && <th><input type="checkbox" aria-label="Select all shown" checked={rows.length > 0 && selected.size === rows.length} onChange={(e) => setSelected(e.target.checked ? new Set(rows.map((r) => r.id)) : new Set())} /></th>}
              <th>Severity</th><th>Type</th><th>Exception</th><th>Source</th><th className="num">Amount</th><th className="num">Age</th><th>Due</th><th>Assignee</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && <tr><td colSpan={canWork ? 9 : 8} className="muted">{query.isFetching ? "Loading…" : search ? "Nothing in this view. Clear a filter to see more." : "No open exceptions: everything ties out."}</td></tr>}
            {rows.map((r, i) => (
              <tr key={r.id} data-row={i} className={i === cursor ? "current" : undefined} aria-current={i === cursor ? "true" : undefined} onClick={() => setCursor(i)} data-testid="exception-row">
                {canWork && <td><input type="checkbox" aria-label={`Select ${r.title}`} checked={selected.has(r.id)} onChange={() => toggle(r.id)} /></td>}
                <td><span className={`badge sev-${r.severity}`}>{r.severity}</span></td>
                <td>{r.kindLabel}</td>
                <td>
                  <Link href={`/exceptions/${r.id}`}>{r.title}</Link>
                  {r.pendingApproval && <> <Link href={`/approvals/${r.pendingApproval}`} className="badge" title="A write-off or adjustment of it waits for approval">awaiting approval</Link></>}
                  {r.snoozedUntil && <div className="muted">snoozed until {r.snoozedUntil.slice(0, 10)}</div>}
                  {r.resolution && <div className="muted">{r.resolution.replace("_", " ")}</div>}
                </td>
                <td>{r.sourceName ?? <span className="muted">—</span>}</td>
                <td className="num">{r.amount && r.currency ? `${formatMoney(r.amount, r.currency)} ${r.currency}` : ""}</td>
                <td className="num">{r.ageDays}d</td>
                <td className={r.overdue ? "overdue" : undefined}>{r.dueAt ? r.dueAt.slice(0, 10) : ""}{r.overdue && <span className="sr-only"> (overdue)</span>}</td>
                <td>{r.assignee ?? <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {query.hasNextPage && (
        <button type="button" className="secondary" disabled={query.isFetchingNextPage} onClick={() => query.fetchNextPage()}>
          {query.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      )}

      {help && (
        <div role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" className="overlay" onClick={() => setHelp(false)}>
          <div className="panel" onClick={(e) => e.stopPropagation()}>
            <h2>Keyboard shortcuts</h2>
            <table><tbody>{KEYS.map(([k, what]) => <tr key={k}><th scope="row"><kbd>{k}</kbd></th><td>{what}</td></tr>)}</tbody></table>
            <button type="button" autoFocus onClick={() => setHelp(false)}>Close</button>
          </div>
        </div>
      )}
    </div>
  );
}

function BulkBar(props: {
  ids: string[]; status: string; assignees: Assignee[]; today: string; busy: boolean; canDecide: boolean;
  act: (label: Label, fn: () => Promise<Result>) => void; clear: () => void;
}) {
  const { ids, status, assignees, today, busy, canDecide, act, clear } = props;
  const [assignee, setAssignee] = useState("");
  const week = new Date(Date.parse(today) + 7 * 86_400_000).toISOString().slice(0, 10);
  const [until, setUntil] = useState(week);
  const [reason, setReason] = useState<keyof typeof REASON_CODES>("timing_difference");
  const [note, setNote] = useState("");
  const [writingOff, setWritingOff] = useState(false);
  const [why, setWhy] = useState("");
  const n = ids.length;
  const exceptions = `${n} exception${n === 1 ? "" : "s"}`;
  /** One request for the whole selection; the page links it (or says it posted, where the policy needs no approver). */
  const writtenOff = (data: unknown): Omit<Notice, "kind"> => {
    const r = data as SubmitResult;
    return r.status === "pending"
      ? { text: `${exceptions} sent for approval as one write-off; each stays open until it is approved.`, link: { href: `/approvals/${r.requestId}`, label: "Open the approval request" } }
      : { text: `${exceptions} written off.` };
  };
  return (
    <div className="panel bulk-bar" role="toolbar" aria-label="Bulk actions">
      <strong>{n} selected</strong>
      {status !== "resolved" && (
        <>
          <span className="row">
            <select aria-label="Assign to" value={assignee} onChange={(e) => setAssignee(e.target.value)}>
              <option value="">Unassigned</option>
              {assignees.map((a) => <option key={a.userId} value={a.userId}>{a.name}</option>)}
            </select>
            <button type="button" disabled={busy} onClick={() => act(`${n} assigned.`, () => assignAction({ ids, assigneeId: assignee || null }) as Promise<Result>)}>Assign</button>
          </span>
          {status === "open" && (
            <span className="row">
              <input type="date" aria-label="Snooze until" value={until} min={today} onChange={(e) => setUntil(e.target.value)} />
              <button type="button" disabled={busy} onClick={() => act(`${n} snoozed until ${until}.`, () => snoozeAction({ ids, until }) as Promise<Result>)}>Snooze</button>
            </span>
          )}
          {status === "snoozed" && <button type="button" disabled={busy} onClick={() => act(`${n} back in the queue.`, () => wakeAction({ ids }) as Promise<Result>)}>Wake now</button>}
          <span className="row">
            <select aria-label="Reason" value={reason} onChange={(e) => setReason(e.target.value as keyof typeof REASON_CODES)}>
              {Object.entries(REASON_CODES).map(([k, label]) => <option key={k} value={k}>{label}</option>)}
            </select>
            <input aria-label="Explanation note" placeholder="Note" value={note} onChange={(e) => setNote(e.target.value)} />
            <button type="button" disabled={busy} onClick={() => act(`${n} explained.`, () => explainAction({ ids, reasonCode: reason, note: note || undefined }) as Promise<Result>)}>Explain</button>
          </span>
          {!writingOff && <button type="button" disabled={busy} onClick={() => setWritingOff(true)}>Write off…</button>}
          {writingOff && (
            <form className="row" aria-label="Write off" onSubmit={(e) => {
              e.preventDefault();
              act(writtenOff, async () => {
                const r = (await writeOffAction({ ids, note: why })) as Result;
                if (r.ok) { setWritingOff(false); setWhy(""); }
                return r;
              });
            }}>
              <input aria-label="Reason for the write-off" placeholder="Why, for the approvers" value={why} onChange={(e) => setWhy(e.target.value)} required minLength={3} maxLength={500} />
              <button type="submit" disabled={busy}>Submit write-off for approval</button>
              <button type="button" className="secondary" onClick={() => setWritingOff(false)}>Cancel</button>
            </form>
          )}
          {canDecide && (
            <button type="button" disabled={busy} onClick={() => act(`${n} accepted.`, async () => {
              // One by one: each accept is its own decision (and may fail on its own, e.g. no candidate).
              const failures: string[] = [];
              for (const id of ids) {
                const r = (await acceptAction({ exceptionId: id })) as Result;
                if (!r.ok) failures.push(r.message);
              }
              return failures.length ? { ok: false, code: "partial", message: `${n - failures.length} accepted; ${failures.length} could not be: ${failures[0]}` } : { ok: true, data: null };
            })}>Accept proposals</button>
          )}
        </>
      )}
      {status === "resolved" && (
        <span className="row">
          <input aria-label="Why reopen" placeholder="Why reopen" value={note} onChange={(e) => setNote(e.target.value)} />
          <button type="button" disabled={busy} onClick={() => act(`${n} reopened.`, () => reopenAction({ ids, reason: note }) as Promise<Result>)}>Reopen</button>
        </span>
      )}
      <button type="button" className="secondary" onClick={clear}>Clear selection</button>
    </div>
  );
}
