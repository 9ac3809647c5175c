// Outgoing webhooks: subscriptions with the event kinds they want, the signing secret shown once,
// and each subscription's deliveries with their response codes and a replay button.

import { h, mount, field } from "../lib/dom.js";
import { get, post, del } from "../lib/api.js";
import { openDialog, confirmDialog } from "../ui/dialog.js";
import { toast } from "../ui/toast.js";

const KINDS = ["conversation.opened", "conversation.closed", "conversation.assigned", "message.created", "message.updated",
  "contact.created", "contact.updated", "contact.deleted"];

export function webhooksSettings() {
  const body = h("tbody");
  const url = h("input", { type: "url", required: true, placeholder: "https://example.com/parley-events" });
  const kinds = h("fieldset", { class: "user-picks" }, h("legend", null, "Events"),
    KINDS.map((kind) => h("label", { class: "check" }, h("input", { type: "checkbox", value: kind }), h("span", null, kind))));
  const error = h("div", { class: "alert alert-error", role: "alert", hidden: true });
  const secretBox = h("div", { class: "alert", role: "status", hidden: true });

  async function reload() {
    const result = await get("/api/v1/webhook-subscriptions");
    if (!result.ok) return toast(result.error.message, "error");
    mount(body, result.data.items.length === 0
      ? h("tr", null, h("td", { colspan: "3", class: "muted" }, "No subscriptions."))
      : result.data.items.map((s) => h("tr", null,
        h("td", null, s.url), h("td", null, s.events.join(", ")),
        h("td", { class: "row-actions" },
          h("button", { type: "button", class: "btn btn-sm", onclick: () => deliveries(s) }, "Deliveries"),
          h("button", { type: "button", class: "btn btn-sm btn-ghost", onclick: () => remove(s) }, "Delete")))));
  }

  async function remove(subscription) {
    if (!(await confirmDialog("Delete subscription", `Stop sending events to ${subscription.url}?`, "Delete"))) return;
    const result = await del(`/api/v1/webhook-subscriptions/${subscription.id}`);
    if (!result.ok) return toast(result.error.message, "error");
    reload();
  }

  async function deliveries(subscription) {
    const list = h("tbody");
    const load = async () => {
      const result = await get(`/api/v1/webhook-subscriptions/${subscription.id}/deliveries?limit=50`);
      if (!result.ok) return toast(result.error.message, "error");
      mount(list, result.data.items.map((d) => h("tr", null,
        h("td", null, d.eventType), h("td", null, d.status), h("td", null, String(d.attempts)),
        h("td", null, d.responseCode == null ? "–" : String(d.responseCode)), h("td", { class: "muted" }, d.lastError ?? ""),
        h("td", null, h("button", { type: "button", class: "btn btn-sm", onclick: async () => {
          const replayed = await post(`/api/v1/webhook-deliveries/${d.id}/replay`);
          if (!replayed.ok) return toast(replayed.error.message, "error");
          toast("Sent again"); load();
        } }, "Replay")))));
    };
    await load();
    await openDialog(`Deliveries to ${subscription.url}`, () => h("div", { class: "dialog-body" },
      h("table", { class: "table" }, h("thead", null, h("tr", null, ["Event", "Status", "Attempts", "Response", "Error", ""].map((t) => h("th", { scope: "col" }, t)))), list)),
    { wide: true });
  }

  const onsubmit = async (event) => {
    event.preventDefault();
    const events = [...kinds.querySelectorAll("input:checked")].map((i) => i.value);
    const result = await post("/api/v1/webhook-subscriptions", { url: url.value.trim(), events });
    if (!result.ok) { error.hidden = false; error.textContent = result.error.message; return; }
    error.hidden = true;
    event.target.reset();
    // The secret is shown this once: the receiver needs it to check X-Parley-Signature.
    secretBox.hidden = false;
    mount(secretBox, "Signing secret (shown once): ", h("code", null, result.data.secret));
    reload();
  };

  const el = h("div", { class: "stack" },
    h("section", { class: "card" },
      h("div", { class: "card-pad" }, h("h2", null, "Outgoing webhooks"),
        h("p", { class: "muted section-lead" }, "Events posted to your URL, signed with X-Parley-Signature and retried until answered with 2xx.")),
      h("table", { class: "table" }, h("thead", null, h("tr", null, ["URL", "Events", ""].map((t) => h("th", { scope: "col" }, t)))), body)),
    h("form", { class: "card card-pad", onsubmit },
      h("h2", null, "Add a subscription"), error, secretBox,
      h("div", { class: "form-grid" }, field("URL", url)), kinds,
      h("div", { class: "form-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Subscribe"))));
  reload();
  return { el };
}
