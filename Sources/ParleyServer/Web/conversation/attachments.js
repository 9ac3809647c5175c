// Files in the timeline: images inline (click to enlarge), players for audio and video, a file
// card for everything else, and a map link for locations. Every URL is Parley's own; names are
// shown as text.

import { h } from "../lib/dom.js";
import { openDialog } from "../ui/dialog.js";

export function fileSize(bytes) {
  if (bytes == null) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A line icon (paths in a 24×24 box), drawn in the text's colour. */
export function icon(...paths) {
  return h("svg:svg", { viewBox: "0 0 24 24", width: "18", height: "18", class: "icon", "aria-hidden": "true" },
    paths.map((d) => h("svg:path", { d, fill: "none", stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round" })));
}

export const PAPERCLIP = "M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48";
const DOCUMENT = ["M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z", "M14 2v6h6"];

const KIND_NAMES = { image: "Photo", sticker: "Sticker", audio: "Audio", video: "Video", document: "File" };

export function attachmentList(attachments) {
  if (!attachments?.length) return null;
  return h("div", { class: "attachments" }, attachments.map(attachmentView));
}

function attachmentView(file) {
  const name = KIND_NAMES[file.kind] ?? "File";
  if (file.status === "pending") {
    return h("div", { class: "att att-pending", dataset: { attachmentId: file.id, status: "pending" } }, `${name} arriving…`);
  }
  if (file.status === "failed") {
    return h("div", { class: "att att-card att-failed", dataset: { attachmentId: file.id, status: "failed" } },
      h("span", { class: "att-name" }, file.fileName || name), h("span", { class: "att-note" }, `Not kept: ${file.failure ?? "the file could not be downloaded"}`));
  }
  const data = { attachmentId: file.id, status: "stored", kind: file.kind };
  if (file.kind === "image" || file.kind === "sticker") {
    return h("button", { type: "button", class: ["att", "att-image", file.kind === "sticker" && "att-sticker"], dataset: data,
                         "aria-label": `Enlarge ${file.fileName || name}`, onclick: () => enlarge(file) },
      h("img", { src: file.url, alt: file.fileName || name, loading: "lazy", decoding: "async" }));
  }
  if (file.kind === "audio") {
    return h("div", { class: "att att-media", dataset: data }, h("audio", { controls: true, preload: "none", src: file.url }), download(file));
  }
  if (file.kind === "video") {
    return h("div", { class: "att att-media", dataset: data },
      h("video", { controls: true, preload: "metadata", src: file.url, class: "att-video" }), download(file));
  }
  return h("a", { class: "att att-card", dataset: data, href: file.url, download: file.fileName || "file" },
    h("span", { class: "att-icon" }, icon(...DOCUMENT)),
    h("span", { class: "att-name" }, file.fileName || name),
    h("span", { class: "att-note" }, [file.contentType, fileSize(file.size)].filter(Boolean).join(" · ")));
}

function download(file) {
  return h("a", { class: "att-download", href: file.url, download: file.fileName || "file" }, `${file.fileName || "Download"} · ${fileSize(file.size)}`);
}

function enlarge(file) {
  openDialog(file.fileName || "Photo", () => h("div", { class: "dialog-body att-large" },
    h("img", { src: file.url, alt: file.fileName || "Photo" }),
    h("a", { href: file.url, download: file.fileName || "photo" }, "Download")), { wide: true });
}

/** A location as a link to the map, from the coordinates the provider gave. */
export function mapLink(message) {
  const d = message.details ?? {};
  if (message.contentKind !== "location" || d.latitude == null || d.longitude == null) return null;
  const lat = Number(d.latitude), lon = Number(d.longitude);
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return null;
  const href = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=16/${lat}/${lon}`;
  return h("a", { class: "att-map", href, target: "_blank", rel: "noopener noreferrer" }, "Open in map");
}
