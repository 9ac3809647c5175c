// "Remind me before the window closes": while a contact's free-text window is open, the agent
// may ask to be notified some hours before it closes (the reminder follows the window if the
// contact writes again). One reminder per agent and conversation.

import { h, mount, uid } from "../lib/dom.js";
import { get, post, del } from "../lib/api.js";
import { fullTime } from "../lib/format.js";
import { toast } from "../ui/toast.js";

const HOURS = [1, 2, 4, 8, 12];

/** The composer shows it only while free text is allowed on a channel with a window. */
export function reminderControl(contactId) {
  const el = h("span", { class: "reminder", dataset: { testid: "reminder" } });

  async function refresh() {
    const result = await get(`/api/v1/contacts/${contactId}/reminders`);
    const current = result.ok ? result.data.items[0] : null;
    if (current) {
      mount(el,
        h("span", { class: "reminder-set", title: current.dueAt ? `Reminds you at ${fullTime(current.dueAt)}` : "" },
          `Reminder ${current.hoursBefore} h before it closes`),
        h("button", { type: "button", class: "btn-ghost btn-sm", "aria-label": "Remove the reminder", onclick: () => remove(current.id) }, "×"));
      return;
    }
    const id = uid("remind");
    mount(el, h("label", { class: "sr-only", for: id }, "Remind me before the window closes"),
      h("select", { id, class: "reminder-pick", onchange: (e) => set(Number(e.target.value)) },
        h("option", { value: "" }, "Remind me…"),
        HOURS.map((n) => h("option", { value: n }, `${n} h before it closes`))));
  }

  async function set(hours) {
    if (!hours) return;
    const result = await post(`/api/v1/contacts/${contactId}/reminders`, { hoursBefore: hours });
    if (!result.ok) { toast(result.error.message, "error"); return refresh(); }
    toast(`You will be reminded ${hours} h before the window closes`);
    refresh();
  }

  async function remove(id) {
    const result = await del(`/api/v1/reminders/${id}`);
    if (!result.ok) toast(result.error.message, "error");
    refresh();
  }

  refresh();
  return el;
}
