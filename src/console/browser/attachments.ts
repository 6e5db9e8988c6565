/// <reference lib="dom" />
// Attachments in the console: images shown inline (their signed url, same origin), other files as
// download links; and the upload of one file from the composer.
import type { Attachment, Message } from "@chatapi/client";
import { h } from "./dom.ts";

// The types the server serves inline (docs/reference/rest.md "Attachments"); everything else is a download.
const INLINE_IMAGE = /^image\/(png|jpeg|gif|webp)$/;

function size(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function one(a: Attachment): HTMLElement {
  if (INLINE_IMAGE.test(a.content_type)) {
    return h(
      "a",
      { class: "msg-attachment image", href: a.url, target: "_blank", rel: "noopener noreferrer", "data-attachment": a.attachment_id },
      h("img", { src: a.url, alt: a.filename, loading: "lazy", class: "msg-image" }),
    );
  }
  return h("a", { class: "msg-attachment file", href: a.url, download: a.filename, rel: "noopener noreferrer", "data-attachment": a.attachment_id }, a.filename, h("span", { class: "muted" }, ` (${size(a.size)})`));
}

/** The attachments of a message, or null when it has none. */
export function attachmentList(m: Message): HTMLElement | null {
  const list = m.attachments ?? [];
  return list.length ? h("div", { class: "msg-attachments" }, list.map(one)) : null;
}

/** A hidden file input and the button that opens it; `pick` gets the chosen file. */
export function attachButton(pick: (file: File) => void): { button: HTMLButtonElement; input: HTMLInputElement } {
  const input = h("input", { type: "file", class: "composer-file", hidden: true, "aria-label": "Attach a file" });
  const button = h("button", { type: "button", class: "composer-attach", title: "Attach a file", disabled: true }, "Attach");
  button.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    const file = input.files?.[0];
    input.value = "";
    if (file) pick(file);
  });
  return { button, input };
}

/** The multipart body of an upload. */
export function uploadBody(file: File): FormData {
  const form = new FormData();
  form.append("file", file, file.name);
  return form;
}
