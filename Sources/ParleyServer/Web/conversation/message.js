// A timeline entry: a message bubble with its delivery mark, or an activity line.

import { h } from "../lib/dom.js";
import { clockTime, fullTime, channelLabel } from "../lib/format.js";
import { channelById, userName } from "../lib/store.js";
import { channelIcon } from "../ui/badges.js";
import { attachmentList, mapLink } from "./attachments.js";

const MARKS = {
  received: null,
  pending: { glyph: "◷", label: "Sending" },
  sent: { glyph: "✓", label: "Sent" },
  delivered: { glyph: "✓✓", label: "Delivered" },
  read: { glyph: "✓✓", label: "Read" },
  failed: { glyph: "!", label: "Failed" },
  undelivered: { glyph: "!", label: "Not delivered" },
  scheduled: { glyph: "◔", label: "Queued" },
  cancelled: { glyph: "⊘", label: "Cancelled" },
  expired: { glyph: "⊘", label: "Expired" },
};

// Parley's failure reasons, in words an agent can act on.
const REASONS = {
  template_required: "the window is closed and only a template may be sent",
  tag_required: "the window is closed and a message tag is required",
  contact_must_reply: "the contact must write first",
  viber_quota_exceeded: "this month's free Viber messages are used up",
  message_limit: "the window's message limit is used up",
  outside_window: "the channel's messaging window is closed",
  blocked: "the contact blocked this account",
  invalid_recipient: "the address is not valid on this channel",
  authentication_failed: "the channel's credentials were refused",
  rate_limited: "the provider is rate limiting",
  provider_error: "the provider refused it",
  retries_exhausted: "the provider could not be reached after several tries",
  delivery_uncertain: "delivery could not be confirmed, so it was not resent",
  queue_expired: "the contact did not write before the queued message expired",
  misconfigured: "the channel is not configured correctly",
};

export function mark(status) {
  const m = MARKS[status];
  if (!m) return null;
  return h("span", { class: `mark mark-${status}`, dataset: { status }, title: m.label },
    h("span", { class: "mark-glyph", "aria-hidden": "true" }, m.glyph), h("span", { class: "mark-label" }, m.label));
}

export function failureText(message) {
  const reason = REASONS[message.failureReason] ?? (message.failureReason ? message.failureReason.replaceAll("_", " ") : null);
  const provider = [message.providerErrorCode, message.providerErrorText].filter(Boolean).join(": ");
  const head = message.status === "undelivered" ? "Recorded but not delivered" : "Not delivered";
  return `${head}${reason ? `: ${reason}` : ""}${provider ? ` (${provider})` : ""}.`;
}

// How an inbound kind other than plain text is named above its bubble ("Location", "Sticker").
function contentLabel(message) {
  if (message.contentKind === "template") return "Template";
  if (message.contentKind === "tagged") return "Tagged message";
  if (!message.contentKind || message.contentKind === "text" || message.direction === "outbound") return null;
  const words = message.contentKind.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The text, without a placeholder ("[image]", "[document] invoice.pdf") when the file itself is shown. */
function shownText(message) {
  const text = message.text ?? "";
  const placeholder = /^\[[a-z_ ]+\](?: (.*))?$/.exec(text);
  if (!message.attachments?.length || !placeholder) return text;
  const rest = placeholder[1];
  return !rest || message.attachments.some((a) => a.fileName === rest) ? "" : text;
}

/** onChange(message): a queued message was edited or cancelled here. */
export function messageItem(message, onChange) {
  const outbound = message.direction === "outbound";
  const channel = channelById(message.channelId);
  const who = outbound
    ? (message.senderKind === "user" ? userName(message.senderUserId) : message.senderKind === "workflow" ? "Automation" : "Parley")
    : null;
  const failed = message.status === "failed" || message.status === "undelivered";
  const kindLabel = contentLabel(message);
  const deleted = Boolean(message.deletedAt);
  const waiting = ["scheduled", "cancelled", "expired"].includes(message.status);
  // Email: the subject above the text, what was attached below it, automatic replies named.
  const mail = message.details ?? {};
  return h("li", { class: ["msg", outbound ? "msg-out" : "msg-in", failed && "msg-failed", deleted && "msg-deleted", waiting && `msg-${message.status}`],
                   dataset: { messageId: message.id, kind: message.contentKind } },
    h("div", { class: "bubble" },
      kindLabel ? h("span", { class: "bubble-kind" }, kindLabel) : null,
      mail.automatic ? h("span", { class: "bubble-kind" }, "Automatic reply") : null,
      mail.subject ? h("p", { class: "bubble-subject" }, mail.subject) : null,
      deleted
        ? h("p", { class: "bubble-text bubble-deleted" }, "The contact deleted this message.")
        : shownText(message) || !message.attachments?.length ? h("p", { class: "bubble-text" }, shownText(message)) : null,
      deleted ? null : attachmentList(message.attachments),
      mapLink(message),
      mail.attachments && !message.attachments?.length ? h("p", { class: "bubble-attachments" }, "Attached: " + mail.attachments) : null),
    h("div", { class: "msg-meta" },
      channel ? channelIcon(channel.type) : null,
      h("span", null, channel ? channel.name : channelLabel("")),
      who ? h("span", null, who) : null,
      h("time", { datetime: message.createdAt, title: fullTime(message.providerTimestamp ?? message.createdAt) }, clockTime(message.createdAt)),
      message.editedAt && !deleted
        ? h("span", { class: "msg-edited", title: `Edited ${fullTime(message.editedAt)}` }, "edited") : null,
      deleted ? h("span", { class: "msg-edited", title: `Deleted ${fullTime(message.deletedAt)}` }, "deleted") : null,
      outbound ? mark(message.status) : null),
    failed ? h("p", { class: "msg-failure", role: "note" }, failureText(message)) : null,
    waiting ? lazyQueuedNote(message, onChange) : null);
}

export function activityItem(activity, at) {
  const actor = activity.actor?.name;
  const d = activity.details ?? {};
  let text;
  if (activity.kind === "opened") text = actor ? `${actor} opened the conversation` : "Conversation opened";
  else if (activity.kind === "closed") {
    text = `${actor ?? "Parley"} closed the conversation${d.unassigned ? " and unassigned it" : ""}`;
  } else if (activity.kind === "assigned") {
    const to = d.assigneeId ? userName(d.assigneeId) : null;
    const self = activity.actor && activity.actor.id === d.assigneeId;
    text = to ? `${actor && !self ? `${actor} assigned` : "Assigned"} to ${to}` : `${actor ?? "Parley"} unassigned the conversation`;
  } else text = activity.kind;
  const note = activity.kind === "closed" && (d.category || d.summary)
    ? h("span", { class: "activity-note" }, [d.category, d.summary].filter(Boolean).join(" — ")) : null;
  return h("li", { class: ["activity", `activity-${activity.kind}`] },
    h("span", { class: "activity-text" }, text, " · ", h("time", { datetime: at, title: fullTime(at) }, clockTime(at))), note);
}

/** The queued-message note, loaded the first time a timeline shows one (most never do). */
function lazyQueuedNote(message, onChange) {
  const slot = h("div", { class: "msg-queue" });
  import("./queued.js").then((m) => { const note = m.queuedNote(message, onChange); if (note) slot.replaceWith(note); else slot.remove(); });
  return slot;
}
