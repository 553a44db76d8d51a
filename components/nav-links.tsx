"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";

export type NavItem = { href: string; label: string; built: boolean; badge?: number };

export function NavLinks({ items }: { items: NavItem[] }) {
  const path = usePathname();
  return (
    <nav aria-label="Main">
      <ul>
        {items.map((i) => (
          <li key={i.href}>
            <Link href={i.href} aria-current={path === i.href || path.startsWith(`${i.href}/`) ? "page" : undefined}>
              {i.label}
              {!!i.badge && <span className="badge bad" data-testid={`badge-${i.label.toLowerCase()}`} aria-label={`${i.badge} waiting for you`}>{i.badge}</span>}
              {!i.built && <span className="soon">not built yet</span>}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
