/// <reference lib="dom" />
// "New room" form of a pane: a group with the other panes' users, or a DM with one of them.
import { h, isValidUserId, parseIdList } from "./dom.ts";
import { describeError } from "./http.ts";

export interface RoomFormOptions {
  me: string;
  peers: string[];
  create(body: { type: "group" | "dm"; name?: string; members: string[] }): Promise<void>;
  close(): void;
}

/** Builds the form (an overlay card inside the pane). */
export function roomForm(o: RoomFormOptions): HTMLElement {
  const others = o.peers.filter((p) => p !== o.me);
  let kind: "group" | "dm" = "group";
  const error = h("p", { class: "form-error", role: "alert" });
  const name = h("input", { type: "text", class: "room-form-name", value: others.length ? `${[o.me, ...others].join(", ")}` : "", maxlength: 200, placeholder: "Team chat", "aria-label": "Room name" });
  const members = h("input", { type: "text", class: "room-form-members", value: others.join(", "), placeholder: "bob, carol", "aria-label": "Members", spellcheck: "false", autocomplete: "off" });
  const nameRow = h("label", { class: "field" }, h("span", null, "Name"), name);
  const membersLabel = h("span", null, "Members (comma-separated)");
  const submit = h("button", { type: "button", class: "primary room-form-create" }, "Create");
  const setKind = (k: "group" | "dm") => {
    kind = k;
    nameRow.hidden = k === "dm";
    membersLabel.textContent = k === "dm" ? "With (one user)" : "Members (comma-separated)";
    if (k === "dm") members.value = parseIdList(members.value)[0] ?? others[0] ?? "";
    else if (!members.value.includes(",") && others.length > 1) members.value = others.join(", ");
    for (const b of seg.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.kind === k));
  };
  const seg = h(
    "div",
    { class: "segmented", role: "group", "aria-label": "Room type" },
    h("button", { type: "button", "data-kind": "group", "aria-pressed": "true", onclick: () => setKind("group") }, "Group"),
    h("button", { type: "button", "data-kind": "dm", "aria-pressed": "false", onclick: () => setKind("dm") }, "Direct message"),
  );
  const run = async () => {
    error.textContent = "";
    const ids = parseIdList(members.value).filter((id) => id !== o.me);
    const bad = ids.find((id) => !isValidUserId(id));
    if (bad !== undefined) return void (error.textContent = `invalid user id: ${JSON.stringify(bad)}`);
    if (ids.length === 0) return void (error.textContent = "name at least one other user");
    if (kind === "dm" && ids.length !== 1) return void (error.textContent = "a direct message is between you and exactly one other user");
    submit.disabled = true;
    try {
      const nm = name.value.trim();
      await o.create(kind === "dm" ? { type: "dm", members: ids } : { type: "group", members: ids, ...(nm ? { name: nm } : {}) });
      o.close();
    } catch (err) {
      error.textContent = describeError(err);
    } finally {
      submit.disabled = false;
    }
  };
  submit.addEventListener("click", () => void run());
  const form = h(
    "div",
    { class: "overlay-card room-form", role: "dialog", "aria-label": "New room" },
    h("h3", null, "New room"),
    seg,
    nameRow,
    h("label", { class: "field" }, membersLabel, members),
    error,
    h("div", { class: "form-actions" }, h("button", { type: "button", onclick: o.close }, "Cancel"), submit),
  );
  form.addEventListener("keydown", (e: KeyboardEvent) => {
    if (e.key === "Escape") o.close();
    if (e.key === "Enter" && (e.target as HTMLElement).tagName === "INPUT") void run();
  });
  return h("div", { class: "pane-overlay" }, form);
}
