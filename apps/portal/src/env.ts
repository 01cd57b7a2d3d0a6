/**
 * The portal's environment, read in this one place. Next.js inlines `NODE_ENV` at build time:
 * `development` under `next dev`, `production` in a build.
 */
export const isDev = process.env.NODE_ENV === 'development';
