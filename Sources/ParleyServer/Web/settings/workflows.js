// Workflows: the list with an on/off switch, ready-made templates created in one click, a step
// editor (structured, with the whole workflow as JSON for advanced edits) and each run's step log.
// Everything shown comes from the API and goes through text nodes.

import { h, mount, field } from "../lib/dom.js";
import { get, post, patch, del } from "../lib/api.js";
import { getState } from "../lib/store.js";
import { openDialog, confirmDialog } from "../ui/dialog.js";
import { toast } from "../ui/toast.js";
import { stepEditor } from "./workflow-steps.js";

const TRIGGERS = {
  conversation_opened: "Conversation opened", conversation_closed: "Conversation closed",
  contact_tag_updated: "Contact tag updated", contact_field_updated: "Contact field updated",
  incoming_webhook: "Incoming webhook", manual: "Run by hand",
};

export function workflowsSettings() {
  const body = h("tbody");
  const templateList = h("div", { class: "template-list" });
  const errorBox = h("div", { class: "alert alert-error", role: "alert", hidden: true });

  const showError = (message) => { errorBox.hidden = !message; errorBox.textContent = message ?? ""; };

  async function reload() {
    const result = await get("/api/v1/workflows?limit=200");
    if (!result.ok) return showError(result.error.message);
    mount(body, result.data.items.length === 0
      ? h("tr", null, h("td", { colspan: "4", class: "muted" }, "No workflows yet: start from a template below."))
      : result.data.items.map(row));
  }

  function row(workflow) {
    const toggle = h("input", { type: "checkbox", checked: workflow.enabled, "aria-label": `Enable ${workflow.name}`,
      onchange: async () => {
        const result = await patch(`/api/v1/workflows/${workflow.id}`, { enabled: toggle.checked });
        if (!result.ok) { toggle.checked = !toggle.checked; return toast(result.error.message, "error"); }
        toast(`${workflow.name} is ${toggle.checked ? "on" : "off"}`);
      } });
    return h("tr", { dataset: { workflow: String(workflow.id) } },
      h("td", null, h("strong", null, workflow.name)),
      h("td", null, TRIGGERS[workflow.trigger] ?? workflow.trigger),
      h("td", null, h("label", { class: "switch" }, toggle, h("span", null, "Enabled"))),
      h("td", { class: "row-actions" },
        h("button", { type: "button", class: "btn btn-sm", onclick: () => showRuns(workflow) }, "Runs"),
        h("button", { type: "button", class: "btn btn-sm", onclick: () => edit(workflow) }, "Edit"),
        h("button", { type: "button", class: "btn btn-sm btn-ghost", onclick: () => remove(workflow) }, "Delete")));
  }

  async function remove(workflow) {
    if (!(await confirmDialog("Delete workflow", `Delete “${workflow.name}” and its runs?`, "Delete"))) return;
    const result = await del(`/api/v1/workflows/${workflow.id}`);
    if (!result.ok) return toast(result.error.message, "error");
    reload();
  }

  async function edit(workflow) {
    const saved = await openDialog(`Edit ${workflow.name}`, (close) => stepEditor(workflow, TRIGGERS, async (definition) => {
      const result = await patch(`/api/v1/workflows/${workflow.id}`, definition);
      if (!result.ok) return result.error.message;
      close(true);
      return null;
    }), { wide: true });
    if (saved) { toast("Workflow saved"); reload(); }
  }

  async function showRuns(workflow) {
    const result = await get(`/api/v1/workflows/${workflow.id}/runs?limit=50`);
    if (!result.ok) return toast(result.error.message, "error");
    await openDialog(`Runs of ${workflow.name}`, () => h("div", { class: "dialog-body workflow-runs" },
      result.data.items.length === 0 ? h("p", { class: "muted" }, "No runs yet.") : result.data.items.map((run) =>
        h("section", { class: "run", dataset: { run: String(run.id) } },
          h("h3", null, `Run ${run.id} · contact ${run.contactId ?? "–"} · `, h("span", { class: `chip chip-run-${run.status}` }, run.status),
            " · ", new Date(run.createdAt).toLocaleString()),
          h("ol", { class: "run-steps" }, run.steps.map((line) => h("li", null,
            h("code", null, line.stepId), ` ${line.stepType}: `, h("strong", null, line.outcome),
            line.input ? h("span", { class: "muted" }, ` — ${line.input}`) : null,
            line.detail ? h("span", { class: "muted" }, ` (${line.detail})`) : null)))))), { wide: true });
  }

  async function loadTemplates() {
    const result = await get("/api/v1/workflow-templates");
    if (!result.ok) return showError(result.error.message);
    mount(templateList, result.data.items.map((template) => h("div", { class: "template card-pad" },
      h("h3", null, template.title), h("p", { class: "muted" }, template.summary),
      h("button", { type: "button", class: "btn btn-primary btn-sm", dataset: { template: template.key }, onclick: () => fromTemplate(template) },
        "Use this template"))));
  }

  async function fromTemplate(template) {
    const needsTeam = template.key === "vip_routing" || template.key === "new_vs_returning";
    if (!needsTeam && template.key !== "csat_after_close") return createFromTemplate(template.key, {});
    const options = await openDialog(template.title, (close) => templateOptions(template, close), { wide: true });
    if (options) createFromTemplate(template.key, options);
  }

  async function createFromTemplate(key, options) {
    const result = await post("/api/v1/workflows/from-template", { template: key, options });
    if (!result.ok) return toast(result.error.message, "error");
    toast(`${result.data.name} created: switch it on when ready`);
    showError(null);
    reload();
  }

  const el = h("div", { class: "stack" },
    h("section", { class: "card" },
      h("div", { class: "card-pad" }, h("h2", null, "Workflows"),
        h("p", { class: "muted section-lead" }, "Automations that run when something happens: route, ask, tag, call your systems.")),
      errorBox,
      h("table", { class: "table workflows-table" },
        h("thead", null, h("tr", null, ["Name", "Trigger", "State", ""].map((t) => h("th", { scope: "col" }, t)))), body)),
    h("section", { class: "card" },
      h("div", { class: "card-pad" }, h("h2", null, "Start from a template"), h("p", { class: "muted section-lead" }, "One click makes a workflow you can then edit.")),
      templateList));
  reload();
  loadTemplates();
  return { el };
}

/** The options a template asks for: its team(s) from the workspace's users, URLs. */
function templateOptions(template, close) {
  const users = getState().users.filter((u) => !u.disabled);
  const team = (name) => h("fieldset", { class: "user-picks" }, h("legend", null, name),
    users.map((u) => h("label", { class: "check" }, h("input", { type: "checkbox", value: String(u.id) }), h("span", null, u.name))));
  const picked = (set) => [...set.querySelectorAll("input:checked")].map((i) => Number(i.value));
  const first = team(template.key === "vip_routing" ? "VIP team" : "Agents for new contacts");
  const second = team("Agents for returning contacts");
  const url = h("input", { type: "url", placeholder: "https://…" });
  const onlineOnly = h("input", { type: "checkbox" });
  const csat = template.key === "csat_after_close";
  return h("form", { class: "dialog-body", onsubmit: (event) => {
    event.preventDefault();
    const options = {};
    if (!csat) { options.userIds = picked(first); options.onlineOnly = onlineOnly.checked; }
    if (template.key === "new_vs_returning") options.returningUserIds = picked(second);
    if (url.value.trim()) options[csat ? "postUrl" : "crmUrl"] = url.value.trim();
    close(options);
  } },
    h("p", { class: "muted" }, template.summary),
    csat ? null : first,
    template.key === "new_vs_returning" ? second : null,
    csat ? null : h("label", { class: "check" }, onlineOnly, h("span", null, "Only agents who are online")),
    template.key === "new_vs_returning" ? null
      : field(csat ? "Post the rating to (optional)" : "CRM lookup URL (optional)", url,
        csat ? "A JSON POST with contactId, name, email, rating, conversationId, channel." : "GET; a JSON answer with \"vip\": true marks a VIP. {{contact.email}} and other variables work."),
    h("div", { class: "dialog-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Create workflow")));
}
