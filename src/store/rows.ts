// Shaping rows the way the Store interface answers, the same for every store.

/** Groups rows (already in their final order) by job, with an entry, possibly empty, for every requested id. */
export function groupByJob<Row extends { jobId: string }>(jobIds: readonly string[], rows: Row[]): Map<string, Row[]> {
  const grouped = new Map<string, Row[]>(jobIds.map((id) => [id, []]));
  for (const row of rows) grouped.get(row.jobId)?.push(row);
  return grouped;
}

/** The rows in the order of `ids` (repeats included), null where a row is missing. */
export function inOrderOf<Row extends { id: string }>(ids: readonly string[], rows: Row[]): Array<Row | null> {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id) ?? null);
}
