/**
 * The exceptions queue over HTTP against a floor. REFERENCE: the bare keyset page query (one org,
 * a cursor, 51 rows on the priority index) through postgres.js as the owner — no session, no
 * row-level security, no counts, no JSON. OURS: GET /api/exceptions on the production build
 * (`next start`), signed in like a browser: every request re-reads the session, the membership and
 * the role, sets the organisation for row-level security, cuts the page and sums the counts.
 *
 * 1,000,000 exceptions across 10 organisations, seeded set-based with every trigger firing (due
 * dates, history rows, counts); 2,000 requests at 10 connections over mixed filters, the four
 * sorts, and deep pages (cursor chains 20–50 pages long). `npm run bench:exceptions`;
 * BENCH_EXCEPTIONS_PER_ORG and BENCH_REQUESTS shrink it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import bcrypt from "bcryptjs";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { Pool } from "undici";
import { inOrg } from "@/server/db/tenant";
import { freePort } from "@/server/db/embedded";
import { filtersFromSearchParams, queuePageQuery, queueRows, QUEUE_SORTS, type QueueSort } from "@/server/exceptions/queue";
import { EXCEPTION_KINDS } from "@/server/exceptions/kinds";
import { createTestOrg, type TestOrg } from "@/test/fixtures";
import { prng } from "@/server/prng";
import { ensureBuild } from "@/scripts/build-stamp";
import { withBenchDatabase } from "./bench-database";

const ORGS = 10;
const PER_ORG = Number(process.env.BENCH_EXCEPTIONS_PER_ORG ?? 100_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2_000);
const WARM_UP = REQUESTS;
const CONNECTIONS = 10;
const CHUNK = 25_000;
const PASSWORD = "bench-exceptions-password";
const SORTS = Object.keys(QUEUE_SORTS) as QueueSort[];
const COUNTERPARTIES = ["Acme GmbH", "Globex Ltd", "Initech BV", "Umbrella SA", "Hooli Inc", "Stark Industries", "Wayne Enterprises", "Tyrell Corp", "Cyberdyne Systems", "Soylent Foods",
  "Vandelay Industries", "Wonka Confectionery", "Gringotts Bank", "Oscorp", "Monarch Solutions", "Nakatomi Trading", "Pied Piper", "Dunder Mifflin", "Bluth Company", "Sirius Cybernetics"];

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const ms = (x: number) => x.toFixed(2);
const log = (line: string) => console.log(line);

type Org = TestOrg & { sources: string[]; cookie: string };

/** Set-based, as the owner, 25,000 rows a statement; the triggers fire as for any writer (due_at, exception_events, exception_counts). */
async function seed(admin: ReturnType<typeof postgres>, org: Org, offset: number) {
  const users = [org.ctx.accountant.userId, org.ctx.admin.userId, org.ctx.approver.userId, org.ctx.viewer.userId];
  for (let from = 1; from <= PER_ORG; from += CHUNK) {
    const to = Math.min(PER_ORG, from + CHUNK - 1);
    await admin`
      insert into exceptions (org_id, kind, status, severity, title, subject_key, source_id, amount, currency, details, occurred_on, raised_at, assignee_id, snoozed_until, resolution, resolved_at)
      select ${org.orgId}::uuid, k.kinds[1 + h1 % 10], st.status,
             case when h3 % 20 < 2 then 'critical' when h3 % 20 < 6 then 'high' when h3 % 20 < 12 then 'medium' else 'low' end,
             (array['Unmatched payment', 'Unmatched invoice', 'Amount differs for', 'Possible duplicate from', 'Fee charged by'])[1 + h2 % 5] || ' ' || cp.name || ' INV-' || i,
             'bench:' || i,
             case when h3 % 5 = 0 then null else (${admin.array(org.sources)}::uuid[])[1 + (h3 / 7) % ${org.sources.length}] end,
             case when h1 % 7 = 0 then null else ((h2 / 100) % (10 ^ (2 + (h3 / 11) % 6))::bigint)::numeric / 100 * case when h3 % 3 = 0 then -1 else 1 end end,
             'EUR', jsonb_build_object('counterparty', cp.name, 'reference', 'REF-' || i),
             d.day, d.day + make_interval(days => (h2 % 4)::int, secs => (h3 % 86400)::int),
             case when (h1 / 13) % 10 < 4 then null else (${admin.array(users as string[])}::uuid[])[1 + least(3, ((h1 / 13) % 10 - 4) / 2)] end,
             case when st.status = 'snoozed' then now() + interval '7 days' end,
             case when st.status = 'resolved' then 'explained' end,
             case when st.status = 'resolved' then now() end
      from generate_series(${offset + from}::bigint, ${offset + to}::bigint) as i,
           lateral (select abs(hashint8(i)) as h1, abs(hashint8(i + 7777777)) as h2, abs(hashint8(i * 3 + 1)) as h3) h,
           lateral (select case when h2 % 10 < 7 then 'open' when h2 % 10 = 7 then 'snoozed' else 'resolved' end as status) st,
           lateral (select (${admin.array(COUNTERPARTIES)}::text[])[1 + (h1 / 17) % ${COUNTERPARTIES.length}] as name) cp,
           lateral (select current_date - 4 - ((h1 / 10) % 400)::int as day) d,
           (select ${admin.array(Object.keys(EXCEPTION_KINDS))}::text[] as kinds) k`;
  }
}

/**
 * A keep-alive HTTP client: the browser's view of the app (one cookie jar per signed-in person).
 * undici's pool rather than node:http: the load generator shares the two cores with the app and
 * PostgreSQL, and per request it used 0.67–0.76 ms of CPU with node:http against 0.39–0.43 ms
 * with undici (2026-11-22, same server, back to back), CPU the server then had to itself.
 */
const pools = new Map<string, Pool>();
async function request(base: string, path: string, opts: { method?: string; cookie?: string; body?: string; type?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  let pool = pools.get(base);
  if (!pool) pools.set(base, (pool = new Pool(base, { connections: CONNECTIONS })));
  const res = await pool.request({
    path, method: (opts.method ?? "GET") as "GET" | "POST", body: opts.body,
    headers: { ...(opts.cookie ? { cookie: opts.cookie } : {}), ...(opts.body ? { "content-type": opts.type! } : {}) },
  });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

const cookiesOf = (headers: Record<string, string | string[] | undefined>, jar: Map<string, string>) => {
  for (const c of [headers["set-cookie"] ?? []].flat()) {
    const [pair] = c.split(";");
    const i = pair.indexOf("=");
    jar.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
};

/** Auth.js credentials sign-in as a browser does it: CSRF token and cookie, then the form post; the session cookie comes back on the redirect. */
async function signIn(base: string, email: string): Promise<string> {
  const jar = new Map<string, string>();
  const csrf = await request(base, "/api/auth/csrf");
  const { csrfToken } = JSON.parse(csrf.body) as { csrfToken: string };
  const body = new URLSearchParams({ csrfToken, email, password: PASSWORD, callbackUrl: `${base}/exceptions` }).toString();
  const res = await request(base, "/api/auth/callback/credentials", { method: "POST", cookie: cookiesOf(csrf.headers, jar), body, type: "application/x-www-form-urlencoded" });
  const cookie = cookiesOf(res.headers, jar);
  if (res.status !== 302 || !/session-token=/.test(cookie) || /error=/.test(String(res.headers.location))) throw new Error(`sign-in of ${email} failed: ${res.status} ${res.headers.location}`);
  return cookie;
}

async function startApp(appUrl: string): Promise<{ base: string; child: ChildProcess }> {
  const port = await freePort(3300);
  const base = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: appUrl, AUTH_SECRET: randomBytes(32).toString("hex"), AUTH_URL: base, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" };
  log(`build: ${ensureBuild(process.cwd(), env, log)}`);
  const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
  // BENCH_APP_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the app under the load.
  const nodeArgs = process.env.BENCH_APP_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, nextBin, "start", "-p", String(port), "-H", "127.0.0.1"], { env, stdio: ["ignore", "ignore", "inherit"] });
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`next start exited (${child.exitCode})`);
    try {
      if ((await request(base, "/api/health")).status === 200) return { base, child };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("the app did not come up");
}

type CpuSeconds = { app: number; database: number; client: number };
/** CPU time used so far by the app, by all PostgreSQL processes and by this process (Linux /proc; null elsewhere). */
function cpuSeconds(appPid: number): CpuSeconds | null {
  const ticks = (stat: string) => {
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in USER_HZ (100 on Linux)
  };
  try {
    let database = 0;
    for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        if (stat.includes("(postgres)")) database += ticks(stat);
      } catch {
        // the process ended while we looked
      }
    }
    const self = process.cpuUsage();
    return { app: ticks(readFileSync(`/proc/${appPid}/stat`, "utf8")), database, client: (self.user + self.system) / 1e6 };
  } catch {
    return null;
  }
}

/** 10 workers take tasks in turn; a task is one request or a chain of pages following `next`. Each request is timed on its own. */
async function runLoad(tasks: (() => Promise<number[]>)[]): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let i = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (i < tasks.length) latencies.push(...(await tasks[i++]()));
  }));
  return { latencies: latencies.sort((a, b) => a - b), seconds: (performance.now() - t0) / 1000 };
}

async function main() {
  const pgLog: string[] = [];
  let capture = false;
  await withBenchDatabase(async ({ app, admin: adminDb, appUrl, adminUrl }) => {
    const admin = postgres(adminUrl, { max: 2, onnotice: () => {} });
    let server: ChildProcess | undefined;
    try {
      // Organisations, people and sources the way the app writes them; one accountant per org gets a password.
      const hash = await bcrypt.hash(PASSWORD, 10);
      const orgs: Org[] = [];
      for (let o = 0; o < ORGS; o++) {
        const t = await createTestOrg(app.db, { name: `Bench org ${o + 1}` });
        const sources: string[] = [];
        for (let s = 0; s < 5; s++) {
          const [row] = await admin`insert into sources (org_id, entity_id, kind, name, currency, gl_account_id) values (${t.orgId}, ${t.entityId}, 'bank', ${`Bank account ${s + 1}`}, 'EUR', ${t.accounts["1000"]}) returning id`;
          sources.push(row.id as string);
        }
        await admin`update users set password_hash = ${hash} where id = ${t.ctx.accountant.userId}`;
        orgs.push({ ...t, sources, cookie: "" });
      }

      // The trigram index is built once after the load (as a migration would build it) instead of row by row.
      const [{ indexdef }] = await admin`select indexdef from pg_indexes where indexname = 'exceptions_search_idx'`;
      await admin`drop index exceptions_search_idx`;
      let t0 = performance.now();
      for (let o = 0; o < ORGS; o++) await seed(admin, orgs[o], o * PER_ORG);
      const insertS = (performance.now() - t0) / 1000;
      t0 = performance.now();
      await admin.begin(async (tx) => {
        await tx`set local maintenance_work_mem = '512MB'`;
        await tx.unsafe(indexdef as string);
      });
      await admin`analyze`;
      const [counts] = await admin`select (select count(*) from exceptions)::int as exceptions, (select count(*) from exception_events)::int as events,
        (select sum(n) from exception_counts)::int as counted, (select count(*) from exceptions where due_at is null)::int as no_due,
        pg_size_pretty(pg_total_relation_size('exceptions')) as size`;
      log(`seed: ${counts.exceptions} exceptions in ${ORGS} orgs (${counts.size} with indexes), ${counts.events} history rows, counts sum ${counts.counted}; ` +
        `insert ${insertS.toFixed(1)} s, trigram index + analyze ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      if (counts.exceptions !== ORGS * PER_ORG || counts.events !== counts.exceptions || counts.counted !== counts.exceptions || counts.no_due !== 0) throw new Error("seed check failed");

      const started = await startApp(appUrl);
      server = started.child;
      const base = started.base;
      for (const o of orgs) o.cookie = await signIn(base, `${(await adminDb.db.execute<{ email: string }>(sql`select email from users where id = ${o.ctx.accountant.userId}`))[0].email}`);
      log(`app: next start (production) at ${base}; ${orgs.length} people signed in over HTTP`);

      // The request mix: a filter and a sort per request, with per-org values where a filter names something.
      const rand = prng(42);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
      const filterOf = (o: Org): Record<string, string> =>
        pick<() => Record<string, string>>([
          () => ({}),
          () => ({ severity: "high,critical" }),
          () => ({ kind: pick(["amount_mismatch", "unmatched_transaction", "possible_duplicate"]) }),
          () => ({ source: pick(o.sources) }),
          () => ({ assignee: "me" }),
          () => ({ age: pick(["0-7", "8-30", "31-60", "61+"]) }),
          () => ({ min: "1000", max: "50000" }),
          // A counterparty (each about 5% of the queue) or, one time in ten, a term that matches nothing (a typo).
          () => ({ q: rand() < 0.1 ? "kowalsky" : pick(COUNTERPARTIES).split(" ")[0].toLowerCase() }),
        ])();
      const queryOf = (f: Record<string, string>) => new URLSearchParams(f).toString();
      let failures = 0;
      let bytes = 0;
      const byShape: Record<string, number[]> = {};
      const get = async (o: Org, q: string) => {
        const t = performance.now();
        const res = await request(base, `/api/exceptions?${q}`, { cookie: o.cookie });
        const elapsed = performance.now() - t;
        bytes += res.body.length;
        const json = JSON.parse(res.body) as { ok: boolean; data?: { next: string | null; rows: unknown[] } };
        if (res.status !== 200 || !json.ok) failures++;
        // Latency per request shape: a following page, or a view's first page by its filter.
        const filter = [...new URLSearchParams(q).keys()].find((k) => k !== "sort");
        (byShape[q.includes("after=") ? "following page" : `first page, ${filter ?? "no"} filter`] ??= []).push(elapsed);
        return { elapsed, next: json.data?.next ?? null };
      };
      const makeTasks = (total: number) => {
        const tasks: (() => Promise<number[]>)[] = [];
        let planned = 0;
        let chains = 0;
        while (planned < total) {
          const o = pick(orgs);
          const f = { ...filterOf(o), sort: pick(SORTS) };
          // Every fourth task is a deep walk (20–50 pages) on a broad view; the rest are single pages.
          if (tasks.length % 4 === 3) {
            const depth = Math.min(total - planned, 20 + Math.floor(rand() * 31));
            const view = { sort: f.sort, ...(rand() < 0.5 ? {} : { severity: "medium,low" }) };
            planned += depth;
            chains++;
            tasks.push(async () => {
              const out: number[] = [];
              let after: string | null = null;
              for (let p = 0; p < depth; p++) {
                const r = await get(o, queryOf(after ? { ...view, after } : view));
                out.push(r.elapsed);
                if (!r.next) break;
                after = r.next;
              }
              return out;
            });
          } else {
            planned++;
            tasks.push(async () => [(await get(o, queryOf(f))).elapsed]);
          }
        }
        return { tasks, chains };
      };

      // Warm-up (JIT, connection pools, caches): not counted. As many requests as the measured run:
      // with 200, the measured run still paid for optimising Next.js's and our code (2026-11-22,
      // five runs back to back on one server: app CPU 3.58 ms a request in the first, 2.49–2.58 ms
      // in the other four; p95 66.8 ms, then 49.1–50.4 ms).
      await runLoad(makeTasks(WARM_UP).tasks);
      failures = 0;
      bytes = 0;
      for (const k of Object.keys(byShape)) delete byShape[k];

      // REFERENCE: the bare keyset page on the priority index, 2,000 random cursors of one org, 10 connections.
      const ref = postgres(adminUrl, { max: CONNECTIONS, onnotice: () => {} });
      const cursors = await ref`select severity_rank, due_at::text as due_at, id from exceptions where org_id = ${orgs[0].orgId} and status = 'open' order by random() limit ${REQUESTS}`;
      await Promise.all(cursors.slice(0, 50).map((c) => ref`select 1 from exceptions where org_id = ${orgs[0].orgId} and status = 'open' and (severity_rank, due_at, id) > (${c.severity_rank}::smallint, ${c.due_at}::timestamptz, ${c.id}::uuid) limit 1`));
      const sqlTasks = cursors.map((c) => async () => {
        const t = performance.now();
        const rows = await ref`
          select id, kind, status, severity, title, source_id, amount::text, currency, occurred_on, raised_at, due_at, assignee_id
          from exceptions where org_id = ${orgs[0].orgId} and status = 'open' and (severity_rank, due_at, id) > (${c.severity_rank}::smallint, ${c.due_at}::timestamptz, ${c.id}::uuid)
          order by severity_rank, due_at, id limit 51`;
        if (rows.length > 51) throw new Error("limit ignored");
        return [performance.now() - t];
      });
      const sqlRun = await runLoad(sqlTasks);
      await ref.end();

      // OURS.
      const { tasks, chains } = makeTasks(REQUESTS);
      const load = (await import("node:os")).loadavg().map((x) => x.toFixed(2)).join(" ");
      const cpuBefore = cpuSeconds(server.pid!);
      const httpRun = await runLoad(tasks);
      const cpuAfter = cpuSeconds(server.pid!);
      if (failures) throw new Error(`${failures} requests failed`);
      const h = httpRun.latencies;
      const s = sqlRun.latencies;
      log(`load average before the measured run: ${load}`);
      log(`REFERENCE bare keyset SQL (postgres.js, owner, 1 org, 51 rows): ${s.length} queries, 10 concurrent: p50 ${ms(pct(s, 50))} ms, p95 ${ms(pct(s, 95))} ms, p99 ${ms(pct(s, 99))} ms, ${Math.round(s.length / sqlRun.seconds)} q/s`);
      log(`OURS GET /api/exceptions (signed in, production build): ${h.length} requests (${chains} cursor chains of 20–50 pages), 10 connections: ` +
        `p50 ${ms(pct(h, 50))} ms, p95 ${ms(pct(h, 95))} ms, p99 ${ms(pct(h, 99))} ms, max ${ms(h[h.length - 1])} ms, ${Math.round(h.length / httpRun.seconds)} req/s, ${Math.round(bytes / h.length / 1024)} KiB/response`);

      for (const [shape, v] of Object.entries(byShape).sort()) {
        v.sort((a, b) => a - b);
        log(`    ${shape}: ${v.length} requests, p50 ${ms(pct(v, 50))} ms, p95 ${ms(pct(v, 95))} ms`);
      }
      if (cpuBefore && cpuAfter) {
        const per = (k: keyof CpuSeconds) => ms(((cpuAfter[k] - cpuBefore[k]) * 1000) / h.length);
        log(`CPU per request (from /proc, 2 cores shared): app ${per("app")} ms, PostgreSQL ${per("database")} ms, this load generator ${per("client")} ms`);
      }

      // Plans: a deep page (after 2,000 rows) of each sort, as the application role with row-level security.
      const who = orgs[0].ctx.accountant;
      const today = new Date().toISOString().slice(0, 10);
      for (const sort of SORTS) {
        const filters = filtersFromSearchParams({ sort });
        const plan = await inOrg(app.db, who, async (tx) => {
          const deep = await queueRows(tx, who, filters, { today, limit: 2000, after: null });
          return tx.execute<{ "QUERY PLAN": string }>(sql`explain (analyze, buffers, costs off) ${queuePageQuery(who, filters, { today, limit: 50, after: deep.next })}`);
        });
        const lines = plan.map((r) => r["QUERY PLAN"]);
        // The shape that matters: which index, with which condition, how many rows it had to skip.
        const shape = lines.filter((l) => /Index Scan|Index Only Scan|Seq Scan|Bitmap|Index Cond|Rows Removed|^\s*(->\s*)?(Limit|Sort)\b/.test(l)).map((l) => l.trim());
        log(`EXPLAIN ${sort} (page after 2,000 rows): ${lines.find((l) => l.startsWith("Execution Time"))}; ${lines.find((l) => /^\s*Buffers/.test(l))?.trim() ?? ""}`);
        for (const l of shape) log(`    ${l}`);
      }

      // The request path, as PostgreSQL saw it: every statement of one request per filter and a deep page, logged, then searched.
      await admin`alter system set log_statement = 'all'`;
      await admin`select pg_reload_conf()`;
      await new Promise((r) => setTimeout(r, 300));
      capture = true;
      const o = orgs[1];
      for (let k = 0; k < 8; k++) await get(o, queryOf({ ...filterOf(o), sort: SORTS[k % 4] }));
      let after: string | null = null;
      for (let p = 0; p < 25; p++) after = (await get(o, queryOf(after ? { sort: "amount", after } : { sort: "amount" }))).next;
      await new Promise((r) => setTimeout(r, 300));
      capture = false;
      await admin`alter system reset log_statement`;
      await admin`select pg_reload_conf()`;
      const statements = pgLog.join("\n");
      const pageQueries = (statements.match(/from exceptions e\b/g) ?? []).length;
      const countQueries = (statements.match(/from exception_counts\b/g) ?? []).length;
      const offsets = (statements.match(/\boffset\b/gi) ?? []).length;
      const countStars = (statements.match(/count\s*\(\s*\*\s*\)/gi) ?? []).length;
      // 9 of the 33 are first pages (8 single views and the start of the walk): only those sum the counts.
      log(`request path (33 requests logged, 9 first pages): ${pageQueries} page queries on the sort indexes, ${countQueries} sums over exception_counts, OFFSET ${offsets}×, count(*) ${countStars}×`);
      if (pageQueries < 33 || countQueries !== 9 || offsets || countStars) throw new Error("the request path is not what it should be");

      log(`RESULT http_p50_ms=${ms(pct(h, 50))} http_p95_ms=${ms(pct(h, 95))} http_p99_ms=${ms(pct(h, 99))} sql_p95_ms=${ms(pct(s, 95))} ratio=${(pct(h, 95) / pct(s, 95)).toFixed(1)}`);
    } finally {
      if (server && server.exitCode === null) {
        server.kill("SIGTERM");
        await new Promise((r) => server!.once("exit", r));
      }
      await Promise.all([...pools.values()].map((p) => p.close()));
      await admin.end();
    }
  }, { log: (line) => { if (capture) pgLog.push(line); } });
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
