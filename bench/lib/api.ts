// Setup through the public REST API (fetch): tenant, rooms, members. Not on the measured path.

export interface TenantInfo {
  tenant_id: string;
  api_key: string;
}

async function call(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(base + path, {
      method,
      headers: { ...headers, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status === 429 && attempt < 20) {
      await Bun.sleep(100);
      continue;
    }
    if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  }
}

/** A tenant with rate limits high enough that the benchmark never meets them. */
export async function createTenant(base: string, masterKey: string, name: string): Promise<TenantInfo> {
  const r = await call(base, "POST", "/admin/tenants", { "x-master-key": masterKey }, { name, config: { rate_limit: 1_000_000, user_message_rate: 1_000_000 } });
  return { tenant_id: r.tenant_id, api_key: r.api_key };
}

const userHeaders = (key: string, user: string) => ({ "x-api-key": key, "x-user-id": user });

/** Creates a group (or channel) room; `members` beyond 1000 are added in further calls. Returns room_id. */
export async function createRoom(base: string, key: string, creator: string, members: string[], type: "group" | "channel" = "group", name?: string): Promise<string> {
  const others = members.filter((m) => m !== creator);
  const first = others.slice(0, 1000);
  const r = await call(base, "POST", "/rooms", userHeaders(key, creator), { type, name: name ?? null, members: first });
  for (let i = 1000; i < others.length; i += 1000) {
    await call(base, "POST", `/rooms/${r.room_id}/members`, userHeaders(key, creator), { user_ids: others.slice(i, i + 1000) });
  }
  return r.room_id as string;
}

/** A room as a member sees it (last_seq). */
export async function getRoom(base: string, key: string, user: string, roomId: string): Promise<{ last_seq: number }> {
  return call(base, "GET", `/rooms/${roomId}`, userHeaders(key, user));
}

/** Latest page of history (setup checks). */
export async function history(base: string, key: string, user: string, roomId: string, query = ""): Promise<{ messages: { seq: number }[]; has_more: boolean }> {
  return call(base, "GET", `/rooms/${roomId}/messages${query}`, userHeaders(key, user));
}

/** Sends one message over REST. */
export async function sendMessage(base: string, key: string, user: string, roomId: string, content: string): Promise<{ seq: number }> {
  return call(base, "POST", `/rooms/${roomId}/messages`, userHeaders(key, user), { content });
}

/** Runs fn over items with at most `limit` in flight; results in input order. */
export async function pMap<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
