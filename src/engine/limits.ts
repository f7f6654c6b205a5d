// Time and size bounds several engine steps share.

/** Upstream's clock may differ from ours: a listed job is known to be older than a time only past this margin. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** CONTRACT §5: a job followed, reconciled or mirrored for this long without an end fails. */
export const GIVE_UP_AFTER_MS = 24 * 3_600_000;
