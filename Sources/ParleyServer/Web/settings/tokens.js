// Personal API tokens for integrations: shown once at creation, revocable.

import { h, mount, field } from "../lib/dom.js";
import { get, post, del } from "../lib/api.js";
import { fullTime } from "../lib/format.js";
import { confirmDialog } from "../ui/dialog.js";
import { toast } from "../ui/toast.js";

export function tokensSettings() {
  const body = h("tbody");
  const created = h("div", { "aria-live": "polite" });

  async function load() {
    const result = await get("/api/v1/tokens");
    const tokens = result.ok ? result.data.items.filter((t) => t.kind === "api") : [];
    mount(body, tokens.length ? tokens.map((t) => h("tr", null,
      h("td", null, t.name), h("td", { class: "mono" }, `${t.prefix}…`),
      h("td", null, fullTime(t.createdAt)), h("td", null, t.lastUsedAt ? fullTime(t.lastUsedAt) : "Never"),
      h("td", null, t.expiresAt ? fullTime(t.expiresAt) : "Never"),
      h("td", { class: "cell-actions" }, h("button", { type: "button", class: "btn btn-sm", onclick: () => revoke(t) }, "Revoke"))))
      : h("tr", null, h("td", { colspan: "6", class: "muted" }, "No API tokens yet.")));
  }

  async function revoke(token) {
    if (!(await confirmDialog("Revoke token", `Integrations using “${token.name}” will stop working at once.`, "Revoke"))) return;
    const result = await del(`/api/v1/tokens/${token.id}`);
    if (!result.ok) { toast(result.error.message, "error"); return; }
    load();
  }

  const name = h("input", { type: "text", name: "name", required: true, maxlength: "100", placeholder: "e.g. CRM sync" });
  const days = h("input", { type: "number", name: "expiresInDays", min: "1", max: "3650", placeholder: "Never" });
  const error = h("div", { class: "alert alert-error", role: "alert", hidden: true });
  const onsubmit = async (event) => {
    event.preventDefault();
    const payload = { name: name.value.trim() };
    if (days.value) payload.expiresInDays = Number(days.value);
    const result = await post("/api/v1/tokens", payload);
    if (!result.ok) { error.hidden = false; error.textContent = result.error.message; return; }
    error.hidden = true;
    event.target.reset();
    const value = h("input", { type: "text", readOnly: true, value: result.data.token, class: "mono", "aria-label": "New token" });
    mount(created, h("div", { class: "alert alert-ok" },
      h("strong", null, "Copy this token now: it is not shown again."),
      h("div", { class: "copy-row" }, value,
        h("button", { type: "button", class: "btn btn-sm", onclick: () => { navigator.clipboard?.writeText(value.value); toast("Copied"); } }, "Copy"))));
    value.select();
    load();
  };

  load();
  const el = h("div", { class: "stack" },
    h("section", { class: "card" },
      h("div", { class: "card-pad" }, h("h2", null, "API tokens"),
        h("p", { class: "muted section-lead" }, "Tokens let integrations use the API as you. Messages they send count as automated, not as a human agent's.")),
      h("table", { class: "table" }, h("thead", null, h("tr", null, ["Name", "Token", "Created", "Last used", "Expires", ""].map((t) => h("th", { scope: "col" }, t)))), body)),
    h("form", { class: "card card-pad", onsubmit },
      h("h2", null, "Create a token"), error, created,
      h("div", { class: "form-grid" }, field("Name", name), field("Expires after (days)", days, "Leave empty for a token that does not expire.")),
      h("div", { class: "form-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Create token"))));
  return { el };
}
