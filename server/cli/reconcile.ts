import { sql } from "drizzle-orm";
import { connect } from "@/server/db/client";
import { AppError } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { isoDate } from "@/server/ledger/schemas";
import { runMatchingJob } from "@/server/jobs/matching-job";

export const RECONCILE_USAGE = `Usage: npx tieout reconcile --source ID [--against ledger|SOURCE_ID] [--from YYYY-MM-DD] [--to YYYY-MM-DD]

Runs matching for one source against the ledger lines on its GL account (or against another
source, e.g. a payment provider's payouts against the bank), in the database at DATABASE_URL,
exactly as "Run now" does: the run, its matches and exceptions are recorded and audited (actor
system:matching-cli). Without dates: the last 35 days. Prints the run's summary as JSON.`;

type Out = (line: string) => void;

/** `npx tieout reconcile …`; returns the process exit code. */
export async function reconcileCommand(args: string[], out: Out, err: Out, env: { DATABASE_URL?: string } = { DATABASE_URL: process.env.DATABASE_URL }): Promise<number> {
  const opts: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--(source|against|from|to)(?:=(.*))?$/.exec(args[i]);
    if (!m) {
      err(`Unexpected argument: ${args[i]}\n\n${RECONCILE_USAGE}`);
      return 2;
    }
    opts[m[1]] = m[2] ?? args[++i] ?? "";
  }
  const problems = [
    !isUuid(opts.source) && "--source must be a source id",
    opts.against && opts.against !== "ledger" && !isUuid(opts.against) && "--against must be 'ledger' or a source id",
    opts.from && !isoDate.safeParse(opts.from).success && "--from must be a date YYYY-MM-DD",
    opts.to && !isoDate.safeParse(opts.to).success && "--to must be a date YYYY-MM-DD",
    !env.DATABASE_URL && "DATABASE_URL is not set",
  ].filter(Boolean);
  if (problems.length) {
    err(`${problems.join("\n")}\n\n${RECONCILE_USAGE}`);
    return 2;
  }
  const { db, close } = connect(env.DATABASE_URL!, { max: 2 });
  try {
    const [row] = await db.execute<{ org_id: string | null }>(sql`select source_org_id(${opts.source}) as org_id`);
    if (!row?.org_id) {
      err(`No active source ${opts.source}.`);
      return 1;
    }
    const summary = await runMatchingJob(db, {
      orgId: row.org_id,
      sourceId: opts.source,
      against: !opts.against || opts.against === "ledger" ? { kind: "ledger" } : { kind: "source", sourceId: opts.against },
      from: opts.from || undefined,
      to: opts.to || undefined,
      trigger: "cli",
    });
    out(JSON.stringify(summary));
    return summary.status === "succeeded" ? 0 : 1;
  } catch (e) {
    if (e instanceof AppError) {
      err(`${e.code}: ${e.message}${e.fieldErrors ? ` ${JSON.stringify(e.fieldErrors)}` : ""}`);
      return 1;
    }
    throw e;
  } finally {
    await close();
  }
}
