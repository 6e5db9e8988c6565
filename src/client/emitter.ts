// A tiny typed event emitter: no Node `events`, no DOM EventTarget, so it runs in browsers and Bun.

/** A handler for one event's payload. */
export type Handler<P> = (payload: P) => void;

/** Typed pub/sub over an event map; handlers run synchronously in registration order. */
export class TypedEmitter<Events extends object> {
  private readonly handlers = new Map<keyof Events, Set<Handler<never>>>();

  /** Registers `handler` for `type`; returns a function that unregisters it (idempotent). */
  on<K extends keyof Events>(type: K, handler: Handler<Events[K]>): () => void {
    let set = this.handlers.get(type);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(type, set);
    }
    const entry = handler as Handler<never>;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  /** Like `on`, but the handler runs at most once. */
  once<K extends keyof Events>(type: K, handler: Handler<Events[K]>): () => void {
    const off = this.on(type, (payload) => {
      off();
      handler(payload);
    });
    return off;
  }

  /** Calls every handler of `type`; a throwing handler is logged and does not stop the others. */
  emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    const set = this.handlers.get(type);
    if (set === undefined || set.size === 0) return;
    for (const handler of [...set]) {
      try {
        (handler as Handler<Events[K]>)(payload);
      } catch (error) {
        // An app bug in one handler must not break the connection or the other handlers.
        console.error(`chat client: "${String(type)}" handler threw`, error);
      }
    }
  }

  /** Number of handlers registered for `type`. */
  listenerCount(type: keyof Events): number {
    return this.handlers.get(type)?.size ?? 0;
  }
}
