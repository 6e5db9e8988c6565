/// <reference lib="dom" />
// Console-wide state. Keys live in this object only: never in storage, the URL, or a log line.
// Non-secret preferences (user ids, selected rooms) go to sessionStorage so a reload keeps them.

type Listener = () => void;

const keys = { tenant: "", master: "", jwt: "" };
const listeners = new Set<Listener>();

/** The in-memory keys; `set` notifies every view (so both views share one tenant key field). */
export const secrets = {
  get tenantKey(): string {
    return keys.tenant;
  },
  get masterKey(): string {
    return keys.master;
  },
  /** A signed user token (JWT) pasted instead of the tenant key. */
  get userToken(): string {
    return keys.jwt;
  },
  set(which: "tenant" | "master" | "jwt", value: string): void {
    const v = value.trim();
    if (keys[which] === v) return;
    keys[which] = v;
    for (const l of listeners) l();
  },
  onChange(l: Listener): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
};

const PREFIX = "chatapi-console:";

/** Reads a non-secret preference. */
export function loadPref(name: string): string | null {
  try {
    return sessionStorage.getItem(PREFIX + name);
  } catch {
    return null;
  }
}

/** Stores a non-secret preference (null removes it). */
export function savePref(name: string, value: string | null): void {
  try {
    if (value === null) sessionStorage.removeItem(PREFIX + name);
    else sessionStorage.setItem(PREFIX + name, value);
  } catch {
    // Storage disabled: preferences are a convenience only.
  }
}
