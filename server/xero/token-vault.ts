import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * OAuth tokens at rest: AES-256-GCM under a key from the environment, a random 96-bit IV per
 * ciphertext, and additional data binding the ciphertext to its row and field (org|row|field), so a
 * ciphertext copied into another row or column fails to open. The key id is stored beside each
 * ciphertext: XERO_TOKEN_KEYS lists "id:base64key" pairs, the first is the one new tokens use, the
 * others still open older ciphertexts until `tieout xero rewrap-tokens` has moved them all.
 * Stored bytes: iv (12) | tag (16) | ciphertext.
 */
export type Keyring = { current: string; keys: Map<string, Buffer> };

export class TokenVaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenVaultError";
  }
}

export function parseKeyring(spec: string): Keyring {
  const keys = new Map<string, Buffer>();
  let current = "";
  for (const part of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const i = part.indexOf(":");
    if (i <= 0) throw new TokenVaultError("XERO_TOKEN_KEYS must be a list of id:base64key pairs");
    const id = part.slice(0, i);
    const key = Buffer.from(part.slice(i + 1), "base64");
    if (key.length !== 32) throw new TokenVaultError(`Token key ${id} must be 32 bytes (base64 of 256 random bits)`);
    if (!/^[A-Za-z0-9_.-]{1,40}$/.test(id)) throw new TokenVaultError("A token key id is 1-40 letters, digits, dots, dashes or underscores");
    keys.set(id, key);
    current ||= id;
  }
  if (!current) throw new TokenVaultError("XERO_TOKEN_KEYS holds no key");
  return { current, keys };
}

/** A fresh key spec ("id:base64"), for the embedded default and for rotation. */
export function newKeySpec(id: string): string {
  return `${id}:${randomBytes(32).toString("base64")}`;
}

export type Sealed = { keyId: string; ciphertext: Buffer };

export function seal(ring: Keyring, plaintext: string, aad: string): Sealed {
  const key = ring.keys.get(ring.current)!;
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return { keyId: ring.current, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), ct]) };
}

export function open(ring: Keyring, sealed: Sealed, aad: string): string {
  const key = ring.keys.get(sealed.keyId);
  // The message names the key id only: never the ciphertext, never a token.
  if (!key) throw new TokenVaultError(`Token key "${sealed.keyId}" is not configured (XERO_TOKEN_KEYS); it is needed to read stored Xero tokens`);
  const buf = sealed.ciphertext;
  if (buf.length < 29) throw new TokenVaultError("A stored Xero token is damaged");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, buf.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(buf.subarray(12, 28));
    return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    throw new TokenVaultError("A stored Xero token failed its integrity check (tampered, moved to another row, or the wrong key)");
  }
}

/** The additional data of a grant's token: which organisation, which grant, which field. */
export const grantAad = (orgId: string, grantId: string, field: "access" | "refresh") => `${orgId}|xero_grants|${grantId}|${field}`;
export const verifierAad = (orgId: string, state: string) => `${orgId}|xero_auth_requests|${state}|code_verifier`;
