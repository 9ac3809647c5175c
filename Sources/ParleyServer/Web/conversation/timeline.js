// The contact's timeline across episodes and channels: newest page first, older pages when
// scrolled to the top, new messages appended live, day separators between days.

import { h, mount } from "../lib/dom.js";
import { get, query } from "../lib/api.js";
import { dayLabel, sameDay } from "../lib/format.js";
import { messageItem, activityItem } from "./message.js";

const key = (item) => (item.type === "message" ? `m${item.message.id}` : `a${item.activity.id}`);

export function timeline(contactId) {
  const items = new Map(); // key → item
  let cursor = null;
  let loadingOlder = false;
  let firstLoad = true;
  const list = h("ol", { class: "timeline", "aria-label": "Messages and activity" });
  const top = h("div", { class: "timeline-top" });
  const scroller = h("div", { class: "timeline-scroll", tabindex: "0", "aria-label": "Conversation history" }, top, list);

  /**
   * Adds or replaces an item, never with an older copy: a page fetched before a delivery
   * report may arrive after the live event that carried it.
   */
  function merge(item) {
    const k = key(item);
    const known = items.get(k);
    if (known?.message && item.message && Date.parse(known.message.updatedAt) > Date.parse(item.message.updatedAt)) return;
    items.set(k, item);
  }

  function sorted() {
    return [...items.values()].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || key(a).localeCompare(key(b)));
  }

  function render() {
    const nodes = [];
    let previous = null;
    for (const item of sorted()) {
      const at = new Date(item.at);
      if (!previous || !sameDay(previous, at)) nodes.push(h("li", { class: "day" }, h("span", null, dayLabel(at))));
      previous = at;
      nodes.push(item.type === "message" ? messageItem(item.message, upsertMessage) : activityItem(item.activity, item.at));
    }
    mount(list, nodes);
    mount(top, cursor ? h("button", { type: "button", class: "btn-ghost btn-sm", onclick: () => loadOlder() }, "Load earlier messages")
      : items.size ? h("p", { class: "timeline-start" }, "Beginning of the history with this contact") : null);
  }

  const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
  // Stay pinned to the newest message while the reader is at the bottom, whatever changes size
  // (the pane appearing, the composer growing, a message arriving).
  let pinned = true;
  scroller.addEventListener("scroll", () => { pinned = nearBottom(); });
  new ResizeObserver(() => { if (pinned) scroller.scrollTop = scroller.scrollHeight; }).observe(list);
  new ResizeObserver(() => { if (pinned) scroller.scrollTop = scroller.scrollHeight; }).observe(scroller);

  async function loadNewest() {
    const result = await get(`/api/v1/contacts/${contactId}/timeline${query({ limit: 50 })}`);
    if (!result.ok) { mount(list, h("li", { class: "alert alert-error" }, result.error.message)); return; }
    const stick = firstLoad || nearBottom();
    for (const item of result.data.items) merge(item);
    if (firstLoad) cursor = result.data.nextCursor;
    firstLoad = false;
    render();
    if (stick) scroller.scrollTop = scroller.scrollHeight;
  }

  async function loadOlder() {
    if (loadingOlder || !cursor) return;
    loadingOlder = true;
    const result = await get(`/api/v1/contacts/${contactId}/timeline${query({ limit: 50, cursor })}`);
    loadingOlder = false;
    if (!result.ok) return;
    const before = scroller.scrollHeight;
    for (const item of result.data.items) merge(item);
    cursor = result.data.nextCursor;
    render();
    scroller.scrollTop += scroller.scrollHeight - before; // keep the reader's place
  }

  scroller.addEventListener("scroll", () => { if (scroller.scrollTop < 80) loadOlder(); });

  /** A message from a send or an event: added or updated in place. */
  function upsertMessage(message) {
    const stick = nearBottom();
    merge({ type: "message", at: message.createdAt, message });
    render();
    if (stick) scroller.scrollTop = scroller.scrollHeight;
  }

  loadNewest();
  return { el: scroller, upsertMessage, refresh: loadNewest, scrollToEnd: () => { scroller.scrollTop = scroller.scrollHeight; } };
}
