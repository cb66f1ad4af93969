// Charts drawn as inline SVG: horizontal (stacked) bars and donuts. Each chart is an image with a
// text alternative that lists its figures, so the numbers are never only in the drawing.
import { h, s, newId } from "./dom.js";
import { t } from "./i18n.js";

export const COLORS = {
  red: "#c62828",
  yellow: "#f2b200",
  green: "#2e7d32",
  blue: "#1565c0",
  grey: "#9e9e9e",
};
const PALETTE = ["#1565c0", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#ad1457", "#5d4037", "#455a64"];

export function paletteColor(i) {
  return PALETTE[i % PALETTE.length];
}

/** A small colour key (an SVG square: no inline style, so a strict CSP is fine). */
export function swatch(color) {
  return s("svg", { class: "swatch", viewBox: "0 0 10 10", "aria-hidden": "true", focusable: "false" }, s("rect", { width: 10, height: 10, rx: 2, fill: color }));
}

function empty() {
  return h("p", { class: "chart-empty" }, t("board.noData"));
}

/**
 * Horizontal bars: one row per key, its label and value as text, the bar drawn in SVG (so the
 * text stays at its real size on a phone). rows: [{label, segments: [{value, color, name}], text}];
 * `max` fixes the scale (1 for rates), otherwise the largest total sets it.
 */
export function barChart({ title, rows, max }) {
  if (!rows.length) return empty();
  const top = max || Math.max(1, ...rows.map((r) => r.segments.reduce((sum, sg) => sum + (sg.value || 0), 0)));
  return h(
    "figure",
    { class: "chart bars" },
    h("figcaption", { class: "visually-hidden" }, title),
    h(
      "ul",
      { class: "bar-rows" },
      rows.map((row) => {
        const bar = s(
          "svg",
          { class: "bar", "aria-hidden": "true", focusable: "false", preserveAspectRatio: "none" },
          s("rect", { x: "0", y: "0", width: "100%", height: "100%", rx: 3, class: "chart-track" }),
        );
        let x = 0;
        for (const seg of row.segments) {
          const w = top > 0 ? Math.max(0, Math.min(100 - x, ((seg.value || 0) / top) * 100)) : 0;
          if (w > 0) {
            bar.append(s("rect", { x: `${x}%`, y: "0", width: `${w}%`, height: "100%", rx: 3, fill: seg.color }));
          }
          x += w;
        }
        return h(
          "li",
          { class: "bar-row", "data-key": row.key || row.label },
          h("span", { class: "bar-label", title: row.key && row.key !== row.label ? row.key : null }, row.label),
          bar,
          h("span", { class: "bar-value" }, row.text),
        );
      }),
    ),
  );
}

/** A donut with a legend. segments: [{label, value, color}]; centre shows the total (or `centre`). */
export function donut({ title, segments, centre, format = (v) => String(v) }) {
  const total = segments.reduce((sum, sg) => sum + sg.value, 0);
  if (!total) return empty();
  const r = 52;
  const c = 2 * Math.PI * r;
  const titleId = newId("chart-title");
  const descId = newId("chart-desc");
  const svg = s(
    "svg",
    { class: "chart donut", viewBox: "0 0 140 140", role: "img", "aria-labelledby": `${titleId} ${descId}` },
    s("title", { id: titleId }, title),
    s("desc", { id: descId }, segments.map((sg) => `${sg.label}: ${format(sg.value)}`).join("; ")),
    s("circle", { cx: 70, cy: 70, r, class: "chart-track-ring", fill: "none", "stroke-width": 20 }),
  );
  let offset = 0;
  for (const sg of segments) {
    if (!sg.value) continue;
    const len = (sg.value / total) * c;
    svg.append(
      s(
        "circle",
        {
          cx: 70,
          cy: 70,
          r,
          fill: "none",
          stroke: sg.color,
          "stroke-width": 20,
          "stroke-dasharray": `${len} ${c - len}`,
          "stroke-dashoffset": String(-offset),
          transform: "rotate(-90 70 70)",
        },
        s("title", {}, `${sg.label}: ${format(sg.value)}`),
      ),
    );
    offset += len;
  }
  svg.append(s("text", { x: 70, y: 76, "text-anchor": "middle", class: "donut-centre" }, centre ?? String(total)));
  const legend = h(
    "ul",
    { class: "legend" },
    segments.map((sg) =>
      h(
        "li",
        {},
        swatch(sg.color),
        h("span", { class: "legend-label" }, sg.label),
        h("span", { class: "legend-value" }, format(sg.value)),
      ),
    ),
  );
  return h("div", { class: "donut-wrap" }, svg, legend);
}

/**
 * A figure over months: one line per series, a point per month (hollow where the month's figures
 * were imported from before the platform), month labels under it. The text alternative lists every
 * month's values, so the chart reads without the drawing.
 * months: ["2026-01", ...]; series: [{name, color, values: [number|null]}]; hollow: [bool] per month;
 * `max` fixes the scale (1 for shares), otherwise the largest value sets it.
 */
export function timeChart({ title, months, series, hollow = [], max, format = (v) => String(v) }) {
  const present = series.some((sr) => sr.values.some((v) => v !== null && v !== undefined));
  if (!months.length || !present) return empty();
  const top = max || Math.max(1, ...series.flatMap((sr) => sr.values.filter((v) => v !== null && v !== undefined)));
  const W = 320;
  const H = 150;
  const left = 8;
  const right = 8;
  const topPad = 10;
  const bottom = 22;
  const step = months.length > 1 ? (W - left - right) / (months.length - 1) : 0;
  const xOf = (i) => (months.length > 1 ? left + i * step : W / 2);
  const yOf = (v) => topPad + (1 - Math.max(0, Math.min(1, v / top))) * (H - topPad - bottom);
  const titleId = newId("chart-title");
  const descId = newId("chart-desc");
  const desc = months
    .map((m, i) => `${m}: ${series.map((sr) => `${sr.name} ${sr.values[i] === null || sr.values[i] === undefined ? "—" : format(sr.values[i])}`).join(", ")}`)
    .join("; ");
  const svg = s(
    "svg",
    { class: "chart timeline", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": `${titleId} ${descId}` },
    s("title", { id: titleId }, title),
    s("desc", { id: descId }, desc),
    s("line", { x1: left, x2: W - right, y1: yOf(0), y2: yOf(0), class: "chart-axis" }),
    s("line", { x1: left, x2: W - right, y1: yOf(top), y2: yOf(top), class: "chart-grid" }),
  );
  // Label the first, the middle and the last month: enough to read the span on a phone.
  const labelled = new Set([0, Math.floor((months.length - 1) / 2), months.length - 1]);
  months.forEach((m, i) => {
    if (labelled.has(i)) {
      const anchor = months.length === 1 ? "middle" : i === 0 ? "start" : i === months.length - 1 ? "end" : "middle";
      svg.append(s("text", { x: xOf(i), y: H - 6, "text-anchor": anchor, class: "chart-tick" }, m));
    }
  });
  for (const sr of series) {
    let path = "";
    sr.values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      path += `${path ? " L" : "M"}${xOf(i).toFixed(1)} ${yOf(v).toFixed(1)}`;
    });
    if (path) svg.append(s("path", { d: path, fill: "none", stroke: sr.color, "stroke-width": 2 }));
    sr.values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      svg.append(
        s(
          "circle",
          { cx: xOf(i), cy: yOf(v), r: 3.2, stroke: sr.color, "stroke-width": 1.6, fill: hollow[i] ? "#ffffff" : sr.color, "data-month": months[i] },
          s("title", {}, `${months[i]} ${sr.name}: ${format(v)}${hollow[i] ? ` (${t("board.imported")})` : ""}`),
        ),
      );
    });
  }
  const last = months.length - 1;
  const legend = h(
    "ul",
    { class: "legend inline" },
    series.map((sr) =>
      h(
        "li",
        {},
        swatch(sr.color),
        h("span", { class: "legend-label" }, sr.name),
        h("span", { class: "legend-value" }, sr.values[last] === null || sr.values[last] === undefined ? "—" : format(sr.values[last])),
      ),
    ),
  );
  return h("figure", { class: "chart-time" }, h("figcaption", { class: "visually-hidden" }, title), legend, svg);
}
