// Settings: workspace, users and channels for owners and managers; API tokens for everyone.

import { h } from "../lib/dom.js";
import { isAdmin } from "../lib/store.js";

const SECTIONS = [
  { key: "workspace", label: "Workspace", admin: true, load: () => import("./workspace.js").then((m) => m.workspaceSettings()) },
  { key: "users", label: "Users", admin: true, load: () => import("./users.js").then((m) => m.usersSettings()) },
  { key: "channels", label: "Channels", admin: true, load: () => import("./channels.js").then((m) => m.channelsSettings()) },
  { key: "workflows", label: "Workflows", admin: true, load: () => import("./workflows.js").then((m) => m.workflowsSettings()) },
  { key: "webhooks", label: "Webhooks", admin: true, load: () => import("./webhooks.js").then((m) => m.webhooksSettings()) },
  { key: "tokens", label: "API tokens", admin: false, load: () => import("./tokens.js").then((m) => m.tokensSettings()) },
];

export async function settingsPage(params) {
  const available = SECTIONS.filter((s) => !s.admin || isAdmin());
  const section = available.find((s) => s.key === params.section);
  if (!section) return { redirect: `/settings/${available[0].key}` };
  const content = await section.load();
  const el = h("div", { class: "admin-page settings" },
    h("nav", { class: "settings-nav", "aria-label": "Settings" },
      h("h1", null, "Settings"),
      h("ul", null, available.map((s) => h("li", null,
        h("a", { href: `/settings/${s.key}`, class: "settings-link", "aria-current": s === section ? "page" : null }, s.label))))),
    h("div", { class: "settings-body" }, content.el));
  return { el, destroy: content.destroy };
}
