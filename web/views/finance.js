// Finance's courier bill (docs/api.md "Delivery"): per month and carrier, the shipments and
// what finance owes (applicants pay nothing for mail), with the CSV export for settlement.
import { api } from "../api.js";
import { h, clear, field, alertBox, announce, busy, money, dateTime, errorText, today } from "../dom.js";
import { t, addLabels } from "../i18n.js";

addLabels(
  {
    "nav.bill": "寄递账单",
    "bill.title": "寄递账单",
    "bill.intro": "按月查看各快递合作方的寄递件数和费用；费用全部由财政支付，申请人免费。导出 CSV 用于与快递公司结算。",
    "bill.month": "月份",
    "bill.show": "查看",
    "bill.period": "账期 {from} 至 {to}（{tz}）",
    "bill.carrier": "快递合作方",
    "bill.shipments": "件数",
    "bill.outbound": "寄出",
    "bill.inbound": "寄回",
    "bill.fee": "费用",
    "bill.zones": "按区域",
    "bill.zone": "{zone}：{n} 件，{fee}",
    "bill.total": "合计",
    "bill.payer": "付款方：财政；申请人支付 {fee}",
    "bill.empty": "这个月没有寄递，没有要结算的费用。",
    "bill.export": "导出 CSV（全部）",
    "bill.exportCol": "导出",
    "bill.exportCarrier": "导出 {carrier} 的 CSV",
    "bill.exported": "已下载 {file}。",
    "bill.download": "如果没有自动下载，点此保存 {file}",
  },
  {
    "nav.bill": "Courier bill",
    "bill.title": "Courier bill",
    "bill.intro": "Shipments and fees per courier partner for a month; finance pays it all, applicants nothing. Export the CSV to settle with the carriers.",
    "bill.month": "Month",
    "bill.show": "Show",
    "bill.period": "Period {from} to {to} ({tz})",
    "bill.carrier": "Courier partner",
    "bill.shipments": "Shipments",
    "bill.outbound": "Outbound",
    "bill.inbound": "Inbound",
    "bill.fee": "Fee",
    "bill.zones": "By zone",
    "bill.zone": "{zone}: {n} shipments, {fee}",
    "bill.total": "Total",
    "bill.payer": "Paid by finance; applicants pay {fee}",
    "bill.empty": "No shipment this month: nothing to settle.",
    "bill.export": "Export CSV (all)",
    "bill.exportCol": "Export",
    "bill.exportCarrier": "Export {carrier} as CSV",
    "bill.exported": "Downloaded {file}.",
    "bill.download": "If nothing was downloaded, save {file} here",
  },
);

const yuan = (fen) => `¥${((fen || 0) / 100).toFixed(2)}`;

export async function billView(ctx) {
  const month = h("input", { type: "month", name: "month", id: "bill-month", value: ctx.query.get("month") || today().slice(0, 7), max: today().slice(0, 7) });
  const body = h("div", { id: "bill", "aria-live": "polite" });
  const alert = alertBox();
  const links = h("p", { class: "meta", id: "bill-downloads" });

  async function exportCsv(carrier) {
    alert.show("");
    const csv = await api("/delivery/bill/export", { query: { month: month.value, carrier } });
    const file = `delivery-bill-${month.value}${carrier ? `-${carrier}` : ""}.csv`;
    const url = URL.createObjectURL(new Blob([typeof csv === "string" ? csv : await csv.text()], { type: "text/csv;charset=utf-8" }));
    const link = h("a", { href: url, download: file, class: "csv-link" }, t("bill.download", { file }));
    clear(links).append(link);
    link.click();
    announce(t("bill.exported", { file }), "ok");
  }

  function exportButton(carrier, label) {
    const button = h("button", { type: "button", class: carrier ? "" : "primary", "data-export": carrier || "all" }, label);
    button.addEventListener(
      "click",
      busy(button, async () => {
        try {
          await exportCsv(carrier);
        } catch (err) {
          alert.show(errorText(err));
        }
      }),
    );
    return button;
  }

  async function load() {
    alert.show("");
    clear(links);
    body.setAttribute("aria-busy", "true");
    clear(body).append(h("p", { class: "loading" }, t("app.loading")));
    try {
      const bill = await api("/delivery/bill", { query: { month: month.value } });
      const rows = bill.items || [];
      clear(body).append(
        h("p", { class: "meta" }, t("bill.period", { from: dateTime(bill.period_start), to: dateTime(bill.period_end), tz: bill.timezone }), " · ", t("bill.payer", { fee: money(bill.applicant_charge_fen) })),
        // Every partner is listed, with zeros in a quiet month; the empty state says it plainly.
        bill.total_shipments ? null : h("p", { class: "empty" }, t("bill.empty")),
        rows.length
          ? h(
              "div",
              { class: "table-wrap" },
              h(
                "table",
                { id: "bill-table" },
                h("caption", {}, `${t("bill.title")} ${bill.month}`),
                h("thead", {}, h("tr", {}, [t("bill.carrier"), t("bill.shipments"), t("bill.outbound"), t("bill.inbound"), t("bill.fee"), t("bill.zones"), h("span", { class: "visually-hidden" }, t("bill.exportCol"))].map((c) => h("th", { scope: "col" }, c)))),
                h(
                  "tbody",
                  {},
                  rows.map((r) =>
                    h(
                      "tr",
                      { "data-carrier": r.carrier },
                      h("th", { scope: "row" }, r.carrier_name, h("span", { class: "meta" }, ` (${r.carrier})`)),
                      h("td", { class: "num shipments" }, r.shipments),
                      h("td", { class: "num" }, r.outbound),
                      h("td", { class: "num" }, r.inbound),
                      h("td", { class: "num fee" }, yuan(r.total_fee_fen)),
                      h("td", {}, (r.by_zone || []).map((z) => h("div", {}, t("bill.zone", { zone: z.zone, n: z.shipments, fee: yuan(z.fee_fen) })))),
                      h("td", {}, exportButton(r.carrier, t("bill.exportCarrier", { carrier: r.carrier_name }))),
                    ),
                  ),
                ),
                h("tfoot", {}, h("tr", { id: "bill-total" }, h("th", { scope: "row" }, t("bill.total")), h("td", { class: "num" }, bill.total_shipments), h("td", {}), h("td", {}), h("td", { class: "num" }, yuan(bill.total_fee_fen)), h("td", {}), h("td", {}))),
              ),
            )
          : null,
        h("div", { class: "toolbar" }, exportButton(null, t("bill.export"))),
      );
    } catch (err) {
      clear(body);
      alert.show(errorText(err));
    } finally {
      body.removeAttribute("aria-busy");
    }
  }

  const form = h("form", { class: "filters" }, field(t("bill.month"), month), h("div", { class: "actions" }, h("button", { type: "submit" }, t("bill.show"))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
  month.addEventListener("change", load);
  await load();
  return h("section", { class: "page bill" }, h("h1", {}, t("bill.title")), h("p", { class: "lead" }, t("bill.intro")), form, alert, body, links);
}
