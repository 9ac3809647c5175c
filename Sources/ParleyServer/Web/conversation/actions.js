// Conversation actions: the close dialog (closing note per the workspace's mode) and the
// assignee picker with search.

import { h, mount, uid, field } from "../lib/dom.js";
import { post, put } from "../lib/api.js";
import { getState } from "../lib/store.js";
import { openDialog } from "../ui/dialog.js";
import { avatar } from "../ui/badges.js";

/** Closes the contact's conversation; asks for the note unless notes are disabled. Returns the conversation or null. */
export async function closeConversation(contactId, contactName) {
  const settings = getState().settings ?? { closingNoteMode: "optional", closingCategories: [] };
  const mode = settings.closingNoteMode;
  if (mode === "disabled") {
    const result = await post(`/api/v1/contacts/${contactId}/conversation/close`, {});
    return result;
  }
  return openDialog(`Close the conversation with ${contactName}`, (close) => {
    const needCategory = mode === "category_required" || mode === "both_required";
    const needSummary = mode === "both_required";
    const category = h("select", { required: needCategory, autofocus: true },
      h("option", { value: "" }, needCategory ? "Choose a category…" : "No category"),
      settings.closingCategories.map((c) => h("option", { value: c }, c)));
    const summary = h("textarea", { rows: "3", required: needSummary, maxlength: "2000", placeholder: "What was resolved, what is pending…" });
    const error = h("div", { class: "alert alert-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Close conversation");
    const onsubmit = async (event) => {
      event.preventDefault();
      submit.disabled = true;
      const body = {};
      if (category.value) body.category = category.value;
      if (summary.value.trim()) body.summary = summary.value.trim();
      const result = await post(`/api/v1/contacts/${contactId}/conversation/close`, body);
      submit.disabled = false;
      if (!result.ok) { error.hidden = false; error.textContent = result.error.message; return; }
      close(result);
    };
    const logic = settings.closingLogic === "unassign" ? "Closing also unassigns it." : "The assignee is kept.";
    return h("form", { class: "dialog-body", onsubmit },
      error,
      settings.closingCategories.length || needCategory ? field(needCategory ? "Category" : "Category (optional)", category) : null,
      field(needSummary ? "Summary" : "Summary (optional)", summary),
      h("p", { class: "hint" }, logic),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "btn", onclick: () => close(null) }, "Cancel"), submit));
  });
}

/** The assignee picker: search the workspace's users, pick one, or unassign. */
export function assignDialog(contactId, currentId) {
  return openDialog("Assign the conversation", (close) => {
    const searchId = uid("assignee-search");
    const search = h("input", { id: searchId, type: "search", placeholder: "Search people", autocomplete: "off", autofocus: true });
    const list = h("ul", { class: "pick-list", "aria-label": "People" });
    const error = h("div", { class: "alert alert-error", role: "alert", hidden: true });
    const me = getState().session.user.id;
    const choose = async (userId) => {
      const result = await put(`/api/v1/contacts/${contactId}/conversation/assignee`, { userId });
      if (!result.ok) { error.hidden = false; error.textContent = result.error.message; return; }
      close(result);
    };
    const render = () => {
      const term = search.value.trim().toLowerCase();
      const users = getState().users.filter((u) => !u.disabled && (!term || u.name.toLowerCase().includes(term) || u.email.toLowerCase().includes(term)));
      mount(list,
        users.map((u) => h("li", null, h("button", { type: "button", class: ["pick", u.id === currentId && "is-current"], onclick: () => choose(u.id) },
          avatar(u.name, "sm"), h("span", { class: "pick-name" }, u.id === me ? `${u.name} (me)` : u.name), h("span", { class: "pick-meta" }, u.role),
          u.id === currentId ? h("span", { class: "pick-check" }, "Assigned") : null))),
        !users.length ? h("li", { class: "pick-empty" }, "Nobody matches.") : null);
    };
    search.addEventListener("input", render);
    search.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); list.querySelector("button")?.click(); }
      if (e.key === "ArrowDown") { e.preventDefault(); list.querySelector("button")?.focus(); }
    });
    list.addEventListener("keydown", (e) => {
      const buttons = [...list.querySelectorAll("button")];
      const i = buttons.indexOf(document.activeElement);
      if (e.key === "ArrowDown" && i < buttons.length - 1) { e.preventDefault(); buttons[i + 1].focus(); }
      if (e.key === "ArrowUp") { e.preventDefault(); (i > 0 ? buttons[i - 1] : search).focus(); }
    });
    render();
    return h("div", { class: "dialog-body" },
      error,
      h("div", { class: "field" }, h("label", { for: searchId }, "Find a person"), search),
      list,
      h("div", { class: "dialog-actions" },
        currentId ? h("button", { type: "button", class: "btn", onclick: () => choose(null) }, "Unassign") : null,
        h("button", { type: "button", class: "btn", onclick: () => close(null) }, "Cancel")));
  });
}
