/// <reference lib="dom" />
// Key-protected operations panels: tenants (list + create, master key) and dead letters (list +
// retry, tenant key). Each refresh re-renders only when the data changed, so buttons stay put.
import { h, setChildren, shortTime } from "./dom.ts";
import { api, describeError } from "./http.ts";
import { secrets } from "./state.ts";

// Shares the key with the playground and switches to it (app.ts routes on the hash).
function useInPlayground(apiKey: string): void {
  secrets.set("tenant", apiKey);
  location.hash = "#/playground";
}

interface Tenant {
  tenant_id: string;
  name: string;
  config: { rate_limit: number; rate_limit_burst: number; user_message_rate: number; webhook_url: string | null };
  created_at: string;
}

interface DeadLetter {
  id: string;
  kind: string;
  target_url: string | null;
  attempts: number;
  last_error: string | null;
  payload: Record<string, unknown>;
  created_at: string;
  last_attempt_at: string | null;
}

/** A panel that reloads on demand; overlapping refreshes collapse into one. */
function poller(load: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const run = async () => {
    if (running) return void (again = true);
    running = true;
    try {
      await load();
    } finally {
      running = false;
      if (again) {
        again = false;
        void run();
      }
    }
  };
  return () => void run();
}

/** Tenants: list and create (master key). */
export function tenantsPanel(): { el: HTMLElement; refresh(): void } {
  const body = h("div", { class: "table-wrap" });
  const status = h("p", { class: "muted panel-status", role: "status" });
  const created = h("div", { class: "created-key", hidden: true });
  const name = h("input", { type: "text", class: "new-tenant-name", placeholder: "Tenant name", maxlength: 200, "aria-label": "Tenant name" });
  const webhook = h("input", { type: "url", class: "new-tenant-webhook", placeholder: "Webhook URL (optional)", "aria-label": "Webhook URL", spellcheck: "false" });
  const createBtn = h("button", { type: "button", class: "primary create-tenant" }, "Create tenant");
  let last = "";

  const refresh = poller(async () => {
    if (!secrets.masterKey) {
      last = "";
      body.replaceChildren();
      status.textContent = "Enter the master key to list and create tenants.";
      return;
    }
    try {
      const r = await api<{ tenants: Tenant[] }>("GET", "/admin/tenants", { "X-Master-Key": secrets.masterKey });
      status.textContent = `${r.tenants.length} tenant${r.tenants.length === 1 ? "" : "s"}`;
      const json = JSON.stringify(r.tenants);
      if (json === last) return;
      last = json;
      setChildren(
        body,
        h(
          "table",
          { class: "data tenants-table" },
          h("thead", null, h("tr", null, h("th", null, "Name"), h("th", null, "Tenant ID"), h("th", null, "Rate"), h("th", null, "Webhook"), h("th", null, "Created"))),
          h(
            "tbody",
            null,
            [...r.tenants].reverse().map((t) =>
              h(
                "tr",
                { "data-tenant-id": t.tenant_id },
                h("td", null, t.name),
                h("td", { class: "mono" }, t.tenant_id),
                h("td", null, `${t.config.rate_limit}/s`),
                h("td", { class: "mono ellipsis", title: t.config.webhook_url ?? "" }, t.config.webhook_url ?? "—"),
                h("td", null, shortTime(t.created_at)),
              ),
            ),
          ),
        ),
      );
    } catch (err) {
      last = "";
      body.replaceChildren();
      status.textContent = describeError(err);
    }
  });

  const create = async () => {
    const n = name.value.trim();
    if (!secrets.masterKey) return void (status.textContent = "Enter the master key first.");
    if (!n) return void (status.textContent = "Give the tenant a name.");
    createBtn.disabled = true;
    try {
      const config = webhook.value.trim() ? { webhook_url: webhook.value.trim() } : undefined;
      const t = await api<Tenant & { api_key: string }>("POST", "/admin/tenants", { "X-Master-Key": secrets.masterKey }, config ? { name: n, config } : { name: n });
      name.value = "";
      webhook.value = "";
      const key = h("code", { class: "api-key mono" }, t.api_key);
      const copy = h("button", { type: "button", class: "small" }, "Copy");
      copy.addEventListener("click", () => {
        navigator.clipboard?.writeText(t.api_key).then(
          () => (copy.textContent = "Copied"),
          () => (copy.textContent = "Copy failed: select the key"),
        );
      });
      const use = h("button", { type: "button", class: "small primary use-key", onclick: () => useInPlayground(t.api_key) }, "Use in playground");
      setChildren(created, h("p", null, h("strong", null, `Tenant “${t.name}” created.`), " Its API key is shown only now:"), h("div", { class: "key-row" }, key, copy, use));
      created.hidden = false;
      refresh();
    } catch (err) {
      status.textContent = describeError(err);
    } finally {
      createBtn.disabled = false;
    }
  };
  createBtn.addEventListener("click", () => void create());
  name.addEventListener("keydown", (e: KeyboardEvent) => e.key === "Enter" && void create());

  const el = h(
    "div",
    { class: "card tenants-card" },
    h("div", { class: "card-head" }, h("h2", null, "Tenants"), h("span", { class: "chip" }, "master key")),
    h("div", { class: "inline-form" }, name, webhook, createBtn),
    created,
    status,
    body,
  );
  return { el, refresh };
}

/** Dead letters of the tenant whose key is set, with a retry button each (tenant key). */
export function deadLettersPanel(): { el: HTMLElement; refresh(): void } {
  const body = h("div", { class: "table-wrap" });
  const status = h("p", { class: "muted panel-status", role: "status" });
  let last = "";

  const retry = async (id: string, btn: HTMLButtonElement) => {
    btn.disabled = true;
    btn.textContent = "Retrying…";
    try {
      await api("POST", `/admin/dead-letters/${encodeURIComponent(id)}/retry`, { "X-API-Key": secrets.tenantKey });
      btn.textContent = "Queued";
      refresh();
    } catch (err) {
      btn.disabled = false;
      btn.textContent = "Retry";
      status.textContent = `retry failed: ${describeError(err)}`;
    }
  };

  const refresh = poller(async () => {
    if (!secrets.tenantKey) {
      last = "";
      body.replaceChildren();
      status.textContent = "Enter a tenant API key to see its dead letters.";
      return;
    }
    try {
      const r = await api<{ dead_letters: DeadLetter[] }>("GET", "/admin/dead-letters?limit=100", { "X-API-Key": secrets.tenantKey });
      status.textContent = r.dead_letters.length === 0 ? "No dead letters: every webhook delivery succeeded or is still being retried." : `${r.dead_letters.length} dead letter${r.dead_letters.length === 1 ? "" : "s"}`;
      const json = JSON.stringify(r.dead_letters);
      if (json === last) return;
      last = json;
      if (r.dead_letters.length === 0) return void body.replaceChildren();
      setChildren(
        body,
        h(
          "table",
          { class: "data dead-letters-table" },
          h("thead", null, h("tr", null, h("th", null, "Event"), h("th", null, "Recipient"), h("th", null, "Attempts"), h("th", null, "Last error"), h("th", null, "Last attempt"), h("th", null, ""))),
          h(
            "tbody",
            null,
            r.dead_letters.map((d) => {
              const btn = h("button", { type: "button", class: "small primary retry" }, "Retry");
              btn.addEventListener("click", () => void retry(d.id, btn));
              const recipient = typeof d.payload.recipient_id === "string" ? d.payload.recipient_id : "—";
              return h(
                "tr",
                { "data-dead-letter-id": d.id },
                h("td", null, h("span", { class: "chip" }, d.kind), h("details", null, h("summary", null, "payload"), h("pre", { class: "mono" }, JSON.stringify(d.payload, null, 2)))),
                h("td", null, recipient),
                h("td", null, String(d.attempts)),
                h("td", { class: "ellipsis", title: `${d.last_error ?? ""}${d.target_url ? ` (${d.target_url})` : ""}` }, d.last_error ?? "—"),
                h("td", null, shortTime(d.last_attempt_at ?? d.created_at)),
                h("td", { class: "actions" }, btn),
              );
            }),
          ),
        ),
      );
    } catch (err) {
      last = "";
      body.replaceChildren();
      status.textContent = describeError(err);
    }
  });

  const el = h(
    "div",
    { class: "card dead-letters-card" },
    h("div", { class: "card-head" }, h("h2", null, "Dead letters"), h("span", { class: "chip" }, "tenant key"), h("button", { type: "button", class: "small refresh-dead-letters", onclick: () => refresh() }, "Refresh")),
    status,
    body,
  );
  return { el, refresh };
}
