// Formatting of times, durations and channel names, shared by the list, timeline and composer.

export const CHANNELS = {
  whatsapp: { label: "WhatsApp", short: "WA" },
  messenger: { label: "Messenger", short: "FB" },
  instagram: { label: "Instagram", short: "IG" },
  viber: { label: "Viber", short: "VB" },
  wechat: { label: "WeChat", short: "WC" },
  telegram: { label: "Telegram", short: "TG" },
  line: { label: "LINE", short: "LN" },
  sms: { label: "SMS", short: "SMS" },
  email: { label: "Email", short: "@" },
  webchat: { label: "Website chat", short: "WEB" },
};

export const channelLabel = (type) => CHANNELS[type]?.label ?? type;

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });
const dayYearFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "long", year: "numeric" });
const shortDateFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export const clockTime = (date) => timeFmt.format(new Date(date));
export const fullTime = (date) => fullFmt.format(new Date(date));

/** A list row's time: 14:05 today, "Mon" this week, else "3 Mar". */
export function listTime(value) {
  const date = new Date(value);
  const now = new Date();
  if (sameDay(date, now)) return timeFmt.format(date);
  const days = (now - date) / 86400000;
  if (days < 6) return new Intl.DateTimeFormat(undefined, { weekday: "short" }).format(date);
  return shortDateFmt.format(date);
}

/** Day separator text: Today, Yesterday, or the date. */
export function dayLabel(value) {
  const date = new Date(value);
  const now = new Date();
  if (sameDay(date, now)) return "Today";
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (sameDay(date, yesterday)) return "Yesterday";
  return date.getFullYear() === now.getFullYear() ? dayFmt.format(date) : dayYearFmt.format(date);
}

export function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** 2 h 05 min, 45 min, 3 d 4 h: a compact positive duration. */
export function duration(ms) {
  const minutes = Math.max(0, Math.floor(ms / 60000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** H:MM:SS for the composer's live countdown. */
export function countdown(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

/** A row's compact window badge: "1 h left", "Closed", or null when the channel has none. */
export function windowBadge(window) {
  if (!window || window.status === "none") return null;
  if (window.status === "closed" || !window.closesAt) return { text: "Window closed", tone: "muted" };
  const left = new Date(window.closesAt) - Date.now();
  if (left <= 0) return { text: "Window closed", tone: "muted" };
  const hours = left / 3600000;
  const text = hours < 1 ? `${Math.max(1, Math.floor(left / 60000))} min left` : `${Math.floor(hours)} h left`;
  return { text, tone: hours < 4 ? "warn" : "ok" };
}

export function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter((p) => /\p{L}/u.test(p));
  const letters = parts.slice(0, 2).map((p) => p.match(/\p{L}/u)[0]);
  return (letters.join("") || "?").toUpperCase();
}

/** A stable hue per name, so a contact keeps its avatar colour everywhere. */
export function hue(text) {
  let hash = 0;
  for (const ch of String(text)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
}
