// The contact form, shared by the contact panel and the contacts page: standard fields plus
// the workspace's custom fields, each with the control its type needs.

import { h, field } from "../lib/dom.js";
import { post, patch } from "../lib/api.js";
import { customFields } from "../lib/custom-fields.js";

function customControl(def, value) {
  switch (def.type) {
    case "number": return h("input", { type: "number", step: "any", value: value ?? "" });
    case "date": return h("input", { type: "date", value: value ?? "" });
    case "checkbox": return h("input", { type: "checkbox", checked: value === true });
    case "list": return h("select", null, h("option", { value: "" }, "—"), def.options.map((o) => h("option", { value: o, selected: o === value }, o)));
    default: return h("input", { type: "text", value: value ?? "" });
  }
}

function customValue(def, control) {
  if (def.type === "checkbox") return control.checked;
  if (control.value === "") return null;
  if (def.type === "number") return Number(control.value);
  return control.value;
}

/** contact null creates. onSaved(contact) after a successful save. */
export async function contactForm(contact, { onSaved, onCancel }) {
  const defs = await customFields();
  const text = (name, label, type = "text", extra = {}) => {
    const input = h("input", { type, name, value: contact?.[name] ?? "", autocomplete: "off", ...extra });
    return { name, input, el: field(label, input, extra.hint) };
  };
  const fields = [
    text("firstName", "First name"), text("lastName", "Last name"), text("email", "Email", "email"),
    text("phone", "Phone", "tel", { placeholder: "+14155551234" }), text("language", "Language", "text", { placeholder: "es, pt-BR" }),
    text("country", "Country", "text", { placeholder: "MX", maxlength: "2" }),
  ];
  const tags = h("input", { type: "text", name: "tags", value: (contact?.tags ?? []).join(", "), autocomplete: "off" });
  const custom = defs.map((def) => ({ def, control: customControl(def, contact?.customFields?.[def.key]) }));
  const error = h("div", { class: "alert alert-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, contact ? "Save" : "Create contact");

  const onsubmit = async (event) => {
    event.preventDefault();
    const body = {};
    for (const f of fields) {
      const value = f.input.value.trim();
      if (contact) {
        if (value !== (contact[f.name] ?? "")) body[f.name] = value === "" && !["firstName", "lastName"].includes(f.name) ? null : value;
      } else if (value) body[f.name] = value;
    }
    body.tags = tags.value.split(",").map((t) => t.trim()).filter(Boolean);
    if (custom.length) body.customFields = Object.fromEntries(custom.map(({ def, control }) => [def.key, customValue(def, control)]));
    submit.disabled = true;
    const result = contact ? await patch(`/api/v1/contacts/${contact.id}`, body) : await post("/api/v1/contacts", body);
    submit.disabled = false;
    if (!result.ok) {
      error.hidden = false;
      error.textContent = result.error.message;
      const bad = result.error.field && form.querySelector(`[name="${CSS.escape(result.error.field)}"]`);
      if (bad) { bad.setAttribute("aria-invalid", "true"); bad.focus(); }
      return;
    }
    onSaved(result.data);
  };

  const form = h("form", { class: "contact-form", onsubmit },
    error,
    h("div", { class: "form-grid" }, fields.map((f) => f.el)),
    field("Tags", tags, "Separate tags with commas."),
    custom.length ? h("fieldset", { class: "fieldset" }, h("legend", null, "Custom fields"),
      h("div", { class: "form-grid" }, custom.map(({ def, control }) => {
        control.name = `customFields.${def.key}`;
        return def.type === "checkbox"
          ? h("div", { class: "field field-check" }, h("label", null, control, " ", def.label))
          : field(def.label, control);
      }))) : null,
    h("div", { class: "form-actions" },
      onCancel ? h("button", { type: "button", class: "btn", onclick: onCancel }, "Cancel") : null, submit));
  return form;
}
