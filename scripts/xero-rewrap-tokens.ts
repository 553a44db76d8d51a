/**
 * `npx tsx scripts/xero-rewrap-tokens.ts`: re-seals every stored Xero token under the first key of
 * XERO_TOKEN_KEYS. Needs DATABASE_URL (the application role is enough) and XERO_TOKEN_KEYS listing
 * the new key first and every old key after it. Prints counts only, never a token.
 */
import { connect } from "@/server/db/client";
import { parseKeyring } from "@/server/xero/token-vault";
import { rewrapXeroTokens } from "@/server/xero/rewrap-tokens";

const url = process.env.DATABASE_URL;
const keys = process.env.XERO_TOKEN_KEYS;
if (!url || !keys) {
  console.error("Set DATABASE_URL and XERO_TOKEN_KEYS (new key first, old keys after it).");
  process.exit(2);
}
const { db, close } = connect(url, { max: 2 });
try {
  const ring = parseKeyring(keys);
  const r = await rewrapXeroTokens(db, ring);
  console.log(JSON.stringify({ keyId: ring.current, rewrapped: r.rewrapped, remaining: r.remaining }));
  process.exitCode = r.remaining === 0 ? 0 : 1;
} finally {
  await close();
}
