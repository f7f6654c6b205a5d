// drizzle-kit for the PostgreSQL store: `npx drizzle-kit generate --config drizzle.postgres.config.ts --name <what>`.
// Generating needs no database; the URL only serves drizzle-kit's own commands that connect (studio, push).
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/store/postgres/schema.ts',
  out: './migrations/postgres',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
});
