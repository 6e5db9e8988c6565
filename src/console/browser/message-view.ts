/// <reference lib="dom" />
// The message list of the selected room: seq-ordered and deduped by seq, infinite scroll upwards,
// inline edit/delete of one's own messages, and read receipts ("seen by") from members' last_ack.
import type { Message } from "@chatapi/client";
import { attachmentList } from "./attachments.ts";
import { reactionBar, threadLink, type ConversationActions } from "./conversation-ui.ts";
import { h, setChildren, shortTime } from "./dom.ts";

export interface MessageViewOptions {
  me: string;
  edit(message: Message, content: string): Promise<void>;
  remove(message: Message): Promise<void>;
  /** The page of messages just below `beforeSeq`, ascending. */
  loadOlder(beforeSeq: number): Promise<{ messages: Message[]; has_more: boolean }>;
  onError(text: string): void;
  /** Reactions and threads (reaction bar, thread link); mentions of `me` are highlighted. */
  conversation: ConversationActions;
}

interface Item {
  msg: Message;
  el: HTMLElement;
  receipts: HTMLElement;
  editing: boolean;
}

// Most messages kept in the DOM; past it the oldest are dropped (and load again on scroll).
const MAX_ITEMS = 1000;
// Start loading older messages when the list is scrolled this close to its top.
const LOAD_OLDER_PX = 80;
const NEAR_BOTTOM_PX = 60;

/** One room's messages; `reset` before showing another room. */
export class MessageView {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  private readonly head: HTMLElement;
  private readonly items = new Map<number, Item>();
  private seqs: number[] = [];
  private acks = new Map<string, number>();
  private hasMore = false;
  private loading = false;
  private loaded = false;
  private generation = 0;

  constructor(private readonly o: MessageViewOptions) {
    this.head = h("div", { class: "msg-history-head" });
    this.list = h("div", { class: "msg-list", role: "log", "aria-live": "polite" });
    this.el = h("div", { class: "messages" }, this.head, this.list);
    this.el.addEventListener("scroll", () => this.maybeLoadOlder(), { passive: true });
    this.reset(null);
  }

  /** Clears the view; `placeholder` is shown until `setInitial` (null: "pick a room"). */
  reset(placeholder: string | null): void {
    this.generation++;
    this.items.clear();
    this.seqs = [];
    this.acks = new Map();
    this.hasMore = false;
    this.loading = false;
    this.loaded = false;
    this.list.replaceChildren();
    setChildren(this.head, h("p", { class: "muted" }, placeholder ?? "Select a room, or create one."));
  }

  /** Shows the latest page of the room (older pages load on scroll). */
  setInitial(messages: Message[], hasMore: boolean): void {
    this.loaded = true;
    this.hasMore = hasMore;
    for (const m of messages) this.upsert(m);
    this.renderHead();
    this.scrollToBottom();
    // A short first page may not fill the pane: keep loading until it scrolls or history ends.
    queueMicrotask(() => this.maybeLoadOlder());
  }

  get maxSeq(): number {
    return this.seqs.length ? this.seqs[this.seqs.length - 1]! : 0;
  }

  get minSeq(): number {
    return this.seqs.length ? this.seqs[0]! : 0;
  }

  /** Adds or replaces a message (by seq); keeps seq order; sticks to the bottom when already there. */
  upsert(msg: Message): void {
    const existing = this.items.get(msg.seq);
    if (existing) {
      // Older copies (a replay after an edit) never overwrite newer state.
      if (!newerOrSame(msg, existing.msg)) return;
      existing.msg = msg;
      if (!existing.editing) this.renderItem(existing);
      this.renderReceipts();
      return;
    }
    const stick = this.nearBottom();
    const item = this.createItem(msg);
    const idx = lowerBound(this.seqs, msg.seq);
    const before = idx < this.seqs.length ? this.items.get(this.seqs[idx]!)!.el : null;
    this.seqs.splice(idx, 0, msg.seq);
    this.items.set(msg.seq, item);
    this.list.insertBefore(item.el, before);
    if (this.loaded && this.head.querySelector(".empty")) this.renderHead();
    if (stick && before === null && this.seqs.length > MAX_ITEMS) this.trimOldest();
    this.renderReceipts();
    if (stick && before === null) this.scrollToBottom();
  }

  private trimOldest(): void {
    while (this.seqs.length > MAX_ITEMS) {
      const seq = this.seqs.shift()!;
      this.items.get(seq)?.el.remove();
      this.items.delete(seq);
    }
    this.hasMore = true;
    this.renderHead();
  }

  /** Sets every member's last_ack (from GET /rooms/{id}/members). */
  setAcks(acks: Map<string, number>): void {
    this.acks = new Map(acks);
    this.renderReceipts();
  }

  /** One member acked up to `seq` (moves forward only). */
  setAck(userId: string, seq: number): void {
    if ((this.acks.get(userId) ?? 0) >= seq) return;
    this.acks.set(userId, seq);
    this.renderReceipts();
  }

  /** Applies a change (reactions, reply count) to the shown message with this id, if any. */
  patch(messageId: string, f: (m: Message) => Message): void {
    for (const item of this.items.values()) {
      if (item.msg.message_id !== messageId) continue;
      item.msg = f(item.msg);
      if (!item.editing) this.renderItem(item);
      return;
    }
  }

  scrollToBottom(): void {
    this.el.scrollTop = this.el.scrollHeight;
  }

  private nearBottom(): boolean {
    return this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < NEAR_BOTTOM_PX;
  }

  private renderHead(): void {
    if (this.loading) setChildren(this.head, h("p", { class: "muted" }, "Loading older messages…"));
    else if (this.hasMore) setChildren(this.head, h("p", { class: "muted" }, "Scroll up for older messages"));
    else if (this.seqs.length === 0) setChildren(this.head, h("p", { class: "muted empty" }, "No messages yet. Say hello!"));
    else setChildren(this.head, h("p", { class: "muted history-start" }, "Beginning of the conversation"));
  }

  private async maybeLoadOlder(): Promise<void> {
    if (!this.loaded || !this.hasMore || this.loading || this.el.scrollTop > LOAD_OLDER_PX) return;
    const generation = this.generation;
    this.loading = true;
    this.renderHead();
    try {
      const page = await this.o.loadOlder(this.minSeq || Number.MAX_SAFE_INTEGER);
      if (generation !== this.generation) return;
      // Keep the message under the reader's eyes where it was while older ones go in above it.
      const fromBottom = this.el.scrollHeight - this.el.scrollTop;
      for (const m of page.messages) this.upsert(m);
      this.hasMore = page.has_more && page.messages.length > 0;
      this.el.scrollTop = this.el.scrollHeight - fromBottom;
    } catch (err) {
      if (generation === this.generation) this.o.onError(`could not load older messages: ${String(err)}`);
    } finally {
      if (generation === this.generation) {
        this.loading = false;
        this.renderHead();
        if (this.el.scrollHeight <= this.el.clientHeight) void this.maybeLoadOlder();
      }
    }
  }

  private createItem(msg: Message): Item {
    const el = h("div", { class: "msg", "data-seq": msg.seq });
    const receipts = h("div", { class: "msg-receipts" });
    const item: Item = { msg, el, receipts, editing: false };
    this.renderItem(item);
    return item;
  }

  private renderItem(item: Item): void {
    const { msg } = item;
    const mine = msg.sender_id === this.o.me;
    const deleted = msg.deleted_at !== null;
    const mentioned = msg.mentions.includes(this.o.me) && !deleted;
    item.el.className = `msg${mine ? " mine" : ""}${deleted ? " deleted" : ""}${mentioned ? " mentioned" : ""}${msg.parent_id ? " reply" : ""}`;
    item.el.dataset.messageId = msg.message_id;
    const head = h(
      "div",
      { class: "msg-head" },
      h("span", { class: "msg-sender" }, msg.sender_id),
      h("time", { class: "msg-time", datetime: msg.created_at, title: msg.created_at }, shortTime(msg.created_at)),
      h("span", { class: "msg-seq", title: "seq" }, `#${msg.seq}`),
      msg.edited_at && !deleted ? h("span", { class: "msg-edited", title: `edited ${msg.edited_at}` }, "edited") : null,
      mine && !deleted ? this.actions(item) : null,
    );
    const body = deleted ? h("div", { class: "msg-body" }, "message deleted") : h("div", { class: "msg-body" }, msg.content, attachmentList(msg));
    const extras = h("div", { class: "msg-extras" }, threadLink(msg, this.o.conversation), reactionBar(msg, this.o.conversation));
    setChildren(item.el, h("div", { class: "bubble" }, head, body, extras), item.receipts);
  }

  private actions(item: Item): HTMLElement {
    let confirmTimer: ReturnType<typeof setTimeout> | undefined;
    const del = h("button", { class: "link danger msg-delete", type: "button" }, "Delete");
    del.addEventListener("click", () => {
      // Two clicks: the first arms the button for a few seconds (no modal dialogs in the console).
      if (!del.classList.contains("armed")) {
        del.classList.add("armed");
        del.textContent = "Confirm delete";
        confirmTimer = setTimeout(() => {
          del.classList.remove("armed");
          del.textContent = "Delete";
        }, 4000);
        return;
      }
      clearTimeout(confirmTimer);
      del.disabled = true;
      this.o.remove(item.msg).catch((err) => {
        del.disabled = false;
        this.o.onError(`delete failed: ${String(err)}`);
      });
    });
    const edit = h("button", { class: "link msg-edit", type: "button", onclick: () => this.startEdit(item) }, "Edit");
    return h("div", { class: "msg-actions" }, edit, del);
  }

  private startEdit(item: Item): void {
    item.editing = true;
    const input = h("input", { class: "msg-edit-input", type: "text", value: item.msg.content, "aria-label": "Edit message", maxlength: 8192 });
    const done = () => {
      item.editing = false;
      this.renderItem(item);
    };
    const save = async () => {
      const content = input.value;
      if (content.trim() === "" || content === item.msg.content) return done();
      input.disabled = true;
      try {
        await this.o.edit(item.msg, content);
        done();
      } catch (err) {
        input.disabled = false;
        this.o.onError(`edit failed: ${String(err)}`);
      }
    };
    input.addEventListener("keydown", (e: KeyboardEvent) => {
      if (e.key === "Enter") void save();
      else if (e.key === "Escape") done();
    });
    const body = item.el.querySelector(".msg-body");
    const actions = item.el.querySelector(".msg-actions");
    const form = h(
      "div",
      { class: "msg-edit-form" },
      input,
      h("button", { class: "small primary msg-edit-save", type: "button", onclick: () => void save() }, "Save"),
      h("button", { class: "small", type: "button", onclick: done }, "Cancel"),
    );
    body?.replaceWith(form);
    actions?.remove();
    input.focus();
    input.select();
  }

  private renderReceipts(): void {
    const bySeq = new Map<number, string[]>();
    for (const [user, ack] of this.acks) {
      if (user === this.o.me || ack < 1) continue;
      // The newest shown message up to the ack that the member did not send (seeing one's own says nothing).
      let idx = upperBound(this.seqs, ack) - 1;
      while (idx >= 0 && this.items.get(this.seqs[idx]!)!.msg.sender_id === user) idx--;
      if (idx < 0) continue;
      const seq = this.seqs[idx]!;
      const list = bySeq.get(seq) ?? [];
      list.push(user);
      bySeq.set(seq, list);
    }
    for (const [seq, item] of this.items) {
      const users = bySeq.get(seq);
      const text = users ? `Seen by ${users.sort().join(", ")}` : "";
      if (item.receipts.textContent !== text) item.receipts.textContent = text;
    }
  }
}

function newerOrSame(a: Message, b: Message): boolean {
  if (b.deleted_at && !a.deleted_at) return false;
  if (b.edited_at && (!a.edited_at || a.edited_at < b.edited_at) && !a.deleted_at) return false;
  return true;
}

function lowerBound(arr: number[], x: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(arr: number[], x: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
