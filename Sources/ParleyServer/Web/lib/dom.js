// The one way this app builds DOM. Text always goes through text nodes, so whatever a
// customer wrote is shown as text and never parsed as markup.

const PROPERTIES = new Set(["value", "checked", "disabled", "selected", "hidden", "indeterminate", "multiple", "required", "readOnly"]);

/**
 * h("button", {class: "btn", onclick: fn}, "Send") → an element.
 * - `on<event>` takes a function (added with addEventListener, never as an attribute);
 * - `class`, `dataset`, `style` (an object: CSP forbids inline style attributes) are special;
 * - true sets a boolean attribute, false/null/undefined leave it out;
 * - children: strings, numbers, nodes, arrays of them; null/false are skipped.
 */
export function h(tag, attrs, ...children) {
  const el = tag.startsWith("svg:")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value == null || value === false) continue;
      if (key.startsWith("on")) {
        if (typeof value !== "function") throw new TypeError(`${key} must be a function`);
        el.addEventListener(key.slice(2).toLowerCase(), value);
      } else if (key === "class") {
        el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
      } else if (key === "dataset") {
        Object.assign(el.dataset, value);
      } else if (key === "style") {
        Object.assign(el.style, value);
      } else if (PROPERTIES.has(key)) {
        el[key] = value;
      } else {
        el.setAttribute(key, value === true ? "" : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces an element's children. */
export function mount(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let idCounter = 0;
/** A unique id for label/input pairs. */
export function uid(prefix = "f") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** A labelled form control: <div class="field"><label>…</label>control hint error</div>. */
export function field(label, control, hint) {
  if (!control.id) control.id = uid();
  const hintEl = hint ? h("p", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintEl);
}

/**
 * Re-renders `container` with `render()` and puts the focus back on the element with the same
 * data-focus-key, so keyboard users keep their place when a pane redraws.
 */
export function keepFocus(container, render) {
  const key = container.contains(document.activeElement) ? document.activeElement.dataset?.focusKey : null;
  render();
  if (key) container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`)?.focus();
}
