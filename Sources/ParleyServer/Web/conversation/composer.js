// The composer, driven by GET /contacts/{id}/composer?channel=: what the window allows now
// decides between free text, the template picker, the message-tag choice or a notice.
// The server enforces the same rules; a refused send shows the server's own sentence.

import { h, mount, uid } from "../lib/dom.js";
import { get, post } from "../lib/api.js";
import { channelById } from "../lib/store.js";
import { channelLabel, countdown, duration, fullTime } from "../lib/format.js";
import * as events from "../lib/events.js";
import { loadTemplates, templatePicker } from "./templates.js";
import { attachControl } from "./attach.js";
import { toast } from "../ui/toast.js";

// How long a queued message waits for the contact, in days (the agent picks; 30 by default).
const QUEUE_DAYS = [7, 14, 30, 60, 90];

const TAG_LABELS = {
  CONFIRMED_EVENT_UPDATE: "Confirmed event update",
  POST_PURCHASE_UPDATE: "Post-purchase update",
  ACCOUNT_UPDATE: "Account update",
};

export function composer(contact, initialChannelId, { onSent }) {
  const identities = contact.identities ?? [];
  let channelId = identities.some((i) => i.channelId === initialChannelId) ? initialChannelId : pickDefault(identities);
  let state = null;
  let mode = "text";
  let template = null;
  let tickTimer = null;
  let lastTyping = 0;
  let sending = false;

  // Email only: left empty, the reply keeps the thread's subject.
  const subject = h("input", { type: "text", class: "composer-subject", name: "subject", maxLength: 200, hidden: true,
                               placeholder: "Subject (empty: the thread's)", "aria-label": "Subject" });
  const textarea = h("textarea", { id: uid("composer"), rows: "3", placeholder: "Write a reply…", "aria-label": "Message", dataset: { shortcut: "reply" } });
  const sendButton = h("button", { type: "submit", class: "btn btn-primary" }, "Send");
  const error = h("div", { class: "composer-error alert alert-error", role: "alert", hidden: true });
  const attach = attachControl({ onChange: (message) => { showError(message ?? (state ? attach.problem(state, textarea.value) : null)); updateSend(); } });
  const bar = h("div", { class: "composer-bar" });
  const notice = h("div", { class: "composer-notice" });
  const extras = h("div", { class: "composer-extras" });
  const form = h("form", { class: "composer", "aria-label": "Reply", onsubmit: (e) => { e.preventDefault(); send(); } },
    bar, notice, extras, subject, textarea, attach.chip, attach.input,
    h("div", { class: "composer-actions" }, attach.button,
      h("span", { class: "hint" }, h("kbd", null, "Ctrl"), " + ", h("kbd", null, "Enter"), " to send"), sendButton),
    error);

  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(); }
  });
  textarea.addEventListener("input", () => {
    if (Date.now() - lastTyping > 3000) { lastTyping = Date.now(); events.send({ type: "typing", contactId: contact.id, typing: true }); }
  });
  textarea.addEventListener("blur", stopTyping);

  function stopTyping() {
    if (lastTyping) { lastTyping = 0; events.send({ type: "typing", contactId: contact.id, typing: false }); }
  }

  function showError(message) {
    error.hidden = !message;
    error.textContent = message ?? "";
  }

  async function load() {
    if (!channelId) {
      state = null;
      render();
      return;
    }
    const result = await get(`/api/v1/contacts/${contact.id}/composer?channel=${channelId}`);
    if (!result.ok) { showError(result.error.message); return; }
    const previous = state;
    state = result.data;
    const allowed = state.allowed;
    if (state.sendsUndelivered && state.canQueue) {
      // WeChat past its window: queueing delivers, recording now does not.
      if (!previous?.sendsUndelivered) mode = "queue";
    } else if (!canWrite(state)) {
      if (allowed.includes("template")) mode = "template";
      else if (allowed.includes("tagged_message")) mode = "text";
      else mode = state.canQueue ? "queue" : "text";
    } else if (!allowed.includes("template")) mode = "text";
    else if (!previous || !canWrite(previous) || mode === "queue") mode = "text"; // the window just opened: free text first
    template = null;
    render();
    if (allowed.includes("template")) {
      const templates = await loadTemplates(channelId);
      if (state === result.data) renderExtras(templates);
    } else renderExtras([]);
  }

  function render() {
    clearInterval(tickTimer);
    const switcher = identities.length > 1
      ? h("label", { class: "channel-switch" }, h("span", { class: "sr-only" }, "Send on"),
        h("select", { onchange: (e) => { channelId = Number(e.target.value); showError(null); load().then(() => showError(attach.problem(state, textarea.value))); } },
          identities.map((i) => h("option", { value: i.channelId, selected: i.channelId === channelId }, channelName(i)))))
      : h("span", { class: "channel-fixed" }, identities[0] ? channelName(identities[0]) : "No channel");
    if (!state) {
      mount(bar, switcher);
      mount(notice, h("p", { class: "notice notice-block" }, "This contact has no channel identity yet: add one in the contact panel to write to them."));
      setWritable(false, false);
      return;
    }
    const badge = h("span", { class: "window-badge" });
    const tick = () => {
      const view = windowView(state);
      badge.className = `window-badge window-${view.tone}`;
      badge.textContent = view.text;
      if (view.expired) { clearInterval(tickTimer); load(); }
    };
    tick();
    tickTimer = setInterval(tick, 1000);
    const reminder = h("span", { class: "reminder-slot" });
    mount(bar, switcher, badge, quota(state, channelId), reminder);
    if (reminderOffered(state)) import("./reminder.js").then((m) => { reminder.replaceWith(m.reminderControl(contact.id)); });
    subject.hidden = state.channelType !== "email";
    renderNotice();
  }

  function renderNotice() {
    const allowed = state.allowed;
    const channel = channelLabel(state.channelType);
    let heading = null;
    let tone = "info";
    if (allowed.includes("none") && !state.sendsUndelivered) {
      heading = state.channelType === "instagram" ? "Wait for the contact to write" : "Nothing can be sent now";
      tone = "block";
    } else if (!canWrite(state) && allowed.includes("template")) {
      heading = `A ${channel} template is required`;
      tone = "warn";
    } else if (!canWrite(state) && allowed.includes("tagged_message")) {
      heading = "A message tag is required";
      tone = "warn";
    } else if (state.sendsUndelivered) {
      heading = "This message will not be delivered";
      tone = "block";
    } else if (allowed.includes("chatbot_initiated")) {
      heading = "Sent as a chatbot-initiated message";
      tone = "warn";
    }
    const options = [];
    if (state.sendsUndelivered && state.canQueue) {
      options.push(["queue", "Send when they write"], ["text", "Record without delivering"]);
    } else if (canWrite(state)) {
      options.push(["text", "Free text"]);
      if (allowed.includes("template")) options.push(["template", "Template"]);
    } else {
      if (allowed.includes("template")) options.push(["template", "Template"]);
      if (allowed.includes("tagged_message")) options.push(["text", "Message tag"]);
      if (state.canQueue) options.push(["queue", "Send when they write"]);
    }
    const tabs = options.length > 1
      ? h("div", { class: "segmented segmented-sm", role: "group", "aria-label": "Message type" },
        options.map(([key, label]) => h("button", {
          type: "button", class: ["seg", mode === key && "is-active"], "aria-pressed": String(mode === key),
          onclick: () => { mode = key; template = null; renderNotice(); loadTemplates(channelId).then(renderExtras); },
        }, label)))
      : null;
    mount(notice,
      heading || tone !== "info"
        ? h("div", { class: `notice notice-${tone}`, dataset: { testid: "composer-notice" } }, heading ? h("strong", null, heading) : null,
          error.hidden || error.textContent !== readable(state.reason) ? h("p", null, readable(state.reason)) : null,
          state.canQueue ? h("p", null, "You can queue a message: it is sent the moment they write, or given up after the time you pick.") : null)
        : h("p", { class: "notice-quiet", dataset: { testid: "composer-notice" } }, state.window.status === "none" ? "" : readable(state.reason)),
      otherWays(), tabs);
  }

  /** Where the window forbids free text: the contact's other channels, and the best one a click away. */
  function otherWays() {
    const options = canWrite(state) ? [] : (state.alternatives ?? []).filter((o) => identities.some((i) => i.channelId === o.channelId));
    if (!options.length) return null;
    const best = options.find((o) => o.best);
    return h("div", { class: "reach-others", dataset: { testid: "reach-others" } },
      h("span", null, h("strong", null, "Other ways to reach them: "),
        options.map((o) => `${channelLabel(o.channelType)}: ${o.summary}`).join(" · ")),
      best ? h("button", { type: "button", class: "btn btn-sm", onclick: () => switchTo(best.channelId) },
        `Switch to ${channelLabel(best.channelType)}`) : null);
  }

  function switchTo(id) {
    channelId = id;
    showError(null);
    load().then(() => { if (!textarea.disabled) textarea.focus(); });
  }

  function renderExtras(templates) {
    const allowed = state.allowed;
    if (mode === "template" && allowed.includes("template")) {
      const picker = templatePicker(templates, (choice) => { template = choice; updateSend(); });
      mount(extras, picker.el);
      setWritable(false, true);
    } else if (mode === "queue" && state.canQueue) {
      const id = uid("expiry");
      mount(extras, h("div", { class: "field field-inline" }, h("label", { for: id }, "Give up after"),
        h("select", { id, name: "expiry" }, QUEUE_DAYS.map((d) => h("option", { value: d, selected: d === 30 }, `${d} days`)))));
      setWritable(true, true);
    } else if (!canWrite(state) && allowed.includes("tagged_message")) {
      const tags = state.tags.filter((t) => t !== "HUMAN_AGENT");
      const id = uid("tag");
      mount(extras, h("div", { class: "field field-inline" }, h("label", { for: id }, "Message tag"),
        h("select", { id, name: "tag", required: true, onchange: updateSend },
          h("option", { value: "" }, "Choose the tag that fits…"),
          tags.map((t) => h("option", { value: t }, TAG_LABELS[t] ?? t)))));
      setWritable(true, true);
    } else {
      mount(extras);
      setWritable(canWrite(state), canWrite(state));
    }
    updateSend();
  }

  function setWritable(text, send) {
    textarea.disabled = !text;
    // A WhatsApp template's media header takes a file too.
    attach.setEnabled((text && mode !== "template") || (mode === "template" && state?.channelType === "whatsapp"));
    textarea.placeholder = mode === "queue" ? "Write the message to send when they next write…"
      : text ? "Write a reply…" : mode === "template" ? "Free text is not allowed now: send a template." : "You cannot write to this contact now.";
    sendButton.textContent = mode === "queue" ? "Queue message" : "Send";
    sendButton.disabled = !send;
  }

  function updateSend() {
    if (!state) return;
    if (mode === "template" && state.allowed.includes("template")) sendButton.disabled = sending || !template?.complete;
    else if (mode === "queue" && state.canQueue) sendButton.disabled = sending || attach.busy;
    else if (!canWrite(state) && state.allowed.includes("tagged_message")) sendButton.disabled = sending || !extras.querySelector("select")?.value;
    else sendButton.disabled = sending || attach.busy || !canWrite(state);
  }

  async function send() {
    if (sending || sendButton.disabled || !state) return;
    let body;
    if (mode === "template" && state.allowed.includes("template")) {
      if (!template?.complete) { showError("Fill in every parameter of the template."); return; }
      body = { channelId, template: { name: template.name, language: template.language, parameters: template.parameters } };
      if (attach.file) {
        if (!["image", "video", "document"].includes(attach.file.kind)) { showError("A template's header takes an image, a video or a document."); return; }
        body.attachmentIds = [attach.file.id];
      }
    } else {
      const text = textarea.value;
      const file = attach.file;
      if (!text.trim() && !file) { textarea.focus(); return; }
      // What the channel cannot take is said here, before anything is sent.
      const problem = attach.problem(state, text);
      if (problem) { showError(problem); return; }
      body = text.trim() ? { channelId, text } : { channelId };
      if (file) body.attachmentIds = [file.id];
      if (!subject.hidden && subject.value.trim()) body.subject = subject.value.trim();
      const tag = extras.querySelector("select[name=tag]")?.value;
      if (tag) body.tag = tag;
      if (mode === "queue" && state.canQueue) {
        const days = Number(extras.querySelector("select[name=expiry]")?.value ?? 30);
        body.deliver = "when_contact_writes";
        body.queueExpiresAt = new Date(Date.now() + days * 86400000).toISOString();
      }
    }
    // Keep the focus in the composer while the button is disabled (a disabled button drops it).
    if (document.activeElement === sendButton && !textarea.disabled) textarea.focus();
    sending = true;
    updateSend();
    showError(null);
    const result = await post(`/api/v1/contacts/${contact.id}/messages`, body);
    sending = false;
    if (!result.ok) {
      showError(result.error.message);
      // A refusal means the window or quota changed under us: show what is allowed now.
      if (result.status === 409) await load(); else updateSend();
      return;
    }
    stopTyping();
    textarea.value = "";
    subject.value = "";
    attach.clear();
    if (result.data.queued) toast("Queued: it is sent when the contact writes again");
    onSent(result.data.message, result.data.conversation);
    await load();
    // Back to writing, unless the agent has moved on meanwhile (Escape, a click elsewhere).
    if (form.contains(document.activeElement) && !textarea.disabled) textarea.focus();
  }

  load();
  return {
    el: form,
    focus() { (textarea.disabled ? form.querySelector("select, input:not([disabled])") : textarea)?.focus(); },
    reload: load,
    destroy() { clearInterval(tickTimer); stopTyping(); },
  };
}

/** The server's sentence with its ISO timestamps shown as local dates and times. */
function readable(text) {
  return text.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g, (iso) => fullTime(iso));
}

function canWrite(state) {
  return state.allowed.includes("free_text") || state.allowed.includes("chatbot_initiated") || state.sendsUndelivered;
}

function pickDefault(identities) {
  const sorted = [...identities].sort((a, b) => Date.parse(b.lastInboundAt ?? 0) - Date.parse(a.lastInboundAt ?? 0));
  return sorted[0]?.channelId ?? null;
}

function channelName(identity) {
  const channel = channelById(identity.channelId);
  const label = channelLabel(identity.channelType);
  if (!channel || channel.name === label) return label;
  return `${channel.name} · ${label}`;
}

/** The badge's text and tone now, with a live countdown while a window is open. */
function windowView(state) {
  const now = Date.now();
  const w = state.window;
  if (w.status === "none") return { text: "No messaging window", tone: "none" };
  const closes = w.closesAt ? Date.parse(w.closesAt) : null;
  if (w.status === "open" && closes) {
    const left = closes - now;
    if (left <= 0) return { text: "Window closing…", tone: "closed", expired: true };
    return { text: `Window open · free text for ${countdown(left)}`, tone: left < 4 * 3600000 ? "warn" : "open" };
  }
  const human = state.humanAgentUntil ? Date.parse(state.humanAgentUntil) : null;
  if (human && human > now && state.allowed.includes("free_text")) {
    return { text: `Window closed · human agent reply for ${countdown(human - now)}`, tone: "warn", expired: human - now < 1000 };
  }
  if (!closes) return { text: "Window closed · the contact has not written", tone: "closed" };
  return { text: `Window closed ${duration(now - closes)} ago`, tone: "closed" };
}

function quota(state, channelId) {
  if (state.channelType === "viber" && state.viberQuotaLeft != null) {
    const terms = channelById(channelId)?.commercialTermsAccepted;
    return h("span", { class: ["quota", state.viberQuotaLeft === 0 && "quota-out"] },
      `${state.viberQuotaLeft.toLocaleString()} free this month`, terms ? " · commercial terms accepted" : " · commercial terms not accepted");
  }
  if (state.channelType === "wechat" && state.weChatMessagesLeft != null) {
    return h("span", { class: ["quota", state.weChatMessagesLeft === 0 && "quota-out"] }, `${state.weChatMessagesLeft} of 20 messages left`);
  }
  return null;
}

/** While free text is allowed on a channel with a window, a reminder before it closes makes sense. */
function reminderOffered(state) {
  return state.window.status === "open"
    || (state.humanAgentUntil && Date.parse(state.humanAgentUntil) > Date.now() && state.allowed.includes("free_text"));
}
