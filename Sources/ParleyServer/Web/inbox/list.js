// The inbox list: the first page for the current filters, further pages on scroll (keyset
// cursor), and rows kept current from realtime events without refetching.

import { h, mount, keepFocus } from "../lib/dom.js";
import { get, query } from "../lib/api.js";
import { getState, setState, subscribe } from "../lib/store.js";
import { inboxRow } from "./row.js";

const PAGE = 50;

export function inboxList({ onSelect }) {
  let rows = [];
  let cursor = null;
  let loading = false;
  let generation = 0;
  let failure = null;

  const search = h("input", {
    type: "search", class: "search-input", placeholder: "Search name, phone or email", "aria-label": "Search conversations",
    autocomplete: "off", value: getState().filters.q, dataset: { shortcut: "search" },
  });
  let debounce = null;
  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => setState({ filters: { ...getState().filters, q: search.value.trim() } }), 250);
  });
  search.addEventListener("keydown", (e) => { if (e.key === "Enter") { clearTimeout(debounce); setState({ filters: { ...getState().filters, q: search.value.trim() } }); } });

  const ul = h("ul", { class: "rows", "aria-label": "Conversations" });
  const status = h("p", { class: "list-status", role: "status" });
  const sentinel = h("div", { class: "sentinel", "aria-hidden": "true" });
  const scroller = h("div", { class: "list-scroll" }, ul, status, sentinel);
  const summary = h("p", { class: "list-summary" });

  function describeFilters() {
    const f = getState().filters;
    if (f.closingWithin) return `Windows closing within ${f.closingWithin} h, soonest first`;
    const view = { all: "All", mine: "Mine", unassigned: "Unassigned" }[f.view];
    const st = { open: "open", closed: "closed", all: "open and closed" }[f.status];
    return `${view} · ${st}${f.q ? ` · “${f.q}”` : ""}`;
  }

  function render() {
    const selected = getState().selected;
    keepFocus(ul, () => mount(ul, rows.map((row) => inboxRow(row, { selected: row.contact.id === selected, onSelect }))));
    summary.textContent = describeFilters();
    if (failure) status.textContent = failure;
    else if (loading) status.textContent = rows.length ? "Loading more…" : "Loading conversations…";
    else if (!rows.length) status.textContent = getState().filters.q ? "No conversation matches this search." : "Nothing here. Enjoy the calm.";
    else status.textContent = "";
    status.hidden = !status.textContent;
  }

  function params(f) {
    const closing = Boolean(f.closingWithin);
    return {
      view: f.view, status: closing ? "open" : f.status, q: f.q, channel: f.channel, tag: f.tag, assignee: f.assignee,
      sort: closing ? undefined : f.sort, closingWithin: f.closingWithin || undefined, limit: PAGE,
    };
  }

  async function load(reset) {
    if (loading && !reset) return;
    if (!reset && !cursor) return;
    const mine = reset ? (generation += 1) : generation;
    loading = true;
    failure = null;
    if (reset) { rows = []; cursor = null; }
    render();
    const result = await get("/api/v1/conversations" + query({ ...params(getState().filters), cursor: reset ? undefined : cursor }));
    if (mine !== generation) return;
    loading = false;
    if (!result.ok) { failure = result.error.message; render(); return; }
    const seen = new Set(rows.map((r) => r.contact.id));
    rows = rows.concat(result.data.items.filter((r) => !seen.has(r.contact.id)));
    cursor = result.data.nextCursor;
    render();
    // A tall screen may show the whole first page with room to spare: keep filling it.
    if (cursor && scroller.scrollHeight <= scroller.clientHeight + 200) load(false);
  }

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) load(false);
  }, { root: scroller, rootMargin: "400px" });
  observer.observe(sentinel);

  // --- live updates -------------------------------------------------------------------------

  function matches(row) {
    const f = getState().filters;
    const me = getState().session.user.id;
    if (f.view === "mine" && row.assignee?.id !== me) return false;
    if (f.view === "unassigned" && row.assignee) return false;
    if (f.closingWithin) {
      if (row.status !== "open" || row.window?.status !== "open" || !row.window.closesAt) return false;
      const left = new Date(row.window.closesAt) - Date.now();
      if (left <= 0 || left > f.closingWithin * 3600000) return false;
    } else if (f.status !== "all" && row.status !== f.status) return false;
    if (f.channel && String(row.channel?.id) !== String(f.channel)) return false;
    if (f.assignee && String(row.assignee?.id) !== String(f.assignee)) return false;
    return true;
  }

  function sortKey(row) {
    const f = getState().filters;
    if (f.closingWithin) return Date.parse(row.window.closesAt);
    if (f.sort === "oldest") return Date.parse(row.lastActivityAt);
    if (f.sort === "waiting") return row.waitingSince ? Date.parse(row.waitingSince) : Infinity;
    return -Date.parse(row.lastActivityAt);
  }

  /** A row from an event: update it in place, move it, add it, or drop it from this view. */
  function apply(row) {
    const index = rows.findIndex((r) => r.contact.id === row.contact.id);
    // Same place in the order (a read, a rename): update in place so the row does not jump.
    if (index >= 0 && matches(row) && sortKey(rows[index]) === sortKey(row)) {
      rows[index] = row;
      render();
      return;
    }
    if (index >= 0) rows.splice(index, 1);
    const f = getState().filters;
    // With a search or tag filter only the server knows whether a new row belongs here.
    const canAdd = index >= 0 || (!f.q && !f.tag);
    if (matches(row) && canAdd) {
      const key = sortKey(row);
      let at = rows.findIndex((r) => sortKey(r) > key);
      if (at < 0) at = cursor ? -1 : rows.length; // past the loaded page: it arrives with paging
      if (at >= 0) rows.splice(at, 0, row);
    }
    render();
  }

  function rename(contact) {
    let changed = false;
    for (const row of rows) if (row.contact.id === contact.id) { row.contact = { ...row.contact, name: contact.name }; changed = true; }
    if (changed) render();
  }

  function remove(contactId) {
    rows = rows.filter((r) => r.contact.id !== contactId);
    render();
  }

  /** Moves the selection by delta rows (j/k). */
  function move(delta) {
    if (!rows.length) return;
    const index = rows.findIndex((r) => r.contact.id === getState().selected);
    const next = Math.min(rows.length - 1, Math.max(0, index < 0 ? 0 : index + delta));
    onSelect(rows[next].contact.id);
    ul.querySelector(`[data-contact-id="${rows[next].contact.id}"]`)?.scrollIntoView({ block: "nearest" });
    if (next >= rows.length - 5) load(false);
  }

  let lastFilters = getState().filters;
  const unsubscribe = subscribe((keys, state) => {
    if (keys.includes("filters") && state.filters !== lastFilters) {
      lastFilters = state.filters;
      if (search.value.trim() !== state.filters.q) search.value = state.filters.q;
      load(true);
    } else if (keys.includes("selected")) render();
  });

  const el = h("section", { class: "list-pane", "aria-label": "Conversation list" },
    h("div", { class: "list-head" }, h("div", { class: "search" }, search), summary),
    scroller);
  load(true);
  // The "closes in" badges age: refresh them each minute without refetching.
  const tick = setInterval(render, 60000);
  return {
    el, apply, rename, remove, move, reload: () => load(true),
    row: (contactId) => rows.find((r) => r.contact.id === contactId),
    destroy() { unsubscribe(); observer.disconnect(); clearInterval(tick); },
  };
}
