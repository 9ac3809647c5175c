// Workspace settings: closing notes, what closing does to the assignee, whether agents see All.

import { h, field, uid, mount } from "../lib/dom.js";
import { channelLabel } from "../lib/format.js";
import { patch } from "../lib/api.js";
import { getState, setState } from "../lib/store.js";
import { toast } from "../ui/toast.js";

const MODES = [
  ["disabled", "No closing note"],
  ["optional", "Category and summary, both optional"],
  ["category_required", "Category required"],
  ["both_required", "Category and summary required"],
];

export function workspaceSettings() {
  const s = getState().settings ?? { closingNoteMode: "optional", closingCategories: [], closingLogic: "keep", agentsSeeAll: true };
  const mode = h("select", { name: "closingNoteMode" }, MODES.map(([v, l]) => h("option", { value: v, selected: s.closingNoteMode === v }, l)));
  const categories = h("textarea", { name: "closingCategories", rows: "5" });
  categories.value = s.closingCategories.join("\n");
  const radio = (value, label, hint) => {
    const id = uid("logic");
    return h("div", { class: "choice" },
      h("input", { type: "radio", id, name: "closingLogic", value, checked: s.closingLogic === value }),
      h("label", { for: id }, h("strong", null, label), h("span", { class: "hint" }, hint)));
  };
  const seeAll = h("input", { type: "checkbox", id: uid("see-all"), name: "agentsSeeAll", checked: s.agentsSeeAll });
  const error = h("div", { class: "alert alert-error", role: "alert", hidden: true });
  // Which of the contact's other channels the composer offers first when a window is closed.
  const kinds = [...new Set(getState().channels.map((c) => c.type))];
  let order = [...(s.channelPreference ?? []).filter((k) => kinds.includes(k)), ...kinds.filter((k) => !(s.channelPreference ?? []).includes(k))];
  const preference = h("ol", { class: "preference-list", "aria-label": "Preferred channels, first to last" });
  const move = (index, by) => {
    const next = [...order];
    [next[index], next[index + by]] = [next[index + by], next[index]];
    order = next;
    renderPreference();
    preference.querySelectorAll("li")[index + by]?.querySelector(`button[data-dir="${by < 0 ? "up" : "down"}"]:not([disabled])`)?.focus();
  };
  const renderPreference = () => mount(preference, order.map((kind, i) => h("li", null,
    h("span", null, channelLabel(kind)),
    h("button", { type: "button", class: "btn-ghost btn-sm", dataset: { dir: "up" }, disabled: i === 0, "aria-label": `Move ${channelLabel(kind)} up`, onclick: () => move(i, -1) }, "↑"),
    h("button", { type: "button", class: "btn-ghost btn-sm", dataset: { dir: "down" }, disabled: i === order.length - 1, "aria-label": `Move ${channelLabel(kind)} down`, onclick: () => move(i, 1) }, "↓"))));
  renderPreference();

  const onsubmit = async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = {
      closingNoteMode: mode.value,
      closingCategories: categories.value.split("\n").map((c) => c.trim()).filter(Boolean),
      closingLogic: form.querySelector("input[name=closingLogic]:checked").value,
      agentsSeeAll: seeAll.checked,
      channelPreference: order,
    };
    const result = await patch("/api/v1/workspace/settings", body);
    if (!result.ok) { error.hidden = false; error.textContent = result.error.message; return; }
    error.hidden = true;
    setState({ settings: result.data });
    toast("Settings saved");
  };

  const el = h("form", { class: "card card-pad settings-form", onsubmit },
    h("h2", null, "Workspace"),
    h("p", { class: "muted section-lead" }, "How conversations are closed and who sees what."),
    error,
    h("fieldset", { class: "fieldset" }, h("legend", null, "Closing notes"),
      field("When closing a conversation, ask for", mode),
      field("Categories", categories, "One per line, e.g. Sale, Support, Spam.")),
    h("fieldset", { class: "fieldset" }, h("legend", null, "When a conversation is closed"),
      radio("keep", "Keep the assignee", "The contact stays with the same agent next time."),
      radio("unassign", "Unassign it", "The next conversation starts in Unassigned.")),
    h("fieldset", { class: "fieldset" }, h("legend", null, "Visibility"),
      h("div", { class: "choice" }, seeAll, h("label", { for: seeAll.id }, h("strong", null, "Agents see the All inbox"),
        h("span", { class: "hint" }, "Otherwise agents see only Mine and Unassigned.")))),
    kinds.length > 1 ? h("fieldset", { class: "fieldset" }, h("legend", null, "Reaching contacts"),
      h("p", { class: "hint" }, "When a channel's window is closed, the composer offers the contact's other channels that allow free text, in this order."),
      preference) : null,
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Save settings")));
  return { el };
}
