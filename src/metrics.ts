// Prometheus metrics (prom-client). Labels never carry tenant, room or user ids: /metrics is public.
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Every metric of the process, registered on a private registry. */
export class Metrics {
  readonly registry = new Registry();
  private readonly startedMs = Date.now();

  readonly activeConnections = new Gauge({ name: "chatapi_active_connections", help: "Open WebSocket connections.", registers: [this.registry] });
  readonly messagesSent = new Counter({ name: "chatapi_messages_sent_total", help: "Messages persisted, REST and WS.", registers: [this.registry] });
  readonly droppedBroadcasts = new Counter({ name: "chatapi_dropped_broadcasts_total", help: "Publishes that reported a dropped frame for at least one subscriber.", registers: [this.registry] });
  readonly deliveryAttempts = new Counter({ name: "chatapi_delivery_attempts_total", help: "Webhook delivery attempts.", registers: [this.registry] });
  readonly deliveryFailures = new Counter({ name: "chatapi_delivery_failures_total", help: "Webhook delivery attempts that failed.", registers: [this.registry] });
  readonly uptime: Gauge = new Gauge({
    name: "chatapi_uptime_seconds",
    help: "Seconds since the process started.",
    registers: [this.registry],
    collect: (): void => this.uptime.set(this.uptimeSeconds()),
  });
  readonly httpRequests = new Counter({ name: "chatapi_http_requests_total", help: "HTTP requests by method and status class.", labelNames: ["method", "status"] as const, registers: [this.registry] });
  readonly wsFramesIn = new Counter({ name: "chatapi_ws_frames_in_total", help: "WebSocket frames received from clients.", registers: [this.registry] });
  readonly wsFramesOut = new Counter({ name: "chatapi_ws_frames_out_total", help: "WebSocket frames published or sent to clients (one per publish).", registers: [this.registry] });
  readonly replayedMessages = new Counter({ name: "chatapi_replayed_messages_total", help: "Messages replayed to reconnecting sockets.", registers: [this.registry] });
  readonly deadLetters = new Gauge({ name: "chatapi_dead_letters", help: "Webhook deliveries in the dead-letter list.", registers: [this.registry] });
  readonly outboxDepth = new Gauge({ name: "chatapi_outbox_depth", help: "Webhook deliveries pending.", registers: [this.registry] });
  readonly outboxOldestPendingSeconds = new Gauge({ name: "chatapi_outbox_oldest_pending_seconds", help: "Age of the oldest pending webhook delivery.", registers: [this.registry] });
  readonly walBytes = new Gauge({ name: "chatapi_wal_bytes", help: "Size of the SQLite WAL file.", registers: [this.registry] });
  readonly busConnected = new Gauge({ name: "chatapi_bus_connected", help: "1 while the bus between nodes is up (always 1 on one node without Redis).", registers: [this.registry] });
  readonly sendSeconds = new Histogram({
    name: "chatapi_message_send_seconds",
    help: "Time to persist a message (REST or WS send), from the service call to the commit.",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** `nodeId` labels every series (node="...") so one dashboard shows every node of a cluster. */
  constructor(nodeId?: string) {
    if (nodeId) this.registry.setDefaultLabels({ node: nodeId });
  }

  uptimeSeconds(): number {
    return Math.floor((Date.now() - this.startedMs) / 1000);
  }

  /** The six counters of docs/reference/rest.md `/metrics?format=json`. */
  async json(): Promise<Record<string, number>> {
    const value = async (m: Counter | Gauge) => (await m.get()).values.reduce((s, v) => s + v.value, 0);
    return {
      active_connections: await value(this.activeConnections),
      messages_sent: await value(this.messagesSent),
      dropped_broadcasts: await value(this.droppedBroadcasts),
      delivery_attempts: await value(this.deliveryAttempts),
      delivery_failures: await value(this.deliveryFailures),
      uptime_seconds: this.uptimeSeconds(),
    };
  }
}
