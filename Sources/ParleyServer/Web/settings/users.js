// Users: the workspace's people and a form to add one.

import { h, mount, field } from "../lib/dom.js";
import { post, all } from "../lib/api.js";
import { getState, setState } from "../lib/store.js";
import { avatar } from "../ui/badges.js";
import { toast } from "../ui/toast.js";

export function usersSettings() {
  const body = h("tbody");
  const render = () => mount(body, getState().users.map((u) => h("tr", null,
    h("td", null, h("span", { class: "contact-name" }, avatar(u.name, "sm"), h("span", null, u.name))),
    h("td", null, u.email),
    h("td", null, h("span", { class: `chip chip-role-${u.role}` }, u.role)),
    h("td", null, u.disabled ? h("span", { class: "chip" }, "Disabled") : h("span", { class: "chip chip-open" }, "Active")))));
  render();

  const email = h("input", { type: "email", name: "email", required: true, autocomplete: "off" });
  const name = h("input", { type: "text", name: "name", required: true, autocomplete: "off" });
  const password = h("input", { type: "password", name: "password", required: true, minlength: "8", autocomplete: "new-password" });
  const role = h("select", { name: "role" }, ["agent", "manager", "owner"]
    .filter((r) => r !== "owner" || getState().session.user.role === "owner")
    .map((r) => h("option", { value: r }, r[0].toUpperCase() + r.slice(1))));
  const error = h("div", { class: "alert alert-error", role: "alert", hidden: true });

  const onsubmit = async (event) => {
    event.preventDefault();
    const result = await post("/api/v1/users", { email: email.value.trim(), name: name.value.trim(), password: password.value, role: role.value });
    if (!result.ok) { error.hidden = false; error.textContent = result.error.message; return; }
    error.hidden = true;
    event.target.reset();
    const users = await all("/api/v1/users");
    if (users.ok) setState({ users: users.data });
    render();
    toast(`${result.data.name} can now sign in`);
  };

  const el = h("div", { class: "stack" },
    h("section", { class: "card" },
      h("div", { class: "card-pad" }, h("h2", null, "Users"), h("p", { class: "muted section-lead" }, "People who work the inbox.")),
      h("table", { class: "table" }, h("thead", null, h("tr", null, ["Name", "Email", "Role", "Status"].map((t) => h("th", { scope: "col" }, t)))), body)),
    h("form", { class: "card card-pad", onsubmit },
      h("h2", null, "Add a user"),
      error,
      h("div", { class: "form-grid" }, field("Name", name), field("Email", email), field("Password", password, "At least 8 characters; they can change it later."), field("Role", role)),
      h("div", { class: "form-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Add user"))));
  return { el };
}
