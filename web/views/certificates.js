// The public certificate check (docs/api.md, "Certificates"): anyone with a certificate's number
// and the verification code printed on it asks whether it is genuine. The API answers with the
// holder masked (张*丰, 370602********1234); a wrong code says only "not valid", so the page never
// hints at whose certificate a number is.
import { api } from "../api.js";
import { h, clear, field, fieldError, busy, date, errorText } from "../dom.js";
import { t, addLabels } from "../i18n.js";
import { departmentName } from "../problems.js";

addLabels(
  {
    "nav.certCheck": "证照核验",
    "cert.title": "电子证照核验",
    "cert.intro": "输入证照上的证照编号和核验码，查询证照是否真实有效。无需登录。",
    "cert.no": "证照编号",
    "cert.noHint": "证照上印的编号，以 OWC 开头。",
    "cert.code": "核验码",
    "cert.codeHint": "证照上印的核验码。",
    "cert.check": "核验",
    "cert.noError": "请填写证照编号。",
    "cert.codeError": "请填写核验码。",
    "cert.genuine": "真实有效：证照 {no} 与核验码相符。",
    "cert.invalid": "核验未通过：证照编号 {no} 与核验码不符。请核对证照上的核验码；仍不符时，请勿采信该证照。",
    "cert.notFound": "没有编号为 {no} 的证照。请核对证照编号。",
    "cert.holder": "持证人",
    "cert.holderId": "证件号码",
    "cert.item": "办理事项",
    "cert.department": "签发部门",
    "cert.issuedOn": "签发日期",
    "cert.masked": "为保护个人信息，姓名和证件号码部分隐去。",
  },
  {
    "nav.certCheck": "Check a certificate",
    "cert.title": "Check an electronic certificate",
    "cert.intro": "Enter the certificate number and the verification code printed on it to see whether the certificate is genuine. No sign-in needed.",
    "cert.no": "Certificate number",
    "cert.noHint": "The number printed on the certificate, starting with OWC.",
    "cert.code": "Verification code",
    "cert.codeHint": "The verification code printed on the certificate.",
    "cert.check": "Check",
    "cert.noError": "Enter the certificate number.",
    "cert.codeError": "Enter the verification code.",
    "cert.genuine": "Genuine: certificate {no} matches its verification code.",
    "cert.invalid": "Not valid: certificate number {no} and this verification code do not match. Check the code on the certificate; if it still does not match, do not rely on the certificate.",
    "cert.notFound": "No certificate has the number {no}. Check the number.",
    "cert.holder": "Holder",
    "cert.holderId": "ID number",
    "cert.item": "Service item",
    "cert.department": "Issued by",
    "cert.issuedOn": "Issued on",
    "cert.masked": "Parts of the name and the ID number are hidden to protect the holder.",
  },
);

/** The check's answer: genuine with its details, not valid, or no such certificate. */
function resultBox(box, state, no, answer) {
  clear(box);
  box.hidden = false;
  box.dataset.result = state;
  if (state === "genuine") {
    const row = (label, value) => h("div", {}, h("dt", {}, label), h("dd", {}, value || "—"));
    box.append(
      h("p", { class: "verdict" }, h("span", { class: "verdict-mark", "aria-hidden": "true" }, "✓ "), t("cert.genuine", { no })),
      h(
        "dl",
        { class: "facts", id: "cert-facts" },
        row(t("cert.no"), answer.certificate_no),
        row(t("cert.holder"), answer.holder_name),
        row(t("cert.holderId"), answer.holder_id_number),
        row(t("cert.item"), answer.item_name ? `${answer.item_name}（${answer.item_code}）` : answer.item_code),
        row(t("cert.department"), departmentName(answer.department)),
        row(t("cert.issuedOn"), date(answer.issued_on)),
      ),
      h("p", { class: "meta" }, t("cert.masked")),
    );
  } else {
    const text = state === "invalid" ? t("cert.invalid", { no }) : state === "not-found" ? t("cert.notFound", { no }) : answer;
    box.append(h("p", { class: "verdict" }, h("span", { class: "verdict-mark", "aria-hidden": "true" }, "✗ "), text));
  }
}

export async function certificateCheckView({ query }) {
  const no = h("input", { name: "certificate_no", autocomplete: "off", maxlength: "64", spellcheck: "false", value: query.get("no") || "" });
  const code = h("input", { name: "code", autocomplete: "off", maxlength: "64", spellcheck: "false", value: query.get("code") || "" });
  const submit = h("button", { type: "submit", class: "primary" }, t("cert.check"));
  // The verdict is a status the person waits for: said aloud when it arrives.
  const result = h("div", { class: "card cert-result", id: "cert-result", role: "status", "aria-live": "polite", hidden: true });
  const form = h(
    "form",
    { class: "form card", id: "cert-form", novalidate: true },
    field(t("cert.no"), no, { required: true, hint: t("cert.noHint") }),
    field(t("cert.code"), code, { required: true, hint: t("cert.codeHint") }),
    h("div", { class: "actions" }, submit),
  );
  const check = busy(submit, async () => {
    const number = no.value.trim();
    const secret = code.value.trim();
    fieldError(no, number ? "" : t("cert.noError"));
    fieldError(code, secret ? "" : t("cert.codeError"));
    if (!number) return no.focus();
    if (!secret) return code.focus();
    try {
      const answer = await api(`/certificates/${encodeURIComponent(number)}/verify`, { query: { code: secret }, auth: false });
      resultBox(result, answer.valid ? "genuine" : "invalid", number, answer);
    } catch (err) {
      resultBox(result, err.status === 404 ? "not-found" : "error", number, errorText(err));
    }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    check();
  });
  // A link printed as a QR code may carry both (#/certificates/verify?no=...&code=...): check at once.
  if (no.value && code.value) queueMicrotask(check);
  return h("div", { class: "page cert-check" }, h("h1", {}, t("cert.title")), h("p", { class: "lead" }, t("cert.intro")), form, result);
}
