// What every scenario receives: where the product is, CPU pinning, sizes (full or smoke), logging.

export interface Sizes {
  restClients: number;
  restRooms: number;
  wsRooms: number;
  wsRoomSize: number;
  wsInflightPerRoom: number;
  latencyRate: number;
  fanoutMembers: number;
  fanoutWindow: number;
  historyRooms: number;
  historyPerRoom: number;
  historyClients: number;
  idleSockets: number;
  idleRoomsPerUser: number;
  idleRoomSize: number;
  idleProcs: number;
  reconnectClients: number;
  reconnectRoomSize: number;
  reconnectPerRoom: number;
  startupBytes: number;
  /** search: messages seeded into one tenant, and its rooms. */
  searchMessages: number;
  searchRooms: number;
  searchClients: number;
}

export const FULL: Sizes = {
  restClients: 64,
  restRooms: 100,
  wsRooms: 100,
  wsRoomSize: 10,
  wsInflightPerRoom: 2,
  latencyRate: 1000,
  fanoutMembers: 5000,
  fanoutWindow: 16,
  historyRooms: 1000,
  historyPerRoom: 1000,
  historyClients: 64,
  idleSockets: 15_000,
  idleRoomsPerUser: 10,
  idleRoomSize: 10,
  idleProcs: 3,
  reconnectClients: 5000,
  reconnectRoomSize: 10,
  reconnectPerRoom: 20,
  startupBytes: 1024 ** 3,
  searchMessages: 1_000_000,
  searchRooms: 1000,
  searchClients: 4,
};

export const SMOKE: Sizes = {
  restClients: 4,
  restRooms: 5,
  wsRooms: 4,
  wsRoomSize: 3,
  wsInflightPerRoom: 1,
  latencyRate: 100,
  fanoutMembers: 40,
  fanoutWindow: 2,
  historyRooms: 10,
  historyPerRoom: 120,
  historyClients: 4,
  idleSockets: 60,
  idleRoomsPerUser: 3,
  idleRoomSize: 3,
  idleProcs: 2,
  reconnectClients: 20,
  reconnectRoomSize: 4,
  reconnectPerRoom: 3,
  startupBytes: 4 * 1024 ** 2,
  searchMessages: 3000,
  searchRooms: 20,
  searchClients: 2,
};

export interface Ctx {
  smoke: boolean;
  /** Compiled product binary; null = run src/main.ts with `bun run` (smoke, profiling). */
  binary: string | null;
  serverArgs?: string[];
  /** Run the product from sources under `bun --cpu-prof --cpu-prof-md`, profiles into this directory. */
  profileDir?: string;
  serverEnv: Record<string, string>;
  masterKey: string;
  /** taskset CPU lists (null = unpinned). */
  serverCpus: string | null;
  loadCpus: string | null;
  tmpRoot: string;
  cacheDir: string;
  runs: number;
  runSeconds: number;
  warmupSeconds: number;
  sizes: Sizes;
  log: (msg: string) => void;
  /** Which store the product runs on (`--store`); postgres: a fresh database per server on `postgresUrl`. */
  store?: "sqlite" | "postgres";
  /** The PostgreSQL server of `--store postgres` (BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres). */
  postgresUrl?: string;
}
