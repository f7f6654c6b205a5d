-- Existing jobs start their revision (every write) where their version (visible writes) is.
UPDATE `video_jobs` SET `revision` = `version`;
--> statement-breakpoint
-- The owner's data version moves with every visible write to their jobs and audio, whatever code path wrote it:
-- the response cache compares it instead of trusting every write method to report itself.
CREATE TRIGGER `video_jobs_owner_version_insert` AFTER INSERT ON `video_jobs` BEGIN
  INSERT INTO `owner_data_versions` (`owner_id`, `version`) VALUES (NEW.`owner_id`, 1)
    ON CONFLICT (`owner_id`) DO UPDATE SET `version` = `version` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `video_jobs_owner_version_update` AFTER UPDATE ON `video_jobs` WHEN NEW.`version` <> OLD.`version` BEGIN
  INSERT INTO `owner_data_versions` (`owner_id`, `version`) VALUES (NEW.`owner_id`, 1)
    ON CONFLICT (`owner_id`) DO UPDATE SET `version` = `version` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `video_jobs_owner_version_delete` AFTER DELETE ON `video_jobs` BEGIN
  INSERT INTO `owner_data_versions` (`owner_id`, `version`) VALUES (OLD.`owner_id`, 1)
    ON CONFLICT (`owner_id`) DO UPDATE SET `version` = `version` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `audio_assets_owner_version_insert` AFTER INSERT ON `audio_assets` BEGIN
  INSERT INTO `owner_data_versions` (`owner_id`, `version`) VALUES (NEW.`owner_id`, 1)
    ON CONFLICT (`owner_id`) DO UPDATE SET `version` = `version` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `audio_assets_owner_version_update` AFTER UPDATE ON `audio_assets` BEGIN
  INSERT INTO `owner_data_versions` (`owner_id`, `version`) VALUES (NEW.`owner_id`, 1)
    ON CONFLICT (`owner_id`) DO UPDATE SET `version` = `version` + 1;
END;
