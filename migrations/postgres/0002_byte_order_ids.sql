-- The text columns that order rows (the id breaking ties in history pages, claims and admission; the name and the
-- instance id breaking ties in listings) sort by code point, as SQLite's BINARY collation does, whatever collation
-- the database was created with: under a linguistic collation "B" < "a" would no longer hold, nor would the order of
-- ids that differ in punctuation. drizzle's schema cannot declare a collation, hence this migration.
ALTER TABLE "video_jobs" ALTER COLUMN "id" SET DATA TYPE text COLLATE "C";
--> statement-breakpoint
ALTER TABLE "users" ALTER COLUMN "name" SET DATA TYPE text COLLATE "C";
--> statement-breakpoint
ALTER TABLE "replicas" ALTER COLUMN "instance_id" SET DATA TYPE text COLLATE "C";
