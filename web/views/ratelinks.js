// Rating links (docs/api.md, "Ratings"): a clerk sends a decided application's applicant a link
// by SMS; the applicant reads what was sent to them (GET /ratings/links/mine: pending, used or
// expired) and rates through it at #/rate?token=..., the address RATING_LINK_BASE_URL builds.
// Rating by link needs no login: the signed token is the whole credential, and it is in the
// address's hash, so it never reaches a server log.
import { api, newKey } from "../api.js";
import { h, clear, field, alertBox, busy, dateTime, errorText } from "../dom.js";
import { t, addLabels } from "../i18n.js";
import { pagedList } from "./pager.js";

addLabels(
  {
    "nav.rateLinks": "评价短信",
    "links.title": "评价短信",
    "links.intro": "办结后窗口发给您的评价链接。每个链接只能用一次，过期后失效。",
    "links.empty": "还没有收到评价链接。",
    "links.list": "收到的评价链接",
    "links.application": "申请 {no}",
    "links.sentAt": "{at} 发送",
    "links.expiresAt": "有效期至 {at}",
    "links.rate": "去评价",
    "links.rateFor": "评价申请 {no}",
    "links.status.pending": "待评价",
    "links.status.used": "已评价",
    "links.status.expired": "已过期",
    "links.fromApp": "窗口发来的评价短信",
    "rate.title": "服务评价",
    "rate.intro": "请为本次办事打分（1–5 分），可以写下意见建议。无需登录，链接只能使用一次。",
    "rate.noToken": "这个地址缺少评价链接的凭据。请打开短信中的完整链接。",
    "rate.submit": "提交评价",
    "rate.thanks": "感谢您的评价！您打了 {n} 分（{label}）。",
    "rate.used": "这个评价链接已经用过了，每个链接只能评价一次。",
    "rate.expired": "这个评价链接已过期。",
    "rate.invalid": "这个评价链接无效，请核对短信中的链接。",
    "rate.mine": "查看我收到的评价短信",
  },
  {
    "nav.rateLinks": "Rating links",
    "links.title": "Rating links",
    "links.intro": "The rating links the window sent you once an application was decided. Each link works once and expires.",
    "links.empty": "No rating link received yet.",
    "links.list": "Rating links received",
    "links.application": "Application {no}",
    "links.sentAt": "sent {at}",
    "links.expiresAt": "valid until {at}",
    "links.rate": "Rate now",
    "links.rateFor": "Rate application {no}",
    "links.status.pending": "Waiting for your rating",
    "links.status.used": "Rated",
    "links.status.expired": "Expired",
    "links.fromApp": "Rating links sent by the window",
    "rate.title": "Rate the service",
    "rate.intro": "Score this service from 1 to 5 and leave a comment if you like. No sign-in needed; the link works once.",
    "rate.noToken": "This address lacks the rating link's token. Open the whole link from the message.",
    "rate.submit": "Send the rating",
    "rate.thanks": "Thank you for rating! You gave {n} ({label}).",
    "rate.used": "This rating link has been used already: each link rates once.",
    "rate.expired": "This rating link has expired.",
    "rate.invalid": "This rating link is not valid. Check the link in the message.",
    "rate.mine": "My rating links",
  },
);

/** The console's own address of a link (the SMS's url may name another host, e.g. production's). */
export function rateHref(token) {
  return `#/rate?token=${encodeURIComponent(token)}`;
}

function linkItem(link) {
  const chip = h("span", { class: `chip link-${link.status}`, "data-status": link.status }, t(`links.status.${link.status}`));
  return h(
    "li",
    { class: "card rate-link", "data-link": link.link_id, "data-application": link.application_no, "data-status": link.status },
    h("div", { class: "task-head" }, h("strong", {}, h("a", { href: `#/applications/${encodeURIComponent(link.application_no)}` }, t("links.application", { no: link.application_no }))), chip),
    h("p", { class: "sms-text" }, link.text),
    h("p", { class: "meta" }, `${t("links.sentAt", { at: dateTime(link.sent_at) })} · ${t("links.expiresAt", { at: dateTime(link.expires_at) })}`),
    link.status === "pending" ? h("p", {}, h("a", { class: "button primary", href: rateHref(link.token), "aria-label": t("links.rateFor", { no: link.application_no }) }, t("links.rate"))) : null,
  );
}

export async function rateLinksView() {
  const list = pagedList({ path: "/ratings/links/mine", id: "rate-links", label: t("links.list"), empty: t("links.empty"), item: linkItem });
  await list.reload();
  return h("div", { class: "page rate-links" }, h("h1", {}, t("links.title")), h("p", { class: "lead" }, t("links.intro")), list.node);
}

/** What a refused link means, in words (used, expired, not valid), else the problem as said. */
function refusal(err) {
  const code = err.problem && err.problem.code;
  if (code === "rating_link_used" || err.status === 409) return ["used", t("rate.used")];
  if (code === "rating_link_expired" || err.status === 410) return ["expired", t("rate.expired")];
  if (code === "rating_link_invalid" || err.status === 401) return ["invalid", t("rate.invalid")];
  return [null, errorText(err)];
}

export async function rateByLinkView({ query, who }) {
  const token = query.get("token") || "";
  const back = who && (who.kind === "person" || who.kind === "enterprise") ? h("p", {}, h("a", { href: "#/ratings/links" }, t("rate.mine"))) : null;
  if (!token) {
    return h("div", { class: "page rate" }, h("h1", {}, t("rate.title")), h("p", { class: "alert", role: "alert", "data-kind": "error" }, t("rate.noToken")), back);
  }
  const scores = h(
    "fieldset",
    { class: "scores" },
    h("legend", {}, t("app.rateScore")),
    [5, 4, 3, 2, 1].map((n) => {
      const input = h("input", { type: "radio", name: "score", value: String(n), id: `link-score-${n}`, checked: n === 5 });
      return h("div", { class: "choice" }, input, h("label", { for: `link-score-${n}` }, h("span", { class: "stars", "aria-hidden": "true" }, "★".repeat(n)), ` ${n} · ${t(`score.${n}`)}`));
    }),
  );
  const comment = h("textarea", { name: "comment", rows: "3", maxlength: "2000" });
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary" }, t("rate.submit"));
  const form = h("form", { class: "form card", id: "rate-form", novalidate: true }, scores, field(t("app.rateComment"), comment), alert, h("div", { class: "actions" }, submit));
  const done = h("div", { class: "card rate-done", id: "rate-done", role: "status", hidden: true });
  const key = newKey();
  const finish = (state, message) => {
    clear(done).append(h("p", {}, message));
    done.dataset.state = state;
    done.hidden = false;
    form.remove();
  };
  form.addEventListener("submit", (e) => e.preventDefault());
  form.addEventListener(
    "submit",
    busy(submit, async () => {
      alert.show("");
      const score = Number(form.querySelector("input[name=score]:checked").value);
      try {
        await api("/ratings/by-link", { method: "POST", auth: false, key, json: { token, score, comment: comment.value.trim() || null } });
        finish("rated", t("rate.thanks", { n: score, label: t(`score.${score}`) }));
      } catch (err) {
        const [state, message] = refusal(err);
        if (state) finish(state, message);
        else alert.show(message);
      }
    }),
  );
  return h("div", { class: "page rate" }, h("h1", {}, t("rate.title")), h("p", { class: "lead" }, t("rate.intro")), form, done, back);
}
