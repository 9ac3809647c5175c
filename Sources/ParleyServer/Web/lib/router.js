// History API routing: the server answers index.html for every page path, so links are
// ordinary <a href> elements and this module intercepts same-origin clicks on them.

const routes = [];
let notFound = null;
let current = null; // {destroy}

/** pattern like "/inbox/:contactId?"; render(params, query) → {el, destroy?} or a promise of one. */
export function route(pattern, render) {
  const names = [];
  const source = pattern
    .replace(/\/:(\w+)(\?)?/g, (_, name, optional) => { names.push(name); return optional ? "(?:/([^/]+))?" : "/([^/]+)"; });
  routes.push({ regex: new RegExp(`^${source}/?$`), names, render });
}

export function fallback(render) { notFound = render; }

export function navigate(path, { replace = false } = {}) {
  if (path === location.pathname + location.search) return resolve();
  history[replace ? "replaceState" : "pushState"](null, "", path);
  return resolve();
}

/** Updates the address (e.g. the open conversation) without re-rendering the page. */
export function setAddress(path) {
  if (path !== location.pathname + location.search) history.replaceState(null, "", path);
}

let outlet = null;
let token = 0;

/** Tears the current page down (before signing out, so no view renders without a session). */
export function unmount() {
  if (current?.destroy) current.destroy();
  current = null;
  outlet?.replaceChildren();
}

export function start(element) {
  outlet = element;
  addEventListener("popstate", resolve);
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    if (link.target || link.hasAttribute("download")) return;
    const url = new URL(link.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
  return resolve();
}

async function resolve() {
  const mine = (token += 1);
  const path = location.pathname;
  const query = Object.fromEntries(new URLSearchParams(location.search));
  let render = notFound;
  let params = {};
  for (const candidate of routes) {
    const match = candidate.regex.exec(path);
    if (match) {
      render = candidate.render;
      candidate.names.forEach((name, i) => { if (match[i + 1] !== undefined) params[name] = decodeURIComponent(match[i + 1]); });
      break;
    }
  }
  const view = await render(params, query);
  if (mine !== token || !view) return; // a later navigation won
  if (view.redirect) return navigate(view.redirect, { replace: true });
  if (current?.destroy) current.destroy();
  current = view;
  outlet.replaceChildren(view.el);
  view.mounted?.();
}
