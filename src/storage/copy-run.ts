// The copy procedure of `chatapi copy-store`: every table from a source snapshot into an empty
// target, in batches, then verified (row counts per table, a checksum of the messages of each room).
import { COPY_TABLES, type CopyRow, type CopySource, type CopyTable, type CopyTarget } from "./copy";

/** Why a copy did not start (exit 2): a non-empty target, schemas that differ. Nothing was written. */
export class CopyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CopyRefusedError";
  }
}

/** The copy finished but the target does not match the source (exit 1). */
export class CopyVerificationError extends Error {
  constructor(readonly problems: string[]) {
    super(`verification failed: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ""}`);
    this.name = "CopyVerificationError";
  }
}

export interface CopyReport {
  /** Rows copied per table. */
  tables: Record<CopyTable, number>;
  /** Rooms whose message checksum was compared. */
  rooms_verified: number;
}

/** Per-room SHA-256 over the messages of a room in seq order (every column, canonical JSON). */
class RoomChecksums {
  readonly sums = new Map<string, string>();
  private key: string | null = null;
  private hasher: Bun.CryptoHasher | null = null;

  add(batch: CopyRow[]): void {
    for (const r of batch) {
      const key = `${r.tenant_id}/${r.room_id}`;
      if (key !== this.key) {
        this.flush();
        this.key = key;
        this.hasher = new Bun.CryptoHasher("sha256");
      }
      this.hasher!.update(
        `${JSON.stringify([r.seq, r.message_id, r.sender_id, r.content, r.meta ?? null, r.client_msg_id ?? null, r.created_at, r.edited_at ?? null, r.deleted_at ?? null])}\n`,
      );
    }
  }

  flush(): void {
    if (this.key !== null && this.hasher) this.sums.set(this.key, this.hasher.digest("hex"));
    this.key = null;
    this.hasher = null;
  }
}

/**
 * Copies every table of `source` into the empty `target` and verifies the result. `progress`
 * receives one line per table at least (and about one a second while a table copies).
 * Throws CopyRefusedError before writing anything when the target is not empty or the schemas differ.
 */
export async function copyAll(source: CopySource, target: CopyTarget, o: { batchSize: number; progress: (line: string) => void; now?: () => number }): Promise<CopyReport> {
  const now = o.now ?? (() => performance.now());
  const [from, to] = [await source.migrations(), await target.migrations()];
  const missing = to.filter((m) => !from.includes(m));
  const extra = from.filter((m) => !to.includes(m));
  if (missing.length) throw new CopyRefusedError(`the source database lacks migrations ${missing.join(", ")}: run \`chatapi migrate\` against it first`);
  if (extra.length) throw new CopyRefusedError(`the source database has migrations this build does not know (${extra.join(", ")}): use the chatapi version that wrote it`);
  if (!(await target.isEmpty())) throw new CopyRefusedError(`the target (${target.kind} ${target.location}) is not empty: copy-store only fills an empty store`);

  const tables = {} as Record<CopyTable, number>;
  const expected = {} as Record<CopyTable, number>;
  const sourceSums = new RoomChecksums();
  for (const table of COPY_TABLES) {
    const total = (expected[table] = await source.count(table));
    let copied = 0;
    let lastReport = now();
    for await (const batch of source.rows(table, o.batchSize)) {
      await target.insert(table, batch);
      if (table === "messages") sourceSums.add(batch);
      copied += batch.length;
      if (now() - lastReport >= 1000) {
        lastReport = now();
        o.progress(`${table}: ${copied}/${total}`);
      }
    }
    tables[table] = copied;
    o.progress(`${table}: ${copied}/${total} done`);
  }
  sourceSums.flush();
  await target.finish();

  o.progress("verifying");
  const problems: string[] = [];
  for (const table of COPY_TABLES) {
    const n = await target.count(table);
    if (n !== expected[table] || tables[table] !== expected[table]) problems.push(`${table}: source ${expected[table]}, copied ${tables[table]}, target ${n}`);
  }
  const targetSums = new RoomChecksums();
  for await (const batch of target.rows("messages", o.batchSize)) targetSums.add(batch);
  targetSums.flush();
  for (const [room, sum] of sourceSums.sums) {
    const other = targetSums.sums.get(room);
    if (other !== sum) problems.push(`messages of room ${room}: checksum ${other === undefined ? "missing" : "differs"}`);
  }
  for (const room of targetSums.sums.keys()) if (!sourceSums.sums.has(room)) problems.push(`messages of room ${room}: not in the source`);
  if (problems.length) throw new CopyVerificationError(problems);
  return { tables, rooms_verified: sourceSums.sums.size };
}
