import type { Metadata } from "next";
import Link from "next/link";
import { db } from "@/app/_lib/db";
import { requireActor } from "@/app/_lib/session";
import { RuleEditor, RuleListControls } from "@/components/matching/rule-editor";
import { PendingRequests } from "@/components/pending-requests";
import { listRequests } from "@/server/approvals/queries";
import { conditionText } from "@/server/matching/rule-text";
import { listAccounts } from "@/server/ledger/queries";
import { getRule, listRules } from "@/server/matching/rules-store";
import { listMembers } from "@/server/tenancy/members";
import { can } from "@/server/tenancy/context";
import { isUuid } from "@/server/ids";

export const metadata: Metadata = { title: "Matching rules" };

export default async function MatchingRulesPage({ searchParams }: { searchParams: Promise<{ edit?: string; new?: string }> }) {
  const { ctx } = await requireActor();
  const sp = await searchParams;
  const [rules, pending] = await Promise.all([listRules(db(), ctx), listRequests(db(), ctx, { box: "all", kind: "matching_rule_change", status: "pending" })]);
  const admin = can(ctx.role, "matching.rules");
  const editing = admin && sp.edit && isUuid(sp.edit) ? await getRule(db(), ctx, sp.edit).catch(() => null) : null;
  const [accounts, members] = admin ? await Promise.all([listAccounts(db(), ctx), listMembers(db(), ctx)]) : [[], []];
  const order = rules.map((r) => r.id);
  return (
    <>
      <p><Link href="/matches">← Matches</Link></p>
      <div className="spread">
        <h1>Matching rules</h1>
        {admin && !sp.new && !editing && <Link className="button" href="/matches/rules?new=1">Propose a new rule</Link>}
      </div>
      <p className="muted">
        Rules run before matching, in this order; the first rule whose conditions all hold decides what happens to a record.
        A new rule, an edit, enabling, disabling or reordering is a proposal: it takes effect when someone other than its maker approves it.
      </p>
      <PendingRequests requests={pending} label="Proposed rule changes" />
      <div className="table-wrap">
        <table aria-label="Rules">
          <thead><tr><th>#</th><th>Name</th><th>Looks at</th><th>Conditions</th><th>Action</th><th>Version</th><th>Status</th>{admin && <th />}</tr></thead>
          <tbody>
            {rules.length === 0 && <tr><td colSpan={8} className="muted">No rules yet.</td></tr>}
            {rules.map((r, i) => (
              <tr key={r.id}>
                <td>{i + 1}</td>
                <td>{admin ? <Link href={`/matches/rules?edit=${r.id}`}>{r.name}</Link> : r.name}</td>
                <td>{r.definition.side === "right" ? "ledger" : "statement"}</td>
                <td>{r.definition.conditions.map(conditionText).join(" and ")}</td>
                <td>{r.definition.action.type}</td>
                <td>v{r.version}</td>
                <td>{r.enabled ? <span className="badge ok">enabled</span> : <span className="badge">disabled</span>}</td>
                {admin && <td><RuleListControls id={r.id} name={r.name} enabled={r.enabled} order={order} index={i} /></td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {admin && (sp.new || editing) && (
        <>
          <h2>{editing ? `Propose a change to “${editing.name}” (v${editing.version})` : "Propose a new rule"}</h2>
          <RuleEditor
            key={editing?.id ?? "new"}
            ruleId={editing?.id}
            initial={editing ? { name: editing.definition.name, side: editing.definition.side, conditions: editing.definition.conditions, action: editing.definition.action, enabled: editing.enabled } : undefined}
            accounts={accounts.filter((a) => a.isActive).map((a) => ({ id: a.id, code: a.code, name: a.name }))}
            members={members.map((m) => ({ userId: m.userId, name: m.name }))}
          />
          {editing && (
            <>
              <h3>Versions</h3>
              <ul>{editing.versions.map((v) => <li key={v.version}>v{v.version} — {v.createdAt.replace("T", " ").slice(0, 16)} by {v.createdBy ?? "system"}: <code>{JSON.stringify({ conditions: v.definition.conditions, action: v.definition.action })}</code></li>)}</ul>
            </>
          )}
        </>
      )}
    </>
  );
}
