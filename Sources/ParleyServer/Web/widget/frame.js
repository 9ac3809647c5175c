// The website chat panel, running in Parley's iframe on a customer's site. Visitor text is
// only ever set as textContent. The host page talks to it through postMessage (see loader.js).
const config = JSON.parse(document.getElementById("parley-config").textContent);
const host = (location.ancestorOrigins && location.ancestorOrigins[0]) || new URLSearchParams(location.search).get("host") || "";
const storageKey = "parley:v1:" + config.channel;
const state = { token: load(), visitor: null, messages: new Map(), open: false, unread: 0, hasMore: false, socket: null, retry: 0 };
let lastTyping = 0;
let typingTimer = 0;

function load() { try { return localStorage.getItem(storageKey); } catch { return null; } }
function save(token) { state.token = token; try { token ? localStorage.setItem(storageKey, token) : localStorage.removeItem(storageKey); } catch { /* private mode: this tab only */ } }

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value !== false && value != null) el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child != null) el.append(child);
  return el;
}

function toParent(message) { if (host && window.parent !== window) window.parent.postMessage(message, host); }

async function call(method, path, body) {
  const headers = { "X-Parley-Host": host };
  if (state.token) headers["X-Parley-Visitor"] = state.token;
  if (body) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body && JSON.stringify(body), credentials: "omit" });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(data.error?.message || response.statusText), { status: response.status, code: data.error?.code });
  return data;
}

// A file goes up first; the message then names it.
async function upload(file) {
  const headers = { "X-Parley-Host": host, "X-Parley-Visitor": state.token, "Content-Type": file.type || "application/octet-stream" };
  const response = await fetch(`/widget/v1/attachments?fileName=${encodeURIComponent(file.name)}`, { method: "POST", headers, body: file, credentials: "omit" });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(data.error?.message || response.statusText), { status: response.status });
  return data;
}

// ---- The view

document.documentElement.style.setProperty("--brand", config.color);
const badge = h("span", { class: "badge", hidden: true, "aria-hidden": "true" });
const bubble = h("button", { class: "bubble", type: "button", "aria-label": "Open chat", "aria-expanded": "false", onclick: () => setOpen(!state.open) },
  h("span", { class: "icon", "aria-hidden": "true" }), badge);
const log = h("ol", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Messages" });
const intro = h("p", { class: "intro" });
const typing = h("p", { class: "typing", "aria-live": "polite" });
const notice = h("p", { class: "notice", role: "alert", hidden: true });
const text = h("textarea", { name: "text", rows: "1", maxlength: "4096", placeholder: "Write a message…", "aria-label": "Message", required: true,
  onkeydown: (e) => { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); } },
  oninput: signalTyping, onblur: () => stopTyping() });
const nameField = h("input", { name: "name", autocomplete: "name", maxlength: "100", "aria-label": "Your name", placeholder: "Your name" });
const emailField = h("input", { name: "email", type: "email", autocomplete: "email", maxlength: "254", "aria-label": "Your email", placeholder: "Your email", required: true });
const fileInput = h("input", { type: "file", hidden: true, onchange: () => pick(fileInput.files?.[0]) });
const attach = h("button", { type: "button", class: "attach", "aria-label": "Attach a file", onclick: () => fileInput.click() },
  h("span", { "aria-hidden": "true" }, "+"));
const chip = h("p", { class: "chip", hidden: true });
const prechat = h("fieldset", { class: "prechat", hidden: true }, h("legend", {}, "Before we start"), nameField, emailField);
// Validated by hand: a hidden pre-chat field must not block the form.
const form = h("form", { class: "composer", novalidate: true, onsubmit: send }, prechat, chip, fileInput,
  h("div", { class: "row" }, attach, text, h("button", { type: "submit", class: "send", "aria-label": "Send" }, h("span", { "aria-hidden": "true" }, "➤"))));
const panel = h("section", { class: "panel", hidden: true, "aria-label": config.name },
  h("header", {}, h("h1", {}, config.name), h("button", { type: "button", class: "close", "aria-label": "Close chat", onclick: () => setOpen(false) }, "×")),
  h("div", { class: "scroll" }, intro, log, typing), notice, form);
document.body.append(panel, bubble);
performance.mark("parley-bubble");
intro.textContent = config.offline ? config.offlineText : config.greeting;
toParent({ type: "parley:ready" });

function setOpen(open) {
  state.open = open;
  panel.hidden = !open;
  document.body.classList.toggle("open", open);
  bubble.setAttribute("aria-expanded", String(open));
  bubble.setAttribute("aria-label", open ? "Close chat" : "Open chat");
  toParent({ type: "parley:state", open });
  if (open) { markRead(); scrollDown(); (prechat.hidden ? text : nameField).focus(); }
}

function renderMessage(message) {
  const time = new Date(message.at);
  const item = h("li", { class: "msg " + message.from, "data-id": message.id },
    message.author ? h("span", { class: "author" }, message.author) : null,
    message.attachments?.length && /^\[[a-z]+\]/.test(message.text) ? null : h("p", { class: "text" }, message.text),
    (message.attachments || []).map(fileView),
    h("time", { datetime: message.at, title: time.toLocaleString() }, time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
  const existing = log.querySelector(`li[data-id="${message.id}"]`);
  if (existing) { existing.replaceWith(item); return; }
  // Keep id order: a message may arrive on the socket before the answer to its own POST.
  const later = [...log.children].find((li) => Number(li.dataset.id) > message.id);
  log.insertBefore(item, later || null);
}

function fileView(file) {
  if (!file.url) return h("p", { class: "text file" }, file.status === "failed" ? `${file.fileName}: not kept` : "A file is on its way…");
  if (file.kind === "image" || file.kind === "sticker") return h("a", { class: "file", href: file.url, target: "_blank", rel: "noopener" }, h("img", { src: file.url, alt: file.fileName, loading: "lazy" }));
  return h("a", { class: "text file", href: file.url, download: file.fileName }, `↓ ${file.fileName}`);
}

async function pick(file) {
  fileInput.value = "";
  if (!file || !state.token) return;
  chip.textContent = `Uploading ${file.name}…`;
  chip.hidden = false;
  try {
    state.file = await upload(file);
    chip.textContent = `${state.file.fileName} — ready to send`;
    showNotice("");
  } catch (error) {
    state.file = null;
    chip.hidden = true;
    showNotice(error.message);
  }
}

function upsert(message) {
  const known = state.messages.has(message.id);
  state.messages.set(message.id, message);
  renderMessage(message);
  if (!known && message.from === "agent") {
    typing.textContent = "";
    send$({ type: "delivered", through: message.id });
    toParent({ type: "parley:event", name: "message", detail: { text: message.text, author: message.author, at: message.at } });
    if (state.open && document.visibilityState === "visible") markRead();
    else setUnread(state.unread + 1);
  }
  scrollDown();
}

function setUnread(count) {
  state.unread = count;
  badge.hidden = count === 0;
  badge.textContent = count > 9 ? "9+" : String(count);
  bubble.setAttribute("aria-label", count ? `Open chat, ${count} unread` : state.open ? "Close chat" : "Open chat");
}

let readThrough = 0;
function markRead() {
  const newest = Math.max(0, ...[...state.messages.values()].filter((m) => m.from === "agent" && m.status !== "read").map((m) => m.id));
  if (newest > readThrough) { readThrough = newest; send$({ type: "read", through: newest }); }
  setUnread(0);
}

function scrollDown() { const scroll = panel.querySelector(".scroll"); scroll.scrollTop = scroll.scrollHeight; }

function showNotice(message) { notice.textContent = message || ""; notice.hidden = !message; }

// ---- Talking to Parley

let generation = 0;
async function start(body) {
  // The newest start wins: a setUser right after load must not be undone by the first answer.
  const mine = ++generation;
  try {
    const session = await call("POST", "/widget/v1/session", { channel: config.channel, token: state.token, ...body });
    if (mine !== generation) return;
    save(session.token);
    state.visitor = session.visitor;
    state.messages.clear();
    log.replaceChildren();
    session.messages.forEach((m) => { state.messages.set(m.id, m); renderMessage(m); });
    intro.textContent = session.offline ? config.offlineText : config.greeting;
    prechat.hidden = !(config.prechatForm && !session.visitor.known && !session.visitor.verified);
    setUnread(state.open ? 0 : session.unread);
    if (state.open) markRead();
    showNotice("");
    connect();
    scrollDown();
  } catch (error) {
    if (mine !== generation) return;
    showNotice(error.code === "identity_mismatch" ? "We could not confirm who you are. Reload the page or sign in again." : "Chat is unavailable right now.");
    toParent({ type: "parley:event", name: "error", detail: { code: error.code || "network", message: error.message } });
    if (error.code !== "identity_mismatch" && error.code !== "origin_not_allowed" && error.status !== 404) setTimeout(() => start(body), backoff());
  }
}

function backoff() { state.retry = Math.min(state.retry + 1, 6); return 500 * 2 ** state.retry; }

function connect() {
  if (state.socket) { state.socket.onclose = null; state.socket.close(); }
  const url = new URL("/widget/v1/events?host=" + encodeURIComponent(host), location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(url, ["parley-visitor", state.token]);
  state.socket = socket;
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "ready") state.retry = 0;
    else if (frame.type === "message") upsert(frame.data);
    else if (frame.type === "typing") showTyping(frame.data);
  };
  // Reconnecting reloads the latest messages, so nothing sent meanwhile is missed.
  socket.onclose = () => { if (state.socket === socket) setTimeout(() => start({}), backoff()); };
}

function send$(frame) { if (state.socket?.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame)); }

let typingHide = 0;
function showTyping({ typing: on, name }) {
  clearTimeout(typingHide);
  typing.textContent = on ? `${name} is typing…` : "";
  if (on) typingHide = setTimeout(() => { typing.textContent = ""; }, 6000);
}

function signalTyping() {
  clearTimeout(typingTimer);
  typingTimer = setTimeout(stopTyping, 4000);
  if (Date.now() - lastTyping > 3000) { lastTyping = Date.now(); send$({ type: "typing", typing: true }); }
}
function stopTyping() { if (lastTyping) { lastTyping = 0; send$({ type: "typing", typing: false }); } }

async function send(event) {
  event.preventDefault();
  const body = text.value.trim();
  const file = state.file;
  if ((!body && !file) || !state.token) return;
  const request = { text: body, clientId: crypto.randomUUID() };
  if (file) request.attachmentIds = [file.id];
  if (!prechat.hidden) {
    if (!emailField.value.trim() || !emailField.checkValidity()) { showNotice("Please leave your email so we can reply."); emailField.focus(); return; }
    request.name = nameField.value.trim();
    request.email = emailField.value.trim();
  }
  text.value = "";
  stopTyping();
  const sending = h("li", { class: "msg visitor sending", "aria-label": "Sending" }, h("p", { class: "text" }, body || file.fileName));
  log.append(sending);
  scrollDown();
  for (let attempt = 0; ; attempt++) {
    try {
      upsert(await call("POST", "/widget/v1/messages", request));
      prechat.hidden = true;
      if (file) { state.file = null; chip.hidden = true; }
      state.visitor = { ...state.visitor, known: true };
      showNotice("");
      break;
    } catch (error) {
      // The same clientId makes a retry safe: the message is stored once.
      if (error.status >= 500 || error.status === undefined) { if (attempt < 3) { await new Promise((r) => setTimeout(r, 1000 * (attempt + 1))); continue; } }
      showNotice(error.status === 429 ? "You're sending messages quickly — please wait a moment." : error.message);
      if (!text.value) text.value = body;
      break;
    }
  }
  sending.remove();
}

// ---- The host page's API (window.Parley in loader.js)

window.addEventListener("message", (event) => {
  if (event.source !== window.parent || event.origin !== host || !event.data) return;
  const { type, user } = event.data;
  if (type === "parley:layout") document.body.classList.toggle("small", Boolean(event.data.small));
  else if (type === "parley:open") setOpen(true);
  else if (type === "parley:close") setOpen(false);
  else if (type === "parley:reset") { save(null); start({}); }
  else if (type === "parley:setUser" && user && typeof user.identifier === "string") {
    start({ user: { identifier: user.identifier, identifierHash: user.identifierHash, name: user.name, email: user.email } });
  }
});

document.addEventListener("visibilitychange", () => { if (state.open && document.visibilityState === "visible") markRead(); });
document.addEventListener("keydown", (e) => { if (e.key === "Escape" && state.open) { setOpen(false); bubble.focus(); } });
setInterval(() => send$({ type: "ping" }), 25000);
start({});
