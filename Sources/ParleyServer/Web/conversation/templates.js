// The WhatsApp template picker: choose an approved template, fill its {{n}} parameters, and
// see the text the contact will receive before sending it.

import { h, mount, uid, field } from "../lib/dom.js";
import { get } from "../lib/api.js";

const cache = new Map(); // channelId → templates (loaded once per channel)

export async function loadTemplates(channelId) {
  if (!cache.has(channelId)) {
    const result = await get(`/api/v1/channels/${channelId}/templates`);
    cache.set(channelId, result.ok ? result.data.items : []);
  }
  return cache.get(channelId);
}

export function forgetTemplates(channelId) { cache.delete(channelId); }

/** The same rendering the server does: {{n}} → the n-th parameter, or left as is. */
export function renderTemplate(body, parameters) {
  return body.replace(/\{\{\s*(\d+)\s*\}\}/g, (whole, n) => {
    const value = parameters[Number(n) - 1];
    return value ? value : whole;
  });
}

/** onChange({name, language, parameters, complete}) whenever the choice or a parameter changes. */
export function templatePicker(templates, onChange) {
  const approved = templates.filter((t) => t.status === "APPROVED");
  const select = h("select", { id: uid("template"), dataset: { focusKey: "template" } },
    h("option", { value: "" }, approved.length ? "Choose a template…" : "No approved templates"),
    templates.map((t, i) => h("option", { value: i, disabled: t.status !== "APPROVED" },
      `${t.name} (${t.language})${t.status !== "APPROVED" ? ` — ${t.status.toLowerCase()}` : ""}`)));
  const params = h("div", { class: "template-params" });
  const preview = h("div", { class: "template-preview", "aria-live": "polite" });
  let inputs = [];
  let current = null;

  const update = () => {
    const values = inputs.map((i) => i.value.trim());
    if (!current) { mount(preview); onChange(null); return; }
    mount(preview, h("span", { class: "preview-label" }, "Preview"), h("p", { class: "preview-text", dataset: { testid: "template-preview" } }, renderTemplate(current.body, values)));
    onChange({ name: current.name, language: current.language, parameters: values, complete: values.every(Boolean) });
  };

  select.addEventListener("change", () => {
    current = select.value === "" ? null : templates[Number(select.value)];
    inputs = [];
    const count = current ? current.parameterCount : 0;
    for (let n = 1; n <= count; n += 1) {
      const input = h("input", { type: "text", required: true, dataset: { param: n }, autocomplete: "off" });
      input.addEventListener("input", update);
      inputs.push(input);
    }
    mount(params, inputs.map((input, i) => field(`Parameter {{${i + 1}}}`, input)));
    update();
  });

  const el = h("div", { class: "template-picker" }, field("Template", select), params, preview);
  return { el, focus: () => select.focus() };
}
