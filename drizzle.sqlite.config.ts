// drizzle-kit for the SQLite store: `npx drizzle-kit generate --config drizzle.sqlite.config.ts --name <what>`.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './src/store/sqlite/schema.ts',
  out: './migrations/sqlite',
  dbCredentials: { url: './data/gateway.db' },
});
