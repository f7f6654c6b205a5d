-- The owner's data version moves with every visible write to their jobs and audio, whatever code path or replica
-- wrote it: the response cache compares it instead of trusting every write method to report itself. The same
-- triggers as migrations/sqlite/0002_owner_data_versions.sql: a job inserted or deleted, a job update that moves
-- `version` (scheduling writes and leases move `revision` only), audio inserted or updated.
CREATE FUNCTION "owner_data_versions_bump"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  owner text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    owner := OLD."owner_id";
  ELSE
    owner := NEW."owner_id";
  END IF;
  INSERT INTO "owner_data_versions" ("owner_id", "version") VALUES (owner, 1)
    ON CONFLICT ("owner_id") DO UPDATE SET "version" = "owner_data_versions"."version" + 1;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "video_jobs_owner_version_insert" AFTER INSERT ON "video_jobs"
  FOR EACH ROW EXECUTE FUNCTION "owner_data_versions_bump"();
--> statement-breakpoint
CREATE TRIGGER "video_jobs_owner_version_update" AFTER UPDATE ON "video_jobs"
  FOR EACH ROW WHEN (NEW."version" <> OLD."version") EXECUTE FUNCTION "owner_data_versions_bump"();
--> statement-breakpoint
CREATE TRIGGER "video_jobs_owner_version_delete" AFTER DELETE ON "video_jobs"
  FOR EACH ROW EXECUTE FUNCTION "owner_data_versions_bump"();
--> statement-breakpoint
CREATE TRIGGER "audio_assets_owner_version_insert" AFTER INSERT ON "audio_assets"
  FOR EACH ROW EXECUTE FUNCTION "owner_data_versions_bump"();
--> statement-breakpoint
CREATE TRIGGER "audio_assets_owner_version_update" AFTER UPDATE ON "audio_assets"
  FOR EACH ROW EXECUTE FUNCTION "owner_data_versions_bump"();
