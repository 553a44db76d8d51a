import { parseKeyring, type Keyring } from "./token-vault";

/**
 * Everything Tieout needs to know about "Xero": every URL comes from here, so tests and `npm start`
 * point the whole client (identity and API) at the local simulator. Built from the environment by
 * xeroConfigFromEnv (app/, scripts) and passed to services; services never read process.env.
 */
export type XeroConfig = {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  issuer: string;
  authorizeUrl: string;
  tokenUrl: string;
  revocationUrl: string;
  connectionsUrl: string;
  apiBase: string;
  scopes: string[];
  /** Signing key of the app's webhook subscription; webhooks are refused without it. */
  webhookKey: string | null;
  keyring: Keyring;
  limits: { perMinute: number; concurrent: number; perDay: number; appPerMinute: number };
  pageSize: number;
  /** Seconds subtracted from the last watermark so an incremental sync re-reads the edge (upserts make that harmless). */
  overlapSeconds: number;
  /** Simulated ms per wall-clock ms: 1 in production; tests compress Xero's minute with the simulator's own scale. */
  timeScale: number;
  /** True when pointed at the local simulator (the UI says so). */
  simulated: boolean;
};

/** The granular scopes research/xero.md §1.3 lists for a read-only importer. */
export const XERO_SCOPES = [
  "openid", "profile", "email", "offline_access", "accounting.settings.read", "accounting.contacts.read", "accounting.banktransactions.read",
  "accounting.invoices.read", "accounting.payments.read", "accounting.manualjournals.read", "accounting.journals.read",
];

export type XeroEnv = Partial<Record<
  | "XERO_CLIENT_ID" | "XERO_CLIENT_SECRET" | "XERO_REDIRECT_URI" | "XERO_ISSUER" | "XERO_AUTHORIZE_URL" | "XERO_TOKEN_URL" | "XERO_REVOCATION_URL"
  | "XERO_CONNECTIONS_URL" | "XERO_API_BASE" | "XERO_SCOPES" | "XERO_WEBHOOK_KEY" | "XERO_TOKEN_KEYS" | "XERO_DAILY_LIMIT" | "XERO_PAGE_SIZE"
  | "XERO_TIME_SCALE" | "XERO_SIMULATED" | "AUTH_URL",
  string
>>;

/** null when Xero is not configured (no client id or no token key). */
export function xeroConfigFromEnv(env: XeroEnv): XeroConfig | null {
  if (!env.XERO_CLIENT_ID || !env.XERO_CLIENT_SECRET || !env.XERO_TOKEN_KEYS) return null;
  const issuer = (env.XERO_ISSUER ?? "https://identity.xero.com").replace(/\/$/, "");
  const api = env.XERO_API_BASE ?? "https://api.xero.com/api.xro/2.0";
  return {
    clientId: env.XERO_CLIENT_ID,
    clientSecret: env.XERO_CLIENT_SECRET,
    redirectUri: env.XERO_REDIRECT_URI ?? `${(env.AUTH_URL ?? "http://localhost:3000").replace(/\/$/, "")}/api/xero/callback`,
    issuer,
    authorizeUrl: env.XERO_AUTHORIZE_URL ?? "https://login.xero.com/identity/connect/authorize",
    tokenUrl: env.XERO_TOKEN_URL ?? `${issuer}/connect/token`,
    revocationUrl: env.XERO_REVOCATION_URL ?? `${issuer}/connect/revocation`,
    connectionsUrl: env.XERO_CONNECTIONS_URL ?? "https://api.xero.com/connections",
    apiBase: api.replace(/\/$/, ""),
    scopes: env.XERO_SCOPES ? env.XERO_SCOPES.split(/[\s,]+/).filter(Boolean) : XERO_SCOPES,
    webhookKey: env.XERO_WEBHOOK_KEY || null,
    keyring: parseKeyring(env.XERO_TOKEN_KEYS),
    limits: { perMinute: 60, concurrent: 5, perDay: Number(env.XERO_DAILY_LIMIT ?? 5000), appPerMinute: 10_000 },
    pageSize: Math.min(1000, Math.max(1, Number(env.XERO_PAGE_SIZE ?? 500))),
    overlapSeconds: 300,
    timeScale: Number(env.XERO_TIME_SCALE ?? 1),
    simulated: env.XERO_SIMULATED === "1",
  };
}
