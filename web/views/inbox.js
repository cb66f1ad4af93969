// The approver's inbox: the department's open tasks by due date, with their card, and a decision
// with an opinion.
import { api, all, newKey } from "../api.js";
import { h, clear, field, fieldError, alertBox, announce, busy, cardChip, date, daysUntil, dateTime, statusChip, errorText, clock } from "../dom.js";
import { t } from "../i18n.js";
import { departmentName } from "../problems.js";
import { materialsList } from "./catalog.js";
import { openMaterial } from "./application.js";

function dueText(task) {
  const n = daysUntil(task.due_date);
  if (n === null) return "";
  if (n < 0) return t("inbox.overdue", { n: -n });
  if (n === 0) return t("inbox.dueToday");
  return t("inbox.daysLeft", { n });
}

function taskCard(task, onDone) {
  const alert = alertBox();
  const opinion = h("textarea", { name: "opinion", rows: "3", maxlength: "4000" });
  const approve = h("button", { type: "button", class: "primary", "data-decision": "approve" }, t("inbox.approve"));
  const reject = h("button", { type: "button", class: "danger", "data-decision": "reject" }, t("inbox.reject"));
  const key = newKey();
  const decide = (decision, button) =>
    busy(button, async () => {
      alert.show("");
      fieldError(opinion, "");
      if (decision === "reject" && !opinion.value.trim()) {
        fieldError(opinion, t("inbox.opinionRequired"));
        opinion.focus();
        return;
      }
      try {
        const result = await api(`/tasks/${encodeURIComponent(task.task_id)}/decision`, {
          method: "POST",
          key: `${key}-${decision}`,
          json: { decision, opinion: opinion.value.trim() },
        });
        announce(t("inbox.decided", { no: result.application_no, status: t(`status.${result.task.status}`) }), "ok");
        await onDone();
      } catch (err) {
        alert.show(errorText(err));
      }
    });
  approve.addEventListener("click", decide("approve", approve));
  reject.addEventListener("click", decide("reject", reject));

  // The application's materials, fetched when the approver opens them.
  const details = h("details", { class: "app-details" }, h("summary", {}, `${t("inbox.application")} ${task.application_no}`));
  details.addEventListener(
    "toggle",
    async () => {
      if (!details.open || details.dataset.loaded) return;
      details.dataset.loaded = "1";
      try {
        const app = await api(`/applications/${encodeURIComponent(task.application_no)}`);
        const materials = materialsList(app.materials.map((m) => ({ ...m, name: `${m.name} — ${t(`mat.${m.status}`)}` })));
        // The approver reads what the decision rests on: each uploaded file opens in a new tab.
        app.materials.forEach((m, i) => {
          if (m.status !== "uploaded" && m.status !== "supplied") return;
          const open = h("button", { type: "button", class: "link-button", "data-open": m.code }, `${t("app.open")} ${m.name}`);
          open.addEventListener("click", busy(open, () => openMaterial(app.application_no, m.code).catch((err) => alert.show(errorText(err, { materials: app.materials })))));
          materials.children[i].append(" ", open);
        });
        details.append(
          h("p", { class: "meta" }, `${t("app.applicant")} ${app.applicant.name} · ${t("app.created")} ${dateTime(app.created_at)} · `, statusChip(app.status)),
          materials,
          app.form && app.form.note ? h("p", {}, app.form.note) : null,
        );
      } catch (err) {
        details.append(h("p", { class: "meta" }, errorText(err)));
      }
    },
  );

  return h(
    "li",
    { class: `card task ${task.card ? `has-card card-${task.card}` : ""}`, "data-task": task.task_id, "data-no": task.application_no },
    h(
      "div",
      { class: "task-head" },
      h("h2", {}, task.item_name),
      cardChip(task.card),
    ),
    h(
      "dl",
      { class: "facts" },
      h("div", {}, h("dt", {}, t("inbox.application")), h("dd", { class: "code" }, task.application_no)),
      h("div", {}, h("dt", {}, t("app.applicant")), h("dd", {}, task.applicant_name)),
      h("div", {}, h("dt", {}, t("inbox.department")), h("dd", { title: task.department }, `${departmentName(task.department)}${task.lead ? ` · ${t("inbox.lead")}` : ""}`)),
      task.stage ? h("div", {}, h("dt", {}, t("inbox.stage")), h("dd", {}, String(task.stage))) : null,
      h("div", {}, h("dt", {}, t("inbox.due")), h("dd", {}, h("strong", {}, date(task.due_date)), " ", h("span", { class: "meta" }, dueText(task)))),
    ),
    task.suspended ? h("p", { class: "badge info" }, t("inbox.suspended")) : null,
    details,
    h("div", { class: "form" }, field(t("inbox.opinion"), opinion), alert, h("div", { class: "actions" }, approve, reject)),
  );
}

export async function inboxView(ctx) {
  const list = h("ul", { class: "list tasks", id: "tasks" });
  const stamp = h("p", { class: "meta updated" });
  async function load(force = true) {
    // Leave the list alone while the approver is writing an opinion.
    if (!force && list.contains(document.activeElement) && document.activeElement.tagName === "TEXTAREA") return;
    const items = (await all("/tasks", { status: "open" }, 500)).filter((task) => task.status === "open");
    items.sort((a, b) => (a.due_date < b.due_date ? -1 : a.due_date > b.due_date ? 1 : 0));
    clear(list).append(...(items.length ? items.map((task) => taskCard(task, () => load(true))) : [h("li", { class: "empty" }, t("inbox.empty"))]));
    stamp.textContent = t("app.updated", { time: clock() });
  }
  await load();
  ctx.every(15000, () => load(false).catch(() => {}));
  const refresh = h("button", { type: "button" }, t("app.refresh"));
  refresh.addEventListener("click", busy(refresh, () => load(true)));
  return h("section", { class: "page inbox" }, h("h1", {}, t("inbox.title")), h("p", { class: "lead" }, t("inbox.intro")), h("div", { class: "toolbar" }, refresh, stamp), list);
}
