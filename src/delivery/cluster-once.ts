// Periodic jobs that must run once per cluster, not once per node (retention, token purge).
import type { RedisState } from "../bus/redis-state";

/** A gate taking a Redis lock for most of one interval: true on the one node that got it. */
export function clusterOnce(state: RedisState, name: string, nodeId: string, intervalMs: number): () => Promise<boolean> {
  // Held slightly less than the interval, so the next pass (on any node) can take it again.
  const ttl = Math.max(100, Math.floor(intervalMs * 0.9));
  return () => state.lock(name, nodeId, ttl).catch(() => false);
}
