// The frame around every signed-in page: brand, main navigation, who is online, the
// realtime connection state and the account menu.

import { h, mount } from "../lib/dom.js";
import { getState, subscribe, isAdmin } from "../lib/store.js";
import { del } from "../lib/api.js";
import { navigate } from "../lib/router.js";
import { avatar } from "./badges.js";
import { showShortcuts } from "./shortcuts.js";

export function shell(page) {
  const { session } = getState();
  const here = location.pathname;
  const link = (href, label) => h("a", { href, class: "nav-link", "aria-current": here.startsWith(href) ? "page" : null }, label);
  const presence = h("div", { class: "presence", "aria-label": "Agents online" });
  const connection = h("span", { class: "connection" });
  // The bell loads after the page: it is small, but nothing on the first paint needs it.
  const bellSlot = h("span", { class: "bell-slot" });
  let bell = null;
  let gone = false;
  import("./notifications.js").then((m) => {
    if (gone) return;
    bell = m.notificationBell();
    bellSlot.replaceWith(bell.el);
  });

  const renderPresence = () => {
    const online = getState().presence.filter((u) => u.id !== session.user.id);
    mount(presence, online.slice(0, 5).map((u) => {
      const el = avatar(u.name, "sm");
      el.setAttribute("title", `${u.name} is online`);
      return el;
    }), online.length ? h("span", { class: "sr-only" }, `${online.length} other agents online`) : null);
    const state = getState().connection;
    connection.className = `connection connection-${state}`;
    connection.textContent = state === "live" ? "Live" : state === "connecting" ? "Reconnecting…" : "Offline";
    connection.title = state === "live" ? "Updates arrive as they happen" : "Updates paused; they resume when the connection returns";
  };
  // The tab title shows how many conversations wait unread, so a background tab still tells.
  const renderTitle = () => {
    const counts = getState().counts;
    const unread = (counts?.all ?? counts?.mine)?.unread ?? 0;
    document.title = unread ? `(${unread}) Parley` : "Parley";
  };
  renderPresence();
  renderTitle();
  const unsubscribe = subscribe((keys) => {
    if (keys.includes("presence") || keys.includes("connection")) renderPresence();
    if (keys.includes("counts")) renderTitle();
  });

  const signOut = async () => {
    await del("/api/v1/auth/session");
    const { signedOut } = await import("../app.js");
    signedOut();
    navigate("/login");
  };

  const el = h("div", { class: "shell" },
    h("a", { class: "skip-link", href: "#main" }, "Skip to content"),
    h("header", { class: "topbar" },
      h("a", { class: "brand", href: "/inbox", "aria-label": "Parley inbox" }, h("span", { class: "brand-mark", "aria-hidden": "true" }, "P"), "Parley"),
      h("nav", { class: "nav", "aria-label": "Main" },
        link("/inbox", "Inbox"), link("/contacts", "Contacts"), link("/settings", isAdmin() ? "Settings" : "API tokens")),
      h("div", { class: "topbar-end" },
        connection, presence, bellSlot,
        h("button", { type: "button", class: "btn-ghost btn-sm", onclick: showShortcuts, title: "Keyboard shortcuts (?)" }, "Shortcuts"),
        h("div", { class: "account" },
          avatar(session.user.name, "sm"),
          h("div", { class: "account-text" },
            h("span", { class: "account-name" }, session.user.name),
            h("span", { class: "account-ws" }, session.workspace.name)),
          h("button", { type: "button", class: "btn-ghost btn-sm", onclick: signOut }, "Sign out")))),
    h("main", { id: "main", class: "page", tabindex: "-1" }, page.el));
  return {
    el,
    mounted: page.mounted,
    destroy() { gone = true; unsubscribe(); bell?.destroy(); page.destroy?.(); },
  };
}
