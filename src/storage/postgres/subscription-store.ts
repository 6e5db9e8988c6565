// Topic subscriptions on PostgreSQL. Every statement is scoped by tenant_id.
import type { SubscriptionRow, SubscriptionStore } from "../subscription-store";
import { instant, type Conn } from "./conn";

function row(r: any): SubscriptionRow {
  return { tenant_id: r.tenant_id, id: r.id, user_id: r.user_id, topic: r.topic, created_at: instant(r.created_at) };
}

/** SubscriptionStore on Bun.SQL. */
export class PgSubscriptionStore implements SubscriptionStore {
  constructor(private readonly c: Conn) {}

  async upsert(s: SubscriptionRow): Promise<{ row: SubscriptionRow; created: boolean }> {
    // ON CONFLICT DO NOTHING waits for a racing insert of the same (user, topic) to commit, then
    // skips: the read that follows (a new statement, a new snapshot) sees the winner's row.
    const ins = await this.c.q`INSERT INTO subscriptions (tenant_id, id, user_id, topic, created_at)
      VALUES (${s.tenant_id}, ${s.id}, ${s.user_id}, ${s.topic}, ${s.created_at}::timestamptz)
      ON CONFLICT (tenant_id, user_id, topic) DO NOTHING RETURNING id`;
    if (ins.length > 0) return { row: s, created: true };
    const [r] = await this.c.q`SELECT * FROM subscriptions WHERE tenant_id = ${s.tenant_id} AND user_id = ${s.user_id} AND topic = ${s.topic}`;
    return { row: row(r), created: false };
  }

  async listForUser(tenantId: string, userId: string): Promise<SubscriptionRow[]> {
    const rows = await this.c.q`SELECT * FROM subscriptions WHERE tenant_id = ${tenantId} AND user_id = ${userId} ORDER BY created_at, id`;
    return rows.map(row);
  }

  async deleteOwn(tenantId: string, userId: string, id: string): Promise<boolean> {
    const r = await this.c.q`DELETE FROM subscriptions WHERE tenant_id = ${tenantId} AND user_id = ${userId} AND id = ${id}`;
    return r.count > 0;
  }

  async subscribers(tenantId: string, topic: string): Promise<string[]> {
    const rows = await this.c.q`SELECT user_id FROM subscriptions WHERE tenant_id = ${tenantId} AND topic = ${topic}`;
    return rows.map((r: any) => r.user_id);
  }
}
