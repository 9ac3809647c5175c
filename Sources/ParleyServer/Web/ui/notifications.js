// The bell in the top bar: the agent's unread notifications (a window about to close), kept
// fresh by the realtime stream; a new one is also announced as a toast.

import { h, mount } from "../lib/dom.js";
import { get, post } from "../lib/api.js";
import { navigate } from "../lib/router.js";
import { clockTime } from "../lib/format.js";
import * as events from "../lib/events.js";
import { toast } from "./toast.js";

export function notificationBell() {
  let unread = [];
  const count = h("span", { class: "bell-count" });
  const button = h("button", { type: "button", class: "btn-ghost btn-sm bell", "aria-expanded": "false", "aria-controls": "notifications",
                               onclick: () => toggle() }, "Notifications", count);
  const panel = h("div", { id: "notifications", class: "bell-panel", role: "region", "aria-label": "Notifications", hidden: true });
  const el = h("div", { class: "bell-wrap" }, button, panel);

  function render() {
    count.textContent = unread.length ? String(unread.length) : "";
    count.hidden = !unread.length;
    button.setAttribute("aria-label", unread.length ? `Notifications, ${unread.length} unread` : "Notifications");
    mount(panel, unread.length
      ? h("ul", { class: "bell-list" }, unread.map((n) => h("li", null,
        h("button", { type: "button", class: "bell-item", onclick: () => open(n) },
          h("span", null, n.text), h("time", { datetime: n.createdAt }, clockTime(n.createdAt))))))
      : h("p", { class: "bell-empty" }, "Nothing new."));
  }

  async function refresh() {
    const result = await get("/api/v1/notifications?unread=true&limit=50");
    unread = result.ok ? result.data.items : [];
    render();
  }

  function toggle(show = panel.hidden) {
    panel.hidden = !show;
    button.setAttribute("aria-expanded", String(show));
  }

  async function open(notification) {
    toggle(false);
    await post(`/api/v1/notifications/${notification.id}/read`);
    unread = unread.filter((n) => n.id !== notification.id);
    render();
    if (notification.contactId) navigate(`/inbox/${notification.contactId}`);
  }

  const off = events.onEvent((event) => {
    if (event.type !== "notification.created") return;
    toast(event.data.text);
    refresh();
  });
  const outside = (event) => { if (!el.contains(event.target)) toggle(false); };
  document.addEventListener("click", outside);
  refresh();
  return { el, destroy() { off(); document.removeEventListener("click", outside); } };
}
