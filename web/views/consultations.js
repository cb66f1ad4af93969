// Consultations (docs/api.md "Appointments and consultations"): an applicant asks about a
// service item and reads the answer; the window's clerks and the department's staff answer
// within the reply clock (its due date is shown to both).
import { all, api, newKey } from "../api.js";
import { h, field, fieldError, alertBox, announce, busy, date, dateTime, statusChip, errorText } from "../dom.js";
import { t, addLabels } from "../i18n.js";
import { pagedList } from "./pager.js";

addLabels(
  {
    "nav.consult": "咨询",
    "nav.consultReply": "咨询答复",
    "consult.title": "办事咨询",
    "consult.intro": "就某个事项提问，工作人员会在答复时限内回复；回复后在下方“我的咨询”中查看。",
    "consult.item": "咨询事项",
    "consult.pick": "请选择事项",
    "consult.question": "问题",
    "consult.ask": "提交咨询",
    "consult.asked": "咨询已提交，应在 {due} 前答复。",
    "consult.askedNoDue": "咨询已提交，答复期限计算后显示在下方。",
    "consult.waitingNoDue": "等待答复。",
    "consult.mine": "我的咨询",
    "consult.empty": "还没有咨询。",
    "consult.answer": "答复",
    "consult.waiting": "等待答复，答复期限 {due}。",
    "consult.due": "答复期限 {due}",
    "consult.repliedAt": "{by} 于 {at} 答复",
    "consult.onTime": "按时答复",
    "consult.late": "超时答复",
    "consult.itemError": "请选择事项。",
    "consult.questionError": "请填写问题。",
    "consult.staffTitle": "咨询答复",
    "consult.staffIntro": "按答复期限处理群众和企业的咨询；答复后计时结束。",
    "consult.status": "状态",
    "consult.all": "全部",
    "consult.show": "筛选",
    "consult.staffEmpty": "没有符合条件的咨询。",
    "consult.reply": "答复内容",
    "consult.send": "发送答复",
    "consult.sent": "已答复。",
    "consult.replyError": "请填写答复内容。",
    "consult.askedAt": "{at} 提问",
    "status.replied": "已答复",
  },
  {
    "nav.consult": "Questions",
    "nav.consultReply": "Consultations",
    "consult.title": "Ask a question",
    "consult.intro": "Ask about a service item; the staff answer within the reply time, and the answer appears under “My questions” below.",
    "consult.item": "Service item",
    "consult.pick": "Choose an item",
    "consult.question": "Question",
    "consult.ask": "Send the question",
    "consult.asked": "Question sent; the answer is due by {due}.",
    "consult.askedNoDue": "Question sent; its due date appears below once set.",
    "consult.waitingNoDue": "Waiting for the answer.",
    "consult.mine": "My questions",
    "consult.empty": "No question yet.",
    "consult.answer": "Answer",
    "consult.waiting": "Waiting for the answer, due by {due}.",
    "consult.due": "Answer due {due}",
    "consult.repliedAt": "Answered by {by} at {at}",
    "consult.onTime": "answered on time",
    "consult.late": "answered late",
    "consult.itemError": "Choose an item.",
    "consult.questionError": "Write the question.",
    "consult.staffTitle": "Consultations",
    "consult.staffIntro": "Answer applicants' questions by their due date; the answer stops the clock.",
    "consult.status": "Status",
    "consult.all": "All",
    "consult.show": "Filter",
    "consult.staffEmpty": "No consultation matches.",
    "consult.reply": "Answer",
    "consult.send": "Send the answer",
    "consult.sent": "Answered.",
    "consult.replyError": "Write the answer.",
    "consult.askedAt": "asked {at}",
    "status.replied": "Answered",
  },
);

function answerBlock(c) {
  if (c.status !== "replied") return h("p", { class: "meta waiting" }, c.due_date ? t("consult.waiting", { due: date(c.due_date) }) : t("consult.waitingNoDue"));
  return h(
    "div",
    { class: "answer" },
    h("p", { class: "answer-label" }, h("strong", {}, t("consult.answer"))),
    h("p", { class: "answer-text" }, c.answer),
    h("p", { class: "meta" }, t("consult.repliedAt", { by: c.replied_by || "", at: dateTime(c.replied_at) }), c.on_time === null || c.on_time === undefined ? "" : ` · ${c.on_time ? t("consult.onTime") : t("consult.late")}`),
  );
}

function head(c) {
  return h("div", { class: "task-head" }, h("h3", {}, c.item_name), statusChip(c.status));
}

export async function consultationsView() {
  const items = await all("/catalog/items", {}, 500);
  const item = h("select", { name: "item_code" }, h("option", { value: "" }, t("consult.pick")), items.map((i) => h("option", { value: i.code }, `${i.name}（${i.code}）`)));
  const question = h("textarea", { name: "question", rows: "4", maxlength: "4000" });
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary" }, t("consult.ask"));
  const mine = pagedList({
    path: "/consultations",
    id: "my-consultations",
    label: t("consult.mine"),
    empty: t("consult.empty"),
    item: (c) => h("li", { class: "card consultation", "data-consultation": c.consultation_id, "data-status": c.status }, head(c), h("p", { class: "question" }, c.question), h("p", { class: "meta" }, t("consult.askedAt", { at: dateTime(c.asked_at) })), answerBlock(c)),
  });
  let idem = newKey();
  const form = h("form", { class: "form card", id: "ask-form", novalidate: true }, field(t("consult.item"), item, { required: true }), field(t("consult.question"), question, { required: true }), alert, h("div", { class: "actions" }, submit));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(submit, async () => {
      alert.show("");
      fieldError(item, item.value ? "" : t("consult.itemError"));
      fieldError(question, question.value.trim() ? "" : t("consult.questionError"));
      if (!item.value) return item.focus();
      if (!question.value.trim()) return question.focus();
      try {
        const c = await api("/consultations", { method: "POST", key: idem, json: { item_code: item.value, question: question.value.trim() } });
        idem = newKey();
        question.value = "";
        announce(c.due_date ? t("consult.asked", { due: date(c.due_date) }) : t("consult.askedNoDue"), "ok");
        await mine.reload();
      } catch (err) {
        alert.show(errorText(err));
      }
    })();
  });
  await mine.reload();
  return h("section", { class: "page consult" }, h("h1", {}, t("consult.title")), h("p", { class: "lead" }, t("consult.intro")), form, h("h2", {}, t("consult.mine")), mine.node);
}

function replyForm(c, reload) {
  const answer = h("textarea", { name: "answer", rows: "3", maxlength: "8000" });
  const alert = alertBox();
  const send = h("button", { type: "submit", class: "primary" }, t("consult.send"));
  const form = h("form", { class: "form", novalidate: true }, field(t("consult.reply"), answer, { required: true }), alert, h("div", { class: "actions" }, send));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(send, async () => {
      alert.show("");
      fieldError(answer, "");
      if (!answer.value.trim()) {
        fieldError(answer, t("consult.replyError"));
        answer.focus();
        return;
      }
      try {
        await api(`/consultations/${encodeURIComponent(c.consultation_id)}/reply`, { method: "POST", json: { answer: answer.value.trim() } });
        announce(t("consult.sent"), "ok");
        await reload();
      } catch (err) {
        alert.show(errorText(err));
      }
    })();
  });
  return form;
}

export async function consultationsDeskView(ctx) {
  const status = h("select", { name: "status", id: "consult-status" }, ["open", "replied", ""].map((s) => h("option", { value: s }, s ? t(`status.${s === "open" ? "open" : "replied"}`) : t("consult.all"))));
  status.value = ctx.query.get("status") ?? "open";
  const list = pagedList({
    path: "/consultations",
    query: () => ({ status: status.value }),
    id: "consultations",
    label: t("consult.staffTitle"),
    empty: t("consult.staffEmpty"),
    item: (c, reload) =>
      h(
        "li",
        { class: "card consultation", "data-consultation": c.consultation_id, "data-status": c.status },
        head(c),
        h("p", { class: "meta" }, `${c.item_code} · ${c.department} · ${t("consult.askedAt", { at: dateTime(c.asked_at) })} ${c.due_date ? ` · ${t("consult.due", { due: date(c.due_date) })}` : ""}`),
        h("p", { class: "question" }, c.question),
        c.status === "open" ? replyForm(c, reload) : answerBlock(c),
      ),
  });
  const filters = h("form", { class: "filters" }, field(t("consult.status"), status), h("div", { class: "actions" }, h("button", { type: "submit" }, t("consult.show"))));
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    list.reload();
  });
  status.addEventListener("change", () => list.reload());
  await list.reload();
  return h("section", { class: "page consult-desk" }, h("h1", {}, t("consult.staffTitle")), h("p", { class: "lead" }, t("consult.staffIntro")), filters, list.node);
}
