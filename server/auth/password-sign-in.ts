import bcrypt from "bcryptjs";
import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { AppError } from "@/server/errors";

export type SignInPolicy = { maxFailures: number; lockMinutes: number };
export type SignedInUser = { id: string; email: string; name: string };

// Compared against when the email is unknown, so a miss costs as long as a hit.
const DUMMY_HASH = "$2b$10$CwTycUXWue0Thq9StjUM0uJ8.fkVNIKhJ5tXtv3Xp4/6k1oYb9pJm";

/**
 * Checks an email and password. After `maxFailures` wrong passwords in a row the account is
 * locked for `lockMinutes`, whatever password is tried, and the person is told when to retry.
 * A disabled account cannot sign in. Returns null for a wrong email or password.
 */
export async function signInWithPassword(db: Db, policy: SignInPolicy, email: string, password: string): Promise<SignedInUser | null> {
  const [user] = await db.execute<{ id: string; email: string; name: string; password_hash: string | null; disabled_at: Date | null; locked_until: Date | null }>(
    sql`select id, email, name, password_hash, disabled_at, locked_until from users where lower(email) = lower(${email.trim()})`,
  );
  if (!user || !user.password_hash) {
    await bcrypt.compare(password, DUMMY_HASH);
    return null;
  }
  if (user.locked_until && new Date(user.locked_until) > new Date()) {
    throw new AppError("throttled", `Too many failed sign-ins. Try again after ${new Date(user.locked_until).toISOString().slice(11, 16)} UTC.`);
  }
  const ok = await bcrypt.compare(password, user.password_hash);
  if (!ok) {
    // One statement, so concurrent failures cannot lose a count.
    await db.execute(sql`
      update users set failed_sign_ins = failed_sign_ins + 1,
        locked_until = case when failed_sign_ins + 1 >= ${policy.maxFailures} then now() + make_interval(mins => ${policy.lockMinutes}) else locked_until end
      where id = ${user.id}`);
    return null;
  }
  if (user.disabled_at) throw new AppError("forbidden", "This account is disabled. Ask an administrator.");
  await db.execute(sql`update users set failed_sign_ins = 0, locked_until = null where id = ${user.id}`);
  return { id: user.id, email: user.email, name: user.name };
}

/** A user known by email (for single sign-on): only provisioned, enabled accounts may sign in. */
export async function findEnabledUserByEmail(db: Db, email: string): Promise<SignedInUser | null> {
  const [user] = await db.execute<SignedInUser>(sql`select id, email, name from users where lower(email) = lower(${email}) and disabled_at is null`);
  return user ?? null;
}
