// CSV import: the file is uploaded with XMLHttpRequest because fetch cannot report upload
// progress; the server answers with the counts and the rejected lines.

import { h, mount, field } from "../lib/dom.js";
import { headersFor } from "../lib/api.js";
import { openDialog } from "../ui/dialog.js";

export function importDialog() {
  return openDialog("Import contacts from CSV", (close) => {
    const file = h("input", { type: "file", accept: ".csv,text/csv", required: true });
    const progress = h("progress", { max: "100", value: "0", hidden: true, "aria-label": "Upload progress" });
    const stage = h("p", { class: "hint", "aria-live": "polite" });
    const result = h("div", { class: "import-result" });
    const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Import");
    let imported = false;

    const onsubmit = (event) => {
      event.preventDefault();
      const chosen = file.files[0];
      if (!chosen) return;
      submit.disabled = true;
      progress.hidden = false;
      progress.value = 0;
      stage.textContent = "Uploading…";
      mount(result);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/v1/contacts/import");
      xhr.withCredentials = true;
      for (const [k, v] of Object.entries(headersFor("POST", "text/csv"))) xhr.setRequestHeader(k, v);
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) progress.value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.upload.addEventListener("load", () => { progress.value = 100; stage.textContent = "Checking and saving contacts…"; });
      xhr.addEventListener("error", () => { submit.disabled = false; stage.textContent = ""; mount(result, h("div", { class: "alert alert-error", role: "alert" }, "The upload failed. Check your connection and try again.")); });
      xhr.addEventListener("load", () => {
        submit.disabled = false;
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
        if (xhr.status >= 400 || !data) {
          stage.textContent = "";
          mount(result, h("div", { class: "alert alert-error", role: "alert" }, data?.error?.message ?? `The server answered ${xhr.status}.`));
          return;
        }
        imported = true;
        stage.textContent = "Done.";
        mount(result, report(data));
      });
      xhr.send(chosen);
    };

    return h("form", { class: "dialog-body", onsubmit },
      h("p", null, "The first row names the columns (firstName, lastName, email, phone, language, country, tags, and custom field keys). Existing contacts are matched by email, then phone."),
      field("CSV file", file), progress, stage, result,
      h("div", { class: "dialog-actions" }, h("button", { type: "button", class: "btn", onclick: () => close(imported) }, "Close"), submit));
  }, { wide: true });
}

function report(data) {
  return h("div", null,
    h("div", { class: "stats" },
      stat("Created", data.created), stat("Updated", data.updated), stat("Rejected", data.rejectedCount, data.rejectedCount > 0)),
    data.rejected.length
      ? h("div", { class: "rejected" },
        h("h3", null, data.rejectedCount > data.rejected.length ? `The first ${data.rejected.length} rejected lines` : "Rejected lines"),
        h("table", { class: "table table-compact" },
          h("thead", null, h("tr", null, h("th", { scope: "col" }, "Line"), h("th", { scope: "col" }, "Why"))),
          h("tbody", null, data.rejected.map((r) => h("tr", null, h("td", { class: "mono" }, r.line), h("td", null, r.reason))))))
      : null);
}

function stat(label, value, bad = false) {
  return h("div", { class: ["stat", bad && "stat-bad"] }, h("span", { class: "stat-value" }, value), h("span", { class: "stat-label" }, label));
}
