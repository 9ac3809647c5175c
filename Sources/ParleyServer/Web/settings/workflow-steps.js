// The workflow editor: name, trigger and steps as a form (each step type shows the properties it
// uses), or the whole workflow as JSON for what the form does not cover (branch conditions,
// headers, response mapping). The server checks either and names the step at fault.

import { h, mount, field } from "../lib/dom.js";

const STEP_TYPES = ["branch", "assign", "unassign", "send_message", "ask_question", "add_tag", "remove_tag",
  "update_field", "http_request", "wait", "close", "jump"];

// The simple properties each type edits in the form; others stay as they are.
const PROPERTIES = {
  branch: [["match", "Match (all or any)"], ["then", "Then go to"], ["else", "Else go to"]],
  assign: [["mode", "Mode (user, round_robin, least_open)"], ["userIds", "User ids (comma separated)"], ["userId", "User id"], ["onlineOnly", "Online only"]],
  send_message: [["text", "Text"]],
  ask_question: [["text", "Question"], ["answer", "Answer (rating or text)"], ["field", "Store in field"], ["retryText", "Ask again with"], ["seconds", "Timeout (s)"]],
  add_tag: [["tag", "Tag"]], remove_tag: [["tag", "Tag"]],
  update_field: [["field", "Field"], ["value", "Value"]],
  http_request: [["method", "Method"], ["url", "URL"], ["body", "JSON body"], ["seconds", "Timeout (s)"], ["continueOnFailure", "Continue on failure"]],
  wait: [["seconds", "Seconds"]],
  jump: [["target", "Go to step"]],
  unassign: [], close: [],
};
const FLAGS = new Set(["onlineOnly", "continueOnFailure"]);
const NUMBERS = new Set(["seconds", "userId"]);

export function stepEditor(workflow, triggers, save) {
  let steps = structuredClone(workflow.steps);
  const name = h("input", { type: "text", value: workflow.name, required: true });
  const trigger = h("select", null, Object.entries(triggers).map(([key, label]) => h("option", { value: key, selected: key === workflow.trigger }, label)));
  const once = h("input", { type: "checkbox", checked: workflow.oncePerContact });
  const list = h("ol", { class: "step-list" });
  const json = h("textarea", { class: "json-editor", rows: "18", spellcheck: "false", "aria-label": "Workflow as JSON" });
  const error = h("div", { class: "alert alert-error", role: "alert", hidden: true });
  let mode = "form";

  const definition = () => ({ name: name.value.trim(), trigger: trigger.value, oncePerContact: once.checked,
    triggerFields: workflow.triggerFields ?? undefined, triggerTags: workflow.triggerTags ?? undefined, steps });

  function render() {
    mount(list, steps.map((step, index) => {
      const type = h("select", { "aria-label": `Type of step ${index + 1}`, onchange: () => { step.type = type.value; render(); } },
        STEP_TYPES.map((t) => h("option", { value: t, selected: t === step.type }, t.replace("_", " "))));
      const id = h("input", { type: "text", value: step.id, "aria-label": `Id of step ${index + 1}`, oninput: () => { step.id = id.value.trim(); } });
      const props = (PROPERTIES[step.type] ?? []).map(([key, label]) => {
        if (FLAGS.has(key)) {
          const box = h("input", { type: "checkbox", checked: step[key] === true, onchange: () => { step[key] = box.checked || undefined; } });
          return h("label", { class: "check" }, box, h("span", null, label));
        }
        const current = key === "userIds" ? (step.userIds ?? []).join(", ") : (step[key] ?? "");
        const input = h(key === "body" || key === "text" ? "textarea" : "input", { value: String(current), rows: "2", oninput: () => {
          const raw = input.value.trim();
          if (key === "userIds") step.userIds = raw ? raw.split(/[\s,]+/).map(Number) : undefined;
          else if (NUMBERS.has(key)) step[key] = raw === "" ? undefined : Number(raw);
          else step[key] = raw === "" ? undefined : input.value;
        } });
        return field(label, input);
      });
      const move = (delta) => { const target = index + delta; if (target < 0 || target >= steps.length) return; [steps[index], steps[target]] = [steps[target], steps[index]]; render(); };
      return h("li", { class: "step card-pad" },
        h("div", { class: "step-head" }, field("Step id", id), field("Type", type),
          h("div", { class: "step-buttons" },
            h("button", { type: "button", class: "btn btn-sm btn-ghost", "aria-label": "Move up", onclick: () => move(-1) }, "↑"),
            h("button", { type: "button", class: "btn btn-sm btn-ghost", "aria-label": "Move down", onclick: () => move(1) }, "↓"),
            h("button", { type: "button", class: "btn btn-sm btn-ghost", onclick: () => { steps.splice(index, 1); render(); } }, "Remove"))),
        step.type === "branch" ? h("p", { class: "hint" }, `${(step.conditions ?? []).length} condition(s): edit them in JSON.`) : null,
        h("div", { class: "form-grid" }, props));
    }));
  }

  const formPane = h("div", null,
    h("div", { class: "form-grid" }, field("Name", name), field("Trigger", trigger),
      h("label", { class: "check" }, once, h("span", null, "Once per contact"))),
    list,
    h("button", { type: "button", class: "btn btn-sm", onclick: () => { steps.push({ id: `step-${steps.length + 1}`, type: "send_message" }); render(); } }, "Add a step"));
  const jsonPane = h("div", { hidden: true }, json, h("p", { class: "hint" }, "Every property of every step; the server checks it on save."));
  const formTab = h("button", { type: "button", class: "btn btn-sm", "aria-pressed": "true", onclick: () => switchTo("form") }, "Steps");
  const jsonTab = h("button", { type: "button", class: "btn btn-sm", "aria-pressed": "false", onclick: () => switchTo("json") }, "JSON");

  function switchTo(next) {
    if (next === mode) return;
    if (next === "json") {
      json.value = JSON.stringify(definition(), null, 2);
    } else {
      try {
        const parsed = JSON.parse(json.value);
        name.value = parsed.name ?? ""; trigger.value = parsed.trigger; once.checked = !!parsed.oncePerContact;
        steps = Array.isArray(parsed.steps) ? parsed.steps : [];
        render();
      } catch (e) { return showError(`The JSON does not parse: ${e.message}`); }
    }
    mode = next;
    formPane.hidden = mode !== "form"; jsonPane.hidden = mode !== "json";
    formTab.setAttribute("aria-pressed", String(mode === "form")); jsonTab.setAttribute("aria-pressed", String(mode === "json"));
    showError(null);
  }

  function showError(message) { error.hidden = !message; error.textContent = message ?? ""; }

  async function onsubmit(event) {
    event.preventDefault();
    let body;
    if (mode === "json") {
      try { body = JSON.parse(json.value); } catch (e) { return showError(`The JSON does not parse: ${e.message}`); }
    } else {
      body = definition();
    }
    showError(await save(body));
  }

  render();
  return h("form", { class: "dialog-body workflow-editor", onsubmit },
    error,
    h("div", { class: "tabs", role: "group", "aria-label": "Editor" }, formTab, jsonTab),
    formPane, jsonPane,
    h("div", { class: "dialog-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Save")));
}
