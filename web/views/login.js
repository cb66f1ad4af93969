// Unified login: an ID number / credit code for applicants, a username for staff; and registration.
import { api, setSession, clearSession } from "../api.js";
import { h, field, fieldError, alertBox, announce, busy, errorText } from "../dom.js";
import { requiredMessage } from "../problems.js";
import { t } from "../i18n.js";
import { homeOf } from "../session.js";
import { provinceButton, takeProvinceFailure } from "../identity.js";

async function signIn(account, password) {
  const pair = await api("/auth/login", { method: "POST", json: { account, password }, auth: false });
  setSession(pair, null);
  try {
    const who = await api("/auth/me");
    setSession(null, who);
    return who;
  } catch (err) {
    clearSession();
    throw err;
  }
}

export async function loginView(ctx) {
  const next = ctx.query.get("next");
  const done = (who) => {
    announce(t("login.welcome", { name: who.name || who.username || "" }), "ok");
    ctx.navigate(next && next !== "/login" ? `#${next}` : homeOf(who));
  };

  const account = h("input", { name: "account", autocomplete: "username", autocapitalize: "off", spellcheck: "false" });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password" });
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary" }, t("login.submit"));
  const form = h(
    "form",
    { class: "card form narrow", id: "login-form", novalidate: true },
    field(t("login.account"), account, { required: true }),
    field(t("login.password"), password, { required: true }),
    alert,
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener(
    "submit",
    busy(submit, async (e) => {
      e.preventDefault();
      alert.show("");
      if (!account.value.trim() || !password.value) {
        alert.show(t("login.failed", { message: t("login.account") }));
        return;
      }
      try {
        done(await signIn(account.value.trim(), password.value));
      } catch (err) {
        alert.show(err.status === 401 ? t("login.wrong") : t("login.failed", { message: errorText(err) }));
        password.select();
      }
    }),
  );
  // The submit listener is attached with busy(), which needs the event: keep default prevented.
  form.addEventListener("submit", (e) => e.preventDefault());

  // Registration for a citizen or an enterprise.
  const regId = h("input", { name: "id_number", autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
  const regName = h("input", { name: "name", autocomplete: "name" });
  const regPhone = h("input", { name: "phone", type: "tel", autocomplete: "tel", inputmode: "tel" });
  const regPassword = h("input", { name: "password", type: "password", autocomplete: "new-password", minlength: "8" });
  const regAlert = alertBox();
  const regSubmit = h("button", { type: "submit" }, t("register.submit"));
  const regForm = h(
    "form",
    { class: "form", id: "register-form", novalidate: true },
    field(t("register.idNumber"), regId, { required: true }),
    field(t("register.name"), regName, { required: true }),
    field(t("register.phone"), regPhone, { required: true }),
    field(t("register.password"), regPassword, { required: true }),
    regAlert,
    h("div", { class: "actions" }, regSubmit),
  );
  regForm.addEventListener("submit", (e) => e.preventDefault());
  regForm.addEventListener(
    "submit",
    busy(regSubmit, async () => {
      regAlert.show("");
      // What the server would refuse, said before sending and next to the field it is about.
      const checks = [
        [regId, !regId.value.trim() ? requiredMessage(t("register.idNumber")) : ""],
        [regName, !regName.value.trim() ? requiredMessage(t("register.name")) : ""],
        [regPhone, !regPhone.value.trim() ? requiredMessage(t("register.phone")) : ""],
        [regPassword, regPassword.value.length < 8 ? t("check.passwordShort", { n: 8, have: regPassword.value.length }) : ""],
      ];
      checks.forEach(([control, message]) => fieldError(control, message));
      const wrong = checks.find(([, message]) => message);
      if (wrong) {
        wrong[0].focus();
        return;
      }
      try {
        await api("/auth/register", {
          method: "POST",
          auth: false,
          json: {
            id_number: regId.value.trim().toUpperCase(),
            name: regName.value.trim(),
            phone: regPhone.value.trim(),
            password: regPassword.value,
          },
        });
        const who = await signIn(regId.value.trim().toUpperCase(), regPassword.value);
        announce(t("register.done"), "ok");
        done(who);
      } catch (err) {
        regAlert.show(errorText(err));
      }
    }),
  );

  // The province's unified identity first: it proves the number, a password does not.
  const failure = takeProvinceFailure();
  const provinceAlert = alertBox();
  if (failure) provinceAlert.show(failure.error ? t("province.failed", { message: errorText(failure.error) }) : failure.message);
  const province = h(
    "div",
    { class: "card narrow province-card", id: "province-card" },
    h("h2", {}, t("province.title")),
    h("p", {}, t("province.intro")),
    provinceAlert,
    h("p", { class: "province-row" }, provinceButton(next && next !== "/login" ? `#${next}` : "")),
  );

  return h(
    "section",
    { class: "page login" },
    h("h1", {}, t("login.title")),
    h("p", { class: "lead" }, t("login.intro")),
    province,
    h("h2", { class: "or-password" }, t("login.passwordTitle")),
    form,
    h("p", { class: "narrow activate-link" }, t("login.windowCode"), " ", h("a", { href: "#/activate" }, t("login.activate"))),
    h("details", { class: "card narrow register" }, h("summary", {}, t("login.register")), h("h2", { class: "visually-hidden" }, t("register.title")), regForm),
  );
}
