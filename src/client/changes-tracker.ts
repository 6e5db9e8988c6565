// Catch-up through the changes feed (docs/guides/conversations.md, "Changes"): for each tracked room the client keeps
// the cursor and, after every (re)connect, pages `changes` from it until `has_more` is false. The app
// gets each page as a `changes` event and replaces its copies by message_id: edits, deletions,
// reactions and reply counts made while it was away are never missed.
import type { ChangesData, ChangesReply, Message } from "./types.ts";

/** `changes` event: the current state of messages changed after the room's previous cursor. */
export interface ChangesEvent {
  room_id: string;
  messages: Message[];
  next_cursor: string;
}

export interface ChangesTrackerDeps {
  changes: (data: ChangesData) => Promise<ChangesReply>;
  deliver: (event: ChangesEvent) => void;
  onError: (roomId: string, error: unknown) => void;
  pageSize: number;
}

/** Per-room cursors and one catch-up at a time per room. */
export class ChangesTracker {
  private readonly cursors = new Map<string, string | null>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();

  constructor(private readonly d: ChangesTrackerDeps) {}

  /** Starts tracking (no-op when tracked); `cursor` null/absent: the room's present cursor is fetched. */
  track(roomId: string, cursor?: string | null): void {
    if (!this.cursors.has(roomId)) this.cursors.set(roomId, cursor ?? null);
  }

  untrack(roomId: string): void {
    this.cursors.delete(roomId);
  }

  cursor(roomId: string): string | null | undefined {
    return this.cursors.get(roomId);
  }

  rooms(): string[] {
    return [...this.cursors.keys()];
  }

  /**
   * A live change frame of `roomId` arrived. During a catch-up it may carry a state newer than the
   * page being read (read before that change committed, answered after its frame): the run then
   * reads once more from its new cursor, so the app's last word for every message is the newest.
   */
  noteLive(roomId: string): void {
    if (this.running.has(roomId)) this.again.add(roomId);
  }

  /** Pages the room's changes to the end; a call during a run makes the run go once more. */
  catchUp(roomId: string): Promise<void> {
    const current = this.running.get(roomId);
    if (current) {
      this.again.add(roomId);
      return current;
    }
    const run = (async () => {
      try {
        do {
          this.again.delete(roomId);
          await this.drain(roomId);
        } while (this.again.has(roomId));
      } catch (error) {
        this.d.onError(roomId, error);
      } finally {
        this.running.delete(roomId);
      }
    })();
    this.running.set(roomId, run);
    return run;
  }

  private async drain(roomId: string): Promise<void> {
    for (;;) {
      if (!this.cursors.has(roomId)) return;
      const since = this.cursors.get(roomId) ?? null;
      const reply = await this.d.changes(since === null ? { room_id: roomId } : { room_id: roomId, since, limit: this.d.pageSize });
      if (!this.cursors.has(roomId)) return;
      this.cursors.set(roomId, reply.next_cursor);
      // The first call only learns the present position: nothing to deliver.
      if (since !== null && reply.messages.length > 0) this.d.deliver({ room_id: roomId, messages: reply.messages, next_cursor: reply.next_cursor });
      if (since === null || !reply.has_more) return;
    }
  }
}
