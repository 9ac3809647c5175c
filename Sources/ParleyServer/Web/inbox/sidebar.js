// The inbox's left pane: views with live counts, "Windows closing soon", status, filters, sort.

import { h, mount, uid, keepFocus } from "../lib/dom.js";
import { getState, setState, subscribe } from "../lib/store.js";
import { channelLabel } from "../lib/format.js";

const VIEWS = [["all", "All"], ["mine", "Mine"], ["unassigned", "Unassigned"]];
const HOURS = [1, 2, 4, 8, 12, 24, 48, 168];

function setFilters(patch) {
  setState({ filters: { ...getState().filters, ...patch } });
}

export function sidebar() {
  const views = h("ul", { class: "views" });
  const closing = h("div", { class: "closing" });
  const status = h("div", { class: "segmented", role: "group", "aria-label": "Status" });
  const filters = h("div", { class: "filters" });

  const render = () => {
    const { filters: f, counts, session } = getState();
    const allHidden = counts && counts.all === null || session.user.role === "agent" && getState().settings?.agentsSeeAll === false;
    mount(views, VIEWS.filter(([key]) => key !== "all" || !allHidden).map(([key, label]) => {
      const c = counts?.[key];
      const active = f.view === key && !f.closingWithin;
      return h("li", null, h("button", {
        type: "button", class: ["view", active && "is-active"], "aria-pressed": String(active), dataset: { focusKey: `view-${key}` },
        onclick: () => setFilters({ view: key, closingWithin: null }),
      }, h("span", { class: "view-label" }, label),
      c ? h("span", { class: "view-count" },
        c.unread ? h("span", { class: "count-unread", title: `${c.unread} with unread messages` }, c.unread) : null,
        h("span", { class: "count-open", title: `${c.open} open` }, c.open)) : null));
    }));

    const hoursId = uid("hours");
    const active = Boolean(f.closingWithin);
    const select = h("select", { id: hoursId, class: "select-inline", dataset: { focusKey: "hours" }, onchange: (e) => setFilters({ closingWithin: Number(e.target.value), status: "open" }) },
      HOURS.map((n) => h("option", { value: n, selected: (f.closingWithin ?? 24) === n }, n < 48 ? `${n} h` : `${n / 24} days`)));
    mount(closing,
      h("button", { type: "button", class: ["view", "view-closing", active && "is-active"], "aria-pressed": String(active), dataset: { focusKey: "closing" },
        onclick: () => setFilters({ closingWithin: active ? null : Number(select.value), status: "open" }) },
        h("span", { class: "view-label" }, h("span", { class: "clock-icon", "aria-hidden": "true" }), "Windows closing soon")),
      h("div", { class: "closing-hours" }, h("label", { for: hoursId }, "Closing within"), select));

    mount(status, [["open", "Open"], ["closed", "Closed"], ["all", "All"]].map(([key, label]) =>
      h("button", { type: "button", class: ["seg", f.status === key && "is-active"], "aria-pressed": String(f.status === key), dataset: { focusKey: `status-${key}` },
        disabled: active && key !== "open", onclick: () => setFilters({ status: key }) }, label)));

    const channel = h("select", { onchange: (e) => setFilters({ channel: e.target.value }) },
      h("option", { value: "" }, "All channels"),
      getState().channels.map((c) => h("option", { value: c.id, selected: String(c.id) === String(f.channel) }, `${c.name} (${channelLabel(c.type)})`)));
    const assignee = h("select", { onchange: (e) => setFilters({ assignee: e.target.value }) },
      h("option", { value: "" }, "Anyone"),
      getState().users.map((u) => h("option", { value: u.id, selected: String(u.id) === String(f.assignee) }, u.name)));
    const tag = h("input", { type: "text", value: f.tag, placeholder: "e.g. vip", autocomplete: "off" });
    tag.addEventListener("change", () => setFilters({ tag: tag.value.trim() }));
    const sort = h("select", { disabled: active, onchange: (e) => setFilters({ sort: e.target.value }) },
      [["newest", "Newest activity"], ["oldest", "Oldest activity"], ["waiting", "Waiting longest"]].map(([v, l]) => h("option", { value: v, selected: f.sort === v }, l)));
    const row = (label, control) => {
      control.id = uid("filter");
      control.dataset.focusKey = label;
      return h("div", { class: "field field-compact" }, h("label", { for: control.id }, label), control);
    };
    mount(filters, row("Channel", channel), row("Assignee", assignee), row("Tag", tag), row("Sort", active ? Object.assign(sort, { title: "Closing soon is sorted by the time the window closes" }) : sort));
  };

  render();
  const unsubscribe = subscribe((keys) => {
    if (keys.some((k) => ["filters", "counts", "channels", "users", "settings"].includes(k))) keepFocus(el, render);
  });
  const el = h("aside", { class: "sidebar", "aria-label": "Inbox views and filters" },
    h("h2", { class: "pane-title" }, "Inbox"),
    h("nav", { "aria-label": "Views" }, views),
    closing,
    h("h3", { class: "section-title" }, "Status"), status,
    h("h3", { class: "section-title" }, "Filters"), filters);
  return { el, destroy: unsubscribe };
}
