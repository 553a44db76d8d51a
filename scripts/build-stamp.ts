import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/**
 * The production build is reused while the sources it was made from are unchanged: a hash of the
 * source folders and lock/config files is stamped into .next after each build. Shared by
 * `npm start` and the HTTP benchmarks, so neither rebuilds needlessly nor serves a stale build.
 */
export function sourceHash(root: string): string {
  const h = createHash("sha256");
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else h.update(p).update(readFileSync(p));
    }
  };
  for (const d of ["app", "components", "server", "drizzle", "inngest", "public"]) if (existsSync(path.join(root, d))) walk(path.join(root, d));
  for (const f of ["package-lock.json", "next.config.mjs", "tsconfig.json"]) h.update(readFileSync(path.join(root, f)));
  return h.digest("hex");
}

/** Builds with `next build` unless .next's stamp matches the sources; says which it did. */
export function ensureBuild(root: string, env: NodeJS.ProcessEnv, log: (line: string) => void = console.log): "reused" | "built" {
  const stampFile = path.join(root, ".next", "tieout-build-stamp");
  const hash = sourceHash(root);
  if (existsSync(stampFile) && readFileSync(stampFile, "utf8") === hash) return "reused";
  log("Building the app (first run or sources changed)…");
  const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
  const r = spawnSync(process.execPath, [nextBin, "build"], { stdio: "inherit", env, cwd: root });
  if (r.status !== 0) throw new Error("next build failed");
  writeFileSync(stampFile, hash);
  return "built";
}
