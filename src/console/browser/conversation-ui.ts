/// <reference lib="dom" />
// Threads, mentions and reactions in the console: the reaction bar with a small picker, the thread
// link of a root, mention parsing of the composer ("@user" of a room member), and the thread drawer.
import type { Message } from "@chatapi/client";
import { h, setChildren, shortTime } from "./dom.ts";

/** The picker's choices (any reaction of 1..64 bytes works; these are one click away). */
export const PICKER = ["👍", "❤️", "😂", "🎉", "👀", "🙏"];

export interface ConversationActions {
  me: string;
  react(m: Message, reaction: string): void;
  unreact(m: Message, reaction: string): void;
  openThread(m: Message): void;
}

/** Reactions of a message as toggle chips (mine highlighted), plus "+" opening the picker. */
export function reactionBar(m: Message, a: ConversationActions): HTMLElement | null {
  if (m.deleted_at !== null) return null;
  const chips = m.reactions.map((r) => {
    const mine = r.user_ids.includes(a.me);
    return h(
      "button",
      {
        type: "button",
        class: `reaction${mine ? " mine" : ""}`,
        "data-reaction": r.reaction,
        title: `${r.user_ids.join(", ")}${r.count > r.user_ids.length ? ` and ${r.count - r.user_ids.length} more` : ""}`,
        "aria-pressed": mine ? "true" : "false",
        onclick: () => (mine ? a.unreact(m, r.reaction) : a.react(m, r.reaction)),
      },
      `${r.reaction} ${r.count}`,
    );
  });
  const picker = h(
    "span",
    { class: "reaction-picker", hidden: true, role: "menu" },
    PICKER.map((e) => h("button", { type: "button", class: "pick", "data-pick": e, role: "menuitem", onclick: () => ((picker.hidden = true), a.react(m, e)) }, e)),
  );
  const add = h("button", { type: "button", class: "reaction-add", title: "Add a reaction", "aria-label": "Add a reaction", onclick: () => (picker.hidden = !picker.hidden) }, "+");
  return h("div", { class: "reactions" }, chips, add, picker);
}

/** "N replies" (or "Reply") under a top-level message; "in thread" on a reply. */
export function threadLink(m: Message, a: ConversationActions): HTMLElement | null {
  if (m.parent_id !== null) return h("span", { class: "msg-in-thread muted" }, "↳ reply in thread");
  if (m.deleted_at !== null && m.reply_count === 0) return null;
  const label = m.reply_count === 0 ? "Reply" : `${m.reply_count} ${m.reply_count === 1 ? "reply" : "replies"}`;
  return h("button", { type: "button", class: "link thread-link", "data-replies": m.reply_count, onclick: () => a.openThread(m) }, label);
}

/** The members named as `@id` in a draft (only members count; each once, in order). */
export function parseMentions(text: string, members: readonly string[], me: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(/@([^\s@,;:!?]+)/g)) {
    const id = match[1]!;
    if (members.includes(id) && id !== me && !out.includes(id)) out.push(id);
  }
  return out.slice(0, 50);
}

export interface ThreadDrawerOptions extends ConversationActions {
  load(root: Message): Promise<Message[]>;
  reply(root: Message, content: string): Promise<void>;
  onError(text: string): void;
}

/** A side panel showing one thread: its root, its replies, and a reply box. */
export class ThreadDrawer {
  readonly el: HTMLElement;
  private root: Message | null = null;
  private replies = new Map<string, Message>();
  private readonly list = h("div", { class: "thread-list" });
  private readonly head = h("div", { class: "thread-head" });
  private readonly input = h("input", { class: "thread-input", type: "text", placeholder: "Reply in thread…", "aria-label": "Reply in thread", maxlength: 8192 });

  constructor(private readonly o: ThreadDrawerOptions) {
    const send = async () => {
      const text = this.input.value;
      if (!this.root || text.trim() === "") return;
      this.input.value = "";
      try {
        await this.o.reply(this.root, text);
      } catch (err) {
        this.input.value = text;
        this.o.onError(`reply failed: ${String(err)}`);
      }
    };
    this.input.addEventListener("keydown", (e: KeyboardEvent) => {
      if (e.key === "Enter") void send();
    });
    this.el = h(
      "aside",
      { class: "thread-drawer", hidden: true, "aria-label": "Thread" },
      h("div", { class: "thread-bar" }, h("strong", null, "Thread"), h("button", { type: "button", class: "small thread-close", onclick: () => this.close() }, "Close")),
      this.head,
      this.list,
      h("div", { class: "thread-composer" }, this.input, h("button", { type: "button", class: "small primary thread-send", onclick: () => void send() }, "Reply")),
    );
  }

  get rootId(): string | null {
    return this.root?.message_id ?? null;
  }

  async open(root: Message): Promise<void> {
    this.root = root;
    this.replies.clear();
    this.el.hidden = false;
    this.render();
    try {
      const replies = await this.o.load(root);
      if (this.root?.message_id !== root.message_id) return;
      for (const m of replies) this.replies.set(m.message_id, m);
      this.render();
      this.input.focus();
    } catch (err) {
      this.o.onError(`could not load the thread: ${String(err)}`);
    }
  }

  close(): void {
    this.root = null;
    this.el.hidden = true;
  }

  /** A message of the room changed or arrived: shown when it is this thread's root or one of its replies. */
  upsert(m: Message): void {
    if (!this.root) return;
    if (m.message_id === this.root.message_id) this.root = m;
    else if (m.parent_id === this.root.message_id) this.replies.set(m.message_id, m);
    else return;
    this.render();
  }

  /** Applies a change to a shown message (reactions, reply counts). */
  patch(messageId: string, f: (m: Message) => Message): void {
    const m = this.root?.message_id === messageId ? this.root : this.replies.get(messageId);
    if (m) this.upsert(f(m));
  }

  private render(): void {
    if (!this.root) return;
    setChildren(this.head, this.item(this.root));
    setChildren(this.list, [...this.replies.values()].sort((a, b) => a.seq - b.seq).map((m) => this.item(m)));
  }

  private item(m: Message): HTMLElement {
    const mentioned = m.mentions.includes(this.o.me);
    return h(
      "div",
      { class: `thread-msg${mentioned ? " mentioned" : ""}${m.deleted_at ? " deleted" : ""}`, "data-message-id": m.message_id, "data-seq": m.seq },
      h("div", { class: "msg-head" }, h("span", { class: "msg-sender" }, m.sender_id), h("time", { class: "msg-time" }, shortTime(m.created_at))),
      h("div", { class: "msg-body" }, m.deleted_at ? "message deleted" : m.content),
      reactionBar(m, this.o),
    );
  }
}
