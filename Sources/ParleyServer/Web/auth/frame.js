// The centred card shared by the sign-in and setup pages.

import { h } from "../lib/dom.js";

export function authFrame(title, subtitle, ...content) {
  return h("div", { class: "auth" },
    h("main", { class: "auth-card" },
      h("div", { class: "auth-brand" }, h("span", { class: "brand-mark", "aria-hidden": "true" }, "P"), "Parley"),
      h("h1", null, title),
      subtitle ? h("p", { class: "auth-sub" }, subtitle) : null,
      ...content));
}

/** An alert box that is empty (and hidden) until it has something to say. */
export function errorBox() {
  const el = h("div", { class: "alert alert-error", role: "alert", hidden: true });
  return {
    el,
    show(message) {
      el.hidden = !message;
      el.textContent = message ?? "";
    },
  };
}
