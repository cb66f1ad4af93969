// The hall kiosk (docs/api.md, "Kiosks"): a device at a window desk. An administrator enters the
// kiosk's device key (shown once at #/admin/kiosks) and its window on the device once; both stay
// in this device's localStorage. Then five big buttons, faces and words in Chinese and English
// at once (whoever walks up reads one of them), post a vote with the key in X-Device-Key; the
// person is thanked and the buttons come back after a few seconds, longer than the server's
// minimum interval between two votes of one kiosk.
import { ApiError, newKey } from "../api.js";
import { h, clear, field, fieldError, alertBox, busy, errorText } from "../dom.js";
import { t, addLabels } from "../i18n.js";

const STORE = "ow.kiosk";
const RESET_MS = 6000;
// Set when the server refused the key: the set-up form that follows says why.
let refusedKey = false;

// Faces and both languages are on the buttons whatever the console's language is.
const SCORES = [
  { n: 5, face: "😄", zh: "非常满意", en: "Very satisfied" },
  { n: 4, face: "😊", zh: "满意", en: "Satisfied" },
  { n: 3, face: "😐", zh: "基本满意", en: "Fairly satisfied" },
  { n: 2, face: "😞", zh: "不满意", en: "Dissatisfied" },
  { n: 1, face: "😠", zh: "非常不满意", en: "Very dissatisfied" },
];

addLabels(
  {
    "kiosk.title": "请为本窗口的服务评价",
    "kiosk.titleEn": "Please rate this window's service",
    "kiosk.window": "窗口 {window}",
    "kiosk.thanks": "感谢您的评价！",
    "kiosk.thanksEn": "Thank you for your rating!",
    "kiosk.resetting": "几秒后可以再次评价。",
    "kiosk.wait": "请稍候再评价。",
    "kiosk.setupTitle": "评价器设置",
    "kiosk.setupIntro": "由管理员在本设备上填写一次：评价器登记时显示的设备密钥和它所在的窗口编号。密钥只保存在本设备上。",
    "kiosk.key": "设备密钥",
    "kiosk.windowCode": "窗口编号",
    "kiosk.windowHint": "与登记评价器时填写的窗口编号一致。",
    "kiosk.save": "保存并开始",
    "kiosk.keyError": "请填写设备密钥。",
    "kiosk.windowError": "请填写窗口编号。",
    "kiosk.saved": "评价器已设置。",
    "kiosk.refused": "本设备的密钥无效或已吊销，请管理员重新设置。",
    "kiosk.settings": "设备设置（管理员）",
    "kiosk.forget": "清除本设备的密钥",
    "kiosk.score": "{n} 分",
  },
  {
    "kiosk.title": "请为本窗口的服务评价",
    "kiosk.titleEn": "Please rate this window's service",
    "kiosk.window": "Window {window}",
    "kiosk.thanks": "感谢您的评价！",
    "kiosk.thanksEn": "Thank you for your rating!",
    "kiosk.resetting": "You can rate again in a few seconds.",
    "kiosk.wait": "Please wait a moment before rating again.",
    "kiosk.setupTitle": "Kiosk set-up",
    "kiosk.setupIntro": "Filled in once on this device by an administrator: the device key shown when the kiosk was registered and the window it stands at. The key stays on this device only.",
    "kiosk.key": "Device key",
    "kiosk.windowCode": "Window",
    "kiosk.windowHint": "The window given when the kiosk was registered.",
    "kiosk.save": "Save and start",
    "kiosk.keyError": "Enter the device key.",
    "kiosk.windowError": "Enter the window.",
    "kiosk.saved": "The kiosk is set up.",
    "kiosk.refused": "This device's key is not valid or was revoked: an administrator must set it up again.",
    "kiosk.settings": "Device settings (administrator)",
    "kiosk.forget": "Forget this device's key",
    "kiosk.score": "{n} points",
  },
);

function stored() {
  try {
    const held = JSON.parse(window.localStorage.getItem(STORE) || "null");
    return held && held.key && held.window ? held : null;
  } catch {
    return null;
  }
}

/** POST /kiosk/ratings with the device key (not a person's token: a kiosk is nobody's session). */
async function vote(device, score, idem) {
  const res = await fetch("/api/v1/kiosk/ratings", {
    method: "POST",
    headers: {
      Accept: "application/json, application/problem+json",
      "Content-Type": "application/json",
      "X-Device-Key": device.key,
      "Idempotency-Key": idem,
    },
    body: JSON.stringify({ window: device.window, score }),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

function setupForm(rerender, refused) {
  const key = h("input", { name: "device_key", type: "password", autocomplete: "off", spellcheck: "false", maxlength: "200" });
  const win = h("input", { name: "window", autocomplete: "off", maxlength: "40", value: (stored() || {}).window || "" });
  const submit = h("button", { type: "submit", class: "primary" }, t("kiosk.save"));
  const alert = alertBox();
  const form = h(
    "form",
    { class: "form card", id: "kiosk-setup", novalidate: true },
    field(t("kiosk.key"), key, { required: true }),
    field(t("kiosk.windowCode"), win, { required: true, hint: t("kiosk.windowHint") }),
    alert,
    h("div", { class: "actions" }, submit),
  );
  if (refused) alert.show(t("kiosk.refused"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    fieldError(key, key.value.trim() ? "" : t("kiosk.keyError"));
    fieldError(win, win.value.trim() ? "" : t("kiosk.windowError"));
    if (!key.value.trim()) return key.focus();
    if (!win.value.trim()) return win.focus();
    window.localStorage.setItem(STORE, JSON.stringify({ key: key.value.trim(), window: win.value.trim() }));
    rerender();
  });
  return h("div", { class: "page kiosk kiosk-setup" }, h("h1", {}, t("kiosk.setupTitle")), h("p", { class: "lead" }, t("kiosk.setupIntro")), form);
}

export async function kioskView({ rerender }) {
  const device = stored();
  if (!device) {
    const refused = refusedKey;
    refusedKey = false;
    return setupForm(rerender, refused);
  }

  const buttons = h("div", { class: "kiosk-scores", id: "kiosk-scores", role: "group", "aria-labelledby": "kiosk-heading" });
  const thanks = h("div", { class: "kiosk-thanks", id: "kiosk-thanks", role: "status", "aria-live": "polite" });
  const alert = alertBox();
  let timer = 0;

  const reset = () => {
    window.clearTimeout(timer);
    clear(thanks);
    alert.show("");
    buttons.hidden = false;
    buttons.querySelectorAll("button").forEach((b) => {
      b.disabled = false;
    });
    const first = buttons.querySelector("button");
    if (first && document.body.contains(first)) first.focus();
  };

  for (const s of SCORES) {
    const button = h(
      "button",
      { type: "button", class: `kiosk-score score-${s.n}`, "data-score": String(s.n), lang: "zh-CN" },
      h("span", { class: "face", "aria-hidden": "true" }, s.face),
      h("span", { class: "words" }, h("span", { class: "zh" }, s.zh), h("span", { class: "en", lang: "en" }, s.en)),
      h("span", { class: "points" }, t("kiosk.score", { n: s.n })),
    );
    button.addEventListener(
      "click",
      busy(button, async () => {
        alert.show("");
        buttons.querySelectorAll("button").forEach((b) => {
          b.disabled = true;
        });
        try {
          await vote(device, s.n, newKey());
          buttons.hidden = true;
          clear(thanks).append(
            h("p", { class: "kiosk-thanks-zh" }, h("span", { "aria-hidden": "true" }, `${s.face} `), t("kiosk.thanks")),
            h("p", { class: "kiosk-thanks-en", lang: "en" }, t("kiosk.thanksEn")),
            h("p", { class: "meta" }, t("kiosk.resetting")),
          );
          thanks.dataset.score = String(s.n);
          timer = window.setTimeout(reset, RESET_MS);
        } catch (err) {
          if (err.status === 401 || err.status === 403) {
            // Revoked, or set up with another window: the device needs its administrator again.
            window.localStorage.removeItem(STORE);
            refusedKey = true;
            window.setTimeout(rerender, 0);
            return;
          }
          alert.show(err.status === 429 ? t("kiosk.wait") : errorText(err));
          timer = window.setTimeout(reset, RESET_MS);
        }
      }),
    );
    buttons.append(button);
  }

  const forget = h("button", { type: "button", id: "kiosk-forget" }, t("kiosk.forget"));
  forget.addEventListener("click", () => {
    window.localStorage.removeItem(STORE);
    rerender();
  });
  return h(
    "div",
    { class: "page kiosk", "data-window": device.window },
    h("h1", { id: "kiosk-heading" }, h("span", { class: "zh", lang: "zh-CN" }, t("kiosk.title")), h("span", { class: "en", lang: "en" }, t("kiosk.titleEn"))),
    h("p", { class: "kiosk-window" }, t("kiosk.window", { window: device.window })),
    buttons,
    thanks,
    alert,
    h("details", { class: "kiosk-admin" }, h("summary", {}, t("kiosk.settings")), forget),
  );
}
