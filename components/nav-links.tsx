"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";

export type NavItem = { href: string; label: string; built: boolean };

export function NavLinks({ items }: { items: NavItem[] }) {
  const path = usePathname();
  return (
    <nav aria-label="Main">
      <ul>
        {items.map((i) => (
          <li key={i.href}>
            <Link href={i.href} aria-current={path === i.href || path.startsWith(`${i.href}/`) ? "page" : undefined}>
              {i.label}
              {!i.built && <span className="soon">not built yet</span>}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
