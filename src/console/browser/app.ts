/// <reference lib="dom" />
// Browser entry of the console (bundled by bundle.ts): header, two views, hash routing.
import { h } from "./dom.ts";
import { operationsView } from "./operations.ts";
import { playgroundView } from "./playground.ts";

type ViewName = "playground" | "operations";

function main(): void {
  const root = document.getElementById("app");
  if (!root) return;
  const playground = playgroundView();
  const ops = operationsView();
  const tabs: Record<ViewName, HTMLAnchorElement> = {
    playground: h("a", { href: "#/playground", class: "tab", "data-tab": "playground" }, "Playground"),
    operations: h("a", { href: "#/operations", class: "tab", "data-tab": "operations" }, "Operations"),
  };
  root.append(
    h(
      "header",
      { class: "topbar" },
      h("div", { class: "brand" }, h("span", { class: "logo", "aria-hidden": "true" }), h("span", null, "ChatAPI"), h("span", { class: "brand-sub" }, "console")),
      h("nav", { class: "tabs", "aria-label": "Views" }, tabs.playground, tabs.operations),
      h("a", { class: "docs-link", href: "/docs", target: "_blank", rel: "noopener noreferrer" }, "API docs"),
    ),
    h("main", { class: "main" }, playground, ops.el),
  );

  const show = () => {
    const name: ViewName = location.hash.startsWith("#/operations") ? "operations" : "playground";
    playground.hidden = name !== "playground";
    ops.el.hidden = name !== "operations";
    for (const [n, a] of Object.entries(tabs)) a.setAttribute("aria-current", n === name ? "page" : "false");
    document.body.dataset.view = name;
    ops.setActive(name === "operations");
  };
  window.addEventListener("hashchange", show);
  show();
}

main();
