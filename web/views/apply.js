// Applying: the form of an item (for oneself, or by a clerk on someone's behalf), and the list of
// one's own applications.
import { api, all, newKey } from "../api.js";
import { h, clear, field, fieldError, alertBox, announce, busy, money, statusChip, date, dateTime, errorText } from "../dom.js";
import { t, addLabels } from "../i18n.js";
import { itemFacts, materialsList } from "./catalog.js";
import { requiredMessage } from "../problems.js";

addLabels(
  {
    "region.province": "省",
    "region.city": "市",
    "region.county": "区县",
    "region.township": "乡镇（街道）",
    "region.village": "村（社区）代码",
    "region.villageHint": "村（居）委会的 3 位代码，见户口簿或居委会告示；不清楚可填 001。",
    "region.choose": "请选择",
    "region.search": "搜索地区（如“向阳街道”）",
    "region.searchHint": "输入地名后从结果中选择，会自动填好上面各级。",
    "region.results": "搜索结果",
    "region.noResults": "没有找到“{q}”，请从下拉列表中选择。",
    "region.code": "行政区划代码：{code}",
    "region.incomplete": "请选到乡镇（街道），并填写 3 位村（社区）代码。",
    "region.legend": "所在地区",
  },
  {
    "region.province": "Province",
    "region.city": "City",
    "region.county": "County / district",
    "region.township": "Township / subdistrict",
    "region.village": "Village / community code",
    "region.villageHint": "The 3-digit code of the village or community committee; 001 if unsure.",
    "region.choose": "Choose",
    "region.search": "Search a place (e.g. 向阳街道)",
    "region.searchHint": "Type a name and pick a result: the levels above are filled in.",
    "region.results": "Results",
    "region.noResults": "Nothing found for \"{q}\"; choose from the lists.",
    "region.code": "Division code: {code}",
    "region.incomplete": "Choose down to the township and give the 3-digit village code.",
    "region.legend": "Region",
  },
);

const LEVELS = ["province", "city", "county", "township"];

/**
 * A cascading division picker (province, city, county, township from delivery's data, then the
 * village's 3 digits) with a search by name. `picker.value` is the 12-digit code the API takes
 * ("" until complete); `picker.control` is the element to mark invalid and focus.
 */
export function regionPicker() {
  const selects = {};
  const wraps = {};
  const status = h("p", { class: "hint region-code", id: "region-code", "aria-live": "polite" });
  const village = h("input", { name: "village", inputmode: "numeric", pattern: "\\d{3}", maxlength: "3", value: "001", autocomplete: "off", class: "village" });
  const search = h("input", { name: "region_search", type: "search", autocomplete: "off" });
  const results = h("ul", { class: "region-results", id: "region-results", "aria-label": t("region.results") });
  const box = h("fieldset", { class: "region-picker", id: "region-picker" }, h("legend", {}, t("region.legend"), h("span", { class: "req", "aria-hidden": "true" }, " *")));
  box.append(field(t("region.search"), search, { hint: t("region.searchHint") }), results);
  const row = h("div", { class: "region-levels" });
  for (const level of LEVELS) {
    selects[level] = h("select", { name: `region_${level}`, "data-level": level }, h("option", { value: "" }, t("region.choose")));
    wraps[level] = field(t(`region.${level}`), selects[level]);
    row.append(wraps[level]);
  }
  row.append(field(t("region.village"), village, { hint: t("region.villageHint") }));
  box.append(row, status);

  const code = () => {
    const town = selects.township.value;
    return town && /^\d{3}$/.test(village.value.trim()) && village.value.trim() !== "000" ? `${town}${village.value.trim()}` : "";
  };
  const show = () => {
    const c = code();
    status.textContent = c ? t("region.code", { code: c }) : "";
    box.dataset.code = c;
  };
  async function fill(level, parent, chosen) {
    const sel = selects[level];
    const page = await api("/delivery/regions", { auth: false, query: parent ? { parent } : {} });
    clear(sel).append(h("option", { value: "" }, t("region.choose")), ...page.items.map((d) => h("option", { value: d.code }, d.name)));
    if (chosen) sel.value = chosen;
    wraps[level].hidden = false;
  }
  async function cascade(from) {
    const i = LEVELS.indexOf(from);
    for (const level of LEVELS.slice(i + 1)) clear(selects[level]).append(h("option", { value: "" }, t("region.choose")));
    const next = LEVELS[i + 1];
    if (next && selects[from].value) await fill(next, selects[from].value);
    show();
  }
  for (const level of LEVELS) selects[level].addEventListener("change", () => cascade(level).catch(() => {}));
  village.addEventListener("input", show);

  /** Set every level from a full code (a search result or a saved address). */
  async function choose(full) {
    clear(results);
    await fill("province", null, full.slice(0, 2));
    await fill("city", full.slice(0, 2), full.slice(0, 4));
    if (full.length >= 6) await fill("county", full.slice(0, 4), full.slice(0, 6));
    if (full.length >= 9) await fill("township", full.slice(0, 6), full.slice(0, 9));
    const next = LEVELS.find((l) => !selects[l].value);
    (next ? selects[next] : village).focus();
    show();
  }
  let timer = 0;
  search.addEventListener("input", () => {
    window.clearTimeout(timer);
    const q = search.value.trim();
    if (!q) {
      clear(results);
      return;
    }
    timer = window.setTimeout(async () => {
      const page = await api("/delivery/regions", { auth: false, query: { q } }).catch(() => ({ items: [] }));
      if (search.value.trim() !== q) return;
      clear(results).append(
        ...(page.items.length
          ? page.items.map((d) => {
              const b = h("button", { type: "button", class: "link-button", "data-code": d.code }, d.path.join(" · "));
              b.addEventListener("click", () => {
                search.value = d.name;
                choose(d.code).catch(() => {});
              });
              return h("li", {}, b);
            })
          : [h("li", { class: "meta" }, t("region.noResults", { q }))]),
      );
    }, 250);
  });
  fill("province", null, "").catch(() => {});
  box.control = selects.township;
  Object.defineProperty(box, "value", { get: code });
  box.check = () => {
    const c = code();
    const first = LEVELS.find((l) => !selects[l].value);
    box.control = first ? selects[first] : village;
    return c;
  };
  return box;
}

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
  const picker = regionPicker();
  controls.detail = h("input", { name: "detail", autocomplete: "street-address" });
  controls.recipient = h("input", { name: "recipient", autocomplete: "name", value: behalf ? "" : (who && who.name) || "" });
  controls.phone = h("input", { name: "phone", type: "tel", inputmode: "tel", autocomplete: "tel", value: behalf ? "" : (who && who.phone) || "" });
  const address = h(
    "div",
    { class: "address", id: "address-fields" },
    picker,
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
          fieldError(controls.applicantId, requiredMessage(t("apply.applicantId")));
          ok = false;
        }
        body.applicant_id_number = controls.applicantId.value.trim().toUpperCase();
        if (controls.applicantName.value.trim()) body.applicant_name = controls.applicantName.value.trim();
        if (controls.applicantPhone.value.trim()) body.applicant_phone = controls.applicantPhone.value.trim();
      }
      if (method() === "mail") {
        const regionCode = picker.check();
        const regionError = picker.querySelector(".region-code");
        if (!regionCode) {
          picker.control.setAttribute("aria-invalid", "true");
          regionError.textContent = t("region.incomplete");
          regionError.dataset.kind = "error";
          ok = false;
        } else {
          picker.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
          delete regionError.dataset.kind;
        }
        for (const name of ["detail", "recipient", "phone"]) {
          if (!controls[name].value.trim()) {
            fieldError(controls[name], requiredMessage(t(`apply.${name}`)));
            ok = false;
          }
        }
        body.delivery = {
          method: "mail",
          address: {
            region_code: regionCode,
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
