// Cluster-wide state kept in Redis, each change one atomic Lua script: sockets per user (presence and
// WS_MAX_CONNECTIONS_PER_USER over all nodes), shared token buckets, and run-once locks. Keys:
//   {p}conn:{tenant}:{user}  sorted set "node|connection" scored by lease expiry (ms); a node refreshes
//                            its sockets' leases every heartbeat, so a dead node's sockets expire.
//   {p}tconn:{tenant}        the same for all of a tenant's sockets (WS_MAX_CONNECTIONS_PER_TENANT over all nodes).
//   {p}pres:{tenant}         hash user -> "1" while announced online, "0:<ms>" once announced offline.
//   {p}seen:{tenant}         hash user -> ms when the user's last socket (on any node) closed.
//   {p}rl:{key}              hash {tokens, at}: a token bucket refilled on Redis's clock.
//   {p}lock:{name}           SET NX PX: one node runs a periodic job per interval.
import type { RedisClient } from "bun";

// Times are the calling node's clock (ARGV): leases are refreshed with it too.
// Returns {ok, count, announce}; ok = 0: the user is at its cap, -1: the tenant is at its cap.
const CONNECT = `
local now = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[2]) then return {0, n, 0} end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local tmax = tonumber(ARGV[7])
if tmax >= 0 and redis.call('ZCARD', KEYS[4]) >= tmax then return {-1, n, 0} end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[3]) * 2)
local announce = 0
if redis.call('HGET', KEYS[2], ARGV[4]) ~= '1' then
  redis.call('HSET', KEYS[2], ARGV[4], '1')
  redis.call('SADD', KEYS[3], ARGV[6])
  announce = 1
end
return {1, n + 1, announce}`;

const DISCONNECT = `
local now = tonumber(ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = redis.call('ZCARD', KEYS[1])
if n == 0 then redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) end
return n`;

// Offline only if no socket is left anywhere and the user is still announced online.
const GO_OFFLINE = `
local now = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
if redis.call('HGET', KEYS[2], ARGV[1]) ~= '1' then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], '0:' .. ARGV[2])
redis.call('SREM', KEYS[3], ARGV[3])
return 1`;

// Users announced online whose sockets all expired (their node died): offline now, once. Members of
// the online set are "tenant:user" (tenant ids have no ":"); keys are built here from the prefix.
const REAP = `
local now = tonumber(ARGV[2])
local out = {}
for _, m in ipairs(redis.call('SRANDMEMBER', KEYS[1], tonumber(ARGV[3]))) do
  local i = string.find(m, ':', 1, true)
  local t = string.sub(m, 1, i - 1)
  local u = string.sub(m, i + 1)
  local conn = ARGV[1] .. 'conn:' .. t .. ':' .. u
  redis.call('ZREMRANGEBYSCORE', conn, '-inf', now)
  if redis.call('ZCARD', conn) == 0 then
    redis.call('SREM', KEYS[1], m)
    local pres = ARGV[1] .. 'pres:' .. t
    if redis.call('HGET', pres, u) == '1' then
      redis.call('HSET', pres, u, '0:' .. now)
      if redis.call('HEXISTS', ARGV[1] .. 'seen:' .. t, u) == 0 then redis.call('HSET', ARGV[1] .. 'seen:' .. t, u, now) end
      table.insert(out, m)
    end
  end
end
return out`;

const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil then tokens = cap; at = now end
tokens = math.min(cap, tokens + math.max(0, now - at) / 1000 * rate)
local ok = 0
if tokens >= 1 then tokens = tokens - 1; ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(cap / rate * 1000) + 1000)
return {ok, tostring(tokens)}`;

/** One user's presence as the cluster sees it. */
export interface ClusterPresence {
  online: boolean;
  lastSeenMs: number | null;
}

/** Cluster state over the broker's command connection (null while Redis is down: callers degrade). */
export class RedisState {
  constructor(
    private readonly client: () => RedisClient | null,
    private readonly prefix = "chatapi:",
  ) {}

  private redis(): RedisClient {
    const c = this.client();
    if (!c) throw new Error("bus unavailable");
    return c;
  }

  private readonly shas = new Map<string, string>();

  /** EVALSHA (the script text is sent once per Redis start), EVAL again after NOSCRIPT. */
  private async eval(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    const r = this.redis();
    const rest = [String(keys.length), ...keys, ...args.map(String)];
    let sha = this.shas.get(script);
    if (!sha) {
      sha = new Bun.CryptoHasher("sha1").update(script).digest("hex");
      this.shas.set(script, sha);
    }
    try {
      return await r.send("EVALSHA", [sha, ...rest]);
    } catch (err) {
      if (!String(err).includes("NOSCRIPT")) throw err;
      return r.send("EVAL", [script, ...rest]);
    }
  }

  private connKey(t: string, u: string): string {
    return `${this.prefix}conn:${t}:${u}`;
  }
  private tenantConnKey(t: string): string {
    return `${this.prefix}tconn:${t}`;
  }
  private seenKey(t: string): string {
    return `${this.prefix}seen:${t}`;
  }
  private onlineKey(): string {
    return `${this.prefix}online`;
  }
  private presKey(t: string): string {
    return `${this.prefix}pres:${t}`;
  }

  /**
   * Registers a socket unless the user already has `max` anywhere (refused: "user") or the tenant
   * `tenantMax` (refused: "tenant"); `announce`: first socket since offline.
   */
  async connect(t: string, u: string, member: string, max: number, leaseMs: number, tenantMax?: number): Promise<{ ok: boolean; refused?: "user" | "tenant"; count: number; announce: boolean }> {
    const keys = [this.connKey(t, u), this.presKey(t), this.onlineKey(), this.tenantConnKey(t)];
    const [ok, count, announce] = (await this.eval(CONNECT, keys, [member, max, leaseMs, u, Date.now(), `${t}:${u}`, tenantMax ?? -1])) as number[];
    return { ok: ok === 1, refused: ok === 0 ? "user" : ok === -1 ? "tenant" : undefined, count: count!, announce: announce === 1 };
  }

  /** Removes a socket; returns how many the user still has on all nodes. */
  async disconnect(t: string, u: string, member: string, atMs: number): Promise<number> {
    return (await this.eval(DISCONNECT, [this.connKey(t, u), this.seenKey(t), this.tenantConnKey(t)], [member, u, atMs])) as number;
  }

  /** The tenant's live sockets on all nodes. */
  async tenantCount(t: string): Promise<number> {
    return (await this.redis().send("ZCOUNT", [this.tenantConnKey(t), String(Date.now()), "+inf"])) as number;
  }

  /** After the grace period: true when this call moved the user offline (send the frame once). */
  async goOffline(t: string, u: string): Promise<boolean> {
    return ((await this.eval(GO_OFFLINE, [this.connKey(t, u), this.presKey(t), this.onlineKey()], [u, Date.now(), `${t}:${u}`])) as number) === 1;
  }

  /** Every user announced online (tenant, user), for a node that just connected. */
  async onlineUsers(): Promise<{ tenantId: string; userId: string }[]> {
    const all = (await this.redis().send("SMEMBERS", [this.onlineKey()])) as string[];
    return all.map((m) => {
      const i = m.indexOf(":");
      return { tenantId: m.slice(0, i), userId: m.slice(i + 1) };
    });
  }

  /** Up to `max` users whose node died with their last sockets: now offline (each reported once). */
  async reap(max: number): Promise<{ tenantId: string; userId: string }[]> {
    const gone = (await this.eval(REAP, [this.onlineKey()], [this.prefix, Date.now(), max])) as string[];
    return gone.map((m) => {
      const i = m.indexOf(":");
      return { tenantId: m.slice(0, i), userId: m.slice(i + 1) };
    });
  }

  /** Extends the leases of this node's sockets (one pipeline of ZADD XX). */
  async refresh(members: { t: string; u: string; member: string }[], leaseMs: number): Promise<void> {
    const r = this.redis();
    const until = String(Date.now() + leaseMs);
    await Promise.all(members.flatMap((m) => [r.send("ZADD", [this.connKey(m.t, m.u), "XX", until, m.member]), r.send("ZADD", [this.tenantConnKey(m.t), "XX", until, m.member])]));
  }

  /** Online when any node holds a live socket of the user; last seen from the presence hash. */
  async presence(t: string, u: string): Promise<ClusterPresence> {
    const r = this.redis();
    const [n, seen] = await Promise.all([r.send("ZCOUNT", [this.connKey(t, u), String(Date.now()), "+inf"]), r.send("HGET", [this.seenKey(t), u])]);
    return { online: (n as number) > 0, lastSeenMs: seen === null || seen === undefined ? null : Number(seen) };
  }

  /** Takes one token of a bucket shared by every node. */
  async take(key: string, ratePerS: number, capacity: number): Promise<{ ok: boolean; tokens: number }> {
    const [ok, tokens] = (await this.eval(TAKE, [`${this.prefix}rl:${key}`], [ratePerS, capacity])) as [number, string];
    return { ok: ok === 1, tokens: Number(tokens) };
  }

  /** True when this node holds the named lock for ttlMs (one run per cluster per interval). */
  async lock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const r = await this.redis().send("SET", [`${this.prefix}lock:${name}`, owner, "NX", "PX", String(ttlMs)]);
    return r === "OK";
  }
}
