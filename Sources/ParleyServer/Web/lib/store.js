// One small store for the state several views share. Views subscribe and re-render the parts
// whose keys changed; nothing else holds global state.

const state = {
  session: null,        // {user, workspace, csrfToken, expiresAt}
  users: [],            // the workspace's users, loaded once (assignee names, the picker)
  channels: [],         // connected channels, loaded once (names and types in rows and timelines)
  settings: null,       // workspace settings (closing note mode, categories…)
  counts: null,         // {all, mine, unassigned}: {open, unread} | null
  filters: { view: "all", status: "open", channel: "", tag: "", assignee: "", sort: "newest", q: "", closingWithin: null },
  selected: null,       // the contact id whose conversation is open
  presence: [],         // [{id, name}] online now
  typing: {},           // contactId → {userId → {name, until}}
  connection: "offline" // realtime: offline | connecting | live
};
const listeners = new Set();

export function getState() { return state; }

/** Merges `patch` into the state and tells subscribers which keys changed. */
export function setState(patch) {
  const changed = [];
  for (const [key, value] of Object.entries(patch)) {
    if (state[key] !== value) { state[key] = value; changed.push(key); }
  }
  if (changed.length) for (const fn of [...listeners]) fn(changed, state);
}

/** fn(changedKeys, state); returns the unsubscribe function. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function userName(id) {
  return state.users.find((u) => u.id === id)?.name ?? "Someone";
}

export function channelById(id) {
  return state.channels.find((c) => c.id === id) ?? null;
}

export function isAdmin() {
  const role = state.session?.user?.role;
  return role === "owner" || role === "manager";
}
