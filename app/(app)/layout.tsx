import type { ReactNode } from "react";
import { requireActor } from "@/app/_lib/session";
import { NavLinks, type NavItem } from "@/components/nav-links";
import { Providers } from "@/components/providers";
import { signOutAction, switchOrganisation } from "./shell-actions";
import { AREAS } from "./areas";

export const dynamic = "force-dynamic";

export default async function AppLayout({ children }: { children: ReactNode }) {
  const actor = await requireActor();
  const items: NavItem[] = [
    ...AREAS.slice(0, 1).map((a) => ({ href: `/${a.slug}`, label: a.label, built: false })),
    { href: "/matches", label: "Matches", built: true },
    ...AREAS.slice(1).map((a) => ({ href: `/${a.slug}`, label: a.label, built: false })),
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
