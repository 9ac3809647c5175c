// One inbox row. Everything it shows comes with the row itself: nothing is fetched per row.

import { h } from "../lib/dom.js";
import { listTime } from "../lib/format.js";
import { channelIcon, avatar, windowPill } from "../ui/badges.js";

export function inboxRow(row, { selected, onSelect }) {
  const unread = row.unreadCount > 0;
  const name = row.contact.name || "Unknown contact";
  const link = h("a", {
    href: `/inbox/${row.contact.id}`, class: ["row", unread && "is-unread", selected && "is-selected"],
    "aria-current": selected ? "true" : null, dataset: { contactId: row.contact.id, focusKey: `row-${row.contact.id}` },
    onclick: (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      onSelect(row.contact.id);
    },
  },
  h("span", { class: "row-avatar" }, avatar(name), row.channel ? channelIcon(row.channel.type) : null),
  h("span", { class: "row-body" },
    h("span", { class: "row-top" },
      h("span", { class: "row-name" }, name),
      row.lastMessage?.at ? h("time", { class: "row-time", datetime: row.lastMessage.at }, listTime(row.lastMessage.at)) : null),
    h("span", { class: "row-mid" },
      h("span", { class: "row-preview" }, row.lastMessage?.preview ?? "No messages yet"),
      unread ? h("span", { class: "badge-unread", "aria-label": `${row.unreadCount} unread` }, row.unreadCount > 99 ? "99+" : row.unreadCount) : null),
    h("span", { class: "row-bottom" },
      h("span", { class: ["row-assignee", !row.assignee && "is-none"] }, row.assignee ? row.assignee.name : "Unassigned"),
      row.status === "closed" ? h("span", { class: "chip chip-closed" }, "Closed") : windowPill(row.window))));
  return h("li", { class: "row-item" }, link);
}
