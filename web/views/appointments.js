// Booking an appointment (docs/api.md "Appointments"): an applicant picks a hall, a window and a
// day, sees each slot's free places and books one (regular, extended hours, lunch, or door to
// door with the address to come to); their own appointments are listed with a way to cancel.
import { api, newKey } from "../api.js";
import { h, clear, field, fieldError, alertBox, announce, busy, statusChip, errorText, today } from "../dom.js";
import { t, tOr, addLabels } from "../i18n.js";
import { pagedList } from "./pager.js";

addLabels(
  {
    "nav.book": "预约办事",
    "book.title": "预约办事",
    "book.intro": "选择大厅、窗口和日期，预约一个时段；到时持身份证到窗口办理。上门服务请填写上门地址。",
    "book.hall": "服务大厅",
    "book.window": "窗口",
    "book.date": "日期",
    "book.show": "查看时段",
    "book.slots": "可预约时段",
    "book.noSlots": "这一天这个窗口没有开放的时段，请换一天（周末和节假日只开放单独安排的时段）。",
    "book.free": "余 {n} 个",
    "book.full": "已约满",
    "book.past": "已过",
    "book.book": "预约",
    "book.bookSlot": "预约 {time}",
    "book.booked": "已预约 {date} {time}（{window}）。",
    "book.mine": "我的预约",
    "book.empty": "还没有预约。",
    "book.cancel": "取消预约",
    "book.cancelled": "预约已取消，名额已释放。",
    "book.address": "上门地址",
    "book.region": "行政区划代码（12 位）",
    "book.detail": "详细地址",
    "book.recipient": "联系人",
    "book.phone": "联系电话",
    "book.confirm": "确认上门预约",
    "book.regionError": "请填写 12 位行政区划代码。",
    "book.required": "请填写此项。",
  },
  {
    "nav.book": "Book a visit",
    "book.title": "Book an appointment",
    "book.intro": "Choose a hall, a window and a day, then book a slot; bring your ID card to the window. For door-to-door service give the address to come to.",
    "book.hall": "Service hall",
    "book.window": "Window",
    "book.date": "Day",
    "book.show": "Show slots",
    "book.slots": "Slots",
    "book.noSlots": "This window opens no slot on that day: try another day (weekends and holidays open only the slots arranged for them).",
    "book.free": "{n} free",
    "book.full": "Full",
    "book.past": "Past",
    "book.book": "Book",
    "book.bookSlot": "Book {time}",
    "book.booked": "Booked: {date} {time} ({window}).",
    "book.mine": "My appointments",
    "book.empty": "No appointment yet.",
    "book.cancel": "Cancel the appointment",
    "book.cancelled": "Cancelled; the place is free again.",
    "book.address": "Address to come to",
    "book.region": "Region code (12 digits)",
    "book.detail": "Address",
    "book.recipient": "Contact person",
    "book.phone": "Contact phone",
    "book.confirm": "Confirm the door-to-door visit",
    "book.regionError": "Enter the 12-digit region code.",
    "book.required": "Fill this in.",
  },
);

const WINDOWS = ["general", "commercial", "investment"];

function addressForm(who, onSubmit) {
  const region = h("input", { name: "region_code", inputmode: "numeric", maxlength: "12", autocomplete: "off" });
  const detail = h("input", { name: "detail", maxlength: "300", autocomplete: "street-address" });
  const recipient = h("input", { name: "recipient", maxlength: "100", autocomplete: "name", value: (who && who.name) || "" });
  const phone = h("input", { name: "phone", type: "tel", maxlength: "20", autocomplete: "tel" });
  const submit = h("button", { type: "submit", class: "primary" }, t("book.confirm"));
  const form = h(
    "form",
    { class: "form address-form", novalidate: true },
    h("fieldset", {}, h("legend", {}, t("book.address")), field(t("book.region"), region, { required: true }), field(t("book.detail"), detail, { required: true }), field(t("book.recipient"), recipient, { required: true }), field(t("book.phone"), phone, { required: true })),
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    let bad = null;
    for (const input of [region, detail, recipient, phone]) {
      fieldError(input, input.value.trim() ? "" : t("book.required"));
      if (!input.value.trim() && !bad) bad = input;
    }
    if (!bad && !/^\d{12}$/.test(region.value.trim())) {
      fieldError(region, t("book.regionError"));
      bad = region;
    }
    if (bad) {
      bad.focus();
      return;
    }
    busy(submit, () => onSubmit({ region_code: region.value.trim(), detail: detail.value.trim(), recipient: recipient.value.trim(), phone: phone.value.trim() }))();
  });
  return form;
}

export async function appointmentsView(ctx) {
  const hallSel = h("select", { name: "hall", id: "book-hall" });
  try {
    const halls = await api("/halls", { auth: false, query: { limit: 100 } });
    (halls.items || []).forEach((hl) => hallSel.append(h("option", { value: hl.code }, hl.name)));
  } catch {
    /* the city's hall is the default when halls cannot be listed */
  }
  if (!hallSel.options.length) hallSel.append(h("option", { value: "CITY" }, "CITY"));
  const hallName = (code) => [...hallSel.options].find((o) => o.value === code)?.textContent || code;
  const windowSel = h("select", { name: "window", id: "book-window" }, WINDOWS.map((w) => h("option", { value: w }, t(`window.${w}`))));
  const day = h("input", { type: "date", name: "date", id: "book-date", value: ctx.query.get("date") || today(), min: today() });
  if (ctx.query.get("window")) windowSel.value = ctx.query.get("window");
  const slots = h("div", { id: "book-slots", "aria-live": "polite" });
  const alert = alertBox();

  const mine = pagedList({
    path: "/appointments",
    id: "my-appointments",
    label: t("book.mine"),
    empty: t("book.empty"),
    item: (a, reload) => {
      const cancel = h("button", { type: "button", class: "danger" }, t("book.cancel"));
      const rowAlert = alertBox();
      cancel.addEventListener(
        "click",
        busy(cancel, async () => {
          try {
            await api(`/appointments/${encodeURIComponent(a.appointment_id)}/cancel`, { method: "POST" });
            announce(t("book.cancelled"), "ok");
            await Promise.all([reload(), loadSlots()]);
          } catch (err) {
            rowAlert.show(errorText(err));
          }
        }),
      );
      return h(
        "li",
        { class: "card row", "data-appointment": a.appointment_id, "data-status": a.status },
        h(
          "div",
          { class: "row-main" },
          h("p", { class: "row-title" }, `${a.date} ${a.start}–${a.end}`),
          h("p", { class: "meta" }, `${tOr(`window.${a.window}`, a.window)} · ${tOr(`slot.${a.kind}`, a.kind)} · ${hallName(a.hall)}${a.address ? ` · ${a.address.detail || ""}` : ""}`),
          rowAlert,
        ),
        h("div", { class: "row-side" }, statusChip(a.status), a.status === "booked" ? cancel : null),
      );
    },
  });

  async function book(sl, address) {
    alert.show("");
    try {
      const body = { hall: hallSel.value, window: windowSel.value, slot: sl.slot, kind: sl.kind };
      if (address) body.address = address;
      const made = await api("/appointments", { method: "POST", key: newKey(), json: body });
      announce(t("book.booked", { date: made.date, time: `${made.start}–${made.end}`, window: tOr(`window.${made.window}`, made.window) }), "ok");
      await Promise.all([loadSlots(), mine.reload()]);
    } catch (err) {
      alert.show(errorText(err));
    }
  }

  async function loadSlots() {
    alert.show("");
    slots.setAttribute("aria-busy", "true");
    clear(slots).append(h("p", { class: "loading" }, t("app.loading")));
    try {
      const list = await api("/appointments/slots", { auth: false, query: { hall: hallSel.value, window: windowSel.value, date: day.value } });
      const now = new Date();
      const open = list.filter((sl) => sl.capacity > 0);
      clear(slots).append(
        open.length
          ? h(
              "ul",
              { class: "list slots" },
              open.map((sl) => {
                const time = `${sl.start}–${sl.end}`;
                const past = new Date(`${sl.slot}:00+08:00`) <= now;
                const full = sl.available <= 0;
                const button = h("button", { type: "button", class: "primary", "data-slot": sl.slot, "aria-label": t("book.bookSlot", { time }), disabled: past || full }, t("book.book"));
                const li = h(
                  "li",
                  { class: "card row slot", "data-slot": sl.slot, "data-kind": sl.kind },
                  h("div", { class: "row-main" }, h("p", { class: "row-title" }, time), h("p", { class: "meta" }, `${tOr(`slot.${sl.kind}`, sl.kind)} · ${past ? t("book.past") : full ? t("book.full") : t("book.free", { n: sl.available })}`)),
                  h("div", { class: "row-side" }, button),
                );
                button.addEventListener(
                  "click",
                  busy(button, async () => {
                    if (sl.kind === "door_to_door") {
                      if (!li.querySelector(".address-form")) {
                        const form = addressForm(ctx.who, (address) => book(sl, address));
                        li.append(form);
                        form.querySelector("input").focus();
                      }
                      return;
                    }
                    await book(sl, null);
                  }),
                );
                return li;
              }),
            )
          : h("p", { class: "empty" }, t("book.noSlots")),
      );
    } catch (err) {
      clear(slots);
      alert.show(errorText(err));
    } finally {
      slots.removeAttribute("aria-busy");
    }
  }

  const form = h(
    "form",
    { class: "filters", id: "book-filters" },
    field(t("book.hall"), hallSel),
    field(t("book.window"), windowSel),
    field(t("book.date"), day),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("book.show"))),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    loadSlots();
  });
  [hallSel, windowSel, day].forEach((c) => c.addEventListener("change", loadSlots));
  await Promise.all([loadSlots(), mine.reload()]);
  return h(
    "section",
    { class: "page book" },
    h("h1", {}, t("book.title")),
    h("p", { class: "lead" }, t("book.intro")),
    form,
    alert,
    h("h2", {}, t("book.slots")),
    slots,
    h("h2", {}, t("book.mine")),
    mine.node,
  );
}
