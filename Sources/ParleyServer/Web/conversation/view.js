// The right pane: one contact's conversation — header with actions, the timeline, who is
// typing, the composer, and the contact panel.

import { h, mount } from "../lib/dom.js";
import { get, post } from "../lib/api.js";
import { getState, subscribe } from "../lib/store.js";
import { timeline } from "./timeline.js";
import { composer } from "./composer.js";
import { contactPanel } from "./contact-panel.js";
import { closeConversation, assignDialog } from "./actions.js";
import { statusChip } from "../ui/badges.js";
import { toast } from "../ui/toast.js";

/** conversation as the header needs it, from either GET …/conversation or an inbox row. */
function normalize(c) {
  if (!c) return null;
  return {
    status: c.status,
    assigneeId: c.assignee !== undefined ? c.assignee?.id ?? null : c.assigneeId ?? null,
    unreadCount: c.unreadCount ?? 0,
    channelId: c.channel !== undefined ? c.channel?.id ?? null : c.channelId ?? null,
  };
}

export async function conversationView(contactId, { onRowChanged }) {
  const [contactResult, conversationResult] = await Promise.all([
    get(`/api/v1/contacts/${contactId}`), get(`/api/v1/contacts/${contactId}/conversation`),
  ]);
  if (!contactResult.ok) {
    return { el: h("div", { class: "empty-pane" }, h("p", null, contactResult.error.message)), handle() {}, destroy() {} };
  }
  let contact = contactResult.data;
  let conversation = conversationResult.ok ? normalize(conversationResult.data) : null;

  const head = h("header", { class: "conv-head" });
  const history = timeline(contactId);
  const typing = h("p", { class: "typing", "aria-live": "polite" });
  const makeComposer = () => composer(contact, conversation?.channelId, {
    onSent(message, updated) {
      history.upsertMessage(message);
      // A queued message leaves the conversation as it is (it may have none yet).
      if (updated) conversation = normalize(updated);
      renderHead();
      history.refresh(); // the reopening and assignment appear as activity lines
    },
  });
  let reply = makeComposer();
  /** The contact changed (the panel saved, or an event): a new or removed address changes what the composer can send on. */
  function setContact(next) {
    const channelsChanged = next.identities.map((i) => i.id).join() !== contact.identities.map((i) => i.id).join();
    contact = next;
    renderHead();
    if (channelsChanged) {
      const fresh = makeComposer();
      reply.el.replaceWith(fresh.el);
      reply.destroy();
      reply = fresh;
    }
  }
  const panel = contactPanel(contact, { onChanged: setContact });

  function renderHead() {
    const me = getState().session.user.id;
    const assignee = conversation?.assigneeId ? getState().users.find((u) => u.id === conversation.assigneeId) : null;
    const open = conversation?.status === "open";
    mount(head,
      h("div", { class: "conv-title" },
        h("h2", null, contact.name || "Unnamed contact"),
        conversation ? statusChip(conversation.status) : h("span", { class: "chip" }, "No conversation yet")),
      h("div", { class: "conv-actions" },
        h("button", { type: "button", class: "btn btn-sm assign-button", title: "Assign (a)", disabled: !open, onclick: assign, dataset: { focusKey: "assign" } },
          h("span", { class: "muted" }, "Assignee: "), assignee ? (assignee.id === me ? `${assignee.name} (me)` : assignee.name) : "Unassigned"),
        conversation ? h("button", { type: "button", class: "btn btn-sm", onclick: toggleRead }, conversation.unreadCount > 0 ? "Mark read" : "Mark unread") : null,
        open
          ? h("button", { type: "button", class: "btn btn-sm", title: "Close (e)", onclick: close }, "Close")
          : h("button", { type: "button", class: "btn btn-sm", onclick: reopen }, conversation ? "Reopen" : "Open conversation")));
  }

  async function assign() {
    if (conversation?.status !== "open") return;
    const result = await assignDialog(contactId, conversation.assigneeId);
    if (result?.ok) { conversation = normalize(result.data); renderHead(); history.refresh(); }
    // The header was redrawn: give the focus back to the control that opened the picker.
    if (!document.activeElement || document.activeElement === document.body) head.querySelector(".assign-button")?.focus();
  }

  async function close() {
    if (conversation?.status !== "open") return;
    const result = await closeConversation(contactId, contact.name);
    if (!result) return;
    if (!result.ok) { toast(result.error.message, "error"); return; }
    conversation = normalize(result.data);
    renderHead();
    history.refresh();
    toast("Conversation closed");
  }

  async function reopen() {
    const result = await post(`/api/v1/contacts/${contactId}/conversation/open`);
    if (!result.ok) { toast(result.error.message, "error"); return; }
    conversation = normalize(result.data);
    renderHead();
    history.refresh();
  }

  async function toggleRead() {
    const unread = conversation.unreadCount > 0;
    const result = await post(`/api/v1/contacts/${contactId}/conversation/${unread ? "read" : "unread"}`);
    if (!result.ok) { toast(result.error.message, "error"); return; }
    conversation = { ...conversation, unreadCount: unread ? 0 : 1 };
    onRowChanged(contactId, { unreadCount: conversation.unreadCount });
    renderHead();
  }

  function renderTyping() {
    const now = Date.now();
    const names = Object.values(getState().typing[contactId] ?? {}).filter((t) => t.until > now).map((t) => t.name);
    typing.textContent = names.length ? `${names.join(" and ")} ${names.length > 1 ? "are" : "is"} typing…` : "";
  }
  const typingTimer = setInterval(renderTyping, 1000);
  const unsubscribe = subscribe((keys) => {
    if (keys.includes("typing")) renderTyping();
    if (keys.includes("users")) renderHead();
  });

  // Opening a conversation reads it.
  if (conversation?.unreadCount > 0) {
    post(`/api/v1/contacts/${contactId}/conversation/read`).then((r) => {
      if (!r.ok) return;
      conversation = { ...conversation, unreadCount: 0 };
      onRowChanged(contactId, { unreadCount: 0 });
      renderHead();
    });
  }

  function handle(event) {
    const data = event.data ?? {};
    if (event.type.startsWith("contact.") && data.contact?.id === contactId) {
      panel.update(data.contact);
      setContact(data.contact);
      return;
    }
    if (data.contactId !== contactId) return;
    if (event.type === "message.created" || event.type === "message.updated") {
      history.upsertMessage(data.message);
      if (event.type === "message.created" && data.message.direction === "inbound") {
        reply.reload(); // the contact's reply reopens the window
        if (document.visibilityState === "visible") post(`/api/v1/contacts/${contactId}/conversation/read`);
      }
    }
    if (data.conversation) {
      const next = normalize(data.conversation);
      const changed = !conversation || next.status !== conversation.status || next.assigneeId !== conversation.assigneeId;
      conversation = { ...next, unreadCount: event.type === "message.created" ? conversation?.unreadCount ?? 0 : next.unreadCount };
      renderHead();
      if (changed || event.type.startsWith("conversation.")) history.refresh();
    }
  }

  renderHead();
  const el = h("div", { class: "conv" },
    h("section", { class: "conv-main", "aria-label": `Conversation with ${contact.name}` }, head, history.el, typing, reply.el),
    panel.el);
  return {
    el, handle, refresh: () => history.refresh(),
    focusReply: () => reply.focus(), close, assign,
    destroy() { unsubscribe(); clearInterval(typingTimer); reply.destroy(); },
  };
}
