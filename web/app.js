// The OneWindow web console: a single-page app with hash routes, no build step. Each view is a
// module under views/ that returns the DOM of its page; the router owns the header, the focus
// and the timers a page starts.
import { api, me, clearSession, tokens, acting } from "./api.js";
import { h, clear, announce, clearAnnouncement, errorText } from "./dom.js";
import { t, lang, setLang, applyLang } from "./i18n.js";
import { isApplicant, hasRole, homeOf } from "./session.js";
import { loginView } from "./views/login.js";
import { catalogView } from "./views/catalog.js";
import { applyView, myApplicationsView } from "./views/apply.js";
import { applicationView } from "./views/application.js";
import { deskQueueView, deskReviewView, deskBehalfView, deskPickupsView, deskAppointmentsView } from "./views/desk.js";
import { inboxView } from "./views/inbox.js";
import { boardView } from "./views/board.js";
import { projectsView, projectView } from "./views/projects.js";
import { appointmentsView } from "./views/appointments.js";
import { consultationsView, consultationsDeskView } from "./views/consultations.js";
import { inspectionsView, rectificationsView, rectificationView, assessmentView } from "./views/supervision.js";
import { billView } from "./views/finance.js";
import { adminItemsView, adminItemNewView, adminItemView, adminImportView, adminCalendarView, adminStaffView, adminKiosksView, adminHallsView, adminDepartmentsView, adminPartnersView } from "./views/admin.js";
import { accountView, activateView, deskVerifyView } from "./views/identity.js";
import { certificateCheckView } from "./views/certificates.js";
import { rateLinksView, rateByLinkView } from "./views/ratelinks.js";
import { kioskView } from "./views/kiosk.js";
import { assuranceChip, isNotVerified, notVerifiedBox, finishProvinceLogin, actAsMyself } from "./identity.js";
import { loadDepartments } from "./problems.js";

const APPLICANT = isApplicant;
const ROLE = hasRole;

const ROUTES = [
  { path: /^\/login$/, view: loginView, public: true },
  { path: /^\/catalog$/, view: catalogView, public: true },
  { path: /^\/activate$/, view: activateView, public: true },
  { path: /^\/certificates\/verify$/, view: certificateCheckView, public: true },
  { path: /^\/rate$/, view: rateByLinkView, public: true },
  { path: /^\/kiosk$/, view: kioskView, public: true },
  { path: /^\/ratings\/links$/, view: rateLinksView, allow: APPLICANT },
  { path: /^\/account$/, view: accountView, allow: APPLICANT },
  { path: /^\/desk\/verify$/, view: deskVerifyView, allow: ROLE("clerk") },
  { path: /^\/apply\/([^/]+)$/, view: applyView, keys: ["code"], allow: APPLICANT },
  { path: /^\/mine$/, view: myApplicationsView, allow: APPLICANT },
  { path: /^\/applications\/([^/]+)$/, view: applicationView, keys: ["no"], allow: (w) => !!w },
  { path: /^\/desk$/, view: deskQueueView, allow: ROLE("clerk") },
  { path: /^\/desk\/review\/([^/]+)$/, view: deskReviewView, keys: ["no"], allow: ROLE("clerk") },
  { path: /^\/desk\/behalf$/, view: deskBehalfView, allow: ROLE("clerk") },
  { path: /^\/desk\/pickups$/, view: deskPickupsView, allow: ROLE("clerk") },
  { path: /^\/desk\/appointments$/, view: deskAppointmentsView, allow: ROLE("clerk") },
  { path: /^\/projects$/, view: projectsView, allow: APPLICANT },
  { path: /^\/projects\/([^/]+)$/, view: projectView, keys: ["no"], allow: (w) => !!w },
  { path: /^\/appointments$/, view: appointmentsView, allow: APPLICANT },
  { path: /^\/consultations$/, view: consultationsView, allow: APPLICANT },
  { path: /^\/desk\/consultations$/, view: consultationsDeskView, allow: ROLE("clerk", "approver", "supervisor") },
  { path: /^\/supervision\/inspections$/, view: inspectionsView, allow: ROLE("supervisor") },
  { path: /^\/supervision\/rectifications$/, view: rectificationsView, allow: ROLE("supervisor") },
  { path: /^\/supervision\/rectifications\/([^/]+)$/, view: rectificationView, keys: ["id"], allow: ROLE("supervisor") },
  { path: /^\/supervision\/assessment$/, view: assessmentView, allow: ROLE("supervisor") },
  { path: /^\/finance\/bill$/, view: billView, allow: ROLE("finance") },
  { path: /^\/inbox$/, view: inboxView, allow: ROLE("approver", "supervisor") },
  { path: /^\/board$/, view: boardView, allow: ROLE("supervisor", "admin") },
  { path: /^\/admin\/items$/, view: adminItemsView, allow: ROLE("admin") },
  { path: /^\/admin\/items\/new$/, view: adminItemNewView, allow: ROLE("admin") },
  { path: /^\/admin\/items\/([^/]+)$/, view: adminItemView, keys: ["code"], allow: ROLE("admin") },
  { path: /^\/admin\/import$/, view: adminImportView, allow: ROLE("admin") },
  { path: /^\/admin\/calendar$/, view: adminCalendarView, allow: ROLE("admin") },
  { path: /^\/admin\/staff$/, view: adminStaffView, allow: ROLE("admin") },
  { path: /^\/admin\/kiosks$/, view: adminKiosksView, allow: ROLE("admin") },
  { path: /^\/admin\/halls$/, view: adminHallsView, allow: ROLE("admin") },
  { path: /^\/admin\/departments$/, view: adminDepartmentsView, allow: ROLE("admin") },
  { path: /^\/admin\/partners$/, view: adminPartnersView, allow: ROLE("admin") },
];

const NAV = [
  { href: "#/catalog", label: "nav.catalog", show: (w) => !w || APPLICANT(w) },
  { href: "#/mine", label: "nav.mine", show: APPLICANT },
  { href: "#/account", label: "nav.account", show: APPLICANT },
  { href: "#/ratings/links", label: "nav.rateLinks", show: APPLICANT },
  { href: "#/desk", label: "nav.desk", show: ROLE("clerk") },
  { href: "#/desk/behalf", label: "nav.behalf", show: ROLE("clerk") },
  { href: "#/desk/pickups", label: "nav.pickups", show: ROLE("clerk") },
  { href: "#/desk/appointments", label: "nav.appointments", show: ROLE("clerk") },
  { href: "#/desk/verify", label: "nav.verify", show: ROLE("clerk") },
  { href: "#/projects", label: "nav.projects", show: APPLICANT },
  { href: "#/appointments", label: "nav.book", show: APPLICANT },
  { href: "#/consultations", label: "nav.consult", show: APPLICANT },
  { href: "#/desk/consultations", label: "nav.consultReply", show: ROLE("clerk", "approver") },
  { href: "#/supervision/inspections", label: "nav.inspections", show: ROLE("supervisor") },
  { href: "#/supervision/rectifications", label: "nav.rectifications", show: ROLE("supervisor") },
  { href: "#/supervision/assessment", label: "nav.assessment", show: ROLE("supervisor") },
  { href: "#/finance/bill", label: "nav.bill", show: ROLE("finance") },
  { href: "#/inbox", label: "nav.inbox", show: ROLE("approver") },
  { href: "#/board", label: "nav.board", show: ROLE("supervisor", "admin") },
  { href: "#/admin/items", label: "nav.adminItems", show: ROLE("admin") },
  { href: "#/admin/calendar", label: "nav.adminCalendar", show: ROLE("admin") },
  { href: "#/admin/staff", label: "nav.adminStaff", show: ROLE("admin") },
  { href: "#/admin/kiosks", label: "nav.adminKiosks", show: ROLE("admin") },
  { href: "#/admin/halls", label: "nav.adminHalls", show: ROLE("admin") },
  { href: "#/admin/departments", label: "nav.adminDepartments", show: ROLE("admin") },
  { href: "#/admin/partners", label: "nav.adminPartners", show: ROLE("admin") },
  { href: "#/certificates/verify", label: "nav.certCheck", show: () => true },
];

export function navigate(hash) {
  if (window.location.hash === hash) render();
  else window.location.hash = hash;
}

function currentPath() {
  const raw = window.location.hash.replace(/^#/, "") || "/";
  const [path, qs] = raw.split("?");
  return { path: path || "/", query: new URLSearchParams(qs || "") };
}

function renderChrome() {
  const who = tokens() ? me() : null;
  document.getElementById("skip-link").textContent = t("app.skip");
  document.getElementById("brand-title").textContent = t("app.title");
  document.getElementById("brand-sub").textContent = t("app.subtitle");
  document.getElementById("foot-text").textContent = t("app.footer");
  const toggle = document.getElementById("lang-toggle");
  toggle.textContent = t("app.lang");
  toggle.setAttribute("aria-label", t("app.lang.label"));
  toggle.setAttribute("lang", lang() === "zh" ? "en" : "zh-CN");
  const logout = document.getElementById("logout");
  logout.textContent = who ? t("app.logout") : t("app.login");
  logout.hidden = false;
  logout.dataset.action = who ? "logout" : "login";
  const whoBox = clear(document.getElementById("who"));
  if (who) {
    const name = t("app.signedInAs", { name: who.name || who.username || "" });
    // An applicant's assurance is always in sight, and leads to what it means and what to do.
    whoBox.append(who.kind === "staff" ? h("span", { class: "who-name" }, name) : h("a", { class: "who-link", href: "#/account", title: t("identity.chipTitle") }, h("span", { class: "who-name" }, name), assuranceChip(who)));
  }
  renderActing();
  const nav = document.getElementById("nav");
  nav.setAttribute("aria-label", t("app.nav"));
  const list = clear(document.getElementById("nav-list"));
  const { path } = currentPath();
  for (const item of NAV) {
    if (!item.show(who)) continue;
    const target = item.href.slice(1);
    const active = path === target || (target !== "/desk" && path.startsWith(`${target}/`));
    list.append(h("li", {}, h("a", { href: item.href, "aria-current": active ? "page" : null }, t(item.label))));
  }
}

/** While a person acts for an enterprise: who for whom, said on every page, with the way back. */
function renderActing() {
  const box = clear(document.getElementById("acting"));
  const held = tokens() ? acting() : null;
  box.hidden = !held;
  if (!held) return;
  const back = h("button", { type: "button", id: "act-as-myself" }, t("actAs.back"));
  back.addEventListener("click", async () => {
    back.disabled = true;
    await actAsMyself();
    announce(t("actAs.ended"), "ok");
    navigate("#/account");
  });
  box.append(
    h("p", { id: "acting-text" }, t("actAs.banner", { agent: held.agent.name || held.agent.id_number, agentId: held.agent.id_number || "", enterprise: held.enterprise.name || held.enterprise.id_number, enterpriseId: held.enterprise.id_number })),
    back,
  );
}

// --- timers a page starts: stopped when the page goes ---------------------------------------
let timers = [];
function stopTimers() {
  timers.forEach((id) => window.clearInterval(id));
  timers = [];
}

let renderSerial = 0;

export async function render({ focus = true } = {}) {
  const serial = ++renderSerial;
  stopTimers();
  renderChrome();
  const main = document.getElementById("main");
  const { path, query } = currentPath();
  const who = tokens() ? me() : null;
  if (path === "/") {
    window.location.replace(homeOf(who));
    return;
  }
  const route = ROUTES.find((r) => r.path.test(path));
  if (!route) {
    clear(main).append(h("h1", { tabindex: "-1" }, t("app.notFound")));
    return;
  }
  if (!route.public && !who) {
    window.location.replace(`#/login?next=${encodeURIComponent(path)}`);
    return;
  }
  if (route.allow && !route.allow(who)) {
    clear(main).append(h("h1", { tabindex: "-1" }, t("app.forbidden")), h("p", {}, h("a", { href: homeOf(who) }, t("app.back"))));
    return;
  }
  const match = path.match(route.path);
  const params = {};
  (route.keys || []).forEach((k, i) => {
    params[k] = decodeURIComponent(match[i + 1]);
  });
  main.setAttribute("aria-busy", "true");
  clear(main).append(h("p", { class: "loading" }, t("app.loading")));
  // Pages name departments synchronously: the registry is there before the first one renders
  // (one call per page load; a failed call leaves the codes showing and is tried again next page).
  await loadDepartments();
  const ctx = {
    params,
    query,
    who,
    navigate,
    rerender: () => render({ focus: false }),
    /** Run fn every ms while this page is shown. */
    every(ms, fn) {
      const id = window.setInterval(() => {
        if (serial === renderSerial && !document.hidden) fn();
      }, ms);
      timers.push(id);
    },
    get current() {
      return serial === renderSerial;
    },
  };
  let node;
  try {
    node = await route.view(ctx);
  } catch (err) {
    node = isNotVerified(err)
      ? h("div", { class: "page refused" }, h("h1", { tabindex: "-1" }, t("identity.needed.title")), notVerifiedBox(`#${path}`, { heading: null }), problemLine(err))
      : h("div", { class: "page failed" }, h("h1", { tabindex: "-1" }, t("app.failed")), h("p", { class: "alert", role: "alert" }, err.status ? errorText(err) : t("app.error", { message: err.message || String(err) })));
  }
  if (serial !== renderSerial) return;
  main.removeAttribute("aria-busy");
  clear(main).append(node);
  document.body.dataset.route = path.split("/")[1] || "home";
  if (focus) {
    const heading = main.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: false });
    }
  }
}

/** The problem's request id, for the help desk (the refusal itself is explained above it). */
function problemLine(err) {
  const id = err.problem && err.problem.request_id;
  return id ? h("p", { class: "meta" }, t("error.requestId", { id })) : null;
}

async function signOut() {
  try {
    if (acting()) await actAsMyself();
    const held = tokens();
    if (held) await api("/auth/logout", { method: "POST", json: { refresh_token: held.refresh } });
  } catch {
    /* the tokens are dropped anyway */
  }
  clearSession();
  navigate("#/login");
}

window.addEventListener("hashchange", () => render());
window.addEventListener("ow:lang", () => {
  clearAnnouncement();
  render({ focus: false });
});
window.addEventListener("ow:signed-out", () => {
  announce(t("app.signedOut"), "error");
  const { path } = currentPath();
  if (path !== "/login") window.location.hash = `#/login?next=${encodeURIComponent(path)}`;
});

document.addEventListener("DOMContentLoaded", async () => {
  applyLang();
  // Back from the province's login with ?login_code=...: trade it before the first page.
  const back = await finishProvinceLogin();
  if (back && typeof back === "object") {
    announce(t("login.welcome", { name: back.who.name || "" }), "ok");
    window.location.hash = back.next || homeOf(back.who);
  } else if (back) {
    window.location.hash = back;
  }
  document.getElementById("lang-toggle").addEventListener("click", () => setLang(lang() === "zh" ? "en" : "zh"));
  document.getElementById("logout").addEventListener("click", (e) => {
    if (e.currentTarget.dataset.action === "logout") signOut();
    else navigate("#/login");
  });
  render({ focus: false });
});
