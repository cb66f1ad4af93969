// The window desk (clerk): the pre-review queue, the pre-review itself (accept, accept with
// deferred materials, return, refuse), applying on someone's behalf, window pickup, appointments.
import { api, all, newKey } from "../api.js";
import { h, clear, field, fieldError, alertBox, announce, busy, statusChip, date, dateTime, today, errorText, clock } from "../dom.js";
import { t, tOr, addLabels } from "../i18n.js";
import { applicationForm } from "./apply.js";
import { materialsPanel, missingSummary, actionsBox, timelineList } from "./application.js";
import { requiredMessage } from "../problems.js";

addLabels(
  {
    "desk.search": "查找申请：申请编号、身份证号或姓名",
    "desk.searchButton": "查找",
    "desk.searchHint": "编号和证件号要完整，姓名可以只输入一部分。",
    "desk.searchResults": "查找结果（{n} 件）",
    "desk.searchNone": "没有找到与“{q}”相符的申请。",
    "desk.searchEmpty": "请输入申请编号、身份证号或姓名。",
    "pickups.applicant": "申请人",
    "pickups.item": "事项",
  },
  {
    "desk.search": "Find an application: number, ID number or name",
    "desk.searchButton": "Find",
    "desk.searchHint": "Numbers in full; a name may be a part.",
    "desk.searchResults": "Found ({n})",
    "desk.searchNone": "No application matches \"{q}\".",
    "desk.searchEmpty": "Type an application number, an ID number or a name.",
    "pickups.applicant": "Applicant",
    "pickups.item": "Item",
  },
);

function updatedLine() {
  return h("p", { class: "updated meta" }, t("app.updated", { time: clock() }));
}

function appRow(a) {
  return h(
    "li",
    { class: "card row", "data-no": a.application_no },
    h(
      "div",
      { class: "row-main" },
      h("a", { class: "row-title", href: `#/desk/review/${encodeURIComponent(a.application_no)}` }, `${a.item_name}`),
      h("p", { class: "meta" }, `${a.application_no} · ${t("app.applicant")} ${a.applicant.name} · ${tOr(`window.${a.window}`, a.window)}`),
      h("p", { class: "meta" }, a.submitted_at ? `${t("app.submitted")} ${dateTime(a.submitted_at)}` : `${t("app.created")} ${dateTime(a.created_at)}`),
    ),
    h("div", { class: "row-side" }, statusChip(a.status), a.status === "submitted" ? h("a", { class: "button primary", href: `#/desk/review/${encodeURIComponent(a.application_no)}` }, t("desk.review")) : null),
  );
}

/** The window's search: one box for an application number, an ID number or a name (?q=). */
function deskSearch(ctx) {
  const input = h("input", { type: "search", name: "q", autocomplete: "off", spellcheck: "false", value: ctx.query.get("q") || "" });
  const results = h("div", { id: "desk-search-results", "aria-live": "polite" });
  const button = h("button", { type: "submit" }, t("desk.searchButton"));
  const form = h("form", { class: "filters desk-search", role: "search", id: "desk-search", novalidate: true }, field(t("desk.search"), input, { hint: t("desk.searchHint") }), h("div", { class: "actions" }, button), results);
  const run = async () => {
    fieldError(input, "");
    const q = input.value.trim();
    if (!q) {
      fieldError(input, t("desk.searchEmpty"));
      clear(results);
      return;
    }
    try {
      const items = await all("/applications", { q }, 100);
      clear(results).append(
        ...(items.length
          ? [h("h2", { class: "small" }, t("desk.searchResults", { n: items.length })), h("ul", { class: "list" }, items.map(appRow))]
          : [h("p", { class: "empty" }, t("desk.searchNone", { q }))]),
      );
    } catch (err) {
      clear(results).append(h("p", { class: "alert", role: "alert" }, errorText(err)));
    }
  };
  form.addEventListener("submit", (e) => e.preventDefault());
  form.addEventListener("submit", busy(button, run));
  if (input.value) run();
  return form;
}

// --- the queue ------------------------------------------------------------------------------
export async function deskQueueView(ctx) {
  const list = h("div", { id: "desk-queue" });
  const stamp = h("div");
  async function load() {
    // The list filters by status on the server; the client filter keeps the page right if not.
    const items = (await all("/applications", { status: "submitted" }, 200)).filter((a) => a.status === "submitted");
    items.sort((a, b) => ((a.submitted_at || a.created_at) < (b.submitted_at || b.created_at) ? -1 : 1));
    clear(list).append(items.length ? h("ul", { class: "list" }, items.map(appRow)) : h("p", { class: "empty" }, t("desk.empty")));
    clear(stamp).append(updatedLine());
  }
  await load();
  ctx.every(10000, () => load().catch(() => {}));
  const refresh = h("button", { type: "button" }, t("app.refresh"));
  refresh.addEventListener("click", busy(refresh, load));
  return h("section", { class: "page desk" }, h("h1", {}, t("desk.title")), deskSearch(ctx), h("p", { class: "lead" }, t("desk.intro")), h("div", { class: "toolbar" }, refresh, stamp), list);
}

// --- pre-review -----------------------------------------------------------------------------
function decisionForm(app, { onDone }) {
  const alert = alertBox();
  const mats = app.materials || [];
  const missingCritical = mats.filter((m) => m.critical && m.status === "missing");
  const missingOptional = mats.filter((m) => !m.critical && m.status === "missing");
  const option = (value, label, disabled) => {
    const input = h("input", { type: "radio", name: "decision", value, id: `decision-${value}`, disabled });
    return h("div", { class: "choice" }, input, h("label", { for: `decision-${value}` }, label));
  };
  const canAccept = missingCritical.length === 0;
  const choices = h(
    "fieldset",
    { class: "decision" },
    h("legend", { class: "visually-hidden" }, t("desk.decision")),
    option("accept", t("desk.accept"), !canAccept || missingOptional.length > 0),
    option("deferred", t("desk.acceptDeferred"), !canAccept || missingOptional.length === 0),
    option("return", t("desk.return"), false),
    option("reject", t("desk.reject"), false),
  );
  const first = choices.querySelector("input:not([disabled])");
  if (first) first.checked = true;
  const deferred = h(
    "fieldset",
    { class: "deferred", id: "deferred-materials" },
    h("legend", {}, t("desk.deferred")),
    missingOptional.length
      ? missingOptional.map((m) =>
          h(
            "div",
            { class: "choice" },
            h("input", { type: "checkbox", name: "deferred", value: m.code, id: `defer-${m.code}`, checked: true }),
            h("label", { for: `defer-${m.code}`, title: m.code }, m.name),
          ),
        )
      : h("p", { class: "hint" }, t("desk.deferredNone")),
  );
  const reason = h("textarea", { name: "reason", rows: "3", maxlength: "2000" });
  const submit = h("button", { type: "submit", class: "primary", id: "decide" }, t("desk.decide"));
  const form = h(
    "form",
    { class: "form", id: "acceptance-form", novalidate: true },
    missingCritical.length ? h("p", { class: "alert", "data-kind": "warn" }, t("desk.criticalMissing", { names: missingCritical.map((m) => m.name).join("、") })) : null,
    choices,
    deferred,
    field(t("desk.reasonLabel"), reason),
    alert,
    h("div", { class: "actions" }, submit),
  );
  const sync = () => {
    const value = form.querySelector("input[name=decision]:checked")?.value;
    deferred.hidden = value !== "deferred";
  };
  choices.addEventListener("change", sync);
  sync();
  form.addEventListener("submit", (e) => e.preventDefault());
  form.addEventListener(
    "submit",
    busy(submit, async () => {
      alert.show("");
      fieldError(reason, "");
      const value = form.querySelector("input[name=decision]:checked")?.value;
      if (!value) return;
      const body = { decision: value === "deferred" ? "accept" : value, deferred_materials: [], reason: reason.value.trim() };
      if (value === "deferred") body.deferred_materials = [...deferred.querySelectorAll("input[name=deferred]:checked")].map((i) => i.value);
      if ((value === "return" || value === "reject") && !body.reason) {
        fieldError(reason, t("desk.reasonRequired"));
        reason.focus();
        return;
      }
      try {
        const result = await api(`/applications/${encodeURIComponent(app.application_no)}/acceptance`, { method: "POST", json: body });
        announce(t("desk.decided", { no: result.application_no, status: t(`status.${result.status}`) }), "ok");
        onDone(result);
      } catch (err) {
        alert.show(errorText(err, { materials: mats }));
      }
    }),
  );
  return form;
}

function formData(app) {
  const entries = Object.entries(app.form || {});
  if (!entries.length) return h("p", { class: "meta" }, t("app.none"));
  return h("dl", { class: "facts" }, entries.map(([k, v]) => h("div", {}, h("dt", {}, tOr(`form.${k}`, k)), h("dd", {}, typeof v === "object" ? JSON.stringify(v) : String(v)))));
}

export async function deskReviewView(ctx) {
  const no = ctx.params.no;
  const body = h("div");
  async function paint() {
    const app = await api(`/applications/${encodeURIComponent(no)}`);
    const addr = app.delivery && app.delivery.address;
    const parts = [
      h(
        "div",
        { class: "card summary" },
        h("p", { class: "status-line" }, t("app.status"), " ", h("span", { id: "app-status", "data-status": app.status }, statusChip(app.status))),
        h(
          "dl",
          { class: "facts" },
          h("div", {}, h("dt", {}, t("app.item")), h("dd", { title: `${app.item_code} v${app.item_version}` }, app.item_name)),
          h("div", {}, h("dt", {}, t("app.applicant")), h("dd", {}, `${app.applicant.name} · ${app.applicant.id_number}`)),
          h("div", {}, h("dt", {}, t("app.channel")), h("dd", {}, tOr(`channel.${app.channel}`, app.channel))),
          h("div", {}, h("dt", {}, t("app.delivery")), h("dd", {}, tOr(`delivery.${app.delivery.method}`, app.delivery.method), addr ? h("span", { title: addr.region_code }, ` · ${addr.detail} ${addr.recipient}`) : "")),
          h("div", {}, h("dt", {}, t("app.deadline")), h("dd", { id: "review-deadline" }, date(app.deadline))),
        ),
        h("h2", { class: "small" }, t("desk.form")),
        formData(app),
      ),
      h("div", { class: "card" }, h("h2", {}, t("app.materials")), materialsPanel(app, { onChanged: paint }), missingSummary(app) || ""),
    ];
    if (app.status === "draft" || app.status === "returned") {
      parts.push(h("p", { class: "hint" }, t("desk.draftHint")), actionsBox(app, { refresh: paint }) || "");
    } else if (app.status === "submitted") {
      parts.push(h("div", { class: "card" }, h("h2", {}, t("desk.decision")), decisionForm(app, { onDone: paint })));
    } else {
      parts.push(h("p", { class: "alert", "data-kind": "info", id: "review-done" }, t("desk.notSubmitted", { status: t(`status.${app.status}`) })));
    }
    parts.push(h("div", { class: "card" }, h("h2", {}, t("app.timeline")), timelineList(app)));
    clear(body).append(...parts);
    shown = signature(app);
  }
  let shown = "";
  // The deadline is set by approval after the acceptance (an event away): follow the application
  // while the page is open, repainting only when something a clerk reads has changed and never
  // under a decision being written.
  async function follow() {
    if (body.querySelector("#acceptance-form") && body.contains(document.activeElement)) return;
    if (body.querySelector(".materials-panel li.material[data-status=uploading]")) return;
    const app = await api(`/applications/${encodeURIComponent(no)}`);
    if (ctx.current && signature(app) !== shown) await paint();
  }
  await paint();
  ctx.every(3000, () => follow().catch(() => {}));
  return h(
    "section",
    { class: "page review" },
    h("p", { class: "crumbs" }, h("a", { href: "#/desk" }, t("nav.desk"))),
    h("h1", {}, t("desk.reviewTitle", { no })),
    body,
  );
}

function signature(app) {
  return JSON.stringify([app.status, app.deadline, (app.materials || []).map((m) => m.status), (app.timeline || []).length]);
}

// --- on someone's behalf -----------------------------------------------------------------------
export async function deskBehalfView(ctx) {
  const items = await all("/catalog/items", {}, 500);
  return h(
    "section",
    { class: "page behalf" },
    h("h1", {}, t("behalf.title")),
    h("p", { class: "lead" }, t("behalf.intro")),
    h(
      "div",
      { class: "card" },
      applicationForm({ items, behalf: true, who: ctx.who, onCreated: (app) => ctx.navigate(`#/desk/review/${encodeURIComponent(app.application_no)}`) }),
    ),
  );
}

// --- window pickup -------------------------------------------------------------------------
function pickupRow(p, app, onDone) {
  const alert = alertBox();
  const idInput = h("input", { name: "collector_id_number", autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
  const nameInput = h("input", { name: "collector_name", autocomplete: "off" });
  const submit = h("button", { type: "submit", class: "primary" }, t("pickups.complete"));
  const form = h("form", { class: "form inline", novalidate: true }, field(t("pickups.collectorId"), idInput, { required: true }), field(t("pickups.collectorName"), nameInput), h("div", { class: "actions" }, submit), alert);
  const key = newKey();
  form.addEventListener("submit", (e) => e.preventDefault());
  form.addEventListener(
    "submit",
    busy(submit, async () => {
      alert.show("");
      fieldError(idInput, "");
      if (!idInput.value.trim()) {
        fieldError(idInput, requiredMessage(t("pickups.collectorId")));
        idInput.focus();
        return;
      }
      try {
        await api(`/delivery/pickups/${encodeURIComponent(p.application_no)}/complete`, {
          method: "POST",
          key,
          json: { collector_id_number: idInput.value.trim().toUpperCase(), collector_name: nameInput.value.trim() || null },
        });
        announce(t("pickups.done", { no: p.application_no }), "ok");
        await onDone();
      } catch (err) {
        alert.show(errorText(err));
      }
    }),
  );
  return h(
    "li",
    { class: "card", "data-no": p.application_no },
    h("p", { class: "row-title" }, h("a", { href: `#/desk/review/${encodeURIComponent(p.application_no)}` }, app ? `${app.applicant.name} · ${app.item_name}` : p.application_no), " ", statusChip(p.status)),
    app ? h("p", { class: "meta pickup-who" }, `${t("pickups.applicant")} ${app.applicant.name} · ${t("pickups.item")} ${app.item_name} · ${t("app.no")} ${p.application_no}`) : null,
    h("p", { class: "meta" }, `${t("app.certificateNo")} ${p.certificate_no || "—"} · ${tOr(`window.${p.window}`, p.window)} · ${dateTime(p.created_at)}`),
    p.status === "waiting" ? form : h("p", { class: "meta" }, `${p.collector_name || ""} ${p.collector_id_masked || ""} ${dateTime(p.completed_at)}`),
  );
}

export async function deskPickupsView(ctx) {
  const list = h("ul", { class: "list", id: "pickups" });
  async function load() {
    const items = await all("/delivery/pickups", { status: "waiting" }, 200);
    // A pickup knows only its number: the applicant and the item come from intake.
    const apps = await Promise.all(items.map((p) => api(`/applications/${encodeURIComponent(p.application_no)}`).catch(() => null)));
    clear(list).append(...(items.length ? items.map((p, i) => pickupRow(p, apps[i], load)) : [h("li", { class: "empty" }, t("pickups.empty"))]));
  }
  await load();
  const refresh = h("button", { type: "button" }, t("app.refresh"));
  refresh.addEventListener("click", busy(refresh, load));
  return h("section", { class: "page pickups" }, h("h1", {}, t("pickups.title")), h("p", { class: "lead" }, t("pickups.intro")), h("div", { class: "toolbar" }, refresh), list);
}

// --- appointments of the day -----------------------------------------------------------------
export async function deskAppointmentsView(ctx) {
  const windowSel = h("select", { name: "window" }, ["general", "commercial", "investment"].map((w) => h("option", { value: w }, t(`window.${w}`))));
  windowSel.value = ctx.query.get("window") || "general";
  const day = h("input", { type: "date", name: "date", value: ctx.query.get("date") || today() });
  const slots = h("div", { id: "slots" });
  const bookings = h("div", { id: "bookings" });
  const alert = alertBox();

  async function load() {
    alert.show("");
    try {
      const [slotList, booked] = await Promise.all([
        api("/appointments/slots", { query: { window: windowSel.value, date: day.value } }),
        all("/appointments", { window: windowSel.value, date: day.value }, 500),
      ]);
      clear(slots).append(
        slotList.length
          ? h(
              "div",
              { class: "table-wrap" },
              h(
                "table",
                {},
                h("caption", { class: "visually-hidden" }, t("appts.slots")),
                h("thead", {}, h("tr", {}, [t("appts.slot"), t("appts.kind"), t("appts.capacity"), t("appts.booked"), t("appts.available")].map((c) => h("th", { scope: "col" }, c)))),
                h(
                  "tbody",
                  {},
                  slotList.map((sl) =>
                    h("tr", {}, h("th", { scope: "row" }, `${sl.start}–${sl.end}`), h("td", {}, tOr(`slot.${sl.kind}`, sl.kind)), h("td", { class: "num" }, sl.capacity), h("td", { class: "num" }, sl.booked), h("td", { class: "num" }, sl.available)),
                  ),
                ),
              ),
            )
          : h("p", { class: "empty" }, t("appts.noSlots")),
      );
      clear(bookings).append(
        booked.length
          ? h(
              "ul",
              { class: "list" },
              booked
                .sort((a, b) => (a.start < b.start ? -1 : 1))
                .map((b) => {
                  const attend = h("button", { type: "button" }, t("appts.attend"));
                  attend.addEventListener(
                    "click",
                    busy(attend, async () => {
                      try {
                        await api(`/appointments/${encodeURIComponent(b.appointment_id)}/attend`, { method: "POST" });
                        announce(t("appts.attended"), "ok");
                        await load();
                      } catch (err) {
                        alert.show(errorText(err));
                      }
                    }),
                  );
                  return h(
                    "li",
                    { class: "card row" },
                    h("div", { class: "row-main" }, h("p", { class: "row-title" }, `${b.start}–${b.end} · ${b.name}`), h("p", { class: "meta" }, `${tOr(`slot.${b.kind}`, b.kind)}${b.item_code ? ` · ${b.item_code}` : ""}${b.application_no ? ` · ${b.application_no}` : ""}`)),
                    h("div", { class: "row-side" }, statusChip(b.status), b.status === "booked" ? attend : null),
                  );
                }),
            )
          : h("p", { class: "empty" }, t("appts.empty")),
      );
    } catch (err) {
      alert.show(errorText(err));
    }
  }
  const form = h("form", { class: "filters" }, field(t("catalog.window"), windowSel), field(t("appts.date"), day), h("div", { class: "actions" }, h("button", { type: "submit" }, t("app.refresh"))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
  windowSel.addEventListener("change", load);
  day.addEventListener("change", load);
  await load();
  ctx.every(30000, load);
  return h(
    "section",
    { class: "page appointments" },
    h("h1", {}, t("appts.title")),
    form,
    alert,
    h("h2", {}, t("appts.slots")),
    slots,
    h("h2", {}, t("appts.bookings")),
    bookings,
  );
}
