// The composer's file: picked, uploaded at once (POST /api/v1/attachments), shown as a chip,
// and checked against what the channel takes before anything is sent.

import { h, mount } from "../lib/dom.js";
import { request } from "../lib/api.js";
import { fileSize, icon, PAPERCLIP } from "./attachments.js";

const withArticle = (kind) => (kind === "image" || kind === "audio" ? "an " : "a ") + kind;

function kindOf(type) {
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("audio/")) return "audio";
  if (type.startsWith("video/")) return "video";
  return "document";
}

export function attachControl({ onChange }) {
  let uploaded = null;
  let uploading = false;
  const input = h("input", { type: "file", class: "sr-only", tabindex: "-1", "aria-hidden": "true", onchange: () => pick(input.files?.[0]) });
  const button = h("button", { type: "button", class: "btn btn-ghost composer-attach", title: "Attach a file", onclick: () => input.click() }, icon(PAPERCLIP), "Attach");
  const chip = h("div", { class: "composer-file", hidden: true });

  async function pick(file) {
    input.value = "";
    if (!file) return;
    uploading = true;
    uploaded = null;
    mount(chip, h("span", null, `Uploading ${file.name}…`));
    chip.hidden = false;
    onChange(null);
    const result = await request("POST", `/api/v1/attachments?fileName=${encodeURIComponent(file.name)}`, file,
      { contentType: file.type || "application/octet-stream" });
    uploading = false;
    if (!result.ok) {
      clear();
      onChange(result.error.message);
      return;
    }
    uploaded = result.data;
    mount(chip, h("span", { class: "composer-file-name" }, `${uploaded.fileName} · ${fileSize(uploaded.size)}`),
      h("button", { type: "button", class: "btn-icon", "aria-label": "Remove the file", onclick: () => { clear(); onChange(null); } }, "×"));
    onChange(null);
  }

  function clear() {
    uploaded = null;
    chip.hidden = true;
    mount(chip);
  }

  return {
    button, chip, input,
    get file() { return uploaded; },
    get busy() { return uploading; },
    clear,
    setEnabled(enabled) { button.disabled = !enabled; },
    /** Why the file cannot go out on this channel now, or null. */
    problem(state, text) {
      if (!uploaded) return null;
      const kind = uploaded.kind === "sticker" ? "image" : uploaded.kind ?? kindOf(uploaded.contentType ?? "");
      const rule = (state.attachments ?? []).find((r) => r.kind === kind);
      if (!rule) {
        const takes = (state.attachments ?? []).map((r) => r.kind).join(", ");
        return `This channel cannot send ${withArticle(kind)}${takes ? ` (it takes: ${takes})` : " file"}.`;
      }
      if (uploaded.size > rule.maxBytes) return `This channel takes ${withArticle(kind)} of at most ${fileSize(rule.maxBytes)}.`;
      if (!rule.caption && text.trim()) return `This channel sends ${withArticle(kind)} without text: send the text as its own message.`;
      return null;
    },
  };
}
