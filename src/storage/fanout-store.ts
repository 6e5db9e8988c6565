// The contract of fan-out jobs (notifications to many recipients, a message's webhooks to a room's
// offline members): durable jobs expanded a chunk at a time, resumed after a restart.
import type { Instant } from "./store";

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
  /** Explicit recipients, or null. */
  user_ids: string[] | null;
  /** Members who joined, and subscriptions made, up to this time are recipients. */
  as_of: Instant;
  stage: number;
  cursor: string;
  recipients: number;
  created_at: Instant;
  /**
   * The process expanding the job renews this lease; once it has passed (that process died), another
   * process claims the job and resumes it (several nodes share one PostgreSQL database).
   */
  lease_until: Instant | null;
}

/** Fan-out reads outside a transaction. */
export interface FanoutReads {
  /** Every unfinished job, oldest first (resumed at start). */
  all(): Promise<FanoutJobRow[]>;
}

/** Fan-out jobs inside a transaction. Unique: job_id (UUIDv7: FIFO). */
export interface FanoutStore extends FanoutReads {
  insert(job: FanoutJobRow): Promise<void>;
  /** Leases the unfinished jobs whose lease has passed (before `now`) until `until`, oldest first; returns them. */
  claim(now: Instant, until: Instant, limit: number): Promise<FanoutJobRow[]>;
  /** Extends the leases of the jobs this process is expanding (null: gives them up, at shutdown). */
  renew(jobIds: string[], until: Instant | null): Promise<void>;
  /** Saves progress after a chunk. */
  advance(jobId: string, stage: number, cursor: string, recipients: number): Promise<void>;
  delete(jobId: string): Promise<void>;
  /** Up to `limit` members of the room (by user id, after `afterUser`) who joined at or before `asOf`. */
  roomMembers(tenantId: string, roomId: string, afterUser: string, asOf: Instant, limit: number): Promise<string[]>;
  /** Up to `limit` subscribers of the topic (by subscription id, after `afterId`) subscribed at or before `asOf`. */
  topicSubscribers(tenantId: string, topic: string, afterId: string, asOf: Instant, limit: number): Promise<{ id: string; user_id: string }[]>;
}
