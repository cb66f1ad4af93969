// A list that pages with the API's cursor: the first page, then "load more" while the server
// says there is a next one. Loading, empty and error states are part of it, so every page that
// lists something says the same things the same way.
import { api } from "../api.js";
import { h, clear, alertBox, busy, errorText } from "../dom.js";
import { t, addLabels } from "../i18n.js";

addLabels(
  { "pager.more": "加载更多", "pager.loading": "正在加载…", "pager.count": "已显示 {n} 条" },
  { "pager.more": "Load more", "pager.loading": "Loading…", "pager.count": "{n} shown" },
);

/**
 * pagedList({path, query, item, empty, id, limit}) -> {node, reload}. `item(row, reload)` builds one
 * <li>; `query` may be a function (read at each reload, for filters).
 */
export function pagedList({ path, query = {}, item, empty, id, limit = 20, label }) {
  const list = h("ul", { class: "list", id, "aria-label": label || null });
  const status = h("p", { class: "meta pager-status", "aria-live": "polite" });
  const alert = alertBox();
  const more = h("button", { type: "button", class: "pager-more", hidden: true }, t("pager.more"));
  let cursor = null;
  let shown = 0;

  async function fetchPage(first) {
    const q = typeof query === "function" ? query() : query;
    alert.show("");
    if (first) {
      clear(list);
      shown = 0;
      cursor = null;
      list.setAttribute("aria-busy", "true");
      status.textContent = t("pager.loading");
    }
    try {
      const page = await api(path, { query: { ...q, limit, cursor: first ? null : cursor } });
      const rows = page.items || [];
      rows.forEach((row) => list.append(item(row, reload)));
      shown += rows.length;
      cursor = page.next_cursor || null;
      more.hidden = !cursor;
      if (!shown) list.append(h("li", { class: "empty" }, empty));
      status.textContent = shown ? t("pager.count", { n: shown }) : "";
    } catch (err) {
      status.textContent = "";
      alert.show(errorText(err));
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  more.addEventListener("click", busy(more, () => fetchPage(false)));
  async function reload() {
    await fetchPage(true);
  }
  return { node: h("div", { class: "paged" }, alert, list, h("div", { class: "pager" }, more, status)), reload };
}
