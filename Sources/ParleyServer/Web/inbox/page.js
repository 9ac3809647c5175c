// The inbox: views and filters, the conversation list, and the open conversation, kept
// current by the realtime stream.

import { h, mount } from "../lib/dom.js";
import { getState, setState } from "../lib/store.js";
import { setAddress } from "../lib/router.js";
import { onEvent, onReset } from "../lib/events.js";
import { registerShortcuts } from "../ui/shortcuts.js";
import { sidebar } from "./sidebar.js";
import { inboxList } from "./list.js";
import { conversationView } from "../conversation/view.js";

export function inboxPage(params) {
  const side = sidebar();
  const pane = h("div", { class: "conv-pane" });
  let view = null;
  let opening = 0;

  const empty = () => mount(pane, h("div", { class: "empty-pane" },
    h("div", { class: "empty-art", "aria-hidden": "true" }),
    h("h2", null, "Pick a conversation"),
    h("p", null, "Choose one from the list, or press ", h("kbd", null, "j"), " to start at the top. ", h("kbd", null, "?"), " lists every shortcut.")));

  async function open(contactId) {
    const mine = (opening += 1);
    setState({ selected: contactId });
    setAddress(contactId ? `/inbox/${contactId}` : "/inbox");
    if (!contactId) { view?.destroy(); view = null; empty(); return; }
    const next = await conversationView(contactId, {
      onRowChanged(id, change) {
        const row = list.row(id);
        if (row) list.apply({ ...row, ...change });
      },
    });
    if (mine !== opening) { next.destroy(); return; }
    view?.destroy();
    view = next;
    mount(pane, view.el);
  }

  const list = inboxList({ onSelect: (id) => open(id) });

  const stopEvents = onEvent((event) => {
    const data = event.data ?? {};
    if (data.conversation) list.apply(data.conversation);
    if (event.type === "contact.updated" && data.contact) list.rename(data.contact);
    if (event.type === "contact.deleted") {
      list.remove(data.contactId);
      if (getState().selected === data.contactId) open(null);
    }
    view?.handle(event);
  });
  const stopReset = onReset(() => { list.reload(); view?.refresh(); });
  const stopKeys = registerShortcuts({
    j: () => list.move(1),
    k: () => list.move(-1),
    r: () => view?.focusReply(),
    e: () => view?.close(),
    a: () => view?.assign(),
  });

  const el = h("div", { class: "inbox" }, side.el, list.el, pane);
  const initial = params.contactId ? Number(params.contactId) : null;
  if (initial) open(initial); else { setState({ selected: null }); empty(); }
  return {
    el,
    destroy() { side.destroy(); list.destroy(); view?.destroy(); stopEvents(); stopReset(); stopKeys(); },
  };
}
