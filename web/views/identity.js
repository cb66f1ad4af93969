// Identity pages (docs/api.md, "Identity assurance"): one's account (assurance and its next step,
// a verified holder's password, an enterprise's agents 经办人, acting for an enterprise), the
// activation with the code a window gave, and the clerk's window verification.
import { api, setSession, clearSession, acting, newKey } from "../api.js";
import { h, clear, field, fieldError, alertBox, announce, busy, onSubmit, dateTime, errorText } from "../dom.js";
import { t } from "../i18n.js";
import { homeOf } from "../session.js";
import { assuranceChip, isVerified, notVerifiedBox, actFor, actsFor } from "../identity.js";

const MIN_PASSWORD = 8;

/** Two password inputs that must agree; returns the fields and a check giving the password or null. */
function newPasswordFields(prefix) {
  const password = h("input", { name: "password", id: `${prefix}-password`, type: "password", autocomplete: "new-password", minlength: String(MIN_PASSWORD) });
  const again = h("input", { name: "password_again", id: `${prefix}-password-again`, type: "password", autocomplete: "new-password" });
  const fields = [field(t("password.new"), password, { required: true, hint: t("password.rule") }), field(t("password.again"), again, { required: true })];
  const check = () => {
    fieldError(password, "");
    fieldError(again, "");
    if (password.value.length < MIN_PASSWORD) {
      fieldError(password, t("password.tooShort"));
      password.focus();
      return null;
    }
    if (password.value !== again.value) {
      fieldError(again, t("password.mismatch"));
      again.focus();
      return null;
    }
    return password.value;
  };
  return { fields, check, reset: () => ((password.value = ""), (again.value = "")) };
}

// --- one's account --------------------------------------------------------------------------
function assuranceCard(who) {
  const verified = isVerified(who);
  return h(
    "div",
    { class: "card assurance-card", id: "assurance" },
    h("h2", {}, t("account.identity")),
    h(
      "dl",
      { class: "facts" },
      h("div", {}, h("dt", {}, t("account.name")), h("dd", {}, who.name || "—")),
      h("div", {}, h("dt", {}, who.kind === "enterprise" ? t("account.creditCode") : t("account.idNumber")), h("dd", { class: "mono" }, who.id_number || "—")),
      h("div", {}, h("dt", {}, t("account.assurance")), h("dd", {}, assuranceChip(who))),
    ),
    verified
      ? h("p", { class: "hint" }, who.verified_by === "window" ? t("identity.explain.window") : t("identity.explain.province"))
      : h("p", { class: "hint" }, t("identity.explain.self")),
  );
}

function passwordCard() {
  const { fields, check, reset } = newPasswordFields("set");
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary" }, t("password.save"));
  const form = h("form", { class: "form", id: "password-form", novalidate: true }, fields, alert, h("div", { class: "actions" }, submit));
  onSubmit(form, submit, alert, async () => {
    const password = check();
    if (!password) return;
    await api("/auth/password", { method: "PUT", json: { password } });
    reset();
    alert.show(t("password.saved"), "ok");
    announce(t("password.saved"), "ok");
  });
  return h("div", { class: "card narrow" }, h("h2", {}, t("password.title")), h("p", { class: "hint" }, t("password.intro")), form);
}

function agentsCard() {
  const list = h("div", { id: "agents", "aria-live": "polite" });
  const alert = alertBox();

  function row(agent) {
    const idn = agent.id_number;
    const revoke = h("button", { type: "button", class: "danger revoke" }, t("agents.revoke"));
    const side = h("div", { class: "row-side" }, revoke);
    revoke.addEventListener("click", () => {
      // Revoking ends the agent's sessions for the enterprise: ask once, in the row itself.
      const yes = h("button", { type: "button", class: "danger confirm-revoke" }, t("agents.revokeConfirm"));
      const no = h("button", { type: "button", class: "cancel-revoke" }, t("agents.cancel"));
      clear(side).append(h("p", { class: "confirm-text", role: "alert" }, t("agents.revokeQuestion", { name: agent.name || idn })), h("div", { class: "actions" }, yes, no));
      yes.focus();
      no.addEventListener("click", () => {
        clear(side).append(revoke);
        revoke.focus();
      });
      yes.addEventListener(
        "click",
        busy(yes, async () => {
          try {
            await api(`/auth/agents/${encodeURIComponent(idn)}`, { method: "DELETE" });
            announce(t("agents.revoked", { name: agent.name || idn }), "ok");
            await load();
          } catch (err) {
            alert.show(errorText(err));
          }
        }),
      );
    });
    return h(
      "li",
      { class: "card row agent", "data-id-number": idn },
      h(
        "div",
        { class: "row-main" },
        h("p", { class: "row-title" }, agent.name || idn),
        h("p", { class: "meta mono" }, idn),
        agent.named_at ? h("p", { class: "meta" }, t("agents.since", { time: dateTime(agent.named_at) })) : null,
      ),
      side,
    );
  }

  async function load() {
    clear(list).append(h("p", { class: "loading" }, t("app.loading")));
    try {
      const data = await api("/auth/agents");
      const items = Array.isArray(data) ? data : (data && data.items) || [];
      clear(list).append(items.length ? h("ul", { class: "list" }, items.map(row)) : h("p", { class: "empty" }, t("agents.empty")));
    } catch (err) {
      clear(list).append(h("p", { class: "alert", role: "alert" }, errorText(err)));
    }
  }

  const idNumber = h("input", { name: "id_number", id: "agent-id-number", autocomplete: "off", autocapitalize: "characters", spellcheck: "false", maxlength: "18" });
  const add = h("button", { type: "submit", class: "primary" }, t("agents.add"));
  const form = h("form", { class: "form narrow", id: "agent-form", novalidate: true }, field(t("agents.idNumber"), idNumber, { required: true, hint: t("agents.idHint") }), h("div", { class: "actions" }, add), alert);
  onSubmit(form, add, alert, async () => {
    fieldError(idNumber, "");
    const value = idNumber.value.trim().toUpperCase();
    if (!value) {
      fieldError(idNumber, t("agents.idRequired"));
      idNumber.focus();
      return;
    }
    await api("/auth/agents", { method: "POST", json: { id_number: value }, key: newKey() });
    idNumber.value = "";
    announce(t("agents.added", { id: value }), "ok");
    await load();
  });
  load();
  return h("div", { class: "card", id: "agents-card" }, h("h2", {}, t("agents.title")), h("p", { class: "hint" }, t("agents.intro")), form, list);
}

function actForCard(who, ctx) {
  const alert = alertBox();
  const enterprises = actsFor(who);
  return h(
    "div",
    { class: "card", id: "act-for" },
    h("h2", {}, t("actAs.title")),
    h("p", { class: "hint" }, t("actAs.intro")),
    alert,
    h(
      "ul",
      { class: "list" },
      enterprises.map((ent) => {
        const go = h("button", { type: "button", class: "primary act-as" }, t("actAs.button"));
        go.addEventListener(
          "click",
          busy(go, async () => {
            alert.show("");
            try {
              const enterprise = await actFor(ent, who);
              announce(t("actAs.started", { agent: who.name, enterprise: enterprise.name || ent.id_number }), "ok");
              ctx.navigate("#/mine");
            } catch (err) {
              alert.show(errorText(err));
            }
          }),
        );
        return h(
          "li",
          { class: "card row", "data-id-number": ent.id_number },
          h("div", { class: "row-main" }, h("p", { class: "row-title" }, ent.name || ent.id_number), h("p", { class: "meta mono" }, ent.id_number)),
          h("div", { class: "row-side" }, go),
        );
      }),
    ),
  );
}

export async function accountView(ctx) {
  // Read the account afresh: its assurance may have changed since the login (a window, a province proof).
  const who = await api("/auth/me");
  setSession(null, who);
  const actingNow = acting();
  const verified = isVerified(who);
  const parts = [h("h1", {}, t("account.title")), assuranceCard(who)];
  if (!verified) parts.push(notVerifiedBox("#/account"));
  if (verified && !actingNow) parts.push(passwordCard());
  if (who.kind === "enterprise" && verified) parts.push(agentsCard());
  if (who.kind === "person" && verified && actsFor(who).length && !actingNow) parts.push(actForCard(who, ctx));
  return h("section", { class: "page account" }, parts);
}

// --- activation with the window's code --------------------------------------------------------
export async function activateView(ctx) {
  const idNumber = h("input", { name: "id_number", id: "activate-id-number", autocomplete: "username", autocapitalize: "characters", spellcheck: "false", maxlength: "18" });
  const code = h("input", { name: "activation_code", id: "activate-code", autocomplete: "one-time-code", autocapitalize: "characters", spellcheck: "false" });
  const { fields, check } = newPasswordFields("activate");
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary" }, t("activate.submit"));
  const form = h(
    "form",
    { class: "card form narrow", id: "activate-form", novalidate: true },
    field(t("activate.idNumber"), idNumber, { required: true }),
    field(t("activate.code"), code, { required: true, hint: t("activate.codeHint") }),
    fields,
    alert,
    h("div", { class: "actions" }, submit),
  );
  onSubmit(form, submit, alert, async () => {
    fieldError(idNumber, "");
    fieldError(code, "");
    if (!idNumber.value.trim()) {
      fieldError(idNumber, t("activate.idRequired"));
      idNumber.focus();
      return;
    }
    if (!code.value.trim()) {
      fieldError(code, t("activate.codeRequired"));
      code.focus();
      return;
    }
    const password = check();
    if (!password) return;
    try {
      clearSession();
      const pair = await api("/auth/activate", {
        method: "POST",
        auth: false,
        json: { id_number: idNumber.value.trim().toUpperCase(), activation_code: code.value.trim(), password },
      });
      setSession(pair, null);
      const who = await api("/auth/me");
      setSession(null, who);
      announce(t("activate.done", { name: who.name || "" }), "ok");
      ctx.navigate(homeOf(who));
    } catch (err) {
      clearSession(); // no half-made session behind a failed activation
      throw err;
    }
  });
  return h("section", { class: "page activate" }, h("h1", {}, t("activate.title")), h("p", { class: "lead" }, t("activate.intro")), form);
}

// --- the clerk's window verification ----------------------------------------------------------
export async function deskVerifyView() {
  const result = h("div", { id: "verification-result", "aria-live": "polite" });
  const idNumber = h("input", { name: "id_number", id: "verify-id-number", autocomplete: "off", autocapitalize: "characters", spellcheck: "false", maxlength: "18" });
  const name = h("input", { name: "name", id: "verify-name", autocomplete: "off" });
  const checked = h("input", { type: "checkbox", name: "id_card_checked", id: "verify-checked" });
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary" }, t("verify.submit"));
  const form = h(
    "form",
    { class: "card form narrow", id: "verify-form", novalidate: true },
    field(t("verify.idNumber"), idNumber, { required: true }),
    field(t("verify.name"), name, { required: true }),
    h("div", { class: "choice attest" }, checked, h("label", { for: "verify-checked" }, t("verify.checked"))),
    h("p", { class: "field-error", id: "verify-checked-error", hidden: true }),
    alert,
    h("div", { class: "actions" }, submit),
  );
  checked.setAttribute("aria-describedby", "verify-checked-error");
  onSubmit(form, submit, alert, async () => {
    fieldError(idNumber, "");
    fieldError(name, "");
    fieldError(checked, "");
    const idn = idNumber.value.trim().toUpperCase();
    if (!idn) {
      fieldError(idNumber, t("verify.idRequired"));
      idNumber.focus();
      return;
    }
    if (!name.value.trim()) {
      fieldError(name, t("verify.nameRequired"));
      name.focus();
      return;
    }
    if (!checked.checked) {
      // The clerk's word that the ID card was checked is what the verification rests on.
      fieldError(checked, t("verify.checkFirst"));
      checked.focus();
      return;
    }
    const made = await api("/auth/verifications", { method: "POST", json: { id_number: idn, name: name.value.trim() }, key: newKey() });
    const again = h("button", { type: "button", id: "verify-next" }, t("verify.next"));
    again.addEventListener("click", () => {
      clear(result);
      idNumber.value = "";
      name.value = "";
      checked.checked = false;
      form.hidden = false;
      idNumber.focus();
    });
    form.hidden = true;
    clear(result).append(
      h(
        "div",
        { class: "card handover", id: "activation" },
        h("h2", { id: "activation-title", tabindex: "-1" }, t("verify.done", { name: name.value.trim() })),
        h("p", {}, t("verify.handOver")),
        h("p", { class: "activation-code", id: "activation-code", "aria-labelledby": "activation-title" }, made.activation_code),
        h("p", { class: "activation-expiry", id: "activation-expiry" }, t("verify.expires", { time: dateTime(made.expires_at) })),
        h("p", { class: "hint" }, t("verify.howTo")),
        h("p", { class: "meta mono" }, idn),
        h("div", { class: "actions" }, again),
      ),
    );
    result.querySelector("#activation-title").focus();
    announce(t("verify.announce"), "ok");
  });
  return h("section", { class: "page verify" }, h("h1", {}, t("verify.title")), h("p", { class: "lead" }, t("verify.intro")), form, result);
}

