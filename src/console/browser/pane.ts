/// <reference lib="dom" />
// One live chat pane: a user's own ChatClient (token minted with the in-memory key), room list
// with unread counts, history, send box, typing, presence, receipts, edit/delete, reconnect;
// threads (a drawer), mentions ("@user" in the composer, highlights, badges) and reactions.
import { createChatClient, type ChatClient, type ClientStateEvent, type Message } from "@chatapi/client";
import { parseMentions, ThreadDrawer, type ConversationActions } from "./conversation-ui.ts";
import { h, setChildren } from "./dom.ts";
import { api, bearerHeaders, describeError, HttpError, userHeaders } from "./http.ts";
import { MessageView } from "./message-view.ts";
import { RoomDirectory } from "./room-directory.ts";
import { attachButton, uploadBody } from "./attachments.ts";
import { roomForm } from "./room-form.ts";
import { renderRoomList, roomTitle, sortRooms } from "./rooms.ts";
import { loadPref, savePref } from "./state.ts";
import { OwnTyping, TypingBoard } from "./typing.ts";

export interface PaneOptions {
  userId: string;
  apiKey: () => string;
  /** A signed user token for `userId`: used instead of the API key (socket and REST) when given. */
  userToken?: () => string;
  /** Users of the other panes (suggested members of a new room). */
  peers: () => string[];
  /** A room was created here: the other panes refresh their lists. */
  onRoomCreated: (roomId: string) => void;
  /** Member ids seen in this user's rooms (offered as more panes to open). */
  onUsersSeen: (userIds: string[]) => void;
  onClose: () => void;
}

const PAGE = 50;

type History = { messages: Message[]; has_more: boolean };

/** A chat pane for one user; `start()` connects, `close()` ends it. */
export class ChatPane {
  readonly el: HTMLElement;
  readonly userId: string;
  private readonly client: ChatClient;
  private readonly dir: RoomDirectory;
  private readonly view: MessageView;
  private readonly thread: ThreadDrawer;
  private readonly typing = new TypingBoard(() => this.renderTyping());
  private readonly ownTyping: OwnTyping;
  private selected: string | null = null;
  private selectGen = 0;
  private everConnected = false;
  private started = false;
  private closed = false;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly pendingAcks = new Map<string, number>();
  private roomsFrame: number | undefined;
  private readonly offs: (() => void)[] = [];
  // DOM
  private readonly stateEl = h("span", { class: "conn-state", role: "status" });
  private readonly selfDot = h("span", { class: "dot unknown" });
  private readonly reconnectBtn = h("button", { type: "button", class: "small", hidden: true }, "Reconnect");
  private readonly roomList = h("ul", { class: "room-list" });
  private readonly titleEl = h("h3", { class: "room-title" }, "No room selected");
  private readonly membersEl = h("div", { class: "room-members" });
  private readonly typingEl = h("div", { class: "typing-indicator", "aria-live": "polite" });
  private readonly input = h("textarea", { class: "composer-input", rows: 1, placeholder: "Select a room first", disabled: true, "aria-label": "Message", maxlength: 8192 });
  private readonly sendBtn = h("button", { type: "button", class: "primary composer-send", disabled: true }, "Send");
  private readonly attach = attachButton((file) => void this.sendFile(file));
  private readonly errorEl = h("div", { class: "pane-error", role: "alert", hidden: true });

  constructor(private readonly o: PaneOptions) {
    this.userId = o.userId;
    this.client = createChatClient({ url: "/ws", getToken: () => this.mintToken() });
    this.dir = new RoomDirectory({
      me: o.userId,
      rest: (method, path, body) => this.rest(method, path, body),
      onMembers: (roomId, acks) => {
        if (roomId === this.selected) this.view.setAcks(acks);
      },
      onUsersSeen: o.onUsersSeen,
      changed: () => {
        this.renderRooms();
        this.renderHeader();
      },
    });
    const conversation: ConversationActions = {
      me: o.userId,
      react: (m, r) => void this.client.react(m.room_id, m.message_id, r).then((x) => this.applyReactions(x.message_id, x.reactions), (err) => this.showError(`reaction failed: ${describeError(err)}`)),
      unreact: (m, r) => void this.client.unreact(m.room_id, m.message_id, r).catch((err) => this.showError(`reaction failed: ${describeError(err)}`)),
      openThread: (m) => void this.thread.open(m),
    };
    this.thread = new ThreadDrawer({
      ...conversation,
      load: async (root) => (await this.rest<History>("GET", `/rooms/${encodeURIComponent(root.room_id)}/messages/${encodeURIComponent(root.message_id)}/replies?limit=200`)).messages,
      reply: async (root, content) => {
        const members = this.dir.rooms.get(root.room_id)?.members ?? [];
        this.thread.upsert(await this.client.sendReply(root.room_id, root.message_id, content, { mentions: parseMentions(content, members, this.userId) }));
      },
      onError: (t) => this.showError(t),
    });
    this.view = new MessageView({
      conversation,
      me: o.userId,
      edit: async (m, content) => this.view.upsert(await this.client.editMessage(m.room_id, m.message_id, { content })),
      remove: (m) => this.client.deleteMessage(m.room_id, m.message_id),
      loadOlder: (beforeSeq) => this.history(this.selected!, `before_seq=${beforeSeq}&limit=${PAGE}`),
      onError: (t) => this.showError(t),
    });
    this.ownTyping = new OwnTyping({
      start: (roomId) => void this.client.typingStart(roomId).catch(() => {}),
      stop: (roomId) => {
        if (this.client.state === "open") this.client.typingStop(roomId).catch(() => {});
      },
    });
    this.el = this.build();
    this.wire();
    this.renderState({ state: "closed", previous: "closed" });
    this.renderRooms();
  }

  /** Connects (again, after a permanent failure); a no-op while connected. */
  start(): void {
    if (this.closed) return;
    this.started = true;
    this.client.connect().catch(() => {});
  }

  /** Closes the socket for good and stops every timer. */
  close(): void {
    this.closed = true;
    clearTimeout(this.refreshTimer);
    clearTimeout(this.ackTimer);
    this.ownTyping.stop();
    this.typing.dispose();
    for (const off of this.offs) off();
    this.client.close();
  }

  /** Reloads the room list soon (coalesces bursts of triggers). */
  scheduleRefresh(delayMs = 50): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      if (!this.closed) this.refreshRooms().catch((err) => this.showError(describeError(err)));
    }, delayMs);
  }

  /** Opens a room (also used right after creating one). */
  async selectRoom(roomId: string): Promise<void> {
    const gen = ++this.selectGen;
    this.ownTyping.stop();
    this.selected = roomId;
    if (this.thread.rootId !== null) this.thread.close();
    savePref(`room:${this.userId}`, roomId);
    this.view.reset("Loading…");
    this.input.disabled = this.sendBtn.disabled = this.attach.button.disabled = false;
    this.input.placeholder = "Write a message… (Enter to send)";
    this.renderTyping();
    this.renderRooms();
    this.renderHeader();
    try {
      const [page] = await Promise.all([this.history(roomId, `limit=${PAGE}`), this.dir.loadMembers(roomId)]);
      if (gen !== this.selectGen) return;
      this.view.setInitial(page.messages, page.has_more);
      const last = page.messages.at(-1)?.seq ?? 0;
      // The client syncs this room from here after every reconnect (and drops older duplicates).
      if (last > 0) this.client.seed(roomId, last);
      this.ackViewed();
    } catch (err) {
      if (gen === this.selectGen) this.view.reset(`Could not load this room: ${describeError(err)}`);
    }
  }

  // ---- plumbing -----------------------------------------------------------------------------------

  private build(): HTMLElement {
    const o = this.o;
    this.reconnectBtn.addEventListener("click", () => this.start());
    this.input.addEventListener("keydown", (e: KeyboardEvent) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        void this.send();
      }
    });
    this.input.addEventListener("input", () => {
      if (this.selected !== null) this.ownTyping.input(this.selected, this.input.value.trim() === "");
    });
    this.sendBtn.addEventListener("click", () => void this.send());
    const newRoom = h("button", { type: "button", class: "small new-room", onclick: () => this.openRoomForm() }, "+ New room");
    return h(
      "section",
      { class: "pane card", "data-user": o.userId, "aria-label": `Chat as ${o.userId}` },
      h(
        "header",
        { class: "pane-head" },
        this.selfDot,
        h("strong", { class: "pane-user", title: o.userId }, o.userId),
        this.stateEl,
        this.reconnectBtn,
        h("button", { type: "button", class: "icon close-pane", title: `Close ${o.userId}'s pane`, "aria-label": `Close ${o.userId}'s pane`, onclick: () => o.onClose() }, "×"),
      ),
      this.errorEl,
      h(
        "div",
        { class: "pane-body" },
        h("nav", { class: "rooms", "aria-label": `Rooms of ${o.userId}` }, h("div", { class: "rooms-head" }, h("span", null, "Rooms"), newRoom), this.roomList),
        h(
          "div",
          { class: "chat" },
          h("header", { class: "chat-head" }, this.titleEl, this.membersEl),
          this.view.el,
          this.typingEl,
          h("div", { class: "composer" }, this.attach.input, this.attach.button, this.input, this.sendBtn),
        ),
        this.thread.el,
      ),
    );
  }

  private wire(): void {
    const c = this.client;
    this.offs.push(
      c.on("state", (e) => this.renderState(e)),
      c.on("connected", () => this.onConnected()),
      c.on("message", (m) => this.onMessage(m)),
      c.on("message.edited", (m) => this.onChanged(m)),
      c.on("message.deleted", (m) => this.onChanged(m)),
      c.on("reaction.added", (f) => this.applyReactions(f.message_id, f.reactions)),
      c.on("reaction.removed", (f) => this.applyReactions(f.message_id, f.reactions)),
      c.on("thread.updated", (f) => {
        const counts = (m: Message): Message => ({ ...m, reply_count: f.reply_count, last_reply_at: f.last_reply_at });
        this.view.patch(f.message_id, counts);
        this.thread.patch(f.message_id, counts);
      }),
      c.on("ack.received", (f) => {
        if (f.user_id === this.userId) this.dir.markRead(f.room_id, f.seq);
        else if (f.room_id === this.selected) this.view.setAck(f.user_id, f.seq);
      }),
      c.on("typing", (f) => {
        if (f.user_id === this.userId) return;
        if (f.action === "start") this.typing.start(f.room_id, f.user_id);
        else this.typing.stop(f.room_id, f.user_id);
      }),
      c.on("presence.update", (f) => this.dir.setPresence(f.user_id, f.status)),
      c.on("room.updated", (r) => this.dir.rename(r.room_id, r.name)),
      c.on("member.joined", (f) => this.onMembership(f.room_id, f.user_id)),
      c.on("member.left", (f) => this.onMembership(f.room_id, f.user_id)),
      c.on("connect_error", ({ error }) => this.onConnectError(error)),
      c.on("sync_error", ({ room_id, error }) => this.showError(`could not catch up room ${room_id}: ${describeError(error)}`)),
    );
    const onVisible = () => {
      if (document.visibilityState === "visible") this.ackViewed();
    };
    document.addEventListener("visibilitychange", onVisible);
    this.offs.push(() => document.removeEventListener("visibilitychange", onVisible));
  }

  private async mintToken(): Promise<string> {
    // A JWT opens the socket itself (?token=<jwt>); no single-use token is minted.
    if (this.o.userToken) return this.o.userToken();
    const key = this.o.apiKey();
    if (!key) throw new HttpError(401, "unauthorized", "paste a tenant API key first", null);
    return (await api<{ token: string }>("POST", "/ws/token", userHeaders(key, this.userId))).token;
  }

  private rest<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers = this.o.userToken ? bearerHeaders(this.o.userToken()) : userHeaders(this.o.apiKey(), this.userId);
    return api<T>(method, path, headers, body);
  }

  private history(roomId: string, query: string): Promise<History> {
    return this.rest("GET", `/rooms/${encodeURIComponent(roomId)}/messages?${query}`);
  }

  private viewing(roomId: string): boolean {
    return this.selected === roomId && document.visibilityState === "visible";
  }

  // ---- events -------------------------------------------------------------------------------------

  private onConnected(): void {
    this.hideError();
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.refreshRooms()
      .then(async () => {
        if (this.selected === null) {
          const remembered = loadPref(`room:${this.userId}`);
          if (remembered && this.dir.rooms.has(remembered)) await this.selectRoom(remembered);
          return;
        }
        if (!reconnect) return;
        // The client catches up new messages itself; edits and deletes of shown ones and others'
        // acks are not replayed: refresh the latest page and the receipts.
        const roomId = this.selected;
        const gen = this.selectGen;
        const [page] = await Promise.all([this.history(roomId, `limit=${PAGE}`), this.dir.loadMembers(roomId)]);
        if (gen === this.selectGen) for (const m of page.messages) this.view.upsert(m);
      })
      .catch((err) => this.showError(describeError(err)));
  }

  private onConnectError(error: unknown): void {
    this.showError(`connect failed: ${describeError(error)}`);
    // A refused key or user will not get better by retrying: stop and offer "Reconnect". Deferred:
    // the client schedules its retry right after this event, and close() must come after that.
    if (error instanceof HttpError && error.status >= 400 && error.status < 500 && error.status !== 429) queueMicrotask(() => this.client.close());
  }

  private onMessage(m: Message): void {
    this.typing.stop(m.room_id, m.sender_id);
    if (!this.dir.noteMessage(m, !this.viewing(m.room_id))) this.scheduleRefresh();
    this.thread.upsert(m);
    if (this.selected !== m.room_id) return;
    this.view.upsert(m);
    // Sending moves the sender's last_ack to the message (docs/reference/rest.md "Acks") without an ack.received.
    this.view.setAck(m.sender_id, m.seq);
    if (m.sender_id !== this.userId) this.ackViewed(m.seq);
  }

  private onChanged(m: Message): void {
    if (this.dir.noteChange(m)) this.scheduleRefresh(200);
    if (this.selected === m.room_id) this.view.upsert(m);
    this.thread.upsert(m);
  }

  private applyReactions(messageId: string, reactions: Message["reactions"]): void {
    this.view.patch(messageId, (m) => ({ ...m, reactions }));
    this.thread.patch(messageId, (m) => ({ ...m, reactions }));
  }

  private onMembership(roomId: string, userId: string): void {
    if (userId === this.userId) return this.scheduleRefresh();
    this.dir.invalidateMembers(roomId);
    if (this.selected === roomId) this.dir.loadMembers(roomId).catch(() => {});
  }

  private async refreshRooms(): Promise<void> {
    await this.dir.refresh();
    if (this.selected !== null && !this.dir.rooms.has(this.selected)) {
      this.selected = null;
      this.view.reset("You are no longer a member of that room.");
      this.input.disabled = this.sendBtn.disabled = this.attach.button.disabled = true;
      this.renderHeader();
    }
    if (this.selected !== null) this.ackViewed();
  }

  // ---- actions ------------------------------------------------------------------------------------

  // Marks the open room read up to `seq` (default: the newest shown), coalescing bursts per room.
  private ackViewed(seq = this.view.maxSeq): void {
    const roomId = this.selected;
    if (roomId === null || seq < 1 || !this.viewing(roomId)) return;
    this.dir.markRead(roomId);
    this.pendingAcks.set(roomId, Math.max(this.pendingAcks.get(roomId) ?? 0, seq));
    clearTimeout(this.ackTimer);
    this.ackTimer = setTimeout(() => {
      const acks = [...this.pendingAcks];
      this.pendingAcks.clear();
      if (this.client.state === "closed") return;
      for (const [room, upTo] of acks) {
        this.client.ack(room, upTo).then(
          (r) => {
            if (!this.viewing(room)) this.dir.setUnread(room, r.unread_count);
          },
          (err) => this.showError(`ack failed: ${describeError(err)}`),
        );
      }
    }, 120);
  }

  private async send(): Promise<void> {
    const roomId = this.selected;
    const content = this.input.value;
    if (roomId === null || content.trim() === "") return;
    this.input.value = "";
    this.ownTyping.stop();
    try {
      const mentions = parseMentions(content, this.dir.rooms.get(roomId)?.members ?? [], this.userId);
      const m = await this.client.sendMessage(roomId, content, mentions.length ? { mentions } : {});
      if (this.selected === roomId) this.view.upsert(m);
      this.hideError();
    } catch (err) {
      if (this.input.value === "") this.input.value = content;
      this.showError(`send failed: ${describeError(err)}`);
    }
  }

  /** Uploads `file` to the selected room and sends it, with the composer's text as its content. */
  private async sendFile(file: File): Promise<void> {
    const roomId = this.selected;
    if (roomId === null) return;
    const content = this.input.value;
    try {
      const a = await this.rest<{ attachment_id: string }>("POST", `/rooms/${encodeURIComponent(roomId)}/attachments`, uploadBody(file));
      this.input.value = "";
      const m = await this.client.sendMessage(roomId, content, { attachments: [a.attachment_id] });
      if (this.selected === roomId) this.view.upsert(m);
      this.hideError();
    } catch (err) {
      this.showError(`upload failed: ${describeError(err)}`);
    }
  }

  private openRoomForm(): void {
    const overlay = roomForm({
      me: this.userId,
      peers: this.o.peers(),
      create: async (body) => {
        const room = await this.rest<{ room_id: string }>("POST", "/rooms", body);
        await this.refreshRooms();
        this.o.onRoomCreated(room.room_id);
        await this.selectRoom(room.room_id);
      },
      close: () => overlay.remove(),
    });
    this.el.append(overlay);
    overlay.querySelector<HTMLInputElement>(".room-form-members")?.focus();
  }

  // ---- rendering ----------------------------------------------------------------------------------

  private renderState(e: ClientStateEvent): void {
    const labels: Record<string, string> = {
      open: "connected",
      connecting: "connecting…",
      reconnecting: e.attempt ? `reconnecting (attempt ${e.attempt})…` : "reconnecting…",
      closed: this.everConnected || this.closed ? "disconnected" : "not connected",
    };
    this.stateEl.textContent = labels[e.state] ?? e.state;
    this.stateEl.className = `conn-state state-${e.state}`;
    this.el.dataset.state = e.state;
    this.selfDot.className = `dot ${e.state === "open" ? "online" : e.state === "closed" ? "offline" : "pending"}`;
    this.selfDot.title = this.stateEl.textContent;
    this.reconnectBtn.hidden = e.state !== "closed" || this.closed || !this.started;
    this.renderHeader();
  }

  // Coalesced to one render per frame: a busy tenant can deliver hundreds of frames a second.
  private renderRooms(): void {
    if (this.roomsFrame !== undefined) return;
    const run = () => {
      this.roomsFrame = undefined;
      renderRoomList(this.roomList, sortRooms(this.dir.rooms.values()), {
        me: this.userId,
        selected: this.selected,
        reading: this.selected !== null && this.viewing(this.selected) ? this.selected : null,
        presence: (u) => this.dir.presence.get(u),
        typing: (roomId) => this.typing.users(roomId),
        onSelect: (roomId) => void this.selectRoom(roomId),
      });
    };
    this.roomsFrame = document.visibilityState === "visible" ? requestAnimationFrame(run) : (setTimeout(run, 100) as unknown as number);
  }

  private renderHeader(): void {
    const e = this.selected ? this.dir.rooms.get(this.selected) : undefined;
    if (!e) {
      this.titleEl.textContent = this.selected ? "Loading…" : "No room selected";
      this.membersEl.replaceChildren();
      return;
    }
    setChildren(this.titleEl, roomTitle(e, this.userId), h("span", { class: "chip" }, e.type));
    setChildren(
      this.membersEl,
      (e.members ?? []).map((u) => {
        const status = u === this.userId ? (this.client.state === "open" ? "online" : "offline") : this.dir.presence.get(u);
        return h("span", { class: "member", "data-member": u, "data-status": status ?? "unknown" }, h("span", { class: `dot ${status ?? "unknown"}`, title: status ?? "unknown" }), u === this.userId ? `${u} (you)` : u);
      }),
    );
  }

  private renderTyping(): void {
    const users = this.typing.users(this.selected);
    this.typingEl.textContent = users.length === 0 ? "" : users.length === 1 ? `${users[0]} is typing…` : `${users.join(", ")} are typing…`;
    this.renderRooms();
  }

  private showError(text: string): void {
    this.errorEl.textContent = text;
    this.errorEl.hidden = false;
  }

  private hideError(): void {
    this.errorEl.hidden = true;
    this.errorEl.textContent = "";
  }
}
