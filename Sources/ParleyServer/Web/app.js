// Entry point: restores the session, loads what every page shares once (users, channels,
// workspace settings, counts), opens the realtime stream and starts the router.

import { get, setCsrfToken, whenSignedOut, all } from "./lib/api.js";
import { getState, setState } from "./lib/store.js";
import { route, fallback, start, navigate, unmount } from "./lib/router.js";
import * as events from "./lib/events.js";
import { shell } from "./ui/shell.js";
import { installShortcuts } from "./ui/shortcuts.js";
import { useStyles } from "./lib/styles.js";

/** Called after sign-in or setup with the session body. */
export async function signedIn(session) {
  setCsrfToken(session.csrfToken);
  setState({ session });
  await loadShared();
  events.connect();
}

export function signedOut() {
  unmount();
  events.disconnect();
  setCsrfToken(null);
  setState({ session: null, users: [], channels: [], settings: null, counts: null, selected: null });
}

async function loadShared() {
  const [users, channels, settings, counts] = await Promise.all([
    all("/api/v1/users"), all("/api/v1/channels"), get("/api/v1/workspace/settings"), get("/api/v1/conversations/counts"),
  ]);
  setState({
    users: users.ok ? users.data : [],
    channels: channels.ok ? channels.data : [],
    settings: settings.ok ? settings.data : null,
    counts: counts.ok ? counts.data : null,
  });
  // An agent whose workspace hides All starts in Mine (the server refuses All to them).
  const hidden = session().user.role === "agent" && (getState().settings?.agentsSeeAll === false || getState().counts?.all === null);
  if (hidden && getState().filters.view === "all") setState({ filters: { ...getState().filters, view: "mine" } });
}

const session = () => getState().session;

// Pages that need a session render inside the shell; without one they go to /login.
function guarded(load) {
  return async (params, query) => {
    if (!getState().session) return { redirect: "/login" };
    const page = await load(params, query);
    return page.redirect ? page : shell(page);
  };
}

whenSignedOut(() => {
  if (!getState().session) return;
  signedOut();
  navigate("/login");
});

events.onEvent((event) => {
  // Changes to what every page shares: refetch it (it is small and rare).
  if (event.type.startsWith("channel.")) all("/api/v1/channels").then((r) => r.ok && setState({ channels: r.data }));
  if (event.type.startsWith("user.")) all("/api/v1/users").then((r) => r.ok && setState({ users: r.data }));
  if (event.type.startsWith("workspace.")) get("/api/v1/workspace/settings").then((r) => r.ok && setState({ settings: r.data }));
});

// The sign-in and setup pages load only when shown: a signed-in start never needs them.
route("/login", async () => (getState().session ? { redirect: "/inbox" } : (await import("./auth/login.js")).loginPage()));
route("/setup", async () => (await import("./auth/setup.js")).setupPage());
route("/", async () => ({ redirect: getState().session ? "/inbox" : "/login" }));
route("/inbox/:contactId?", guarded(async (params) => (await import("./inbox/page.js")).inboxPage(params)));
route("/contacts", guarded(async (params, query) => {
  const [page] = await Promise.all([import("./contacts/page.js"), useStyles("settings/admin.css")]);
  return page.contactsPage(query);
}));
route("/settings/:section?", guarded(async (params) => {
  const [page] = await Promise.all([import("./settings/page.js"), useStyles("settings/admin.css")]);
  return page.settingsPage(params);
}));
fallback(guarded(async () => ({ redirect: "/inbox" })));

async function boot() {
  const session = await get("/api/v1/auth/session", { quiet401: true });
  if (session.ok) await signedIn(session.data);
  installShortcuts();
  await start(document.getElementById("app"));
}

boot();
