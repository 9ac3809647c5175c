// Keyboard shortcuts. Pages register the keys they handle; single-letter keys are ignored
// while the focus is in a text field, so typing never triggers an action.

import { h } from "../lib/dom.js";
import { openDialog } from "./dialog.js";

const LIST = [
  ["/", "Search conversations"],
  ["j", "Next conversation"],
  ["k", "Previous conversation"],
  ["r", "Reply (focus the composer)"],
  ["e", "Close the conversation"],
  ["a", "Assign the conversation"],
  ["Ctrl + Enter", "Send the message"],
  ["Esc", "Leave a field or close a dialog"],
  ["?", "Show this list"],
];

let handlers = {};

/** keys: {"j": fn, …}; returns the function that removes them. */
export function registerShortcuts(keys) {
  handlers = { ...handlers, ...keys };
  return () => { for (const key of Object.keys(keys)) if (handlers[key] === keys[key]) delete handlers[key]; };
}

export function showShortcuts() {
  if (document.querySelector("dialog[open]")) return;
  openDialog("Keyboard shortcuts", () => h("div", { class: "dialog-body" },
    h("dl", { class: "shortcut-list" }, LIST.map(([key, what]) => [h("dt", null, h("kbd", null, key)), h("dd", null, what)]))));
}

function typingInField(target) {
  return target.closest?.("input, textarea, select, [contenteditable='true']");
}

export function installShortcuts() {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey || event.metaKey) return;
    if (event.key === "Escape" && typingInField(event.target) && !event.target.closest("dialog")) {
      event.preventDefault(); // a search field would clear itself, leaving the list filtered by a text no longer shown
      event.target.blur();
      return;
    }
    if (event.ctrlKey || typingInField(event.target) || document.querySelector("dialog[open]")) return;
    if (event.key === "?") { event.preventDefault(); showShortcuts(); return; }
    if (event.key === "/") {
      const search = document.querySelector("[data-shortcut='search']");
      if (search) { event.preventDefault(); search.focus(); search.select?.(); }
      return;
    }
    const handler = handlers[event.key];
    if (handler) { event.preventDefault(); handler(); }
  });
}
