// Topic subscriptions of a user (targets of POST /notify with topic_subscribers: true).
import { notFound } from "../errors";
import type { Store } from "../storage/store";
import type { SubscriptionRow } from "../storage/subscription-store";
import { checkTopic } from "./notifications";
import type { Actor } from "./types";

/** docs/reference/rest.md Subscription. */
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

  constructor(private readonly d: { store: Store; now?: () => Date }) {
    this.now = d.now ?? (() => new Date());
  }

  /** created=false returns the existing subscription (same id). */
  async subscribe(actor: Actor, topic: unknown): Promise<{ subscription: Subscription; created: boolean }> {
    const t = checkTopic(topic);
    const row: SubscriptionRow = { tenant_id: actor.tenant.id, id: Bun.randomUUIDv7(), user_id: actor.userId, topic: t, created_at: this.now().toISOString() };
    const r = await this.d.store.transaction((tx) => tx.subscriptions.upsert(row));
    return { subscription: toSubscription(r.row), created: r.created };
  }

  /** The caller's subscriptions, oldest first. */
  async list(actor: Actor): Promise<Subscription[]> {
    return (await this.d.store.subscriptions.listForUser(actor.tenant.id, actor.userId)).map(toSubscription);
  }

  /** Own subscriptions only; another user's (or tenant's) id is not_found. */
  async unsubscribe(actor: Actor, id: string): Promise<void> {
    const ok = await this.d.store.transaction((tx) => tx.subscriptions.deleteOwn(actor.tenant.id, actor.userId, id));
    if (!ok) throw notFound("subscription not found");
  }
}
