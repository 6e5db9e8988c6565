// Fan-out jobs (migration 017) on bun:sqlite, and the recipient pages they expand, a chunk at a time.
import type { Database, Statement } from "bun:sqlite";
import type { FanoutJobRow, FanoutStore } from "../fanout-store";
import type { Sync } from "./facade";

/** Method names of FanoutStore. */
export const FANOUT_METHODS = ["all", "insert", "claim", "renew", "advance", "delete", "roomMembers", "topicSubscribers"] as const;

const COLS = "job_id, tenant_id, kind, ref_id, payload_id, room_id, exclude_user, topic, user_ids, as_of, stage, cursor, recipients, created_at, lease_until";
type Raw = Omit<FanoutJobRow, "user_ids"> & { user_ids: string | null };
const toRow = (r: Raw): FanoutJobRow => ({ ...r, user_ids: r.user_ids === null ? null : (JSON.parse(r.user_ids) as string[]) });

/** FanoutStore on bun:sqlite. */
export class SqliteFanoutStore implements Sync<FanoutStore> {
  private readonly q: Record<string, Statement<any, any>>;

  constructor(db: Database) {
    this.q = {
      insert: db.query(
        `INSERT INTO fanout_jobs (job_id, tenant_id, kind, ref_id, payload_id, room_id, exclude_user, topic, user_ids, as_of, stage, cursor, recipients, created_at, lease_until)
         VALUES ($job_id, $tenant_id, $kind, $ref_id, $payload_id, $room_id, $exclude_user, $topic, $user_ids, $as_of, $stage, $cursor, $recipients, $created_at, $lease_until)`,
      ),
      claim: db.query(
        `UPDATE fanout_jobs SET lease_until = ?1 WHERE job_id IN (
           SELECT job_id FROM fanout_jobs WHERE lease_until IS NULL OR lease_until < ?2 ORDER BY job_id LIMIT ?3)
         RETURNING ${COLS}`,
      ),
      renew: db.query("UPDATE fanout_jobs SET lease_until = ?1 WHERE job_id IN (SELECT value FROM json_each(?2))"),
      advance: db.query("UPDATE fanout_jobs SET stage = ?, cursor = ?, recipients = ? WHERE job_id = ?"),
      delete: db.query("DELETE FROM fanout_jobs WHERE job_id = ?"),
      all: db.query(`SELECT ${COLS} FROM fanout_jobs ORDER BY job_id`),
      roomMembers: db.query(
        "SELECT user_id FROM room_members WHERE tenant_id = ? AND room_id = ? AND user_id > ? AND joined_at <= ? ORDER BY user_id LIMIT ?",
      ),
      topicSubscribers: db.query(
        "SELECT id, user_id FROM subscriptions WHERE tenant_id = ? AND topic = ? AND id > ? AND created_at <= ? ORDER BY id LIMIT ?",
      ),
    };
  }

  insert(job: FanoutJobRow): void {
    this.q.insert!.run({ ...job, user_ids: job.user_ids === null ? null : JSON.stringify(job.user_ids) } as never);
  }
  claim(now: string, until: string, limit: number): FanoutJobRow[] {
    return (this.q.claim!.all(until, now, limit) as Raw[]).map(toRow).sort((a, b) => (a.job_id < b.job_id ? -1 : 1));
  }
  renew(jobIds: string[], until: string | null): void {
    if (jobIds.length > 0) this.q.renew!.run(until, JSON.stringify(jobIds));
  }
  advance(jobId: string, stage: number, cursor: string, recipients: number): void {
    this.q.advance!.run(stage, cursor, recipients, jobId);
  }
  delete(jobId: string): void {
    this.q.delete!.run(jobId);
  }
  all(): FanoutJobRow[] {
    return (this.q.all!.all() as Raw[]).map(toRow);
  }
  roomMembers(tenantId: string, roomId: string, afterUser: string, asOf: string, limit: number): string[] {
    return (this.q.roomMembers!.all(tenantId, roomId, afterUser, asOf, limit) as { user_id: string }[]).map((r) => r.user_id);
  }
  topicSubscribers(tenantId: string, topic: string, afterId: string, asOf: string, limit: number): { id: string; user_id: string }[] {
    return this.q.topicSubscribers!.all(tenantId, topic, afterId, asOf, limit) as { id: string; user_id: string }[];
  }
}
