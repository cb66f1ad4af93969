// Identity assurance in the console (docs/api.md, "Identity assurance"): the province's unified
// login and its return, the assurance badge, the explanation with the next step when an account
// is still self-declared, and acting for an enterprise.
import { api, setSession, clearSession, acting, startActing, stopActing, tokens } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

const NEXT = "ow.province.next";
// The console's own path the gateway sends the browser back to, with ?login_code=... added. A
// hash fragment never reaches the server, so the page to go on to waits in sessionStorage.
const RETURN_TO = "/";

let lastFailure = null;

/** Did the API refuse because the account's identity is not proven yet? */
export function isNotVerified(err) {
  return !!err && err.status === 403 && String((err.problem && err.problem.type) || "").endsWith("identity-not-verified");
}

/** The gateway's entry to the province's login, coming back to this console. */
export function provinceLoginHref() {
  return `/api/v1/auth/province/login?return_to=${encodeURIComponent(RETURN_TO)}`;
}

/** The prominent province login button; `next` is the hash route to go on to afterwards. */
export function provinceButton(next, { id = "province-login" } = {}) {
  const link = h(
    "a",
    { class: "button primary province", id, href: provinceLoginHref() },
    h("span", { class: "province-mark", "aria-hidden": "true" }, "✓"),
    h("span", {}, t("province.button")),
  );
  link.addEventListener("click", () => {
    try {
      sessionStorage.setItem(NEXT, next || "");
    } catch {
      /* storage off: the home page then */
    }
  });
  return link;
}

/** Is this applicant's identity proven? (Staff are not concerned.) */
export function isVerified(who) {
  return !!who && who.assurance === "verified";
}

/** A chip saying the assurance in words: 已实名核验 (province|window) or 未核验. */
export function assuranceChip(who) {
  if (!who || who.kind === "staff") return null;
  // The detail in brackets is its own span: a phone's header shows only the words before it.
  if (isVerified(who)) {
    const by = who.verified_by ? h("span", { class: "chip-detail" }, t("identity.paren", { what: t(`identity.by.${who.verified_by}`) })) : null;
    return h("span", { class: "chip assurance verified", "data-assurance": "verified" }, t("identity.verified"), by);
  }
  return h("span", { class: "chip assurance self-declared", "data-assurance": "self_declared" }, t("identity.notVerified"), h("span", { class: "chip-detail" }, t("identity.paren", { what: t("identity.selfDeclared") })));
}

/** What "self-declared" means and what to do about it: the province's login or a window (heading null: the page's h1 says it). */
export function notVerifiedBox(next, { heading = "h2" } = {}) {
  return h(
    "div",
    { class: "card notice not-verified", id: "not-verified" },
    heading ? h(heading, {}, t("identity.needed.title")) : null,
    h("p", {}, t("identity.needed.why")),
    h("p", { class: "province-row" }, provinceButton(next, { id: "province-verify" })),
    h("p", {}, t("identity.needed.window"), " ", h("a", { href: "#/activate" }, t("identity.needed.activate"))),
  );
}

/** A failure of the province's return kept for the login page to say (never taken from the URL). */
export function takeProvinceFailure() {
  const failure = lastFailure;
  lastFailure = null;
  return failure;
}

/**
 * Back from the province's login: trade the one-time login_code of the address for the token
 * pair, take it out of the address (it works once; a reload must not resend it) and return the
 * hash route to go on to, or null when this load is no such return.
 */
export async function finishProvinceLogin() {
  const params = new URLSearchParams(window.location.search);
  const code = params.get("login_code");
  const failed = params.get("login_error") || params.get("error");
  if (!code && !failed) return null;
  params.delete("login_code");
  params.delete("login_error");
  params.delete("error");
  params.delete("error_description");
  const rest = params.toString();
  window.history.replaceState(null, "", `${window.location.pathname}${rest ? `?${rest}` : ""}${window.location.hash}`);
  let next = "";
  try {
    next = sessionStorage.getItem(NEXT) || "";
    sessionStorage.removeItem(NEXT);
  } catch {
    /* storage off */
  }
  if (!code) {
    lastFailure = { message: t("province.cancelled") };
    return "#/login";
  }
  try {
    // A new login replaces whatever session this tab held (someone else's, or an act-as one).
    clearSession();
    const pair = await api("/auth/province/token", { method: "POST", json: { login_code: code }, auth: false });
    setSession(pair, null);
    const who = await api("/auth/me");
    setSession(null, who);
    return { who, next };
  } catch (err) {
    clearSession();
    lastFailure = { error: err };
    return "#/login";
  }
}

/** Act for an enterprise: a token pair whose subject is it and whose actor is this person. */
export async function actFor(enterprise, self) {
  const pair = await api("/auth/act-as", { method: "POST", json: { id_number: enterprise.id_number } });
  // Read the enterprise's account with the new token before anything is switched over.
  const res = await fetch("/api/v1/auth/me", { headers: { Accept: "application/json", Authorization: `Bearer ${pair.access_token}` } });
  const who = res.ok ? await res.json() : { kind: "enterprise", id_number: enterprise.id_number, name: enterprise.name, roles: [], assurance: "verified" };
  startActing(pair, who, {
    agent: { name: self.name, id_number: self.id_number },
    enterprise: { name: who.name || enterprise.name || enterprise.id_number, id_number: who.id_number || enterprise.id_number },
  });
  return who;
}

/** Back to one's own account: the act-as session ends on the server too. */
export async function actAsMyself() {
  const held = tokens();
  if (acting() && held && held.refresh) {
    try {
      await api("/auth/logout", { method: "POST", json: { refresh_token: held.refresh } });
    } catch {
      /* dropped here anyway */
    }
  }
  stopActing();
}

/** The enterprises a person may act for, as {id_number, name} whatever shape /auth/me gives. */
export function actsFor(who) {
  const list = (who && who.acts_for) || [];
  return list.map((e) => (typeof e === "string" ? { id_number: e, name: "" } : { id_number: e.id_number || e.credit_code || "", name: e.name || "" }));
}
