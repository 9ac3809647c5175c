// Small visual atoms shared by the list, the timeline and the contact panel.

import { h } from "../lib/dom.js";
import { CHANNELS, channelLabel, initials, hue, windowBadge } from "../lib/format.js";

export function channelIcon(type, { title = true } = {}) {
  return h("span", { class: `chan chan-${type}`, title: title ? channelLabel(type) : null, "aria-label": channelLabel(type), role: "img" },
    CHANNELS[type]?.short ?? "?");
}

export function avatar(name, size = "md") {
  const el = h("span", { class: `avatar avatar-${size}`, "aria-hidden": "true" }, initials(name));
  el.style.setProperty("--hue", hue(name));
  return el;
}

export function windowPill(window) {
  const badge = windowBadge(window);
  if (!badge) return null;
  return h("span", { class: `pill pill-${badge.tone}`, title: window.closesAt ? `Messaging window ${badge.tone === "muted" ? "closed" : "closes"} ${new Date(window.closesAt).toLocaleString()}` : "Messaging window closed" }, badge.text);
}

export function statusChip(status) {
  return h("span", { class: `chip chip-${status}` }, status === "open" ? "Open" : "Closed");
}
