// Topic subscriptions of a user (targets of POST /notify with topic_subscribers: true).
import { notFound } from "../errors";
import type { SubscriptionRow, SubscriptionStore } from "../storage/sqlite/subscription-store";
import type { Writer } from "../storage/sqlite/writer";
import { checkTopic } from "./notifications";
import type { Actor } from "./types";

/** API.md Subscription. */
export interface Subscription {
  id: string;
  topic: string;
  created_at: string;
}

function toSubscription(r: SubscriptionRow): Subscription {
  return { id: r.id, topic: r.topic, created_at: r.created_at };
}

/** Subscribe (idempotent per tenant + user + topic), list own, delete own. */
export class SubscriptionService {
  private readonly now: () => Date;

  constructor(private readonly d: { store: SubscriptionStore; writer: Writer; now?: () => Date }) {
    this.now = d.now ?? (() => new Date());
  }

  /** created=false returns the existing subscription (same id). */
  async subscribe(actor: Actor, topic: unknown): Promise<{ subscription: Subscription; created: boolean }> {
    const t = checkTopic(topic);
    const row: SubscriptionRow = { tenant_id: actor.tenant.id, id: Bun.randomUUIDv7(), user_id: actor.userId, topic: t, created_at: this.now().toISOString() };
    const r = await this.d.writer.submit(() => this.d.store.upsert(row));
    return { subscription: toSubscription(r.row), created: r.created };
  }

  /** The caller's subscriptions, oldest first. */
  list(actor: Actor): Subscription[] {
    return this.d.store.listForUser(actor.tenant.id, actor.userId).map(toSubscription);
  }

  /** Own subscriptions only; another user's (or tenant's) id is not_found. */
  async unsubscribe(actor: Actor, id: string): Promise<void> {
    const ok = await this.d.writer.submit(() => this.d.store.deleteOwn(actor.tenant.id, actor.userId, id));
    if (!ok) throw notFound("subscription not found");
  }
}
