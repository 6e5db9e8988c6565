// Topic subscriptions on bun:sqlite. Every statement is scoped by tenant_id.
import type { Database, Statement } from "bun:sqlite";
import type { SubscriptionRow, SubscriptionStore } from "../subscription-store";
import type { Sync } from "./facade";

/** Method names of SubscriptionStore. */
export const SUBSCRIPTION_METHODS = ["listForUser", "subscribers", "upsert", "deleteOwn"] as const;

/** SubscriptionStore on bun:sqlite; statements prepared once. */
export class SqliteSubscriptionStore implements Sync<SubscriptionStore> {
  private readonly q: Record<string, Statement<any, any>>;

  constructor(db: Database) {
    const cols = "tenant_id, id, user_id, topic, created_at";
    this.q = {
      insert: db.query(
        `INSERT INTO subscriptions (${cols}) VALUES ($tenant_id, $id, $user_id, $topic, $created_at)
         ON CONFLICT (tenant_id, user_id, topic) DO NOTHING`,
      ),
      byTopic: db.query(`SELECT ${cols} FROM subscriptions WHERE tenant_id = ? AND user_id = ? AND topic = ?`),
      list: db.query(`SELECT ${cols} FROM subscriptions INDEXED BY subscriptions_user_topic WHERE tenant_id = ? AND user_id = ? ORDER BY created_at, id`),
      del: db.query("DELETE FROM subscriptions WHERE tenant_id = ? AND user_id = ? AND id = ?"),
      subscribers: db.query("SELECT user_id FROM subscriptions INDEXED BY subscriptions_by_topic WHERE tenant_id = ? AND topic = ?"),
    };
  }

  upsert(row: SubscriptionRow): { row: SubscriptionRow; created: boolean } {
    const created = this.q.insert!.run(row).changes > 0;
    if (created) return { row, created };
    return { row: this.q.byTopic!.get(row.tenant_id, row.user_id, row.topic) as SubscriptionRow, created: false };
  }

  listForUser(tenantId: string, userId: string): SubscriptionRow[] {
    return this.q.list!.all(tenantId, userId) as SubscriptionRow[];
  }

  deleteOwn(tenantId: string, userId: string, id: string): boolean {
    return this.q.del!.run(tenantId, userId, id).changes > 0;
  }

  subscribers(tenantId: string, topic: string): string[] {
    return (this.q.subscribers!.all(tenantId, topic) as { user_id: string }[]).map((r) => r.user_id);
  }
}
