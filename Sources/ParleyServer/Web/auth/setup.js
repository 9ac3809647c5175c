// First start: the owner opens the one-time link `/setup#<token>` that `parley serve` printed
// and chooses a password. The token stays in the fragment, so it never reaches a server log.

import { h } from "../lib/dom.js";
import { post } from "../lib/api.js";
import { navigate } from "../lib/router.js";
import { authFrame, errorBox } from "./frame.js";

export function setupPage() {
  const token = decodeURIComponent(location.hash.replace(/^#/, ""));
  if (!token) {
    return {
      el: authFrame("Set up Parley", null,
        h("div", { class: "alert alert-error", role: "alert" },
          "This setup link has no token. Open the link that parley serve printed when it first started."),
        h("p", null, h("a", { href: "/login" }, "Go to sign in"))),
    };
  }
  const password = h("input", { id: "setup-password", type: "password", autocomplete: "new-password", required: true });
  const repeat = h("input", { id: "setup-repeat", type: "password", autocomplete: "new-password", required: true });
  const error = errorBox();
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Create my account");

  const onsubmit = async (event) => {
    event.preventDefault();
    error.show(null);
    if (password.value !== repeat.value) { error.show("The two passwords differ."); repeat.focus(); return; }
    submit.disabled = true;
    const result = await post("/api/v1/auth/setup", { token, password: password.value }, { quiet401: true });
    submit.disabled = false;
    if (!result.ok) { error.show(result.error.message); return; }
    history.replaceState(null, "", "/setup"); // drop the used token from the address bar
    const { signedIn } = await import("../app.js");
    await signedIn(result.data);
    navigate("/inbox", { replace: true });
  };

  const el = authFrame("Set up Parley", "Choose the password for the workspace owner. You will use it with the owner's email to sign in.",
    h("form", { class: "auth-form", onsubmit },
      error.el,
      h("div", { class: "field" }, h("label", { for: "setup-password" }, "New password"), password,
        h("p", { class: "hint" }, "At least 8 characters.")),
      h("div", { class: "field" }, h("label", { for: "setup-repeat" }, "Repeat the password"), repeat),
      submit));
  return { el, mounted: () => password.focus() };
}
