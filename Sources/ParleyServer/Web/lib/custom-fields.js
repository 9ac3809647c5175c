// The workspace's custom field definitions, fetched once per page load and shared by the
// contact panel and the contact form.

import { get } from "./api.js";

let definitions = null;

export async function customFields() {
  if (!definitions) {
    const result = await get("/api/v1/custom-fields");
    definitions = result.ok ? result.data.items : [];
  }
  return definitions;
}

export function forgetCustomFields() { definitions = null; }
