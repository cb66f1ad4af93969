// The service guide: every item with its trips, time limits, fee and materials.
import { api } from "../api.js";
import { h, field, money, percent, clear, alertBox } from "../dom.js";
import { t, tOr } from "../i18n.js";
import { isApplicant } from "../session.js";
import { departmentName } from "../problems.js";

function tripsBadge(trips) {
  if (trips === 0) return h("span", { class: "badge good" }, t("catalog.zeroTrips"));
  if (trips === 1) return h("span", { class: "badge good" }, t("catalog.oneTrip"));
  return null;
}

export function itemFacts(item) {
  return h(
    "dl",
    { class: "facts" },
    h("div", {}, h("dt", {}, t("catalog.trips")), h("dd", {}, t("catalog.tripsValue", { n: item.trips }))),
    h("div", {}, h("dt", {}, t("catalog.legalDays")), h("dd", {}, t("catalog.days", { n: item.legal_days }))),
    h("div", {}, h("dt", {}, t("catalog.committedDays")), h("dd", {}, t("catalog.days", { n: item.committed_days }))),
    h("div", {}, h("dt", {}, t("catalog.fee")), h("dd", {}, money(item.fee_fen))),
  );
}

export function materialsList(materials) {
  return h(
    "ul",
    { class: "materials" },
    (materials || []).map((m) =>
      h(
        "li",
        {},
        h("span", {}, m.name),
        " ",
        h("span", { class: m.critical ? "badge critical" : "badge deferrable" }, m.critical ? t("catalog.critical") : t("catalog.deferrable")),
      ),
    ),
  );
}

function itemCard(item, who) {
  const codes = item.departments && item.departments.length > 1 ? item.departments : [item.department];
  const departments = codes.map(departmentName).join(t("problem.listSep"));
  return h(
    "article",
    { class: "card item", "data-code": item.code },
    h(
      "header",
      { class: "item-head" },
      h("h2", {}, item.name),
      h(
        "p",
        { class: "meta" },
        h("span", { class: "code" }, item.code),
        " · ",
        tOr(`kind.${item.kind}`, item.kind),
        " · ",
        tOr(`window.${item.window}`, item.window),
        item.stage ? ` · ${t("catalog.stage", { n: item.stage })}` : "",
      ),
      h(
        "p",
        { class: "badges" },
        tripsBadge(item.trips),
        item.online ? h("span", { class: "badge info" }, t("catalog.online")) : null,
      ),
    ),
    h("p", { class: "meta", title: codes.join(" · ") }, `${item.departments && item.departments.length > 1 ? t("catalog.departments") : t("catalog.department")}：${departments}`),
    itemFacts(item),
    h("details", { class: "materials-box" }, h("summary", {}, `${t("catalog.materials")} (${(item.materials || []).length})`), materialsList(item.materials)),
    !who || isApplicant(who)
      ? h("p", { class: "actions" }, h("a", { class: "button primary", href: `#/apply/${encodeURIComponent(item.code)}` }, t("catalog.apply")))
      : null,
  );
}

export async function catalogView(ctx) {
  const q = h("input", { type: "search", name: "q", value: ctx.query.get("q") || "" });
  const windowSel = h(
    "select",
    { name: "window" },
    h("option", { value: "" }, t("catalog.all")),
    ["investment", "commercial", "general"].map((w) => h("option", { value: w }, t(`window.${w}`))),
  );
  windowSel.value = ctx.query.get("window") || "";
  const kindSel = h(
    "select",
    { name: "kind" },
    h("option", { value: "" }, t("catalog.all")),
    ["licensing", "public_service"].map((k) => h("option", { value: k }, t(`kind.${k}`))),
  );
  kindSel.value = ctx.query.get("kind") || "";
  const list = h("div", { class: "grid items", id: "catalog-list" });
  const count = h("p", { class: "count", "aria-live": "polite" });
  const alert = alertBox();
  const stats = h("p", { class: "stats" });
  const more = h("button", { type: "button", hidden: true }, t("app.more"));
  let cursor = null;
  let shown = 0;

  async function load(reset) {
    if (reset) {
      clear(list);
      cursor = null;
      shown = 0;
    }
    try {
      const page = await api("/catalog/items", {
        auth: false,
        query: { q: q.value.trim(), window: windowSel.value, kind: kindSel.value, limit: 50, cursor },
      });
      page.items.forEach((item) => list.append(itemCard(item, ctx.who)));
      shown += page.items.length;
      cursor = page.next_cursor;
      more.hidden = !cursor;
      count.textContent = shown ? t("catalog.count", { count: shown + (cursor ? "+" : "") }) : t("catalog.empty");
      alert.show("");
    } catch (err) {
      alert.show(t("app.error", { message: err.message }));
    }
  }
  more.addEventListener("click", () => load(false));

  const form = h(
    "form",
    { class: "filters", role: "search" },
    field(t("catalog.search"), q),
    field(t("catalog.window"), windowSel),
    field(t("catalog.kind"), kindSel),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("catalog.filter"))),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    load(true);
  });
  windowSel.addEventListener("change", () => load(true));
  kindSel.addEventListener("change", () => load(true));

  api("/catalog/stats", { auth: false })
    .then((st) => {
      stats.textContent = t("catalog.stats", {
        items: st.items,
        trips: percent(st.zero_or_one_trip_share),
        online: percent(st.online_share),
      });
    })
    .catch(() => {});
  await load(true);
  return h(
    "section",
    { class: "page catalog" },
    h("h1", {}, t("catalog.title")),
    h("p", { class: "lead" }, t("catalog.intro")),
    stats,
    form,
    alert,
    count,
    list,
    h("p", { class: "actions" }, more),
  );
}
