// One application as its applicant follows it: materials, submit, pay, progress, timeline,
// certificate, shipment or pickup, and the rating. Updates itself every 5 seconds.
import { api, newKey, ApiError, uploadFile } from "../api.js";
import { h, clear, field, alertBox, announce, busy, money, statusChip, date, dateTime, errorText } from "../dom.js";
import { t, tOr, addLabels } from "../i18n.js";
import { carrierName, departmentName, fileProblem, materialName, MATERIAL_MAX_BYTES, fileSize } from "../problems.js";

addLabels(
  {
    "mat.uploading": "正在上传 {pct}%",
    "app.chooseToUpload": "选择文件后立即上传（PDF、JPEG 或 PNG，每份不超过 {max}）",
    "app.stillMissing": "还缺必须提交的材料：{names}。上传后才能提交。",
    "app.allCritical": "必须提交的材料已齐全，可以提交。",
    "app.mayFollow": "{names} 可以容缺，稍后补交。",
    "app.uploadingWait": "还有材料正在上传，请稍候再提交。",
    "app.deferredList": "容缺：{names}",
  },
  {
    "mat.uploading": "uploading {pct}%",
    "app.chooseToUpload": "Uploaded as soon as you choose it (PDF, JPEG or PNG, up to {max} each)",
    "app.stillMissing": "Required materials still missing: {names}. Upload them to submit.",
    "app.allCritical": "All required materials are in: you can submit.",
    "app.mayFollow": "{names} may follow later (deferred).",
    "app.uploadingWait": "A material is still uploading; wait before submitting.",
    "app.deferredList": "deferred: {names}",
  },
);

const EDITABLE = ["draft", "returned"];
const SUPPLEMENTABLE = ["accepted", "approved"];
const RATEABLE = ["approved", "rejected", "completed"];

/** The five main steps of an application, with where this one stands. */
function progress(app) {
  const order = ["draft", "submitted", "accepted", "approved", "completed"];
  const off = { returned: "submitted", not_accepted: "accepted", rejected: "approved" };
  const failedAt = off[app.status];
  // A completed application has every step done; otherwise the step it stands on is current.
  const reached = app.status === "completed" ? order.length : failedAt ? order.indexOf(failedAt) : order.indexOf(app.status);
  return h(
    "ol",
    { class: "steps", "aria-label": t("app.progress") },
    order.map((step, i) => {
      let state = i < reached ? "done" : i === reached ? "current" : "todo";
      let label = t(`status.${step}`);
      if (failedAt && i === reached) {
        state = "failed";
        label = t(`status.${app.status}`);
      }
      return h("li", { class: `step ${state}`, "aria-current": i === reached ? "step" : null }, h("span", { class: "dot", "aria-hidden": "true" }, String(i + 1)), h("span", {}, label));
    }),
  );
}

const DETAIL_KEYS = ["decision", "reason", "opinion", "department", "carrier", "tracking_no", "status", "certificate_no", "clerk", "material_code", "amount_fen", "due_date", "window"];

function detailText(detail, materials) {
  if (!detail || typeof detail !== "object") return "";
  const parts = [];
  for (const k of DETAIL_KEYS) {
    const v = detail[k];
    if (v === null || v === undefined || v === "" || typeof v === "object") continue;
    if (k === "amount_fen") parts.push(money(v));
    else if (k === "department") parts.push(departmentName(v));
    else if (k === "carrier") parts.push(carrierName(v));
    else if (k === "material_code") parts.push(materialName(materials, v));
    else if (k === "window") parts.push(tOr(`window.${v}`, String(v)));
    else if (k === "status") parts.push(tOr(`status.${v}`, String(v)));
    else if (k === "decision") parts.push(tOr(`decision.${v}`, String(v)));
    else if (k === "reason") parts.push(tOr(`reason.${v}`, String(v)));
    else parts.push(String(v));
  }
  // The materials accepted as deferred (容缺), by name.
  if (Array.isArray(detail.deferred_materials) && detail.deferred_materials.length) {
    parts.push(t("app.deferredList", { names: detail.deferred_materials.map((c) => materialName(materials, c)).join(t("problem.listSep")) }));
  }
  return parts.join(" · ");
}

/** The codes behind the names of a timeline line, for its tooltip. */
function codesOf(detail) {
  if (!detail || typeof detail !== "object") return "";
  return [...["department", "carrier", "material_code"].filter((k) => typeof detail[k] === "string" && detail[k]).map((k) => detail[k]), ...(Array.isArray(detail.deferred_materials) ? detail.deferred_materials : [])].join(" · ");
}

export function timelineList(app) {
  const entries = [...(app.timeline || [])].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return h(
    "ol",
    { class: "timeline", id: "timeline" },
    entries.map((e) =>
      h(
        "li",
        { "data-event": e.event },
        h("time", { datetime: e.at }, dateTime(e.at)),
        h("span", { class: "tl-label" }, tOr(`ev.${e.event}`, e.event)),
        detailText(e.detail, app.materials) ? h("span", { class: "tl-detail", title: codesOf(e.detail) || null }, detailText(e.detail, app.materials)) : null,
      ),
    ),
  );
}

/** Open one uploaded material in a new tab (applicant, clerk, or an approver of its departments). */
export async function openMaterial(no, code) {
  const blob = await api(`/applications/${encodeURIComponent(no)}/materials/${encodeURIComponent(code)}`);
  if (blob instanceof Blob) window.open(URL.createObjectURL(blob), "_blank", "noopener");
}

/**
 * The materials of an application with upload controls where they apply: uploads while it is a
 * draft or returned, supplements of deferred ones once accepted. A file is checked (type, size)
 * and uploaded as soon as it is chosen, with its progress; each material says its state
 * (missing, uploading, uploaded, deferred). `onChanged()` after a success.
 */
export function materialsPanel(app, { onChanged }) {
  const alert = alertBox();
  const editable = EDITABLE.includes(app.status);
  const supplementable = SUPPLEMENTABLE.includes(app.status);
  const panel = h("div", { class: "materials-panel" });
  const rows = (app.materials || []).map((m) => {
    const canUpload = editable || (supplementable && (m.status === "deferred" || m.status === "overdue"));
    const chip = h("span", { class: `chip mat-${m.status}`, "data-state": m.status }, tOr(`mat.${m.status}`, m.status));
    const li = h(
      "li",
      { class: "material", "data-code": m.code, "data-status": m.status, title: m.code },
      h(
        "div",
        { class: "material-head" },
        h("span", { class: "material-name" }, m.name),
        h("span", { class: m.critical ? "badge critical" : "badge deferrable" }, m.critical ? t("catalog.critical") : t("catalog.deferrable")),
        chip,
        m.due_date && (m.status === "deferred" || m.status === "overdue") ? h("span", { class: "meta" }, t("app.deferredDue", { date: date(m.due_date) })) : null,
      ),
    );
    if (m.status === "uploaded" || m.status === "supplied") {
      const view = h("button", { type: "button", class: "link-button" }, t("app.download"));
      view.addEventListener("click", busy(view, () => openMaterial(app.application_no, m.code).catch((err) => alert.show(errorText(err, { materials: app.materials })))));
      li.querySelector(".material-head").append(view);
    }
    if (canUpload) {
      const input = h("input", { type: "file", accept: "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png", name: `file-${m.code}` });
      const supplement = supplementable && !editable;
      const bar = h("progress", { class: "upload-progress", max: "100", value: "0", hidden: true, "aria-label": t("app.uploadFile", { name: m.name }) });
      const setState = (state, pct) => {
        li.dataset.status = state;
        chip.className = `chip mat-${state}`;
        chip.dataset.state = state;
        chip.textContent = state === "uploading" ? t("mat.uploading", { pct: Math.round(pct * 100) }) : tOr(`mat.${state}`, state);
        bar.hidden = state !== "uploading";
        bar.value = Math.round(pct * 100);
      };
      input.addEventListener("change", async () => {
        alert.show("");
        const file = input.files && input.files[0];
        if (!file) return;
        const wrong = fileProblem(file, MATERIAL_MAX_BYTES);
        if (wrong) {
          alert.show(wrong);
          input.value = "";
          return;
        }
        const path = supplement ? "supplements" : "materials";
        const before = m.status;
        input.disabled = true;
        setState("uploading", 0);
        try {
          await uploadFile(`/applications/${encodeURIComponent(app.application_no)}/${path}/${encodeURIComponent(m.code)}`, file, { onProgress: (f) => setState("uploading", f) });
          setState(supplement ? "supplied" : "uploaded", 1);
          announce(t(supplement ? "app.supplemented" : "app.uploaded", { name: m.name }), "ok");
          await onChanged();
        } catch (err) {
          setState(before, 0);
          input.disabled = false;
          input.value = "";
          alert.show(errorText(err, { materials: app.materials }));
        }
      });
      const label = supplement ? t("app.supplement") : m.status === "uploaded" ? t("app.reupload") : t("app.upload");
      li.append(h("div", { class: "upload-row" }, field(`${label} · ${m.name}`, input, { hint: t("app.chooseToUpload", { max: fileSize(MATERIAL_MAX_BYTES) }) }), bar));
    }
    return li;
  });
  panel.append(h("ul", { class: "material-list" }, rows), alert);
  return panel;
}

/** What is still missing before a submit, said plainly (names of the critical ones). */
export function missingSummary(app) {
  if (!EDITABLE.includes(app.status)) return null;
  const mats = app.materials || [];
  const critical = mats.filter((m) => m.critical && m.status === "missing");
  const optional = mats.filter((m) => !m.critical && m.status === "missing");
  const sep = t("problem.listSep");
  return h(
    "div",
    { class: "missing-summary", id: "missing-summary", "aria-live": "polite" },
    critical.length
      ? h("p", { class: "alert", "data-kind": "warn", "data-missing": critical.map((m) => m.code).join(" ") }, t("app.stillMissing", { names: critical.map((m) => m.name).join(sep) }))
      : h("p", { class: "alert", "data-kind": "ok" }, t("app.allCritical")),
    optional.length ? h("p", { class: "hint" }, t("app.mayFollow", { names: optional.map((m) => m.name).join(sep) })) : null,
  );
}

function certificateBox(cert) {
  if (!cert) return null;
  return h(
    "div",
    { class: "card certificate", id: "certificate" },
    h("h2", {}, t("app.certificate")),
    h(
      "dl",
      { class: "facts" },
      h("div", {}, h("dt", {}, t("app.certificateNo")), h("dd", {}, cert.certificate_no)),
      h("div", {}, h("dt", {}, t("app.verification")), h("dd", { class: "code" }, cert.verification_code)),
      h("div", {}, h("dt", {}, t("app.issuedOn")), h("dd", {}, date(cert.issued_on))),
    ),
    // The public check anyone shown the certificate can run (views/certificates.js).
    h("p", {}, h("a", { id: "certificate-check", href: `#/certificates/verify?no=${encodeURIComponent(cert.certificate_no)}&code=${encodeURIComponent(cert.verification_code)}` }, t("nav.certCheck"))),
  );
}

async function deliveryBox(app) {
  const method = app.delivery && app.delivery.method;
  if (!["approved", "completed"].includes(app.status)) return null;
  if (method === "mail") {
    const page = await api("/shipments", { query: { application_no: app.application_no } }).catch(() => ({ items: [] }));
    const box = h("div", { class: "card shipment", id: "shipment" }, h("h2", {}, t("app.shipment")));
    if (!page.items.length) {
      box.append(h("p", { class: "empty" }, t("app.noShipment")));
      return box;
    }
    for (const sh of page.items) {
      box.append(
        h(
          "div",
          { class: "shipment-item", "data-status": sh.status },
          h(
            "dl",
            { class: "facts" },
            h("div", {}, h("dt", {}, t("app.carrier")), h("dd", { title: sh.carrier || null }, sh.carrier ? carrierName(sh.carrier) : sh.carrier_name || "—")),
            h("div", {}, h("dt", {}, t("app.tracking")), h("dd", { class: "code" }, sh.tracking_no || "—")),
            h("div", {}, h("dt", {}, t("app.status")), h("dd", {}, statusChip(sh.status))),
          ),
          h(
            "ol",
            { class: "timeline compact" },
            (sh.events || [])
              .filter((e) => e.applied !== false)
              .map((e) => h("li", {}, h("time", { datetime: e.at }, dateTime(e.at)), h("span", { class: "tl-label" }, tOr(`status.${e.status}`, e.status)))),
          ),
        ),
      );
    }
    return box;
  }
  if (method === "window") {
    try {
      const p = await api(`/delivery/pickups/${encodeURIComponent(app.application_no)}`);
      return h(
        "div",
        { class: "card shipment", id: "pickup" },
        h("h2", {}, t("app.pickup")),
        h("p", {}, p.status === "completed" ? t("app.pickupDone", { at: dateTime(p.completed_at) }) : t("app.pickupWaiting", { window: tOr(`window.${p.window}`, p.window) })),
      );
    } catch {
      return null;
    }
  }
  return null;
}

async function ratingBox(app) {
  if (!RATEABLE.includes(app.status)) return null;
  const box = h("div", { class: "card rating", id: "rating" }, h("h2", {}, t("app.rate")));
  let mine = [];
  try {
    mine = (await api("/ratings", { query: { application_no: app.application_no } })).items || [];
  } catch {
    mine = [];
  }
  if (mine.length) {
    box.append(h("p", { class: "done", id: "rated" }, t("app.ratedAlready", { n: mine[0].score, label: t(`score.${mine[0].score}`) })));
    return box;
  }
  const alert = alertBox();
  const scores = h(
    "fieldset",
    { class: "scores" },
    h("legend", {}, t("app.rateScore")),
    [5, 4, 3, 2, 1].map((n) => {
      const input = h("input", { type: "radio", name: "score", value: String(n), id: `score-${n}`, checked: n === 5 });
      return h("div", { class: "choice" }, input, h("label", { for: `score-${n}` }, h("span", { class: "stars", "aria-hidden": "true" }, "★".repeat(n)), ` ${n} · ${t(`score.${n}`)}`));
    }),
  );
  const comment = h("textarea", { name: "comment", rows: "3", maxlength: "2000" });
  const submit = h("button", { type: "submit", class: "primary" }, t("app.rateSubmit"));
  const form = h("form", { class: "form", id: "rating-form", novalidate: true }, scores, field(t("app.rateComment"), comment), alert, h("div", { class: "actions" }, submit));
  const key = newKey();
  form.addEventListener("submit", (e) => e.preventDefault());
  form.addEventListener(
    "submit",
    busy(submit, async () => {
      alert.show("");
      const score = Number(form.querySelector("input[name=score]:checked").value);
      try {
        await api("/ratings", {
          method: "POST",
          key,
          json: { application_no: app.application_no, score, comment: comment.value.trim() || null },
        });
        announce(t("app.rated"), "ok");
        form.replaceWith(h("p", { class: "done", id: "rated" }, t("app.ratedAlready", { n: score, label: t(`score.${score}`) })));
      } catch (err) {
        if (err instanceof ApiError && err.status === 409) {
          form.replaceWith(h("p", { class: "done", id: "rated" }, err.message));
        } else {
          alert.show(errorText(err));
        }
      }
    }),
  );
  box.append(form);
  // A rating link the window sent by SMS rates the same application (views/ratelinks.js).
  box.append(h("p", { class: "meta" }, h("a", { href: "#/ratings/links" }, t("links.fromApp"))));
  return box;
}

export function actionsBox(app, { refresh }) {
  const box = h("div", { class: "actions-box" });
  const alert = alertBox();
  if (EDITABLE.includes(app.status)) {
    const submit = h("button", { type: "button", class: "primary", id: "submit-application" }, t("app.submit"));
    submit.addEventListener(
      "click",
      busy(submit, async () => {
        alert.show("");
        // Say what is missing before sending: the server would refuse it the same way.
        if (document.querySelector(".materials-panel li.material[data-status=uploading]")) {
          alert.show(t("app.uploadingWait"));
          return;
        }
        const missing = (app.materials || []).filter((m) => m.critical && m.status === "missing");
        if (missing.length) {
          alert.show(t("app.stillMissing", { names: missing.map((m) => m.name).join(t("problem.listSep")) }));
          return;
        }
        try {
          await api(`/applications/${encodeURIComponent(app.application_no)}/submit`, { method: "POST" });
          announce(t("app.submittedOk"), "ok");
          await refresh(true);
        } catch (err) {
          alert.show(errorText(err, { materials: app.materials }));
        }
      }),
    );
    box.append(h("div", { class: "action" }, submit, h("p", { class: "hint" }, t("app.submitHint"))));
  }
  const payment = app.payment || {};
  if (payment.status === "unpaid" && !["not_accepted", "rejected", "draft"].includes(app.status)) {
    const pay = h("button", { type: "button", class: "primary", id: "pay" }, t("app.pay", { amount: money(payment.amount_fen || app.fee_fen) }));
    const linkSlot = h("p", { class: "hint" }, t("app.payHint"));
    const key = newKey();
    pay.addEventListener(
      "click",
      busy(pay, async () => {
        alert.show("");
        try {
          const order = await api("/payments", { method: "POST", key, json: { application_no: app.application_no } });
          const opened = window.open(order.pay_url, "_blank");
          clear(linkSlot).append(h("a", { href: order.pay_url, target: "_blank", rel: "noopener", id: "pay-link" }, t("app.payLink")));
          announce(t("app.payOpened", { url: order.pay_url }), "info");
          if (!opened) linkSlot.querySelector("a").focus();
        } catch (err) {
          alert.show(errorText(err));
        }
      }),
    );
    box.append(h("div", { class: "action" }, pay, linkSlot));
  }
  box.append(alert);
  return box.childElementCount > 1 ? box : null;
}

function summaryBox(app) {
  const payment = app.payment || {};
  const rows = [
    [t("app.no"), h("span", { class: "code", id: "app-no" }, app.application_no)],
    [t("app.applicant"), app.applicant ? app.applicant.name : "—"],
    [t("app.created"), dateTime(app.created_at)],
    [t("app.submitted"), dateTime(app.submitted_at)],
    [t("app.deadline"), date(app.deadline)],
    [t("app.fee"), app.fee_fen ? `${money(app.fee_fen)} · ${tOr(`status.${payment.status}`, payment.status)}` : money(0)],
    [t("app.delivery"), tOr(`delivery.${app.delivery && app.delivery.method}`, (app.delivery && app.delivery.method) || "—")],
  ];
  if (app.reason) rows.push([t("app.reason"), app.reason]);
  return h(
    "div",
    { class: "card summary" },
    h("p", { class: "status-line" }, t("app.status"), " ", h("span", { id: "app-status", "data-status": app.status }, statusChip(app.status))),
    progress(app),
    h("dl", { class: "facts" }, rows.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))),
  );
}

function signature(app) {
  return JSON.stringify([app.status, app.payment && app.payment.status, (app.timeline || []).length, (app.materials || []).map((m) => m.status), !!app.certificate]);
}

export async function applicationView(ctx) {
  const no = ctx.params.no;
  let app = await api(`/applications/${encodeURIComponent(no)}`);
  const heading = h("h1", {});
  const summarySlot = h("div");
  const actionsSlot = h("div");
  const materialsSlot = h("div", { class: "card" });
  const certSlot = h("div");
  const deliverySlot = h("div");
  const ratingSlot = h("div");
  const timelineSlot = h("div", { class: "card" });
  let lastSignature = "";
  let lastStatus = app.status;
  let lastPayment = app.payment && app.payment.status;

  async function paint(force) {
    const sig = signature(app);
    if (!force && sig === lastSignature) return;
    const statusChanged = lastStatus !== app.status;
    lastSignature = sig;
    heading.textContent = app.item_name || app.item_code;
    clear(summarySlot).append(summaryBox(app));
    clear(actionsSlot).append(actionsBox(app, { refresh }) || "");
    clear(materialsSlot).append(h("h2", {}, t("app.materials")), materialsPanel(app, { onChanged: () => refresh(true) }), missingSummary(app) || "");
    clear(certSlot).append(certificateBox(app.certificate) || "");
    clear(timelineSlot).append(h("h2", {}, t("app.timeline")), timelineList(app));
    const delivery = await deliveryBox(app);
    clear(deliverySlot).append(delivery || "");
    if (force || statusChanged || !ratingSlot.firstChild) {
      const rating = await ratingBox(app);
      clear(ratingSlot).append(rating || "");
    }
    const payment = app.payment && app.payment.status;
    if (statusChanged && !force) announce(t("app.statusChanged", { status: t(`status.${app.status}`) }), "info");
    else if (payment !== lastPayment && payment === "paid") announce(t("app.paid"), "ok");
    lastStatus = app.status;
    lastPayment = payment;
  }

  async function refresh(force = false) {
    try {
      app = await api(`/applications/${encodeURIComponent(no)}`);
      if (ctx.current) await paint(force);
    } catch {
      /* the next round tries again */
    }
  }

  await paint(true);
  ctx.every(5000, () => refresh(false));
  const refreshButton = h("button", { type: "button", id: "refresh" }, t("app.refresh"));
  refreshButton.addEventListener("click", busy(refreshButton, () => refresh(false)));
  return h(
    "section",
    { class: "page application", "data-no": no },
    h("p", { class: "crumbs" }, h("a", { href: ctx.who && ctx.who.kind === "staff" ? "#/desk" : "#/mine" }, ctx.who && ctx.who.kind === "staff" ? t("nav.desk") : t("nav.mine"))),
    heading,
    h("div", { class: "toolbar" }, refreshButton, h("p", { class: "hint" }, t("app.autoRefresh"))),
    summarySlot,
    materialsSlot,
    actionsSlot,
    certSlot,
    deliverySlot,
    ratingSlot,
    timelineSlot,
  );
}
