// Style sheets a page needs beyond the inbox's, added when that page is first opened (so the
// inbox's first load does not carry the settings and contacts styles).

const loaded = new Map();

/** Adds `path` (relative to the web root) once; resolves when it has loaded (or failed). */
export function useStyles(path) {
  const href = new URL(`../${path}`, import.meta.url).href;
  if (!loaded.has(href)) {
    loaded.set(href, new Promise((resolve) => {
      const link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = href;
      link.addEventListener("load", resolve, { once: true });
      link.addEventListener("error", resolve, { once: true });
      document.head.append(link);
    }));
  }
  return loaded.get(href);
}
