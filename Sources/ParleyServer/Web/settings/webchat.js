// Website chat settings: the sites allowed to embed the widget, its look and behaviour, the
// snippet to paste and the identity secret (shown once, when created or rotated).

import { h, field, uid } from "../lib/dom.js";
import { post } from "../lib/api.js";
import { openDialog, confirmDialog } from "../ui/dialog.js";
import { toast } from "../ui/toast.js";

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** The settings' form controls; `value()` gives the API's `webchat` object. */
export function webchatFields(channel) {
  const current = channel?.webchat ?? {};
  const origins = h("textarea", { name: "allowedOrigins", rows: "3", placeholder: "https://shop.example", value: (current.allowedOrigins ?? []).join("\n") });
  const color = h("input", { type: "color", name: "color", value: current.color ?? "#2563eb" });
  const greeting = h("textarea", { name: "greeting", rows: "2", maxLength: 500, value: current.greeting ?? "Hi! How can we help?" });
  const offline = h("textarea", { name: "offlineText", rows: "2", maxLength: 500,
    value: current.offlineText ?? "We're away right now. Leave a message and we'll reply by email or here." });
  const prechat = h("input", { type: "checkbox", id: uid("prechat"), checked: Boolean(current.prechatForm) });
  const hours = current.officeHours;
  const useHours = h("input", { type: "checkbox", id: uid("hours"), checked: Boolean(hours) });
  const zone = h("input", { type: "text", name: "timeZone", value: hours?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone, placeholder: "Europe/Berlin" });
  const opens = h("input", { type: "time", name: "opens", value: hours?.opens ?? "09:00" });
  const closes = h("input", { type: "time", name: "closes", value: hours?.closes ?? "17:00" });
  const days = DAYS.map((label, index) => {
    const box = h("input", { type: "checkbox", id: uid("day"), value: String(index + 1), checked: hours ? hours.days.includes(index + 1) : index < 5 });
    return h("span", { class: "day-choice" }, box, h("label", { for: box.id }, label));
  });
  const hoursBox = h("div", { class: "form-grid", hidden: !hours },
    field("Time zone", zone), field("Opens", opens), field("Closes", closes),
    h("fieldset", { class: "field days" }, h("legend", null, "Days"), h("div", { class: "day-row" }, days)));
  useHours.addEventListener("change", () => { hoursBox.hidden = !useHours.checked; });

  const el = h("div", { class: "webchat-fields" },
    field("Sites allowed to embed the chat", origins, "One origin per line, such as https://shop.example. Pages elsewhere cannot show or use the widget."),
    h("div", { class: "form-grid" }, field("Colour", color)),
    field("Greeting", greeting, "Shown at the top of a new conversation."),
    h("div", { class: "choice" }, prechat, h("label", { for: prechat.id }, h("strong", null, "Ask for name and email first"),
      h("span", { class: "hint" }, "Visitors leave their email with their first message, so you can reach them later."))),
    h("div", { class: "choice" }, useHours, h("label", { for: useHours.id }, h("strong", null, "Office hours"),
      h("span", { class: "hint" }, "Outside them, visitors see the offline text instead of the greeting."))),
    hoursBox,
    field("Offline text", offline));

  const value = () => ({
    allowedOrigins: origins.value.split(/[\s,]+/).map((o) => o.trim()).filter(Boolean),
    color: color.value,
    greeting: greeting.value,
    offlineText: offline.value,
    prechatForm: prechat.checked,
    officeHours: useHours.checked
      ? { timeZone: zone.value.trim(), opens: opens.value, closes: closes.value,
          days: days.map((d) => d.querySelector("input")).filter((b) => b.checked).map((b) => Number(b.value)) }
      : null,
  });
  return { el, value };
}

/** What a webchat channel's card shows: the snippet to paste and the identity secret's rotation. */
export function webchatCard(channel) {
  const snippet = h("textarea", { readOnly: true, rows: "2", class: "mono", value: channel.webchat.snippet, "aria-label": `Snippet for ${channel.name}` });
  const sites = channel.webchat.allowedOrigins;
  return h("div", null,
    field("Paste this tag into your site's pages", h("div", { class: "copy-row" }, snippet,
      h("button", { type: "button", class: "btn btn-sm", onclick: () => { navigator.clipboard?.writeText(snippet.value); toast("Snippet copied"); } }, "Copy"))),
    h("p", { class: "hint" }, sites.length ? `Allowed sites: ${sites.join(", ")}` : "No site is allowed yet: edit the channel to add yours."),
    h("div", { class: "card-row" },
      h("span", { class: "muted" }, "Identity verification: your server signs each signed-in user's identifier with the channel's secret."),
      h("button", { type: "button", class: "btn btn-sm", onclick: () => rotate(channel) }, "New identity secret")));
}

async function rotate(channel) {
  if (!(await confirmDialog("New identity secret", "Visitors verified with the current secret will start over as anonymous visitors until your site signs them with the new one.", "Create new secret"))) return;
  const result = await post(`/api/v1/channels/${channel.id}/webchat/identity-secret`);
  if (!result.ok) { toast(result.error.message, "error"); return; }
  showSecret(result.data.identitySecret);
}

/** Shows an identity secret, which Parley does not show again. */
export function showSecret(secret) {
  const input = h("input", { type: "text", readOnly: true, class: "mono", value: secret, "aria-label": "Identity secret" });
  return openDialog("Identity secret", (close) => h("div", { class: "dialog-body" },
    h("p", null, "Keep it on your server. For each signed-in user, pass ",
      h("code", null, "identifierHash = hex(HMAC-SHA256(secret, identifier))"), " to ", h("code", null, "Parley.setUser"), ". It is shown only now."),
    h("div", { class: "copy-row" }, input,
      h("button", { type: "button", class: "btn btn-sm", onclick: () => { navigator.clipboard?.writeText(secret); toast("Secret copied"); } }, "Copy")),
    h("div", { class: "dialog-actions" }, h("button", { type: "button", class: "btn btn-primary", autofocus: true, onclick: () => close(true) }, "Done"))));
}
