import { defineConfig } from 'drizzle-kit';

/** `npx drizzle-kit generate --config libs/store/drizzle.config.ts` (offline; no database needed). */
export default defineConfig({
  dialect: 'postgresql',
  schema: './libs/store/src/schema.ts',
  out: './libs/store/drizzle',
});
