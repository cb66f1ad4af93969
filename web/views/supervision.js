// The supervisor's work beside the board: inspections (a finding, its penalty and the
// rectification it opens), rectification cases by status with their visit, appeal and result,
// and the monthly 100-point assessment per window, department and hall.
import { api, newKey } from "../api.js";
import { h, field, fieldError, alertBox, announce, busy, date, dateTime, statusChip, cardChip, errorText, today } from "../dom.js";
import { t, tOr, addLabels } from "../i18n.js";
import { pagedList } from "./pager.js";

addLabels(
  {
    "nav.inspections": "现场检查",
    "nav.rectifications": "整改",
    "nav.assessment": "月度考核",
    "insp.title": "现场检查",
    "insp.intro": "记录检查发现的问题：结果对外公开，扣分计入当月考核；需要整改的会开启整改并计时。",
    "insp.new": "记录检查结果",
    "insp.department": "被检查部门",
    "insp.window": "窗口（可选）",
    "insp.noWindow": "不限窗口",
    "insp.hall": "大厅",
    "insp.problem": "发现的问题",
    "insp.penalty": "处理意见（可选）",
    "insp.points": "考核扣分（可选）",
    "insp.on": "检查日期",
    "insp.rectify": "要求整改（开启整改计时）",
    "insp.record": "记录",
    "insp.recorded": "检查结果已记录并公开。",
    "insp.list": "已公开的检查结果",
    "insp.empty": "还没有检查结果。",
    "insp.pointsOff": "扣 {n} 分",
    "insp.rectification": "整改：",
    "insp.required": "请填写此项。",
    "rect.title": "整改",
    "rect.intro": "差评（1–2 分）和检查发现的问题都会开启整改；按状态查看，打开一条处理回访、申诉和整改结果。",
    "rect.status": "状态",
    "rect.all": "全部",
    "rect.show": "筛选",
    "rect.empty": "没有符合条件的整改。",
    "rect.open": "打开",
    "rect.origin.review": "差评",
    "rect.origin.inspection": "检查",
    "rect.due": "整改期限 {due}",
    "rect.back": "返回整改列表",
    "rect.department": "责任部门",
    "rect.window": "窗口",
    "rect.application": "办件",
    "rect.score": "评分",
    "rect.complaint": "评价内容",
    "rect.opened": "开启时间",
    "rect.deadline": "整改期限",
    "rect.card": "监察亮灯",
    "rect.visit": "回访",
    "rect.noVisit": "尚未回访。",
    "rect.visitAccount": "回访记录",
    "rect.visitConfirmed": "申请人确认问题属实",
    "rect.saveVisit": "保存回访",
    "rect.visitSaved": "回访已记录。",
    "rect.appeal": "申诉",
    "rect.noAppeal": "没有申诉。",
    "rect.appealReason": "申诉理由",
    "rect.decision": "处理决定",
    "rect.upheld": "申诉成立（撤销差评）",
    "rect.dismissed": "驳回申诉",
    "rect.opinion": "处理意见",
    "rect.decide": "作出决定",
    "rect.decided": "申诉已处理。",
    "rect.result": "整改结果",
    "rect.noResult": "尚未整改。",
    "rect.resultText": "整改情况",
    "rect.saveResult": "记录整改结果并结案",
    "rect.resultSaved": "整改结果已记录，结果已公开。",
    "rect.closed": "{at} 结案",
    "rect.onTime": "按期",
    "rect.late": "逾期",
    "rect.required": "请填写此项。",
    "assess.title": "月度考核",
    "assess.intro": "按月计算百分制考核：窗口、部门和大厅分别计分，可看各项得分。重新计算会替换该月的结果。",
    "assess.month": "月份",
    "assess.scope": "范围",
    "assess.scope.window": "窗口",
    "assess.scope.department": "部门",
    "assess.scope.hall": "大厅",
    "assess.hall": "大厅",
    "assess.allHalls": "全部大厅",
    "assess.show": "查看",
    "assess.compute": "计算并公布本月考核",
    "assess.computed": "{month} 考核已计算：{n} 项。",
    "assess.empty": "这个月还没有公布的考核。先点“计算并公布本月考核”。",
    "assess.score": "{score} 分",
    "assess.breakdown": "得分明细",
    "assess.computedAt": "计算于 {at}",
  },
  {
    "nav.inspections": "Inspections",
    "nav.rectifications": "Rectifications",
    "nav.assessment": "Assessment",
    "insp.title": "Inspections",
    "insp.intro": "Record what an inspection found: findings are published, points off count in the month's assessment, and a rectification opens on a clock when asked for.",
    "insp.new": "Record a finding",
    "insp.department": "Department inspected",
    "insp.window": "Window (optional)",
    "insp.noWindow": "Any window",
    "insp.hall": "Hall",
    "insp.problem": "Problem found",
    "insp.penalty": "Penalty (optional)",
    "insp.points": "Points off the assessment (optional)",
    "insp.on": "Inspected on",
    "insp.rectify": "Rectification required (starts its clock)",
    "insp.record": "Record",
    "insp.recorded": "Finding recorded and published.",
    "insp.list": "Published findings",
    "insp.empty": "No finding yet.",
    "insp.pointsOff": "{n} points off",
    "insp.rectification": "Rectification: ",
    "insp.required": "Fill this in.",
    "rect.title": "Rectifications",
    "rect.intro": "Poor ratings (1–2) and inspection findings open a rectification; list them by status and open one for its return visit, appeal and result.",
    "rect.status": "Status",
    "rect.all": "All",
    "rect.show": "Filter",
    "rect.empty": "No rectification matches.",
    "rect.open": "Open",
    "rect.origin.review": "Poor rating",
    "rect.origin.inspection": "Inspection",
    "rect.due": "Due {due}",
    "rect.back": "Back to rectifications",
    "rect.department": "Department responsible",
    "rect.window": "Window",
    "rect.application": "Application",
    "rect.score": "Score",
    "rect.complaint": "Comment",
    "rect.opened": "Opened",
    "rect.deadline": "Due",
    "rect.card": "Card",
    "rect.visit": "Return visit",
    "rect.noVisit": "No return visit yet.",
    "rect.visitAccount": "Visit notes",
    "rect.visitConfirmed": "The applicant confirms the problem",
    "rect.saveVisit": "Save the visit",
    "rect.visitSaved": "Return visit recorded.",
    "rect.appeal": "Appeal",
    "rect.noAppeal": "No appeal.",
    "rect.appealReason": "Reason given",
    "rect.decision": "Decision",
    "rect.upheld": "Upheld (the rating is annulled)",
    "rect.dismissed": "Dismissed",
    "rect.opinion": "Opinion",
    "rect.decide": "Decide",
    "rect.decided": "Appeal decided.",
    "rect.result": "Result",
    "rect.noResult": "Not rectified yet.",
    "rect.resultText": "What was done",
    "rect.saveResult": "Record the result and close",
    "rect.resultSaved": "Result recorded and published.",
    "rect.closed": "closed {at}",
    "rect.onTime": "on time",
    "rect.late": "late",
    "rect.required": "Fill this in.",
    "assess.title": "Monthly assessment",
    "assess.intro": "The 100-point assessment of a month, for each window, department and hall, with what each score is made of. Computing again replaces the month's results.",
    "assess.month": "Month",
    "assess.scope": "Scope",
    "assess.scope.window": "Windows",
    "assess.scope.department": "Departments",
    "assess.scope.hall": "Halls",
    "assess.hall": "Hall",
    "assess.allHalls": "All halls",
    "assess.show": "Show",
    "assess.compute": "Compute and publish the month",
    "assess.computed": "{month} computed: {n} scores.",
    "assess.empty": "Nothing published for this month yet. Press “Compute and publish the month” first.",
    "assess.score": "{score} points",
    "assess.breakdown": "Breakdown",
    "assess.computedAt": "computed {at}",
  },
);

const WINDOWS = ["general", "commercial", "investment"];

async function hallOptions(select, { any } = {}) {
  if (any) select.append(h("option", { value: "" }, t("assess.allHalls")));
  try {
    const halls = await api("/halls", { auth: false, query: { limit: 100 } });
    (halls.items || []).forEach((hl) => select.append(h("option", { value: hl.code }, hl.name)));
  } catch {
    /* without the registry the city's hall is the default */
  }
  if (!select.options.length) select.append(h("option", { value: "CITY" }, "CITY"));
}

/** Departments named in the catalog (an inspection is against one). */
async function departments() {
  try {
    const page = await api("/catalog/items", { auth: false, query: { limit: 100 } });
    return [...new Set((page.items || []).flatMap((i) => [i.department, ...(i.departments || [])]).filter(Boolean))].sort();
  } catch {
    return [];
  }
}

function monthNow() {
  return today().slice(0, 7);
}

// --- inspections ----------------------------------------------------------------------------

export async function inspectionsView() {
  const dept = h("select", { name: "department", id: "insp-department" }, (await departments()).map((d) => h("option", { value: d }, d)));
  const win = h("select", { name: "window", id: "insp-window" }, h("option", { value: "" }, t("insp.noWindow")), WINDOWS.map((w) => h("option", { value: w }, t(`window.${w}`))));
  const hall = h("select", { name: "hall", id: "insp-hall" });
  await hallOptions(hall);
  const problem = h("textarea", { name: "problem", rows: "3", maxlength: "4000" });
  const penalty = h("input", { name: "penalty", maxlength: "2000" });
  const points = h("input", { name: "penalty_points", type: "number", min: "0", max: "100", step: "1", inputmode: "numeric" });
  const on = h("input", { name: "inspected_on", type: "date", value: today(), max: today() });
  const rectify = h("input", { type: "checkbox", name: "rectify", id: "insp-rectify", checked: true });
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary" }, t("insp.record"));
  let idem = newKey();
  const list = pagedList({
    path: "/inspections",
    id: "inspections",
    label: t("insp.list"),
    empty: t("insp.empty"),
    item: (i) =>
      h(
        "li",
        { class: "card inspection", "data-inspection": i.inspection_id },
        h("div", { class: "task-head" }, h("h3", {}, `${i.department}${i.window ? ` · ${tOr(`window.${i.window}`, i.window)}` : ""}`), h("span", { class: "chip" }, t("insp.pointsOff", { n: i.penalty_points }))),
        h("p", {}, i.problem),
        h(
          "p",
          { class: "meta" },
          `${date(i.inspected_on)} · ${i.hall}${i.penalty ? ` · ${i.penalty}` : ""}`,
          i.rectification_id ? [" · ", h("a", { href: `#/supervision/rectifications/${encodeURIComponent(i.rectification_id)}` }, `${t("insp.rectification")}${tOr(`status.${i.rectification_status}`, i.rectification_status || "")}`)] : null,
        ),
      ),
  });
  const form = h(
    "form",
    { class: "form card", id: "inspection-form", novalidate: true },
    h("h2", {}, t("insp.new")),
    field(t("insp.department"), dept, { required: true }),
    field(t("insp.window"), win),
    field(t("insp.hall"), hall),
    field(t("insp.on"), on),
    field(t("insp.problem"), problem, { required: true }),
    field(t("insp.penalty"), penalty),
    field(t("insp.points"), points),
    h("div", { class: "choice" }, rectify, h("label", { for: rectify.id }, t("insp.rectify"))),
    alert,
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(submit, async () => {
      alert.show("");
      fieldError(problem, problem.value.trim() ? "" : t("insp.required"));
      if (!problem.value.trim()) return problem.focus();
      const body = { department: dept.value, hall: hall.value, problem: problem.value.trim(), rectify: rectify.checked, inspected_on: on.value || null };
      if (win.value) body.window = win.value;
      if (penalty.value.trim()) body.penalty = penalty.value.trim();
      if (points.value !== "") body.penalty_points = Number(points.value);
      try {
        await api("/inspections", { method: "POST", key: idem, json: body });
        idem = newKey();
        problem.value = "";
        penalty.value = "";
        points.value = "";
        announce(t("insp.recorded"), "ok");
        await list.reload();
      } catch (err) {
        alert.show(errorText(err));
      }
    })();
  });
  await list.reload();
  return h("section", { class: "page inspections" }, h("h1", {}, t("insp.title")), h("p", { class: "lead" }, t("insp.intro")), form, h("h2", {}, t("insp.list")), list.node);
}

// --- rectifications -------------------------------------------------------------------------

export async function rectificationsView(ctx) {
  const status = h("select", { name: "status", id: "rect-status" }, ["open", "appealed", "rectified", "annulled", ""].map((s) => h("option", { value: s }, s ? t(`status.${s}`) : t("rect.all"))));
  status.value = ctx.query.get("status") ?? "open";
  const list = pagedList({
    path: "/rectifications",
    query: () => ({ status: status.value }),
    id: "rectifications",
    label: t("rect.title"),
    empty: t("rect.empty"),
    item: (c) =>
      h(
        "li",
        { class: "card row", "data-rectification": c.rectification_id, "data-status": c.status },
        h(
          "div",
          { class: "row-main" },
          h("p", { class: "row-title" }, `${c.department}${c.window ? ` · ${tOr(`window.${c.window}`, c.window)}` : ""} · ${tOr(`rect.origin.${c.origin}`, c.origin)}`),
          h("p", { class: "meta" }, `${dateTime(c.opened_at)} · ${t("rect.due", { due: date(c.due_date) })}${c.score ? ` · ${c.score}★` : ""}`),
        ),
        h("div", { class: "row-side" }, statusChip(c.status), c.card ? cardChip(c.card) : null, h("a", { class: "button", href: `#/supervision/rectifications/${encodeURIComponent(c.rectification_id)}` }, t("rect.open"))),
      ),
  });
  const filters = h("form", { class: "filters" }, field(t("rect.status"), status), h("div", { class: "actions" }, h("button", { type: "submit" }, t("rect.show"))));
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    list.reload();
  });
  status.addEventListener("change", () => list.reload());
  await list.reload();
  return h("section", { class: "page rectifications" }, h("h1", {}, t("rect.title")), h("p", { class: "lead" }, t("rect.intro")), filters, list.node);
}

function textForm({ label, button, name, extra = [], send }) {
  const text = h("textarea", { name, rows: "3", maxlength: "4000" });
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary" }, button);
  const form = h("form", { class: "form", novalidate: true }, ...extra.map((x) => x.node), field(label, text, { required: true }), alert, h("div", { class: "actions" }, submit));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(submit, async () => {
      alert.show("");
      fieldError(text, text.value.trim() ? "" : t("rect.required"));
      if (!text.value.trim()) return text.focus();
      try {
        await send(text.value.trim(), extra);
      } catch (err) {
        alert.show(errorText(err));
      }
    })();
  });
  return form;
}

export async function rectificationView(ctx) {
  const id = ctx.params.id;
  const c = await api(`/rectifications/${encodeURIComponent(id)}`);
  const path = `/rectifications/${encodeURIComponent(id)}`;
  const done = (message) => {
    announce(message, "ok");
    ctx.rerender();
  };
  const fact = (label, value) => (value === null || value === undefined || value === "" ? null : h("div", {}, h("dt", {}, label), h("dd", {}, value)));
  const closed = ["rectified", "annulled"].includes(c.status);

  const confirmed = h("input", { type: "checkbox", name: "confirmed", id: "visit-confirmed" });
  const visit = c.visit
    ? h("p", { id: "visit" }, c.visit.account, h("span", { class: "meta" }, ` · ${c.visit.visited_by || ""} ${dateTime(c.visit.visited_at)}${c.visit.confirmed ? ` · ${t("rect.visitConfirmed")}` : ""}`))
    : closed
      ? h("p", { class: "empty" }, t("rect.noVisit"))
      : textForm({
          label: t("rect.visitAccount"),
          button: t("rect.saveVisit"),
          name: "account",
          extra: [{ node: h("div", { class: "choice" }, confirmed, h("label", { for: confirmed.id }, t("rect.visitConfirmed"))) }],
          send: async (account) => {
            await api(`${path}/visit`, { method: "POST", json: { account, confirmed: confirmed.checked } });
            done(t("rect.visitSaved"));
          },
        });

  let appeal = h("p", { class: "empty" }, t("rect.noAppeal"));
  if (c.appeal) {
    const decisionSel = h("select", { name: "decision", id: "appeal-decision" }, h("option", { value: "dismissed" }, t("rect.dismissed")), h("option", { value: "upheld" }, t("rect.upheld")));
    appeal = h(
      "div",
      { id: "appeal" },
      h("p", {}, `${t("rect.appealReason")}：${c.appeal.reason || ""}`, h("span", { class: "meta" }, ` · ${c.appeal.appealed_by || ""} ${dateTime(c.appeal.appealed_at)}`)),
      c.appeal.decision
        ? h("p", {}, `${t("rect.decision")}：${c.appeal.decision === "upheld" ? t("rect.upheld") : t("rect.dismissed")} · ${c.appeal.opinion || ""}`)
        : textForm({
            label: t("rect.opinion"),
            button: t("rect.decide"),
            name: "opinion",
            extra: [{ node: field(t("rect.decision"), decisionSel) }],
            send: async (opinion) => {
              await api(`${path}/appeal/decision`, { method: "POST", json: { decision: decisionSel.value, opinion } });
              done(t("rect.decided"));
            },
          }),
    );
  }

  const result = c.result
    ? h("p", { id: "result" }, c.result, h("span", { class: "meta" }, ` · ${t("rect.closed", { at: dateTime(c.closed_at) })}${c.on_time === null || c.on_time === undefined ? "" : ` · ${c.on_time ? t("rect.onTime") : t("rect.late")}`}`))
    : closed
      ? h("p", { class: "empty" }, t("rect.noResult"))
      : textForm({
          label: t("rect.resultText"),
          button: t("rect.saveResult"),
          name: "result",
          send: async (text) => {
            await api(`${path}/result`, { method: "POST", json: { result: text } });
            done(t("rect.resultSaved"));
          },
        });

  return h(
    "section",
    { class: "page rectification", "data-rectification": c.rectification_id, "data-status": c.status },
    h("p", {}, h("a", { href: "#/supervision/rectifications" }, t("rect.back"))),
    h("h1", {}, `${c.department} · ${tOr(`rect.origin.${c.origin}`, c.origin)}`),
    h("p", {}, statusChip(c.status), " ", c.card ? cardChip(c.card) : null),
    h(
      "dl",
      { class: "facts" },
      fact(t("rect.department"), c.department),
      fact(t("rect.window"), c.window ? tOr(`window.${c.window}`, c.window) : null),
      fact(t("rect.application"), c.application_no),
      fact(t("rect.score"), c.score),
      fact(t("rect.complaint"), c.complaint),
      fact(t("rect.opened"), dateTime(c.opened_at)),
      fact(t("rect.deadline"), date(c.due_date)),
    ),
    h("section", { class: "card" }, h("h2", {}, t("rect.visit")), visit),
    h("section", { class: "card" }, h("h2", {}, t("rect.appeal")), appeal),
    h("section", { class: "card" }, h("h2", {}, t("rect.result")), result),
  );
}

// --- the monthly assessment -----------------------------------------------------------------

const round = (n) => (typeof n === "number" ? Math.round(n * 100) / 100 : n);

/** What a score is made of: each component's points out of its weight, and what was measured. */
function breakdownTable(rows) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "breakdown" },
      h("caption", { class: "visually-hidden" }, t("assess.breakdown")),
      h("thead", {}, h("tr", {}, [t("assess.component"), t("assess.points"), t("assess.measured")].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        (rows || []).map((b) =>
          h(
            "tr",
            { "data-component": b.name },
            h("th", { scope: "row" }, tOr(`assess.c.${b.name}`, b.name)),
            h("td", { class: "num" }, `${round(b.score)} / ${round(b.weight)}`),
            h("td", {}, b.value === null || b.value === undefined ? t("assess.nothing") : b.value <= 1 && !["red_cards", "inspections"].includes(b.name) ? `${round(b.value * 100)}%` : String(b.value), b.detail && b.value !== null && b.value !== undefined ? h("span", { class: "meta" }, ` · ${b.detail}`) : null),
          ),
        ),
      ),
    ),
  );
}

addLabels(
  {
    "assess.component": "考核项",
    "assess.points": "得分 / 满分",
    "assess.measured": "实测",
    "assess.nothing": "本月无数据（按满分计）",
    "assess.c.satisfaction": "满意度",
    "assess.c.on_time": "按时办结率",
    "assess.c.red_cards": "红牌",
    "assess.c.inspections": "检查扣分",
    "assess.c.online": "网办率",
  },
  {
    "assess.component": "Component",
    "assess.points": "Points / weight",
    "assess.measured": "Measured",
    "assess.nothing": "nothing to measure this month (full points)",
    "assess.c.satisfaction": "Satisfaction",
    "assess.c.on_time": "On time",
    "assess.c.red_cards": "Red cards",
    "assess.c.inspections": "Inspection findings",
    "assess.c.online": "Online",
  },
);

export async function assessmentView(ctx) {
  const month = h("input", { type: "month", name: "month", id: "assess-month", value: ctx.query.get("month") || monthNow(), max: monthNow() });
  const scope = h("select", { name: "scope", id: "assess-scope" }, ["window", "department", "hall"].map((s) => h("option", { value: s }, t(`assess.scope.${s}`))));
  scope.value = ctx.query.get("scope") || "department";
  const hall = h("select", { name: "hall", id: "assess-hall" });
  await hallOptions(hall, { any: true });
  const alert = alertBox();
  const compute = h("button", { type: "button", class: "primary", id: "assess-compute" }, t("assess.compute"));
  const list = pagedList({
    path: "/assessments",
    query: () => ({ month: month.value, scope: scope.value, hall: hall.value }),
    id: "assessments",
    label: t("assess.title"),
    empty: t("assess.empty"),
    limit: 50,
    item: (a) =>
      h(
        "li",
        { class: "card assessment", "data-key": a.key, "data-scope": a.scope },
        h("div", { class: "task-head" }, h("h3", {}, a.scope === "window" ? tOr(`window.${a.key}`, a.key) : a.key, a.scope !== "hall" ? h("span", { class: "meta" }, ` · ${a.hall}`) : null), h("span", { class: "chip score" }, t("assess.score", { score: Math.round(a.score * 10) / 10 }))),
        h("meter", { min: "0", max: "100", low: "60", high: "85", optimum: "100", value: String(a.score), "aria-label": t("assess.score", { score: a.score }) }),
        h("details", {}, h("summary", {}, t("assess.breakdown")), breakdownTable(a.breakdown), h("p", { class: "meta" }, t("assess.computedAt", { at: dateTime(a.computed_at) }))),
      ),
  });
  compute.addEventListener(
    "click",
    busy(compute, async () => {
      alert.show("");
      try {
        const run = await api("/assessments", { method: "POST", json: { month: month.value } });
        announce(t("assess.computed", { month: run.month, n: run.items.length + (run.halls || []).length }), "ok");
        await list.reload();
      } catch (err) {
        alert.show(errorText(err));
      }
    }),
  );
  const filters = h("form", { class: "filters" }, field(t("assess.month"), month), field(t("assess.scope"), scope), field(t("assess.hall"), hall), h("div", { class: "actions" }, h("button", { type: "submit" }, t("assess.show"))));
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    list.reload();
  });
  [month, scope, hall].forEach((c) => c.addEventListener("change", () => list.reload()));
  await list.reload();
  return h("section", { class: "page assessment" }, h("h1", {}, t("assess.title")), h("p", { class: "lead" }, t("assess.intro")), filters, h("div", { class: "toolbar" }, compute), alert, list.node);
}

