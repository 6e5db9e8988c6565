// Fan-out jobs on PostgreSQL, and the recipient pages they expand, a chunk at a time.
import type { FanoutJobRow, FanoutStore } from "../fanout-store";
import { instant, jsonParam, type Conn } from "./conn";

function row(r: any): FanoutJobRow {
  return {
    job_id: r.job_id,
    tenant_id: r.tenant_id,
    kind: r.kind,
    ref_id: r.ref_id,
    payload_id: r.payload_id,
    room_id: r.room_id,
    exclude_user: r.exclude_user,
    topic: r.topic,
    user_ids: r.user_ids ?? null,
    as_of: instant(r.as_of),
    stage: r.stage,
    cursor: r.cursor,
    recipients: r.recipients,
    created_at: instant(r.created_at),
    lease_until: r.lease_until === null || r.lease_until === undefined ? null : instant(r.lease_until),
  };
}

/** FanoutStore on Bun.SQL. */
export class PgFanoutStore implements FanoutStore {
  constructor(private readonly c: Conn) {}

  async insert(j: FanoutJobRow): Promise<void> {
    await this.c.q`INSERT INTO fanout_jobs (job_id, tenant_id, kind, ref_id, payload_id, room_id, exclude_user, topic, user_ids, as_of, stage, cursor, recipients, created_at, lease_until)
      VALUES (${j.job_id}, ${j.tenant_id}, ${j.kind}, ${j.ref_id}, ${j.payload_id}, ${j.room_id}, ${j.exclude_user}, ${j.topic}, ${jsonParam(j.user_ids)}::text::json,
        ${j.as_of}::timestamptz, ${j.stage}, ${j.cursor}, ${j.recipients}, ${j.created_at}::timestamptz, ${j.lease_until}::timestamptz)`;
  }
  async claim(now: string, until: string, limit: number): Promise<FanoutJobRow[]> {
    // SKIP LOCKED: two nodes claiming at once never take the same job.
    const rows = await this.c.q`UPDATE fanout_jobs SET lease_until = ${until}::timestamptz WHERE job_id IN (
        SELECT job_id FROM fanout_jobs WHERE lease_until IS NULL OR lease_until < ${now}::timestamptz
        ORDER BY job_id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING *`;
    return rows.map(row).sort((a: FanoutJobRow, b: FanoutJobRow) => (a.job_id < b.job_id ? -1 : 1));
  }
  async renew(jobIds: string[], until: string | null): Promise<void> {
    if (jobIds.length === 0) return;
    await this.c.q`UPDATE fanout_jobs SET lease_until = ${until}::timestamptz WHERE job_id = ANY(${jobIds}::text[])`;
  }
  async advance(jobId: string, stage: number, cursor: string, recipients: number): Promise<void> {
    await this.c.q`UPDATE fanout_jobs SET stage = ${stage}, cursor = ${cursor}, recipients = ${recipients} WHERE job_id = ${jobId}`;
  }
  async delete(jobId: string): Promise<void> {
    await this.c.q`DELETE FROM fanout_jobs WHERE job_id = ${jobId}`;
  }
  async all(): Promise<FanoutJobRow[]> {
    return (await this.c.q`SELECT * FROM fanout_jobs ORDER BY job_id`).map(row);
  }
  async roomMembers(tenantId: string, roomId: string, afterUser: string, asOf: string, limit: number): Promise<string[]> {
    const rows = await this.c.q`SELECT user_id FROM room_members
      WHERE tenant_id = ${tenantId} AND room_id = ${roomId} AND user_id > ${afterUser} AND joined_at <= ${asOf}::timestamptz
      ORDER BY user_id LIMIT ${limit}`;
    return rows.map((r: any) => r.user_id);
  }
  async topicSubscribers(tenantId: string, topic: string, afterId: string, asOf: string, limit: number): Promise<{ id: string; user_id: string }[]> {
    const rows = await this.c.q`SELECT id, user_id FROM subscriptions
      WHERE tenant_id = ${tenantId} AND topic = ${topic} AND id > ${afterId} AND created_at <= ${asOf}::timestamptz
      ORDER BY id LIMIT ${limit}`;
    return rows.map((r: any) => ({ id: r.id, user_id: r.user_id }));
  }
}
