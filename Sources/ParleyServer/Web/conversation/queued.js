// A queued message in the timeline: what it waits for and until when, and — for its author —
// changing its text or withdrawing it. Cancelled and expired ones say why they never went.

import { h, mount } from "../lib/dom.js";
import { patch, post } from "../lib/api.js";
import { getState } from "../lib/store.js";
import { fullTime } from "../lib/format.js";
import { toast } from "../ui/toast.js";

export function queuedNote(message, onChange) {
  if (message.status === "cancelled") return h("p", { class: "msg-queue", role: "note" }, "Cancelled before it was sent.");
  if (message.status === "expired") {
    return h("p", { class: "msg-queue msg-queue-expired", role: "note" },
      `Not sent: the contact did not write before ${fullTime(message.queueExpiresAt ?? message.updatedAt)}.`);
  }
  if (message.status !== "scheduled") return null;
  const mine = message.senderUserId === getState().session?.user?.id;
  const note = h("div", { class: "msg-queue", role: "note", dataset: { testid: "queued-note" } });

  function show() {
    mount(note,
      h("span", null, "Sends when the contact writes · gives up ", h("time", { datetime: message.queueExpiresAt }, fullTime(message.queueExpiresAt))),
      mine && message.contentKind !== "template" ? h("button", { type: "button", class: "btn-ghost btn-sm", onclick: edit }, "Edit") : null,
      mine ? h("button", { type: "button", class: "btn-ghost btn-sm", onclick: cancel }, "Cancel") : null);
  }

  function edit() {
    const input = h("textarea", { rows: "2", "aria-label": "Queued message", class: "queue-edit" }, message.text ?? "");
    input.value = message.text ?? "";
    const save = async () => {
      const text = input.value.trim();
      if (!text) { input.focus(); return; }
      const result = await patch(`/api/v1/messages/${message.id}`, { text });
      if (!result.ok) { toast(result.error.message, "error"); return; }
      onChange?.(result.data);
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); save(); }
      if (event.key === "Escape") { event.stopPropagation(); show(); }
    });
    mount(note, input,
      h("div", { class: "queue-edit-actions" },
        h("button", { type: "button", class: "btn btn-primary btn-sm", onclick: save }, "Save"),
        h("button", { type: "button", class: "btn btn-sm", onclick: show }, "Keep as is")));
    input.focus();
  }

  async function cancel() {
    const result = await post(`/api/v1/messages/${message.id}/cancel`);
    if (!result.ok) { toast(result.error.message, "error"); return; }
    onChange?.(result.data);
    toast("The queued message will not be sent");
  }

  show();
  return note;
}
