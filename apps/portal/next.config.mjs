// Next.js config of the HIE portal. ESM (.mjs) so Nx and Node read it without a TS loader.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

process.env.NEXT_TELEMETRY_DISABLED = '1';

/** The repository root (two levels up from apps/portal), for Turbopack and file tracing. */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * In production the manager serves the portal and the API on one origin (`/api/trpc`).
 * For `next dev` against a manager on another port set HIE_PORTAL_API_ORIGIN
 * (e.g. http://127.0.0.1:8080) and `/api/*` is proxied there.
 */
const apiOrigin = process.env.HIE_PORTAL_API_ORIGIN;

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  transpilePackages: ['@hie/config', '@hie/hl7'],
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
  devIndicators: false,
  async rewrites() {
    return apiOrigin ? [{ source: '/api/:path*', destination: `${apiOrigin.replace(/\/$/, '')}/api/:path*` }] : [];
  },
};

export default nextConfig;
