// The contact panel beside a conversation: identities per channel, details, custom fields and
// tags, all editable in place.

import { h, mount } from "../lib/dom.js";
import { get, post, patch, del } from "../lib/api.js";
import { channelById, getState } from "../lib/store.js";
import { confirmDialog } from "../ui/dialog.js";
import { channelLabel, duration } from "../lib/format.js";
import { avatar, channelIcon } from "../ui/badges.js";
import { customFields } from "../lib/custom-fields.js";
import { toast } from "../ui/toast.js";

export function contactPanel(initial, { onChanged }) {
  let contact = initial;
  let editing = false;
  let addingIdentity = false;
  const el = h("aside", { class: "contact-panel", "aria-label": "Contact" });

  async function render() {
    const defs = await customFields();
    if (editing) {
      // The edit form is loaded the first time someone edits a contact here.
      const { contactForm } = await import("../contacts/form.js");
      const form = await contactForm(contact, {
        onSaved: (saved) => { contact = saved; editing = false; onChanged(saved); render(); toast("Contact saved"); },
        onCancel: () => { editing = false; render(); },
      });
      mount(el, h("h2", { class: "panel-title" }, "Edit contact"), form);
      form.querySelector("input")?.focus();
      return;
    }
    const detail = (label, value) => (value ? [h("dt", null, label), h("dd", null, value)] : null);
    mount(el,
      h("div", { class: "panel-head" }, avatar(contact.name, "lg"),
        h("div", null, h("h2", { class: "panel-name" }, contact.name || "Unnamed contact"),
          contact.email || contact.phone ? h("p", { class: "panel-sub" }, contact.email ?? contact.phone) : null)),
      h("section", { class: "panel-section" },
        h("div", { class: "section-head" }, h("h3", null, "Channels"),
          h("button", { type: "button", class: "btn-ghost btn-sm", "aria-expanded": String(addingIdentity), onclick: () => { addingIdentity = !addingIdentity; render(); } },
            addingIdentity ? "Cancel" : "Add")),
        addingIdentity ? identityForm() : null,
        contact.identities.length
          ? h("ul", { class: "identities" }, contact.identities.map((i) => h("li", null, channelIcon(i.channelType),
            h("span", { class: "identity-text" },
              h("span", { class: "identity-name" }, channelById(i.channelId)?.name ?? channelLabel(i.channelType)),
              h("span", { class: "identity-id" }, i.externalId),
              i.lastInboundAt ? h("span", { class: "identity-last" }, `wrote ${duration(Date.now() - Date.parse(i.lastInboundAt))} ago`) : null),
            h("button", { type: "button", class: "tag-remove identity-remove", "aria-label": `Remove the ${channelLabel(i.channelType)} address ${i.externalId}`,
              onclick: () => removeIdentity(i) }, "×"))))
          : h("p", { class: "muted" }, "No channel yet.")),
      h("section", { class: "panel-section" }, h("h3", null, "Tags"), tagEditor()),
      h("section", { class: "panel-section" },
        h("div", { class: "section-head" }, h("h3", null, "Details"),
          h("button", { type: "button", class: "btn-ghost btn-sm", onclick: () => { editing = true; render(); } }, "Edit")),
        h("dl", { class: "details" },
          detail("Email", contact.email), detail("Phone", contact.phone), detail("Language", contact.language), detail("Country", contact.country),
          defs.map((d) => {
            const v = contact.customFields?.[d.key];
            return detail(d.label, v === true ? "Yes" : v === false ? "No" : v == null ? null : String(v));
          }))));
  }

  // A contact reached on a new channel (a phone number for WhatsApp, a chat id…) gets an identity.
  function identityForm() {
    const channel = h("select", { name: "channelId", "aria-label": "Channel" },
      getState().channels.map((c) => h("option", { value: c.id }, `${c.name} (${channelLabel(c.type)})`)));
    const address = h("input", { type: "text", name: "externalId", required: true, placeholder: "Address on the channel", "aria-label": "Address on the channel", autocomplete: "off" });
    const onsubmit = async (event) => {
      event.preventDefault();
      const result = await post(`/api/v1/contacts/${contact.id}/identities`, { channelId: Number(channel.value), externalId: address.value.trim() });
      if (!result.ok) { toast(result.error.message, "error"); return; }
      addingIdentity = false;
      await reload();
    };
    return h("form", { class: "identity-form", onsubmit }, channel, address, h("button", { type: "submit", class: "btn btn-sm btn-primary" }, "Add address"));
  }

  async function removeIdentity(identity) {
    if (!(await confirmDialog("Remove address", `Stop reaching ${contact.name} at ${identity.externalId} on ${channelLabel(identity.channelType)}? The history stays.`, "Remove"))) return;
    const result = await del(`/api/v1/contacts/${contact.id}/identities/${identity.id}`);
    if (!result.ok) { toast(result.error.message, "error"); return; }
    await reload();
  }

  async function reload() {
    const result = await get(`/api/v1/contacts/${contact.id}`);
    if (!result.ok) return;
    contact = result.data;
    onChanged(contact);
    render();
  }

  function tagEditor() {
    const input = h("input", { type: "text", placeholder: "Add a tag", "aria-label": "Add a tag", autocomplete: "off", class: "tag-input" });
    const save = async (tags) => {
      const result = await patch(`/api/v1/contacts/${contact.id}`, { tags });
      if (!result.ok) { toast(result.error.message, "error"); return; }
      contact = result.data;
      onChanged(contact);
      await render();
      el.querySelector(".tag-input")?.focus();
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && input.value.trim()) { e.preventDefault(); save([...contact.tags, input.value.trim()]); }
    });
    return h("div", { class: "tags" },
      contact.tags.map((t) => h("span", { class: "tag" }, t,
        h("button", { type: "button", class: "tag-remove", "aria-label": `Remove tag ${t}`, onclick: () => save(contact.tags.filter((x) => x !== t)) }, "×"))),
      input);
  }

  render();
  return { el, update(next) { contact = next; if (!editing) render(); } };
}
