// Investment projects (docs/api.md "Investment projects"): an applicant registers a project and
// follows its four stages; each stage is applied for as an application carrying the project's
// number, accepted only once the stage before is approved.
import { api, newKey } from "../api.js";
import { h, field, fieldError, alertBox, announce, busy, date, statusChip, errorText } from "../dom.js";
import { t, addLabels } from "../i18n.js";
import { pagedList } from "./pager.js";

addLabels(
  {
    "nav.projects": "投资项目",
    "projects.title": "投资项目",
    "projects.intro": "登记项目后，四个阶段依次办理：每个阶段在上一阶段批准后才会受理。",
    "projects.new": "登记新项目",
    "projects.name": "项目名称",
    "projects.investment": "总投资（万元）",
    "projects.investmentHint": "填写数字，例如 1200 表示 1200 万元。",
    "projects.key": "重点项目（可申请代办服务）",
    "projects.create": "登记项目",
    "projects.created": "项目 {no} 已登记。",
    "projects.mine": "我的项目",
    "projects.empty": "还没有项目。在上方登记第一个项目。",
    "projects.open": "查看阶段",
    "projects.no": "项目编号",
    "projects.owner": "项目单位（申请人）",
    "projects.total": "承诺时限",
    "projects.committed": "承诺总时限 {n} 个工作日",
    "projects.keyBadge": "重点项目",
    "projects.stages": "四个阶段",
    "projects.stage": "第 {n} 阶段",
    "projects.item": "事项",
    "projects.status": "状态",
    "projects.deadline": "办结期限",
    "projects.daysUsed": "已用工作日",
    "projects.daysOf": "{used} / 承诺 {committed} 个工作日",
    "projects.notUsed": "承诺 {committed} 个工作日",
    "projects.apply": "申请本阶段",
    "projects.applied": "已为第 {n} 阶段创建申请 {no}，请上传材料并提交。",
    "projects.openApp": "查看申请 {no}",
    "projects.waitPrev": "上一阶段批准后才会受理（可先准备材料）。",
    "projects.back": "返回我的项目",
    "projects.investmentError": "请填写不小于 0 的数字。",
    "projects.nameError": "请填写项目名称。",
    "status.not_started": "未开始",
  },
  {
    "nav.projects": "Projects",
    "projects.title": "Investment projects",
    "projects.intro": "Register a project, then its four stages one after another: a stage is accepted only after the one before is approved.",
    "projects.new": "Register a project",
    "projects.name": "Project name",
    "projects.investment": "Total investment (10,000 yuan)",
    "projects.investmentHint": "A number: 1200 means 12 million yuan.",
    "projects.key": "Key project (may have an agency officer)",
    "projects.create": "Register the project",
    "projects.created": "Project {no} registered.",
    "projects.mine": "My projects",
    "projects.empty": "No project yet. Register the first one above.",
    "projects.open": "Open its stages",
    "projects.no": "Project number",
    "projects.owner": "Owner (applicant)",
    "projects.total": "Committed",
    "projects.committed": "{n} working days committed in all",
    "projects.keyBadge": "Key project",
    "projects.stages": "The four stages",
    "projects.stage": "Stage {n}",
    "projects.item": "Item",
    "projects.status": "Status",
    "projects.deadline": "Deadline",
    "projects.daysUsed": "Working days used",
    "projects.daysOf": "{used} of {committed} working days",
    "projects.notUsed": "{committed} working days committed",
    "projects.apply": "Apply for this stage",
    "projects.applied": "Application {no} created for stage {n}: upload its materials and submit it.",
    "projects.openApp": "Open application {no}",
    "projects.waitPrev": "Accepted once the stage before is approved (materials can be prepared now).",
    "projects.back": "Back to my projects",
    "projects.investmentError": "Enter a number, 0 or more.",
    "projects.nameError": "Enter the project's name.",
    "status.not_started": "Not started",
  },
);

/** 万元 as the person types it, to integer fen (1 万元 = 1,000,000 fen). */
function wanToFen(text) {
  const value = Number(String(text).replace(/[,，\s]/g, ""));
  if (!Number.isFinite(value) || value < 0 || String(text).trim() === "") return null;
  return Math.round(value * 1_000_000);
}

function wan(fen) {
  return `${(fen / 1_000_000).toLocaleString()} ${t("projects.wan")}`;
}

addLabels({ "projects.wan": "万元" }, { "projects.wan": "× 10,000 yuan" });

function projectRow(p) {
  const done = p.stages.filter((s) => ["approved", "completed"].includes(s.status)).length;
  return h(
    "li",
    { class: "card row", "data-project": p.project_no },
    h(
      "div",
      { class: "row-main" },
      h("p", { class: "row-title" }, p.name, p.key_project ? h("span", { class: "badge info" }, ` ${t("projects.keyBadge")}`) : null),
      h("p", { class: "meta" }, `${p.project_no} · ${wan(p.investment_fen)} · ${done}/4 · ${t("projects.committed", { n: p.committed_days })}`),
    ),
    h("div", { class: "row-side" }, h("a", { class: "button", href: `#/projects/${encodeURIComponent(p.project_no)}` }, t("projects.open"))),
  );
}

export async function projectsView(ctx) {
  const name = h("input", { name: "name", maxlength: "200", autocomplete: "off" });
  const investment = h("input", { name: "investment", inputmode: "decimal" });
  const key = h("input", { type: "checkbox", name: "key_project", id: "project-key" });
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary" }, t("projects.create"));
  // One key per filled-in form: a retry of the same registration is not a second project.
  let idem = newKey();
  const form = h(
    "form",
    { class: "form card", id: "project-form", novalidate: true, oninput: () => (idem = newKey()), onchange: () => (idem = newKey()) },
    h("h2", {}, t("projects.new")),
    field(t("projects.name"), name, { required: true }),
    field(t("projects.investment"), investment, { required: true, hint: t("projects.investmentHint") }),
    h("div", { class: "choice" }, key, h("label", { for: key.id }, t("projects.key"))),
    alert,
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener(
    "submit",
    (e) => {
      e.preventDefault();
      busy(submit, async () => {
        alert.show("");
        fieldError(name, "");
        fieldError(investment, "");
        const fen = wanToFen(investment.value);
        if (!name.value.trim()) {
          fieldError(name, t("projects.nameError"));
          name.focus();
          return;
        }
        if (fen === null) {
          fieldError(investment, t("projects.investmentError"));
          investment.focus();
          return;
        }
        try {
          const body = { name: name.value.trim(), investment_fen: fen, key_project: key.checked };
          const p = await api("/projects", { method: "POST", key: idem, json: body });
          announce(t("projects.created", { no: p.project_no }), "ok");
          ctx.navigate(`#/projects/${encodeURIComponent(p.project_no)}`);
        } catch (err) {
          alert.show(errorText(err));
        }
      })();
    },
  );
  const mine = pagedList({ path: "/projects", id: "projects", item: projectRow, empty: t("projects.empty"), label: t("projects.mine") });
  await mine.reload();
  return h("section", { class: "page projects" }, h("h1", {}, t("projects.title")), h("p", { class: "lead" }, t("projects.intro")), form, h("h2", {}, t("projects.mine")), mine.node);
}

function stageCard(p, s, prev, onApplied) {
  const alert = alertBox();
  const prevDone = !prev || ["approved", "completed"].includes(prev.status);
  let action = null;
  if (s.application_no) {
    action = h("a", { class: "button", href: `#/applications/${encodeURIComponent(s.application_no)}` }, t("projects.openApp", { no: s.application_no }));
  } else {
    const apply = h("button", { type: "button", class: prevDone ? "primary" : "", "data-apply-stage": String(s.stage) }, t("projects.apply"));
    const idem = newKey();
    apply.addEventListener(
      "click",
      busy(apply, async () => {
        alert.show("");
        try {
          const app = await api("/applications", { method: "POST", key: idem, json: { item_code: s.item_code, project_no: p.project_no, form: {}, delivery: { method: "window" } } });
          announce(t("projects.applied", { no: app.application_no, n: s.stage }), "ok");
          onApplied(app.application_no);
        } catch (err) {
          alert.show(errorText(err));
        }
      }),
    );
    action = h("div", {}, apply, prevDone ? null : h("p", { class: "hint" }, t("projects.waitPrev")));
  }
  const used = s.working_days_used === null || s.working_days_used === undefined ? t("projects.notUsed", { committed: s.committed_days }) : t("projects.daysOf", { used: s.working_days_used, committed: s.committed_days });
  return h(
    "li",
    { class: "card stage", "data-stage": String(s.stage), "data-status": s.status },
    h("h3", {}, `${t("projects.stage", { n: s.stage })} · ${s.item_name}`),
    h(
      "dl",
      { class: "facts" },
      h("div", {}, h("dt", {}, t("projects.item")), h("dd", { class: "code" }, s.item_code)),
      h("div", {}, h("dt", {}, t("projects.status")), h("dd", {}, statusChip(s.status))),
      h("div", {}, h("dt", {}, t("projects.deadline")), h("dd", {}, date(s.deadline))),
      h("div", {}, h("dt", {}, t("projects.daysUsed")), h("dd", { class: "days-used" }, used)),
    ),
    alert,
    h("div", { class: "actions" }, action),
  );
}

export async function projectView(ctx) {
  const p = await api(`/projects/${encodeURIComponent(ctx.params.no)}`);
  const stages = [...p.stages].sort((a, b) => a.stage - b.stage);
  const onApplied = (no) => ctx.navigate(`#/applications/${encodeURIComponent(no)}`);
  return h(
    "section",
    { class: "page project", "data-project": p.project_no },
    h("p", {}, h("a", { href: "#/projects" }, t("projects.back"))),
    h("h1", {}, p.name),
    h(
      "dl",
      { class: "facts" },
      h("div", {}, h("dt", {}, t("projects.no")), h("dd", { class: "code", id: "project-no" }, p.project_no)),
      h("div", {}, h("dt", {}, t("projects.owner")), h("dd", { id: "project-owner" }, `${p.owner.name} (${p.owner.id_number})`)),
      h("div", {}, h("dt", {}, t("projects.investment")), h("dd", {}, wan(p.investment_fen))),
      p.key_project ? h("div", {}, h("dt", {}, t("projects.keyBadge")), h("dd", {}, "✓")) : null,
      h("div", {}, h("dt", {}, t("projects.total")), h("dd", {}, t("projects.committed", { n: p.committed_days }))),
    ),
    h("h2", {}, t("projects.stages")),
    h("ol", { class: "list stages", id: "stages" }, stages.map((s, i) => stageCard(p, s, stages[i - 1], onApplied))),
  );
}

