// The realtime stream: one WebSocket that resumes from the last event id it saw, so a
// reconnect misses nothing and gets nothing twice. Stored events go to `onEvent` handlers;
// counts, typing and presence frames update the store directly.

import { setState, getState } from "./store.js";

const handlers = new Set();
const resetHandlers = new Set();
let socket = null;
let lastId = null;
let backoff = 500;
let retryTimer = null;
let stopped = true;
let pingTimer = null;

/** fn(event) for every stored event ({id, type, at, data}); returns the unsubscribe function. */
export function onEvent(fn) { handlers.add(fn); return () => handlers.delete(fn); }
/** fn() when the server says our position is too old: lists must be reloaded. */
export function onReset(fn) { resetHandlers.add(fn); return () => resetHandlers.delete(fn); }

export function connect() {
  stopped = false;
  open();
}

export function disconnect() {
  stopped = true;
  clearTimeout(retryTimer);
  clearInterval(pingTimer);
  if (socket) socket.close(1000);
  socket = null;
  lastId = null;
  setState({ connection: "offline", presence: [] });
}

/** Sends a client frame if the socket is open (typing, ping); dropped otherwise. */
export function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

function open() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const after = lastId == null ? "" : `?after=${encodeURIComponent(lastId)}`;
  setState({ connection: "connecting" });
  const ws = new WebSocket(`${scheme}//${location.host}/api/v1/events${after}`);
  socket = ws;
  ws.addEventListener("message", (message) => {
    let frame;
    try { frame = JSON.parse(message.data); } catch { return; }
    receive(frame);
  });
  ws.addEventListener("open", () => {
    backoff = 500;
    clearInterval(pingTimer);
    // Keeps proxies from closing an idle connection.
    pingTimer = setInterval(() => send({ type: "ping" }), 25000);
  });
  ws.addEventListener("close", () => {
    clearInterval(pingTimer);
    if (socket !== ws) return;
    socket = null;
    if (stopped) return;
    setState({ connection: "connecting" });
    // Any close but our own (4000 slow consumer, 1001/1012 restart, network loss) resumes
    // from the last id, backing off 0.5 s doubling to 10 s.
    retryTimer = setTimeout(open, backoff);
    backoff = Math.min(backoff * 2, 10000);
  });
}

function receive(frame) {
  switch (frame.type) {
    case "hello":
      if (lastId == null && frame.data?.after != null) lastId = frame.data.after;
      return;
    case "ready":
      setState({ connection: "live" });
      return;
    case "reset":
      if (frame.data?.after != null) lastId = frame.data.after;
      for (const fn of resetHandlers) fn();
      return;
    case "counts":
      setState({ counts: frame.data });
      return;
    case "presence":
      setState({ presence: frame.data?.online ?? [] });
      return;
    case "typing":
      return typing(frame.data);
    case "pong":
    case "error":
      return;
    default:
      if (typeof frame.id === "number") {
        if (lastId != null && frame.id <= lastId) return; // already seen
        lastId = frame.id;
        for (const fn of handlers) fn(frame);
      }
  }
}

function typing(data) {
  if (!data?.user || (!data.visitor && data.user.id === getState().session?.user?.id)) return;
  const all = { ...getState().typing };
  const forContact = { ...(all[data.contactId] ?? {}) };
  // A website chat visitor types as the contact itself.
  const who = data.visitor ? "visitor" : data.user.id;
  if (data.typing) forContact[who] = { name: data.user.name, until: Date.now() + 6000 };
  else delete forContact[who];
  all[data.contactId] = forContact;
  setState({ typing: all });
}
