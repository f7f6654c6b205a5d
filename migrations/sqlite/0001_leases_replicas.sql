CREATE TABLE `owner_data_versions` (
	`owner_id` text PRIMARY KEY NOT NULL,
	`version` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `replicas` (
	`instance_id` text PRIMARY KEY NOT NULL,
	`started_at` integer NOT NULL,
	`heartbeat_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `video_jobs` ADD `revision` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `video_jobs` ADD `lease_owner` text;--> statement-breakpoint
ALTER TABLE `video_jobs` ADD `lease_expires_at` integer;--> statement-breakpoint
CREATE INDEX `video_jobs_lease_owner_idx` ON `video_jobs` (`lease_owner`) WHERE "video_jobs"."lease_owner" IS NOT NULL;