// Channels: connect each provider with a form for its credentials, show the webhook URL to
// give the provider, sync WhatsApp templates, and Viber's monthly counter and terms.

import { h, mount, field, uid } from "../lib/dom.js";
import { post, patch, del, all } from "../lib/api.js";
import { getState, setState, subscribe } from "../lib/store.js";
import { channelLabel } from "../lib/format.js";
import { channelIcon } from "../ui/badges.js";
import { confirmDialog, openDialog } from "../ui/dialog.js";
import { toast } from "../ui/toast.js";
import { forgetTemplates } from "../conversation/templates.js";
import { webchatFields, webchatCard, showSecret } from "./webchat.js";

// The credentials each provider needs (README's channel table). Optional ones say so.
const KINDS = {
  whatsapp: [["accessToken", "Access token", true], ["phoneNumberId", "Phone number ID"], ["appSecret", "App secret", true], ["verifyToken", "Verify token"], ["wabaId", "WhatsApp Business Account ID (for template sync)", false, true]],
  messenger: [["pageAccessToken", "Page access token", true], ["appSecret", "App secret", true], ["verifyToken", "Verify token"]],
  instagram: [["pageAccessToken", "Page access token", true], ["appSecret", "App secret", true], ["verifyToken", "Verify token"]],
  telegram: [["botToken", "Bot token", true]],
  viber: [["authToken", "Authentication token", true], ["senderName", "Sender name"]],
  wechat: [["appId", "App ID"], ["appSecret", "App secret", true], ["token", "Token", true]],
  line: [["channelAccessToken", "Channel access token", true], ["channelSecret", "Channel secret", true]],
  webchat: [],
  email: [["fromAddress", "Support address (From)"], ["fromName", "From name", false, true], ["smtpHost", "SMTP server"],
    ["smtpPort", "SMTP port (default 587, or 465 with tls)", false, true], ["smtpSecurity", "SMTP security: starttls, tls or none", false, true],
    ["smtpUsername", "SMTP username", false, true], ["smtpPassword", "SMTP password (an app password works)", true, true],
    ["imapHost", "IMAP server (to read the mailbox)", false, true], ["imapPort", "IMAP port (default 993, or 143)", false, true],
    ["imapSecurity", "IMAP security: tls, starttls or none", false, true], ["imapUsername", "IMAP username (default: SMTP's)", false, true],
    ["imapPassword", "IMAP password (default: SMTP's)", true, true], ["imapFolder", "IMAP folder (default INBOX)", false, true]],
  sms: [["accountSid", "Account SID"], ["authToken", "Auth token", true], ["from", "From number (or a Messaging Service SID below)", false, true], ["messagingServiceSid", "Messaging Service SID", false, true]],
};

async function refreshChannels() {
  const result = await all("/api/v1/channels");
  if (result.ok) setState({ channels: result.data });
}

export function channelsSettings() {
  const list = h("div", { class: "stack" });
  const render = () => mount(list, getState().channels.length ? getState().channels.map(card)
    : h("div", { class: "card card-pad muted" }, "No channels yet. Connect one below."));

  function card(channel) {
    const webhook = h("input", { type: "text", readOnly: true, value: channel.webhookUrl, class: "mono", "aria-label": `Webhook URL of ${channel.name}` });
    const extra = h("div");
    const templatesBox = h("div", { class: "templates-box" });
    if (channel.type === "whatsapp") {
      mount(extra, h("div", { class: "card-row" },
        h("span", { class: "muted" }, "Message templates come from the WhatsApp Business Account."),
        h("button", { type: "button", class: "btn btn-sm", onclick: () => sync(channel, templatesBox) }, "Sync templates")), templatesBox);
    }
    if (channel.type === "viber") {
      const terms = h("input", { type: "checkbox", id: uid("terms"), checked: channel.commercialTermsAccepted });
      terms.addEventListener("change", async () => {
        const result = await patch(`/api/v1/channels/${channel.id}`, { commercialTermsAccepted: terms.checked });
        if (!result.ok) { terms.checked = !terms.checked; toast(result.error.message, "error"); return; }
        toast(terms.checked ? "Commercial terms accepted: messages past the free quota are billable" : "Commercial terms withdrawn");
        refreshChannels();
      });
      const used = channel.viberMonthCount ?? 0;
      const meter = h("progress", { max: "10000", value: String(Math.min(used, 10000)), "aria-label": "Free messages used this month" });
      mount(extra,
        h("div", { class: "viber-meter" },
          h("span", null, h("strong", null, used.toLocaleString()), ` of 10,000 free chatbot-initiated messages used${channel.viberMonth ? ` in ${channel.viberMonth}` : " this month"}`),
          meter),
        h("div", { class: "choice" }, terms, h("label", { for: terms.id }, h("strong", null, "Viber's commercial terms accepted"),
          h("span", { class: "hint" }, "Past the free quota, chatbot-initiated messages are then sent and billed instead of refused."))));
    }
    const own = channel.type === "webchat";
    return h("article", { class: "card card-pad channel-card" },
      h("header", { class: "channel-head" },
        channelIcon(channel.type),
        h("div", { class: "channel-title" }, h("h3", null, channel.name), h("span", { class: "muted" }, channelLabel(channel.type))),
        h("div", { class: "admin-actions" },
          h("button", { type: "button", class: "btn btn-sm", onclick: () => editChannel(channel) }, "Edit"),
          h("button", { type: "button", class: "btn btn-sm", onclick: () => remove(channel) }, "Disconnect"))),
      own ? webchatCard(channel) : [
        field("Webhook URL (give this to the provider)", h("div", { class: "copy-row" }, webhook,
          h("button", { type: "button", class: "btn btn-sm", onclick: () => { navigator.clipboard?.writeText(webhook.value); toast("Webhook URL copied"); } }, "Copy"))),
        h("p", { class: "hint" }, `Credentials set: ${channel.credentialKeys.join(", ") || "none"}${channel.apiBaseUrl ? ` · API base URL ${channel.apiBaseUrl}` : ""}`)],
      extra);
  }

  async function sync(channel, box) {
    mount(box, h("p", { class: "hint" }, "Fetching templates…"));
    const result = await post(`/api/v1/channels/${channel.id}/templates/sync`);
    if (!result.ok) { mount(box, h("div", { class: "alert alert-error", role: "alert" }, result.error.message)); return; }
    forgetTemplates(channel.id);
    mount(box, h("table", { class: "table table-compact" },
      h("thead", null, h("tr", null, ["Template", "Language", "Category", "Status"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", null, result.data.items.map((t) => h("tr", null, h("td", { class: "mono" }, t.name), h("td", null, t.language), h("td", null, t.category.toLowerCase()),
        h("td", null, h("span", { class: ["chip", t.status === "APPROVED" && "chip-open"] }, t.status.toLowerCase())))))));
    toast(`${result.data.items.length} templates synced`);
  }

  async function remove(channel) {
    if (!(await confirmDialog("Disconnect channel", `Disconnect “${channel.name}”? Its webhook stops working and nothing more can be sent on it.`, "Disconnect"))) return;
    const result = await del(`/api/v1/channels/${channel.id}`);
    if (!result.ok) { toast(result.error.message, "error"); return; }
    await refreshChannels();
  }

  async function editChannel(channel) {
    const saved = await openDialog(`Edit ${channel.name}`, (close) => channelForm(channel, close), { wide: true });
    if (saved) { await refreshChannels(); toast("Channel saved"); }
  }

  render();
  const connect = h("section", { class: "card card-pad" }, h("h2", null, "Connect a channel"),
    h("p", { class: "muted section-lead" }, "Parley checks the credentials with the provider and registers its webhook where the provider takes one."),
    channelForm(null, async (created) => {
      await refreshChannels();
      toast("Channel connected");
      if (created.webchat?.identitySecret) showSecret(created.webchat.identitySecret);
    }));
  const el = h("div", { class: "stack" },
    h("div", null, h("h2", { class: "page-subtitle" }, "Channels"), h("p", { class: "muted section-lead" }, "Every connected account your team answers on.")),
    list, connect);
  const unsubscribe = subscribe((keys) => { if (keys.includes("channels")) render(); });
  return { el, destroy: unsubscribe };
}

/** Connects a channel (channel null) or edits one (empty credentials are kept). */
function channelForm(channel, done) {
  const type = h("select", { name: "type", disabled: Boolean(channel) },
    Object.keys(KINDS).map((k) => h("option", { value: k, selected: channel?.type === k }, channelLabel(k))));
  const name = h("input", { type: "text", name: "name", required: true, value: channel?.name ?? "", placeholder: "e.g. Support WhatsApp" });
  const base = h("input", { type: "url", name: "apiBaseUrl", value: channel?.apiBaseUrl ?? "", placeholder: "Provider default" });
  const verify = h("input", { type: "checkbox", id: uid("verify"), checked: true });
  const creds = h("div", { class: "form-grid" });
  const error = h("div", { class: "alert alert-error", role: "alert", hidden: true });
  const chat = webchatFields(channel);
  const advanced = h("details", { class: "advanced" }, h("summary", null, "Advanced"),
    h("div", { class: "form-grid" }, field("API base URL", base, "A regional endpoint, a proxy, or the simulator.")),
    channel ? null : h("div", { class: "choice" }, verify, h("label", { for: verify.id }, h("strong", null, "Check the credentials with the provider now"))));
  // Website chat is Parley's own: no credentials or provider URL, its widget settings instead.
  const showKind = () => { const own = type.value === "webchat"; chat.el.hidden = !own; advanced.hidden = own; };
  type.addEventListener("change", showKind);
  showKind();
  const renderCreds = () => mount(creds, KINDS[type.value].map(([key, label, secret, optional]) => field(label,
    h("input", { type: secret ? "password" : "text", name: key, dataset: { credential: key }, autocomplete: "off",
      required: !channel && !optional, placeholder: channel ? (channel.credentialKeys.includes(key) ? "Set — leave empty to keep" : "Not set") : "" }))));
  type.addEventListener("change", renderCreds);
  renderCreds();

  const onsubmit = async (event) => {
    event.preventDefault();
    const credentials = {};
    for (const input of creds.querySelectorAll("[data-credential]")) if (input.value.trim()) credentials[input.dataset.credential] = input.value.trim();
    let result;
    if (channel) {
      const body = { name: name.value.trim() };
      if (Object.keys(credentials).length) body.credentials = credentials;
      if (channel.type === "webchat") body.webchat = chat.value();
      else body.apiBaseUrl = base.value.trim() || null;
      result = await patch(`/api/v1/channels/${channel.id}`, body);
    } else {
      const body = { type: type.value, name: name.value.trim(), credentials, verifyCredentials: verify.checked };
      if (base.value.trim() && type.value !== "webchat") body.apiBaseUrl = base.value.trim();
      if (type.value === "webchat") body.webchat = chat.value();
      result = await post("/api/v1/channels", body);
    }
    if (!result.ok) { error.hidden = false; error.textContent = result.error.message; return; }
    error.hidden = true;
    if (!channel) { event.target.reset(); renderCreds(); showKind(); }
    done(result.data);
  };

  return h("form", { class: channel ? "dialog-body" : "", onsubmit },
    error,
    h("div", { class: "form-grid" }, field("Channel", type), field("Name", name)),
    creds,
    chat.el,
    advanced,
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, channel ? "Save" : "Connect channel")));
}
