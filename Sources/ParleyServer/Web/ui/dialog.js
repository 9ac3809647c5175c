// Modal dialogs on the native <dialog> element: it traps focus, closes on Escape and
// returns focus to the opener, so no ARIA is needed.

import { h } from "../lib/dom.js";

/** Opens a dialog; `body(close)` builds its content. Resolves with close()'s value. */
export function openDialog(title, body, { wide = false } = {}) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    let result;
    const close = (value) => { result = value; dialog.close(); };
    const dialog = h("dialog", { class: ["dialog", wide && "dialog-wide"], "aria-labelledby": "dialog-title" },
      h("header", { class: "dialog-head" },
        h("h2", { id: "dialog-title" }, title),
        h("button", { type: "button", class: "btn-icon", "aria-label": "Close dialog", onclick: () => close(undefined) }, "×")),
      body(close));
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    const first = dialog.querySelector("[autofocus], .dialog-body input, .dialog-body select, .dialog-body textarea, .dialog-body button");
    if (first) first.focus();
  });
}

/** A yes/no question. */
export function confirmDialog(title, message, confirmLabel = "Confirm", tone = "danger") {
  return openDialog(title, (close) => h("div", { class: "dialog-body" },
    h("p", null, message),
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", class: "btn", onclick: () => close(false) }, "Cancel"),
      h("button", { type: "button", class: `btn btn-${tone}`, autofocus: true, onclick: () => close(true) }, confirmLabel))));
}
