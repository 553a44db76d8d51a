import { z } from "zod";

/**
 * The only module that reads process.env for the server. Parsed once; services receive what
 * they need as arguments and never read the environment themselves.
 */
const schema = z.object({
  DATABASE_URL: z.string().min(1, "DATABASE_URL is required (npm start sets it for the embedded PostgreSQL)"),
  AUTH_SECRET: z.string().min(16, "AUTH_SECRET must be at least 16 characters"),
  AUTH_OIDC_ISSUER: z.string().url().optional(),
  AUTH_OIDC_CLIENT_ID: z.string().optional(),
  AUTH_OIDC_CLIENT_SECRET: z.string().optional(),
  AUTH_OIDC_NAME: z.string().default("Single sign-on"),
  SIGN_IN_MAX_FAILURES: z.coerce.number().int().positive().default(5),
  SIGN_IN_LOCK_MINUTES: z.coerce.number().int().positive().default(15),
  IMPORT_MAX_BYTES: z.coerce.number().int().positive().default(50 * 1024 * 1024),
  IMPORT_MAX_RECORDS: z.coerce.number().int().positive().default(500_000),
  INNGEST_EVENT_KEY: z.string().optional(),
  // Xero (server/xero/config.ts): unset client id → Xero is not configured; npm start then points these at the local simulator.
  XERO_CLIENT_ID: z.string().optional(),
  XERO_CLIENT_SECRET: z.string().optional(),
  XERO_REDIRECT_URI: z.string().url().optional(),
  XERO_ISSUER: z.string().url().optional(),
  XERO_AUTHORIZE_URL: z.string().url().optional(),
  XERO_TOKEN_URL: z.string().url().optional(),
  XERO_REVOCATION_URL: z.string().url().optional(),
  XERO_CONNECTIONS_URL: z.string().url().optional(),
  XERO_API_BASE: z.string().url().optional(),
  XERO_SCOPES: z.string().optional(),
  XERO_WEBHOOK_KEY: z.string().optional(),
  XERO_TOKEN_KEYS: z.string().optional(),
  XERO_DAILY_LIMIT: z.string().optional(),
  XERO_PAGE_SIZE: z.string().optional(),
  XERO_TIME_SCALE: z.string().optional(),
  XERO_SIMULATED: z.string().optional(),
  AUTH_URL: z.string().optional(),
  INNGEST_DEV: z.string().optional(),
  NODE_ENV: z.string().default("development"),
});

export type ServerEnv = z.infer<typeof schema>;

let cached: ServerEnv | undefined;
export function serverEnv(): ServerEnv {
  cached ??= schema.parse(process.env);
  return cached;
}
