// Applying: the form of an item (for oneself, or by a clerk on someone's behalf), and the list of
// one's own applications.
import { api, all, newKey } from "../api.js";
import { h, field, fieldError, alertBox, announce, busy, money, statusChip, date, dateTime, errorText } from "../dom.js";
import { t } from "../i18n.js";
import { itemFacts, materialsList } from "./catalog.js";

function radio(name, value, label, checked) {
  const input = h("input", { type: "radio", name, value, checked });
  const id = `${name}-${value}`;
  input.id = id;
  return h("div", { class: "choice" }, input, h("label", { for: id }, label));
}

/**
 * The application form. `behalf`: a clerk applies for someone (applicant fields shown).
 * `items`: when given, the item is chosen from a list. `onCreated(app)` runs after a 201.
 */
export function applicationForm({ item, items, behalf, who, onCreated }) {
  const alert = alertBox();
  const controls = {};
  const parts = [];

  let itemSel = null;
  if (items) {
    itemSel = h(
      "select",
      { name: "item_code" },
      h("option", { value: "" }, t("apply.chooseItem")),
      items.map((it) => h("option", { value: it.code }, `${it.name} (${it.code})`)),
    );
    parts.push(field(t("apply.item"), itemSel, { required: true }));
  }
  if (behalf) {
    controls.applicantId = h("input", { name: "applicant_id_number", autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
    controls.applicantName = h("input", { name: "applicant_name", autocomplete: "off" });
    controls.applicantPhone = h("input", { name: "applicant_phone", type: "tel", inputmode: "tel", autocomplete: "off" });
    parts.push(
      field(t("apply.applicantId"), controls.applicantId, { required: true }),
      field(t("apply.applicantName"), controls.applicantName),
      field(t("apply.applicantPhone"), controls.applicantPhone),
    );
  }
  controls.note = h("textarea", { name: "note", rows: "3", maxlength: "2000" });
  parts.push(field(t("apply.note"), controls.note, { hint: t("apply.noteHint") }));

  const mailChoice = radio("delivery", "mail", t("apply.mail"), true);
  const windowChoice = radio("delivery", "window", t("apply.window"), false);
  controls.region = h("input", { name: "region_code", inputmode: "numeric", pattern: "\\d{12}", maxlength: "12", autocomplete: "off" });
  controls.detail = h("input", { name: "detail", autocomplete: "street-address" });
  controls.recipient = h("input", { name: "recipient", autocomplete: "name", value: behalf ? "" : (who && who.name) || "" });
  controls.phone = h("input", { name: "phone", type: "tel", inputmode: "tel", autocomplete: "tel", value: behalf ? "" : (who && who.phone) || "" });
  const address = h(
    "div",
    { class: "address", id: "address-fields" },
    field(t("apply.region"), controls.region, { hint: t("apply.regionHint"), required: true }),
    field(t("apply.detail"), controls.detail, { required: true }),
    field(t("apply.recipient"), controls.recipient, { required: true }),
    field(t("apply.phone"), controls.phone, { required: true }),
  );
  const delivery = h(
    "fieldset",
    { class: "delivery" },
    h("legend", {}, t("apply.delivery")),
    h("div", { class: "choices" }, mailChoice, windowChoice),
    address,
  );
  const method = () => delivery.querySelector("input[name=delivery]:checked").value;
  delivery.addEventListener("change", () => {
    address.hidden = method() !== "mail";
  });
  parts.push(delivery);

  const submit = h("button", { type: "submit", class: "primary" }, t("apply.submit"));
  const form = h("form", { class: "form", id: "apply-form", novalidate: true }, parts, h("p", { class: "hint" }, t("apply.materialsNext")), alert, h("div", { class: "actions" }, submit));
  const key = newKey();
  form.addEventListener("submit", (e) => e.preventDefault());
  form.addEventListener(
    "submit",
    busy(submit, async () => {
      alert.show("");
      Object.values(controls).forEach((c) => fieldError(c, ""));
      const code = itemSel ? itemSel.value : item.code;
      if (itemSel) fieldError(itemSel, code ? "" : t("apply.chooseItem"));
      let ok = !!code;
      const body = { item_code: code, form: {} };
      if (controls.note.value.trim()) body.form.note = controls.note.value.trim();
      if (behalf) {
        if (!controls.applicantId.value.trim()) {
          fieldError(controls.applicantId, t("apply.applicantId"));
          ok = false;
        }
        body.applicant_id_number = controls.applicantId.value.trim().toUpperCase();
        if (controls.applicantName.value.trim()) body.applicant_name = controls.applicantName.value.trim();
        if (controls.applicantPhone.value.trim()) body.applicant_phone = controls.applicantPhone.value.trim();
      }
      if (method() === "mail") {
        if (!/^\d{12}$/.test(controls.region.value.trim())) {
          fieldError(controls.region, t("apply.regionInvalid"));
          ok = false;
        }
        for (const name of ["detail", "recipient", "phone"]) {
          if (!controls[name].value.trim()) {
            fieldError(controls[name], t(`apply.${name}`));
            ok = false;
          }
        }
        body.delivery = {
          method: "mail",
          address: {
            region_code: controls.region.value.trim(),
            detail: controls.detail.value.trim(),
            recipient: controls.recipient.value.trim(),
            phone: controls.phone.value.trim(),
          },
        };
      } else {
        body.delivery = { method: "window" };
      }
      if (!ok) {
        const first = form.querySelector("[aria-invalid=true]");
        if (first) first.focus();
        return;
      }
      try {
        const created = await api("/applications", { method: "POST", json: body, key: `${key}-${code}` });
        announce(t("apply.created", { no: created.application_no }), "ok");
        onCreated(created);
      } catch (err) {
        alert.show(errorText(err));
      }
    }),
  );
  return form;
}

export async function applyView(ctx) {
  const item = await api(`/catalog/items/${encodeURIComponent(ctx.params.code)}`, { auth: false });
  return h(
    "section",
    { class: "page apply" },
    h("p", { class: "crumbs" }, h("a", { href: "#/catalog" }, t("nav.catalog"))),
    h("h1", {}, t("apply.title", { name: item.name })),
    h("div", { class: "card" }, itemFacts(item), h("h2", { class: "small" }, t("catalog.materials")), materialsList(item.materials)),
    h(
      "div",
      { class: "card" },
      applicationForm({ item, who: ctx.who, onCreated: (app) => ctx.navigate(`#/applications/${encodeURIComponent(app.application_no)}`) }),
    ),
  );
}

export async function myApplicationsView() {
  const items = await all("/applications", {}, 200);
  const body = items.length
    ? h(
        "ul",
        { class: "list apps", id: "my-applications" },
        items.map((a) =>
          h(
            "li",
            { class: "card row", "data-no": a.application_no },
            h(
              "div",
              { class: "row-main" },
              h("a", { href: `#/applications/${encodeURIComponent(a.application_no)}`, class: "row-title" }, a.item_name),
              h("p", { class: "meta" }, `${t("app.no")} ${a.application_no} · ${t("app.created")} ${dateTime(a.created_at)}`),
              a.deadline ? h("p", { class: "meta" }, `${t("app.deadline")} ${date(a.deadline)}`) : null,
            ),
            h("div", { class: "row-side" }, statusChip(a.status), a.fee_fen ? h("span", { class: "meta" }, money(a.fee_fen)) : null),
          ),
        ),
      )
    : h("p", { class: "empty" }, t("app.myEmpty"), " ", h("a", { href: "#/catalog" }, t("nav.catalog")));
  return h("section", { class: "page mine" }, h("h1", {}, t("app.myTitle")), body);
}
