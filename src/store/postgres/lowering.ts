// Lower-casing text on PostgreSQL exactly as JavaScript's `toLowerCase()` does, for search (`matchesFilter` decides).
// The database's `lower()` follows its collation: under a libc locale such as C.UTF-8 it maps character by character
// (no final sigma: "ΑΣ" gives "ασ" where JavaScript gives "ας"; "İ" loses its dot), so the root ICU collation is used,
// whose rules are JavaScript's (V8 lower-cases with ICU too). What can still differ is the Unicode version: the
// server's ICU may not know letters that this runtime's ICU lower-cases (55 of them between ICU 72 and 78). Those are
// mapped to JavaScript's lower case before the database lowers, with a list found when the store opens.
// Left over: letters only the server's ICU knows (a server newer than this runtime), and a final sigma whose
// neighbours are such letters. test/postgres-store.test.ts checks every code point on the test server.
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type pg from 'pg';

/** Characters to replace (`from`, one code point each) by JavaScript's lower case (`to`, same positions) before `lower()`. */
export interface Lowering {
  from: string;
  to: string;
}

const ICU_ROOT = '"und-x-icu"';

let cased: string[] | undefined;

/** Every code point that this runtime's `toLowerCase()` changes (found once per process: 1.1 million tries). */
function casedCodePoints(): string[] {
  if (cased) return cased;
  cased = [];
  for (let codePoint = 1; codePoint <= 0x10ffff; codePoint++) {
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue; // lone surrogates are not text
    const char = String.fromCodePoint(codePoint);
    if (char.toLowerCase() !== char) cased.push(char);
  }
  return cased;
}

/**
 * Compares the server's `lower()` with `toLowerCase()` on every character the latter changes, and returns what must be
 * mapped first. Throws when a difference cannot be mapped that way (JavaScript lowers it to several characters).
 */
export async function probeLowering(db: pg.Pool): Promise<Lowering> {
  const chars = casedCodePoints();
  const { rows } = await db.query<{ lowered: string }>(
    `SELECT lower(c COLLATE ${ICU_ROOT}) AS lowered FROM unnest($1::text[]) WITH ORDINALITY AS t(c, n) ORDER BY n`,
    [chars],
  );
  let from = '';
  let to = '';
  chars.forEach((char, index) => {
    const expected = char.toLowerCase();
    if (rows[index]!.lowered === expected) return;
    if ([...expected].length !== 1) {
      throw new Error(`PostgreSQL lower-cases U+${char.codePointAt(0)!.toString(16).toUpperCase()} unlike JavaScript, and no mapping can fix it`);
    }
    from += char;
    to += expected;
  });
  return { from, to };
}

/** `text`, lower-cased as `toLowerCase()` would. */
export function jsLower(text: SQLWrapper, lowering: Lowering): SQL {
  const mapped = lowering.from === '' ? sql`${text}` : sql`translate(${text}, ${lowering.from}, ${lowering.to})`;
  return sql`lower(${mapped} COLLATE ${sql.raw(ICU_ROOT)})`;
}
