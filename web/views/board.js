// The supervision board: the published figures over months (per hall), cards by department,
// on-time rates, consultation replies, satisfaction by department and by channel, open
// rectifications. Polled every 10 seconds.
import { api } from "../api.js";
import { h, clear, percent, date, cardChip, statusChip, field, clock } from "../dom.js";
import { departmentName } from "../problems.js";
import { t, tOr } from "../i18n.js";
import { barChart, donut, swatch, timeChart, COLORS, paletteColor } from "../charts.js";

function panel(id, title, body, wide = false) {
  return h("section", { class: `card panel${wide ? " wide" : ""}`, id, "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, title), body);
}

function kpi(id, label, value, kind) {
  return h("div", { class: `kpi ${kind || ""}`, id }, h("span", { class: "kpi-value" }, value), h("span", { class: "kpi-label" }, label));
}

function rateColor(rate) {
  if (rate === null || rate === undefined) return COLORS.grey;
  if (rate >= 0.9) return COLORS.green;
  if (rate >= 0.7) return COLORS.yellow;
  return COLORS.red;
}

function rateRows(items, keyOf, rateOf, countText) {
  return items.map((it) => {
    const rate = rateOf(it);
    // A department's name where people read it; its code stays the row's key and tooltip.
    return {
      key: keyOf(it),
      label: departmentName(keyOf(it)),
      segments: [{ value: rate || 0, color: rateColor(rate), name: "", label: percent(rate) }],
      text: percent(rate),
      count: countText ? countText(it) : "",
      rate,
    };
  });
}

async function settle(promise) {
  try {
    return { ok: true, value: await promise };
  } catch (err) {
    return { ok: false, error: err };
  }
}

/** The published figures (GET /api/v1/figures) as charts over the months. */
function figuresCharts(body) {
  const months = body.months.map((m) => m.month);
  const hollow = body.months.map((m) => m.source === "imported");
  const pick = (name) => body.months.map((m) => m[name]);
  const chart = (id, title, series, opts = {}) =>
    h("div", { id }, h("h3", {}, title), timeChart({ title, months, hollow, series, ...opts }));
  const share = { max: 1, format: percent };
  return h(
    "div",
    { class: "figures-grid" },
    chart("fig-applications", t("board.fig.applications"), [{ name: t("board.fig.applications"), color: COLORS.blue, values: pick("applications") }]),
    chart("fig-online", t("board.fig.online"), [{ name: t("board.fig.online"), color: paletteColor(1), values: pick("online_share") }], share),
    chart(
      "fig-trips",
      t("board.fig.trips"),
      [
        { name: t("board.fig.zeroTrip"), color: paletteColor(4), values: pick("zero_trip_share") },
        { name: t("board.fig.oneTrip"), color: paletteColor(3), values: pick("one_trip_share") },
      ],
      share,
    ),
    chart("fig-ontime", t("board.fig.onTime"), [{ name: t("board.fig.onTime"), color: COLORS.green, values: pick("on_time_rate") }], share),
    chart("fig-satisfaction", t("board.fig.satisfaction"), [{ name: t("board.fig.satisfaction"), color: paletteColor(2), values: pick("satisfaction_rate") }], share),
  );
}

export async function boardView(ctx) {
  const kpis = h("div", { class: "kpis", id: "kpis" });
  const grid = h("div", { class: "board-grid" });
  const stamp = h("p", { class: "meta updated", id: "board-updated" });
  const problems = h("div", { class: "problems" });
  const figuresBody = h("div", { id: "figures-body" });
  // The hall selector appears only where the platform lists halls (GET /api/v1/halls).
  let hall = "";
  const hallSelect = h("select", { id: "figures-hall", name: "hall" });
  const halls = await settle(api("/halls", { query: { limit: 100 } }));
  const hallItems = halls.ok && halls.value && Array.isArray(halls.value.items) ? halls.value.items : [];
  const controls = h("div", { class: "figures-controls" });
  if (hallItems.length) {
    hallSelect.append(h("option", { value: "" }, t("board.fig.allHalls")), ...hallItems.map((x) => h("option", { value: x.code }, `${x.name} (${x.code})`)));
    hallSelect.addEventListener("change", () => {
      hall = hallSelect.value;
      load().catch(() => {});
    });
    controls.append(field(t("board.fig.hall"), hallSelect));
  }
  controls.append(h("p", { class: "meta" }, t("board.fig.legend")));
  const figuresPanel = panel("panel-figures", t("board.fig.title"), h("div", {}, controls, figuresBody), true);

  async function load() {
    const [summary, cards, byDept, byChannel, rect, figures] = await Promise.all([
      settle(api("/supervision/summary")),
      settle(api("/supervision/cards", { query: { open: true, limit: 200 } })),
      settle(api("/ratings/stats", { query: { by: "department" } })),
      settle(api("/ratings/stats", { query: { by: "channel" } })),
      settle(api("/rectifications", { query: { status: "open", limit: 200 } })),
      settle(api("/figures", { query: { hall } })),
    ]);
    if (!ctx.current) return;
    clear(problems);
    for (const [what, res] of [
      [t("board.cardsByDept"), summary],
      [t("board.cardsOpen"), cards],
      [t("board.satByDept"), byDept],
      [t("board.satByChannel"), byChannel],
      [t("board.rectifications"), rect],
      [t("board.fig.title"), figures],
    ]) {
      if (!res.ok) problems.append(h("p", { class: "alert", "data-kind": "warn" }, t("board.unavailable", { what, message: res.error.message })));
    }

    const departments = summary.ok ? summary.value.departments.filter((d) => d.department) : [];
    const deptStats = byDept.ok ? byDept.value.items : [];
    const channelStats = byChannel.ok ? byChannel.value.items : [];
    const openCases = rect.ok ? rect.value.items : [];
    const cardItems = cards.ok ? cards.value.items : [];
    const total = byDept.ok ? byDept.value.total : null;

    clear(kpis).append(
      kpi("kpi-red", t("board.redCards"), summary.ok ? String(summary.value.red_cards) : "—", "red"),
      kpi("kpi-yellow", t("board.yellowCards"), summary.ok ? String(summary.value.yellow_cards) : "—", "yellow"),
      kpi("kpi-satisfaction", t("board.satisfaction"), total ? percent(total.satisfaction_rate) : "—", "green"),
      kpi("kpi-rectifications", t("board.openRectifications"), rect.ok ? String(openCases.length) : "—", "blue"),
    );

    // Cards by department: stacked red + yellow bars.
    const cardRows = departments
      .filter((d) => d.red_cards || d.yellow_cards || d.open_tasks || d.tasks_closed)
      .map((d) => ({
        key: d.department,
        label: departmentName(d.department),
        segments: [
          { value: d.red_cards, color: COLORS.red, name: t("card.red"), label: d.red_cards },
          { value: d.yellow_cards, color: COLORS.yellow, name: t("card.yellow"), label: d.yellow_cards },
        ],
        text: `${t("card.red")} ${d.red_cards} · ${t("card.yellow")} ${d.yellow_cards}`,
        d,
      }));
    const onTimeRows = rateRows(
      departments.filter((d) => d.tasks_closed > 0),
      (d) => d.department,
      (d) => d.on_time_rate,
    );
    const consultRows = rateRows(
      departments.filter((d) => d.consultations > 0),
      (d) => d.department,
      (d) => d.consultation_on_time_rate,
    );
    const satRows = rateRows(
      deptStats.filter((s) => s.count > 0),
      (s) => s.key,
      (s) => s.satisfaction_rate,
    );

    const cardsLegend = h(
      "ul",
      { class: "legend inline" },
      h("li", {}, swatch(COLORS.red), t("card.red")),
      h("li", {}, swatch(COLORS.yellow), t("card.yellow")),
    );

    const channelDonut = donut({
      title: t("board.satByChannel"),
      segments: channelStats.filter((c) => c.count > 0).map((c, i) => ({ label: `${tOr(`channel.${c.key}`, c.key)} · ${percent(c.satisfaction_rate)}`, value: c.count, color: paletteColor(i) })),
      centre: total ? percent(total.satisfaction_rate) : undefined,
      format: (v) => t("board.reviews", { n: v }),
    });

    const cardsTable = cardItems.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            {},
            h("caption", { class: "visually-hidden" }, t("board.cardsOpen")),
            h("thead", {}, h("tr", {}, [t("app.status"), t("inbox.department"), t("board.kind"), t("board.ref"), t("board.due")].map((c) => h("th", { scope: "col" }, c)))),
            h(
              "tbody",
              {},
              cardItems.slice(0, 20).map((c) =>
                h("tr", { "data-card": c.color }, h("td", {}, cardChip(c.color)), h("td", { title: c.department || null }, c.department ? departmentName(c.department) : "—"), h("td", {}, tOr(`clock.${c.clock_kind}`, c.clock_kind)), h("td", { class: "code" }, c.application_no || c.ref), h("td", {}, date(c.due_date))),
              ),
            ),
          ),
        )
      : h("p", { class: "chart-empty" }, t("board.noData"));

    const rectTable = openCases.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { id: "rectifications" },
            h("caption", { class: "visually-hidden" }, t("board.rectifications")),
            h("thead", {}, h("tr", {}, [t("inbox.department"), t("board.origin"), t("board.score"), t("board.complaint"), t("board.due"), t("app.status")].map((c) => h("th", { scope: "col" }, c)))),
            h(
              "tbody",
              {},
              openCases.slice(0, 30).map((r) =>
                h(
                  "tr",
                  {},
                  h("td", { title: r.department }, departmentName(r.department)),
                  h("td", {}, tOr(`origin.${r.origin}`, r.origin)),
                  h("td", { class: "num" }, r.score ?? "—"),
                  h("td", {}, r.complaint || "—"),
                  h("td", {}, r.due_date ? date(r.due_date) : "—", " ", r.card ? cardChip(r.card) : null),
                  h("td", {}, statusChip(r.status)),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "chart-empty" }, t("board.noData"));

    clear(figuresBody).append(figures.ok ? figuresCharts(figures.value) : h("p", { class: "chart-empty" }, t("board.noData")));
    clear(grid).append(
      figuresPanel,
      panel(
        "panel-cards",
        t("board.cardsByDept"),
        h("div", {}, cardsLegend, barChart({ title: t("board.cardsByDept"), rows: cardRows })),
      ),
      panel("panel-ontime", t("board.onTime"), barChart({ title: t("board.onTime"), rows: onTimeRows, max: 1 })),
      panel("panel-satisfaction", t("board.satByDept"), barChart({ title: t("board.satByDept"), rows: satRows, max: 1 })),
      panel("panel-channels", t("board.satByChannel"), channelDonut),
      panel("panel-consultations", t("board.consultations"), barChart({ title: t("board.consultations"), rows: consultRows, max: 1 })),
      panel("panel-open-cards", t("board.cardsOpen"), cardsTable),
      panel("panel-rectifications", t("board.rectifications"), rectTable, true),
    );
    const asOf = summary.ok ? ` · ${t("board.asOf", { date: summary.value.as_of })}` : "";
    stamp.textContent = `${t("app.updated", { time: clock() })}${asOf}`;
    stamp.dataset.at = String(Date.now());
  }

  await load();
  ctx.every(10000, () => load().catch(() => {}));
  return h("section", { class: "page board" }, h("h1", {}, t("board.title")), h("p", { class: "lead" }, t("board.intro")), stamp, problems, kpis, grid);
}
