CREATE TABLE `api_tokens` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash_unique` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `api_tokens_user_id_idx` ON `api_tokens` (`user_id`);--> statement-breakpoint
CREATE TABLE `audio_assets` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`file_name` text NOT NULL,
	`mime_type` text NOT NULL,
	`byte_size` integer NOT NULL,
	`duration_seconds` real,
	`sha256` text NOT NULL,
	`file_path` text NOT NULL,
	`upstream_asset_id` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `audio_assets_owner_id_idx` ON `audio_assets` (`owner_id`);--> statement-breakpoint
CREATE TABLE `job_events` (
	`job_id` text NOT NULL,
	`seq` integer NOT NULL,
	`at` integer NOT NULL,
	`status` text NOT NULL,
	`upstream_status` text,
	`progress` real NOT NULL,
	`message` text,
	PRIMARY KEY(`job_id`, `seq`),
	FOREIGN KEY (`job_id`) REFERENCES `video_jobs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_name_unique` ON `users` (`name`);--> statement-breakpoint
CREATE TABLE `video_assets` (
	`id` text PRIMARY KEY NOT NULL,
	`job_id` text NOT NULL,
	`owner_id` text NOT NULL,
	`output_index` integer NOT NULL,
	`upstream_asset_id` text NOT NULL,
	`file_path` text NOT NULL,
	`thumbnail_path` text,
	`mime_type` text NOT NULL,
	`byte_size` integer NOT NULL,
	`sha256` text NOT NULL,
	`width` integer,
	`height` integer,
	`duration_seconds` real,
	`frame_rate` real,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`job_id`) REFERENCES `video_jobs`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `video_assets_job_output_uq` ON `video_assets` (`job_id`,`output_index`);--> statement-breakpoint
CREATE TABLE `video_jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`version` integer NOT NULL,
	`status` text NOT NULL,
	`phase` text NOT NULL,
	`prompt` text NOT NULL,
	`negative_prompt` text,
	`size` text NOT NULL,
	`duration_seconds` integer NOT NULL,
	`enable_prompt_expansion` integer NOT NULL,
	`seed` integer NOT NULL,
	`seed_drawn` integer NOT NULL,
	`audio_id` text,
	`upstream_status` text,
	`upstream_job_id` text,
	`progress` real NOT NULL,
	`queue_position` integer,
	`idempotency_key` text,
	`error` text,
	`creative_units_cost` real,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`submitted_at` integer,
	`completed_at` integer,
	`next_check_at` integer,
	`upstream_request` text,
	`upstream_payload` text,
	`submit_attempts` integer NOT NULL,
	`submit_started_at` integer,
	`poll_failures` integer NOT NULL,
	`not_found_count` integer NOT NULL,
	`last_upstream_change_at` integer,
	`stalled` integer NOT NULL,
	`upstream_succeeded_at` integer,
	`upstream_asset_ids` text NOT NULL,
	`mirror_attempts` integer NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `video_jobs_owner_idempotency_key_uq` ON `video_jobs` (`owner_id`,`idempotency_key`);--> statement-breakpoint
CREATE UNIQUE INDEX `video_jobs_upstream_job_id_uq` ON `video_jobs` (`upstream_job_id`) WHERE "video_jobs"."upstream_job_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `video_jobs_owner_created_idx` ON `video_jobs` (`owner_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `video_jobs_owner_updated_idx` ON `video_jobs` (`owner_id`,`updated_at`,`id`);--> statement-breakpoint
CREATE INDEX `video_jobs_owner_status_created_idx` ON `video_jobs` (`owner_id`,`status`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `video_jobs_phase_next_check_idx` ON `video_jobs` (`phase`,`next_check_at`);--> statement-breakpoint
CREATE INDEX `video_jobs_status_upstream_succeeded_idx` ON `video_jobs` (`status`,`upstream_succeeded_at`);