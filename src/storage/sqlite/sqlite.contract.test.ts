// The store contract suites against SQLite files (WAL, separate read connection: the real setup).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { conversationContract } from "../contract/conversation.contract";
import { deliveryContract } from "../contract/delivery.contract";
import type { StoreFactory } from "../contract/harness";
import { messageContract } from "../contract/message.contract";
import { miscContract } from "../contract/misc.contract";
import { roomContract } from "../contract/room.contract";
import { searchContract } from "../contract/search.contract";
import { transactionContract } from "../contract/transaction.contract";
import { openSqliteStore } from "./sqlite-store";

const sqliteFile: StoreFactory = async () => {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-contract-"));
  // Callback errors are part of the contract (logged, not thrown): keep them out of the test output.
  // synchronous "full" as the server runs by default: commits made durable by wal-sync.ts.
  const store = openSqliteStore({ path: join(dir, "c.db"), synchronous: "full", onCallbackError: () => {} });
  return {
    store,
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

transactionContract("sqlite", sqliteFile);
messageContract("sqlite", sqliteFile);
roomContract("sqlite", sqliteFile);
deliveryContract("sqlite", sqliteFile);
miscContract("sqlite", sqliteFile);
conversationContract("sqlite", sqliteFile);
searchContract("sqlite", sqliteFile);
