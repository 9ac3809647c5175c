// Sign in with email and password; the server sets the session cookie.

import { h } from "../lib/dom.js";
import { post } from "../lib/api.js";
import { navigate } from "../lib/router.js";
import { authFrame, errorBox } from "./frame.js";

export function loginPage() {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true, autofocus: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const error = errorBox();
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Sign in");

  const onsubmit = async (event) => {
    event.preventDefault();
    error.show(null);
    submit.disabled = true;
    submit.textContent = "Signing in…";
    const result = await post("/api/v1/auth/session", { email: email.value.trim(), password: password.value }, { quiet401: true });
    submit.disabled = false;
    submit.textContent = "Sign in";
    if (!result.ok) {
      error.show(result.error.message);
      password.select();
      return;
    }
    const { signedIn } = await import("../app.js");
    await signedIn(result.data);
    navigate("/inbox", { replace: true });
  };

  const el = authFrame("Sign in to Parley", "Your team's conversations, on every channel.",
    h("form", { class: "auth-form", onsubmit, novalidate: false },
      error.el,
      h("div", { class: "field" }, h("label", { for: "login-email" }, "Email"), Object.assign(email, { id: "login-email" })),
      h("div", { class: "field" }, h("label", { for: "login-password" }, "Password"), Object.assign(password, { id: "login-password" })),
      submit));
  return { el, mounted: () => email.focus() };
}
