// The gateway's advisory lock keys. Advisory locks belong to one database, and every replica and every version of the
// gateway must agree on these numbers: never change one.

/** Held (per session) while migrations run, so that replicas starting together apply each migration once. */
export const MIGRATION_LOCK = 0x7667_0001;
/** Held (per session) for a replica's whole life: exclusively without REDIS_URL, shared with it (CONTRACT §9). */
export const REPLICA_LOCK = 0x7667_0002;
/** Held (per transaction) by admission: slots are counted and taken by one replica at a time. */
export const ADMISSION_LOCK = 0x7667_0003;
