// Small DOM helpers: every text goes in as a text node (never as HTML), so nothing a server or a
// user wrote can run as markup.
import { t, tOr, lang } from "./i18n.js";
import { problemMessage } from "./problems.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function append(el, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    child.forEach((c) => append(el, c));
    return;
  }
  el.append(child instanceof Node ? child : document.createTextNode(String(child)));
}

function setProps(el, props, svg) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else if (key === "for") {
      el.setAttribute("for", value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (!svg && (key === "value" || key === "checked" || key === "selected" || key === "disabled")) {
      el[key] = value;
      if (key === "disabled" || key === "checked" || key === "selected") el.setAttribute(key, "");
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/** h("button", {class: "primary", onclick}, "Save") */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props, false);
  append(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setProps(el, props, true);
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let uid = 0;
/** A fresh id for tying a label to its input. */
export function newId(prefix = "f") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled field: label, control, optional hint and an error slot tied by aria-describedby. */
export function field(labelText, control, { hint, required } = {}) {
  const id = control.id || newId();
  control.id = id;
  const describedBy = [];
  let hintEl = null;
  if (hint) {
    hintEl = h("p", { class: "hint", id: `${id}-hint` }, hint);
    describedBy.push(hintEl.id);
  }
  const errorEl = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  describedBy.push(errorEl.id);
  control.setAttribute("aria-describedby", describedBy.join(" "));
  if (required) {
    control.required = true;
    control.setAttribute("aria-required", "true");
  }
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, labelText, required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null),
    control,
    hintEl,
    errorEl,
  );
}

/** Show (or clear) an error message under a field built by field(). */
export function fieldError(control, message) {
  const err = document.getElementById(`${control.id}-error`);
  if (!err) return;
  err.textContent = message || "";
  err.hidden = !message;
  if (message) control.setAttribute("aria-invalid", "true");
  else control.removeAttribute("aria-invalid");
}

let announceTimer = 0;
let announcedAt = 0;

// A message belongs to the page it was said on, and to the one an action leads straight to
// ("created" then the application's page): a later navigation clears it, so a success banner from
// one page never lingers on the next.
const CARRY_MS = 1500;
window.addEventListener("hashchange", () => {
  if (Date.now() - announcedAt > CARRY_MS) clearAnnouncement();
});

/** Announce a status message in the page's polite live region (it fades after a while). */
export function announce(message, kind = "info") {
  const region = document.getElementById("status");
  if (!region) return;
  announcedAt = Date.now();
  window.clearTimeout(announceTimer);
  region.dataset.kind = kind;
  region.textContent = "";
  // A fresh text node after a tick, so screen readers announce a repeated message too.
  announceTimer = window.setTimeout(() => {
    region.textContent = message;
    announceTimer = window.setTimeout(() => {
      region.textContent = "";
    }, 12000);
  }, 30);
}

/** Clear the live region (the language changed: an old message would be in the old one). */
export function clearAnnouncement() {
  window.clearTimeout(announceTimer);
  const region = document.getElementById("status");
  if (region) region.textContent = "";
}

/** An inline alert box (role=alert) to put next to a form. */
export function alertBox() {
  const box = h("div", { class: "alert", role: "alert", hidden: true });
  box.show = (message, kind = "error") => {
    box.dataset.kind = kind;
    box.textContent = message;
    box.hidden = !message;
  };
  return box;
}

/** What went wrong, for an alert: a localized kind of problem, then the server's own words. */
export function errorText(err, { materials } = {}) {
  const status = err && err.status;
  if (!status) return t("error.network", { detail: (err && err.message) || String(err) });
  const problem = err.problem || {};
  // Said in the console's language from the problem's codes, with names (problems.js).
  const detail = problemMessage(problem, { materials }) || err.message;
  const requestId = problem.request_id ? ` ${t("error.requestId", { id: problem.request_id })}` : "";
  // The one refusal a person can act on by themselves: say what to do, not only what failed.
  if (status === 403 && String(problem.type || "").endsWith("identity-not-verified")) {
    return `${t("identity.refused")} ${t("identity.nextSteps")}${requestId}`;
  }
  const kind = status >= 500 ? "error.5xx" : `error.${status}`;
  return `${tOr(kind, t("error.other"))} ${detail}${requestId}`;
}

export function money(fen) {
  if (!fen) return t("fee.free");
  return `¥${(fen / 100).toFixed(2)}`;
}

function locale() {
  return lang() === "zh" ? "zh-CN" : "en-GB";
}

export function dateTime(value) {
  if (!value) return "—";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toLocaleString(locale(), { dateStyle: "medium", timeStyle: "short", hour12: false });
}

/** A time of day in the console's language (never the browser's locale: no "10:49:30 AM" in Chinese). */
export function clock(value = new Date()) {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

export function date(value) {
  if (!value) return "—";
  // Plain dates (YYYY-MM-DD) stay as they are: they are calendar days, not instants.
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  return dateTime(value);
}

export function percent(rate) {
  if (rate === null || rate === undefined) return "—";
  return `${(rate * 100).toFixed(rate >= 0.995 || rate === 0 ? 0 : 1)}%`;
}

/** A status chip whose meaning is in its text, not only its colour. */
export function statusChip(status) {
  return h("span", { class: `chip status-${status}`, "data-status": status }, tOr(`status.${status}`, status));
}

export function cardChip(color) {
  if (!color) return h("span", { class: "chip card-none" }, t("card.none"));
  return h("span", { class: `chip card-${color}`, "data-card": color }, t(`card.${color}`));
}

/** Today's date in the browser's time zone (YYYY-MM-DD). */
export function today() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Whole days from today to a YYYY-MM-DD date (negative: past). */
export function daysUntil(day) {
  if (!day) return null;
  const [y, m, d] = day.split("-").map(Number);
  const due = Date.UTC(y, m - 1, d);
  const now = new Date();
  const base = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
  return Math.round((due - base) / 86400000);
}

/** Wire a form's submit: no page reload, the button busy while it runs, the alert cleared first and
 * showing what went wrong (validation that stops early just returns). */
export function onSubmit(form, button, alert, action) {
  form.addEventListener("submit", (e) => e.preventDefault());
  form.addEventListener(
    "submit",
    busy(button, async () => {
      alert.show("");
      try {
        await action();
      } catch (err) {
        alert.show(errorText(err));
      }
    }),
  );
}

/** A button that disables itself while its async action runs. */
export function busy(button, action) {
  return async (...args) => {
    if (button.disabled) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      await action(...args);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  };
}
