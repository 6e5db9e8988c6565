// SQL for fan-out jobs (migration 008) and the recipient pages they expand, a chunk at a time.
import type { Database, Statement } from "bun:sqlite";

/** A fan-out in progress. Stages: 0 explicit user_ids, 1 room members, 2 topic subscribers. */
export interface FanoutJobRow {
  job_id: string;
  tenant_id: string;
  kind: "message" | "notification";
  ref_id: string;
  payload_id: string | null;
  room_id: string | null;
  exclude_user: string | null;
  topic: string | null;
  /** JSON array of user ids, or null. */
  user_ids: string | null;
  /** Members who joined, and subscriptions made, up to this ISO time are recipients. */
  as_of: string;
  stage: number;
  cursor: string;
  recipients: number;
  created_at: string;
}

/** Persistence of fan-out jobs; every write runs inside the caller's (writer's) transaction. */
export interface FanoutStore {
  insert(job: FanoutJobRow): void;
  /** Saves progress after a chunk. */
  advance(jobId: string, stage: number, cursor: string, recipients: number): void;
  delete(jobId: string): void;
  /** Every unfinished job, oldest first (resumed at start). */
  all(): FanoutJobRow[];
  /** Up to `limit` members of the room (by user id, after `afterUser`) who joined at or before `asOf`. */
  roomMembers(tenantId: string, roomId: string, afterUser: string, asOf: string, limit: number): string[];
  /** Up to `limit` subscribers of the topic (by subscription id, after `afterId`) subscribed at or before `asOf`. */
  topicSubscribers(tenantId: string, topic: string, afterId: string, asOf: string, limit: number): { id: string; user_id: string }[];
}

/** FanoutStore on bun:sqlite. */
export class SqliteFanoutStore implements FanoutStore {
  private readonly q: Record<string, Statement<any, any>>;

  constructor(db: Database) {
    this.q = {
      insert: db.query(
        `INSERT INTO fanout_jobs (job_id, tenant_id, kind, ref_id, payload_id, room_id, exclude_user, topic, user_ids, as_of, stage, cursor, recipients, created_at)
         VALUES ($job_id, $tenant_id, $kind, $ref_id, $payload_id, $room_id, $exclude_user, $topic, $user_ids, $as_of, $stage, $cursor, $recipients, $created_at)`,
      ),
      advance: db.query("UPDATE fanout_jobs SET stage = ?, cursor = ?, recipients = ? WHERE job_id = ?"),
      delete: db.query("DELETE FROM fanout_jobs WHERE job_id = ?"),
      all: db.query("SELECT * FROM fanout_jobs ORDER BY job_id"),
      roomMembers: db.query(
        "SELECT user_id FROM room_members WHERE tenant_id = ? AND room_id = ? AND user_id > ? AND joined_at <= ? ORDER BY user_id LIMIT ?",
      ),
      topicSubscribers: db.query(
        "SELECT id, user_id FROM subscriptions WHERE tenant_id = ? AND topic = ? AND id > ? AND created_at <= ? ORDER BY id LIMIT ?",
      ),
    };
  }

  insert(job: FanoutJobRow): void {
    this.q.insert!.run(job);
  }
  advance(jobId: string, stage: number, cursor: string, recipients: number): void {
    this.q.advance!.run(stage, cursor, recipients, jobId);
  }
  delete(jobId: string): void {
    this.q.delete!.run(jobId);
  }
  all(): FanoutJobRow[] {
    return this.q.all!.all() as FanoutJobRow[];
  }
  roomMembers(tenantId: string, roomId: string, afterUser: string, asOf: string, limit: number): string[] {
    return (this.q.roomMembers!.all(tenantId, roomId, afterUser, asOf, limit) as { user_id: string }[]).map((r) => r.user_id);
  }
  topicSubscribers(tenantId: string, topic: string, afterId: string, asOf: string, limit: number): { id: string; user_id: string }[] {
    return this.q.topicSubscribers!.all(tenantId, topic, afterId, asOf, limit) as { id: string; user_id: string }[];
  }
}
