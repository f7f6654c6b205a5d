CREATE TABLE "api_tokens" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "api_tokens_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"user_id" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" bigint NOT NULL,
	"revoked_at" bigint,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "audio_assets" (
	"id" text PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"file_name" text NOT NULL,
	"mime_type" text NOT NULL,
	"byte_size" bigint NOT NULL,
	"duration_seconds" double precision,
	"sha256" text NOT NULL,
	"file_path" text NOT NULL,
	"upstream_asset_id" text,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "job_events" (
	"job_id" text NOT NULL,
	"seq" integer NOT NULL,
	"at" bigint NOT NULL,
	"status" text NOT NULL,
	"upstream_status" text,
	"progress" double precision NOT NULL,
	"message" text,
	CONSTRAINT "job_events_job_id_seq_pk" PRIMARY KEY("job_id","seq")
);
--> statement-breakpoint
CREATE TABLE "owner_data_versions" (
	"owner_id" text PRIMARY KEY NOT NULL,
	"version" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "replicas" (
	"instance_id" text PRIMARY KEY NOT NULL,
	"started_at" bigint NOT NULL,
	"heartbeat_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "users_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "video_assets" (
	"id" text PRIMARY KEY NOT NULL,
	"job_id" text NOT NULL,
	"owner_id" text NOT NULL,
	"output_index" integer NOT NULL,
	"upstream_asset_id" text NOT NULL,
	"file_path" text NOT NULL,
	"thumbnail_path" text,
	"mime_type" text NOT NULL,
	"byte_size" bigint NOT NULL,
	"sha256" text NOT NULL,
	"width" integer,
	"height" integer,
	"duration_seconds" double precision,
	"frame_rate" double precision,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "video_jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"version" integer NOT NULL,
	"status" text NOT NULL,
	"phase" text NOT NULL,
	"prompt" text NOT NULL,
	"negative_prompt" text,
	"size" text NOT NULL,
	"duration_seconds" integer NOT NULL,
	"enable_prompt_expansion" boolean NOT NULL,
	"seed" integer NOT NULL,
	"seed_drawn" boolean NOT NULL,
	"audio_id" text,
	"upstream_status" text,
	"upstream_job_id" text,
	"progress" double precision NOT NULL,
	"queue_position" integer,
	"idempotency_key" text,
	"error" jsonb,
	"creative_units_cost" double precision,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"submitted_at" bigint,
	"completed_at" bigint,
	"next_check_at" bigint,
	"upstream_request" jsonb,
	"upstream_payload" jsonb,
	"submit_attempts" integer NOT NULL,
	"submit_started_at" bigint,
	"poll_failures" integer NOT NULL,
	"not_found_count" integer NOT NULL,
	"last_upstream_change_at" bigint,
	"stalled" boolean NOT NULL,
	"upstream_succeeded_at" bigint,
	"upstream_asset_ids" jsonb NOT NULL,
	"mirror_attempts" integer NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"lease_owner" text,
	"lease_expires_at" bigint
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audio_assets" ADD CONSTRAINT "audio_assets_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job_events" ADD CONSTRAINT "job_events_job_id_video_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."video_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "video_assets" ADD CONSTRAINT "video_assets_job_id_video_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."video_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "video_assets" ADD CONSTRAINT "video_assets_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "video_jobs" ADD CONSTRAINT "video_jobs_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_tokens_user_id_idx" ON "api_tokens" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "audio_assets_owner_id_idx" ON "audio_assets" USING btree ("owner_id");--> statement-breakpoint
CREATE UNIQUE INDEX "video_assets_job_output_uq" ON "video_assets" USING btree ("job_id","output_index");--> statement-breakpoint
CREATE UNIQUE INDEX "video_jobs_owner_idempotency_key_uq" ON "video_jobs" USING btree ("owner_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "video_jobs_upstream_job_id_uq" ON "video_jobs" USING btree ("upstream_job_id") WHERE "video_jobs"."upstream_job_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "video_jobs_owner_created_idx" ON "video_jobs" USING btree ("owner_id","created_at","id");--> statement-breakpoint
CREATE INDEX "video_jobs_owner_updated_idx" ON "video_jobs" USING btree ("owner_id","updated_at","id");--> statement-breakpoint
CREATE INDEX "video_jobs_owner_status_created_idx" ON "video_jobs" USING btree ("owner_id","status","created_at","id");--> statement-breakpoint
CREATE INDEX "video_jobs_phase_next_check_idx" ON "video_jobs" USING btree ("phase","next_check_at");--> statement-breakpoint
CREATE INDEX "video_jobs_status_upstream_succeeded_idx" ON "video_jobs" USING btree ("status","upstream_succeeded_at");--> statement-breakpoint
CREATE INDEX "video_jobs_lease_owner_idx" ON "video_jobs" USING btree ("lease_owner") WHERE "video_jobs"."lease_owner" IS NOT NULL;