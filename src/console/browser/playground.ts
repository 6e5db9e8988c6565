/// <reference lib="dom" />
// The playground view: the tenant key (memory only), the users, and one live chat pane per user.
import { h, isValidUserId, parseIdList, setChildren } from "./dom.ts";
import { jwtSubject } from "./http.ts";
import { ChatPane } from "./pane.ts";
import { loadPref, savePref, secrets } from "./state.ts";

const DEFAULT_USERS = "alice, bob";

/** Builds the playground; its panes live as long as the page. */
export function playgroundView(): HTMLElement {
  const panes = new Map<string, ChatPane>();
  const key = h("input", { type: "password", class: "tenant-key", autocomplete: "off", spellcheck: "false", placeholder: "Tenant API key", "aria-label": "Tenant API key" });
  // Sign in with the tenant key (any user, one pane each) or with one user's signed token (JWT).
  const mode = h("select", { class: "auth-mode", "aria-label": "Sign in with" }, h("option", { value: "key" }, "Tenant API key"), h("option", { value: "jwt" }, "User token (JWT)"));
  const jwt = h("input", { type: "password", class: "user-jwt", autocomplete: "off", spellcheck: "false", placeholder: "Signed user token (JWT)", "aria-label": "User token (JWT)" });
  const keyField = h("label", { class: "field grow" }, h("span", null, "Tenant API key"), key);
  const jwtField = h("label", { class: "field grow", hidden: true }, h("span", null, "User token (JWT)"), jwt);
  const users = h("input", { type: "text", class: "user-ids", value: loadPref("users") ?? DEFAULT_USERS, spellcheck: "false", autocomplete: "off", "aria-label": "User IDs (comma-separated)" });
  const usersField = h("label", { class: "field grow2" }, h("span", null, "User IDs (comma-separated)"), users);
  const open = h("button", { type: "button", class: "primary open-panes" }, "Open panes");
  const message = h("p", { class: "setup-message muted", role: "status" });
  const grid = h("div", { class: "panes" });
  // Users met in the open panes' rooms, offered as one-click panes.
  const seen = new Set<string>();
  const suggestions = h("div", { class: "suggestions", hidden: true });
  const empty = h(
    "div",
    { class: "card empty-state" },
    h("h2", null, "Chat playground"),
    h("p", null, "Paste a tenant API key, list a few user IDs and open one live chat pane per user, side by side."),
    h(
      "ol",
      null,
      h("li", null, "No tenant yet? Create one under Operations with the master key; its key can be used here at once."),
      h("li", null, "Each pane mints its own single-use token (POST /ws/token) and connects to /ws like a browser app would."),
      h("li", null, "Create a group or a DM with “+ New room”, then chat between the panes."),
    ),
  );

  key.addEventListener("input", () => secrets.set("tenant", key.value));
  jwt.addEventListener("input", () => secrets.set("jwt", jwt.value));
  const usingJwt = () => mode.value === "jwt";
  mode.addEventListener("change", () => {
    keyField.hidden = usingJwt();
    jwtField.hidden = !usingJwt();
    usersField.hidden = usingJwt();
    for (const u of [...panes.keys()]) closePane(u);
  });
  secrets.onChange(() => {
    if (key.value.trim() !== secrets.tenantKey) key.value = secrets.tenantKey;
  });

  const render = () => {
    empty.hidden = panes.size > 0;
    grid.hidden = panes.size === 0;
    grid.dataset.count = String(panes.size);
    const more = [...seen].filter((u) => !panes.has(u)).sort().slice(0, 12);
    suggestions.hidden = more.length === 0 || panes.size === 0;
    setChildren(
      suggestions,
      h("span", { class: "muted" }, "Also in these rooms:"),
      more.map((u) => h("button", { type: "button", class: "small suggestion", "data-user": u, title: `Open a pane as ${u}`, onclick: () => (addPane(u), syncUsersField(), render()) }, `+ ${u}`)),
    );
  };
  const syncUsersField = () => {
    users.value = [...panes.keys()].join(", ");
    savePref("users", users.value);
  };
  const closePane = (userId: string) => {
    panes.get(userId)?.close();
    panes.get(userId)?.el.remove();
    panes.delete(userId);
    syncUsersField();
    render();
  };
  const addPane = (userId: string) => {
    if (panes.has(userId)) return;
    const pane = new ChatPane({
      userId,
      apiKey: () => secrets.tenantKey,
      ...(usingJwt() ? { userToken: () => secrets.userToken } : {}),
      peers: () => [...panes.keys()].filter((u) => u !== userId),
      onRoomCreated: () => {
        for (const [u, p] of panes) if (u !== userId) p.scheduleRefresh();
      },
      onUsersSeen: (ids) => {
        const before = seen.size;
        for (const id of ids) seen.add(id);
        if (seen.size !== before) render();
      },
      onClose: () => closePane(userId),
    });
    panes.set(userId, pane);
    grid.append(pane.el);
    pane.start();
  };
  const openAll = () => {
    message.textContent = "";
    if (usingJwt()) {
      const sub = jwtSubject(secrets.userToken);
      if (sub === null || !isValidUserId(sub)) return void (message.textContent = "Paste a signed user token (JWT) whose sub is a user id.", jwt.focus());
      for (const u of [...panes.keys()]) if (u !== sub) closePane(u);
      panes.has(sub) ? panes.get(sub)!.start() : addPane(sub);
      return render();
    }
    if (!secrets.tenantKey) {
      message.textContent = "Paste a tenant API key first.";
      key.focus();
      return;
    }
    const ids = parseIdList(users.value);
    const bad = ids.find((id) => !isValidUserId(id));
    if (bad !== undefined) return void (message.textContent = `Invalid user id ${JSON.stringify(bad)} (1..128 characters, no control characters).`);
    if (ids.length === 0) return void (message.textContent = "List at least one user id.");
    if (ids.length > 6) return void (message.textContent = "At most 6 panes at once.");
    for (const u of [...panes.keys()]) if (!ids.includes(u)) closePane(u);
    // Existing panes stopped by a refused key connect again (start() is a no-op on live ones).
    for (const u of ids) panes.has(u) ? panes.get(u)!.start() : addPane(u);
    syncUsersField();
    render();
  };
  open.addEventListener("click", openAll);
  for (const input of [key, jwt, users]) input.addEventListener("keydown", (e: KeyboardEvent) => e.key === "Enter" && openAll());
  render();

  return h(
    "section",
    { class: "view playground", "data-view": "playground" },
    h(
      "div",
      { class: "card setup" },
      h("label", { class: "field" }, h("span", null, "Sign in with"), mode),
      keyField,
      jwtField,
      usersField,
      open,
      h("p", { class: "hint muted" }, "The key or token stays in this page's memory: it is sent only to this server (headers, or the socket URL for a token), never stored, and forgotten on reload."),
      message,
      suggestions,
    ),
    empty,
    grid,
  );
}
