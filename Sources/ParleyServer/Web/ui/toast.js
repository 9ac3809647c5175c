// Short status messages in a polite live region, so screen readers hear them too.

import { h } from "../lib/dom.js";

let region = null;

export function toast(message, tone = "info") {
  if (!region || !region.isConnected) {
    region = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(region);
  }
  const item = h("div", { class: `toast toast-${tone}` }, message);
  region.append(item);
  // A burst of actions keeps the three newest; older ones have been read or are moot.
  while (region.children.length > 3) region.firstElementChild.remove();
  setTimeout(() => item.remove(), tone === "error" ? 8000 : 4000);
}
