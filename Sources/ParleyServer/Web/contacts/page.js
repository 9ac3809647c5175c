// The contacts page: search, create, edit, CSV import with progress and the rejected-lines
// report, and export.

import { h, mount } from "../lib/dom.js";
import { get, query } from "../lib/api.js";
import { isAdmin } from "../lib/store.js";
import { openDialog } from "../ui/dialog.js";
import { channelIcon, avatar } from "../ui/badges.js";
import { listTime } from "../lib/format.js";
import { toast } from "../ui/toast.js";
import { contactForm } from "./form.js";
import { importDialog } from "./import.js";

export function contactsPage(initialQuery) {
  let items = [];
  let cursor = null;
  let q = initialQuery.q ?? "";
  let generation = 0;

  const search = h("input", { type: "search", class: "search-input", placeholder: "Search name, phone or email", "aria-label": "Search contacts", value: q, dataset: { shortcut: "search" } });
  const body = h("tbody");
  const status = h("p", { class: "list-status", role: "status" });
  const more = h("button", { type: "button", class: "btn", hidden: true, onclick: () => load(false) }, "Load more");

  let debounce;
  search.addEventListener("input", () => { clearTimeout(debounce); debounce = setTimeout(() => { q = search.value.trim(); load(true); }, 250); });

  async function load(reset) {
    const mine = reset ? (generation += 1) : generation;
    if (reset) { items = []; cursor = null; }
    status.hidden = false;
    status.textContent = "Loading contacts…";
    const result = await get("/api/v1/contacts" + query({ q, limit: 50, cursor: reset ? undefined : cursor }));
    if (mine !== generation) return;
    if (!result.ok) { status.textContent = result.error.message; return; }
    items = items.concat(result.data.items);
    cursor = result.data.nextCursor;
    render();
  }

  function render() {
    mount(body, items.map((c) => h("tr", null,
      h("td", null, h("button", { type: "button", class: "contact-name", onclick: () => edit(c) }, avatar(c.name, "sm"), h("span", null, c.name || "Unnamed"))),
      h("td", null, c.email ?? ""),
      h("td", { class: "mono" }, c.phone ?? ""),
      h("td", null, h("span", { class: "cell-icons" }, c.identities.map((i) => channelIcon(i.channelType)))),
      h("td", null, h("span", { class: "tags" }, c.tags.map((t) => h("span", { class: "tag tag-static" }, t)))),
      h("td", { class: "muted" }, listTime(c.updatedAt)),
      h("td", { class: "cell-actions" }, h("a", { href: `/inbox/${c.id}`, class: "btn btn-sm" }, "Conversation")))));
    status.textContent = items.length ? "" : q ? "No contact matches this search." : "No contacts yet.";
    status.hidden = !status.textContent;
    more.hidden = !cursor;
  }

  async function edit(contact) {
    let close = () => {};
    const form = await contactForm(contact, { onSaved: (saved) => close(saved), onCancel: () => close(null) });
    const saved = await openDialog(contact ? `Edit ${contact.name}` : "New contact", (c) => { close = c; return h("div", { class: "dialog-body" }, form); }, { wide: true });
    if (!saved) return;
    toast(contact ? "Contact saved" : "Contact created");
    if (contact) { items = items.map((i) => (i.id === saved.id ? saved : i)); render(); } else load(true);
  }

  async function importCSV() {
    const done = await importDialog();
    if (done) load(true);
  }

  const admin = isAdmin();
  const el = h("div", { class: "admin-page" },
    h("div", { class: "admin-head" },
      h("div", null, h("h1", null, "Contacts"), h("p", { class: "muted" }, "Everyone your team talks to, on every channel.")),
      h("div", { class: "admin-actions" },
        admin ? h("a", { class: "btn", href: "/api/v1/contacts/export", download: "contacts.csv" }, "Export CSV") : null,
        admin ? h("button", { type: "button", class: "btn", onclick: importCSV }, "Import CSV") : null,
        h("button", { type: "button", class: "btn btn-primary", onclick: () => edit(null) }, "New contact"))),
    h("div", { class: "card" },
      h("div", { class: "card-toolbar" }, h("div", { class: "search" }, search)),
      h("table", { class: "table" },
        h("thead", null, h("tr", null, ["Name", "Email", "Phone", "Channels", "Tags", "Updated", ""].map((t) => h("th", { scope: "col" }, t)))),
        body),
      status,
      h("div", { class: "card-foot" }, more)));
  load(true);
  return { el };
}
