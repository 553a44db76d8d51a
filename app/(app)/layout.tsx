import type { ReactNode } from "react";
import { requireActor } from "@/app/_lib/session";
import { NavLinks, type NavItem } from "@/components/nav-links";
import { Providers } from "@/components/providers";
import { signOutAction, switchOrganisation } from "./shell-actions";
import { db } from "@/app/_lib/db";
import { countWaiting } from "@/server/approvals/queries";

export const dynamic = "force-dynamic";

export default async function AppLayout({ children }: { children: ReactNode }) {
  const actor = await requireActor();
  // The in-app notification: how many requests wait for this person's decision.
  const waiting = await countWaiting(db(), actor.ctx);
  const items: NavItem[] = [
    { href: "/exceptions", label: "Exceptions", built: true },
    { href: "/matches", label: "Matches", built: true },
    { href: "/reconciliation", label: "Reconciliation", built: true },
    { href: "/kpis", label: "KPIs", built: true },
    { href: "/approvals", label: "Approvals", built: true, badge: waiting },
    { href: "/periods", label: "Period close", built: true },
    { href: "/sync", label: "Sync", built: true },
    { href: "/gl-variances", label: "GL variances", built: false },
    { href: "/imports", label: "Imports", built: true },
    { href: "/sources", label: "Sources", built: true },
    { href: "/ledger", label: "Ledger", built: true },
    { href: "/settings", label: "Settings", built: true },
  ];
  return (
    <Providers>
      <a className="skip" href="#main">Skip to content</a>
      <div className="shell">
        <aside className="sidebar">
          <div className="brand">Tieout</div>
          <NavLinks items={items} />
        </aside>
        <div>
          <header className="topbar">
            <form action={switchOrganisation} className="row">
              <label className="row" style={{ flexDirection: "row", alignItems: "center" }}>
                Organisation
                <select name="orgId" defaultValue={actor.current.orgId} aria-label="Organisation">
                  {actor.memberships.map((m) => (
                    <option key={m.orgId} value={m.orgId}>{m.orgName}</option>
                  ))}
                </select>
              </label>
              <button type="submit" className="secondary">Switch</button>
            </form>
            <div className="row">
              <span>
                {actor.user.name} <span className="badge" data-testid="role">{actor.current.role}</span>
              </span>
              <form action={signOutAction}>
                <button type="submit" className="secondary">Sign out</button>
              </form>
            </div>
          </header>
          <main id="main" className="main">{children}</main>
        </div>
      </div>
    </Providers>
  );
}
