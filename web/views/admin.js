// The administrator's pages: catalog items (create, edit = a new version, cancel, history, import),
// the working-day calendar of a year, staff accounts, kiosks, halls, departments and courier partners. Every
// list pages with the cursor; every failure shows the problem's detail and request id.
import { api, newKey } from "../api.js";
import { h, clear, field, fieldError, alertBox, announce, busy, onSubmit, dateTime, money, errorText } from "../dom.js";
import { t, tOr, addLabels } from "../i18n.js";
import { loadDepartments } from "../problems.js";

addLabels(
  {
    "nav.adminItems": "事项管理",
    "nav.adminCalendar": "工作日历",
    "nav.adminStaff": "工作人员",
    "nav.adminKiosks": "评价器",
    "nav.adminHalls": "大厅",
    "nav.adminPartners": "快递合作方",
    "admin.loading": "正在加载…",
    "admin.more": "加载更多",
    "admin.empty": "暂无记录。",
    "admin.actions": "操作",
    "admin.yes": "是",
    "admin.no": "否",
    "admin.confirm": "确认{label}",
    "admin.keepIt": "不，保留",
    "admin.saved": "已保存。",
    "admin.hintList": "多个值用逗号分隔。",
    "items.title": "事项管理",
    "items.intro": "新建、调整（每次调整生成新版本，已受理的办件保持原版本）、取消事项，查看版本历史，批量导入。",
    "items.new": "新建事项",
    "items.import": "批量导入",
    "items.status": "状态",
    "items.status.active": "在用",
    "items.status.cancelled": "已取消",
    "items.status.all": "全部",
    "items.search": "搜索名称或编码",
    "items.filter": "筛选",
    "items.code": "编码",
    "items.name": "名称",
    "items.department": "部门",
    "items.version": "版本",
    "items.edit": "调整",
    "items.cancel": "取消事项",
    "items.cancelled": "事项 {code} 已取消，不再受理新申请。",
    "items.newTitle": "新建事项",
    "items.editTitle": "调整事项 {code}",
    "items.kind": "事项类型",
    "items.window": "窗口",
    "items.departments": "并联部门（两个及以上时填写）",
    "items.lead": "牵头部门（并联事项）",
    "items.legalDays": "法定办结时限（工作日）",
    "items.committedDays": "承诺办结时限（工作日）",
    "items.trips": "跑动次数",
    "items.online": "可全程网办",
    "items.secret": "涉密事项",
    "items.fee": "收费（分）",
    "items.stage": "投资项目阶段",
    "items.noStage": "不属于投资项目",
    "items.halls": "办理大厅（编码；留空表示所有大厅）",
    "items.materials": "材料（每行一项：编码|名称|critical 或 optional）",
    "items.materialsHint": "例：APPLY|申请表|critical。optional 表示可容缺后补。",
    "items.materialsBad": "第 {n} 行格式不对，应为 编码|名称|critical 或 optional。",
    "items.save": "保存",
    "items.create": "创建",
    "items.created": "事项 {code} 已创建（第 {version} 版）。",
    "items.updated": "事项 {code} 已保存为第 {version} 版。",
    "items.history": "版本历史",
    "items.historyEmpty": "暂无历史。",
    "items.change": "变更",
    "items.change.created": "创建",
    "items.change.adjusted": "调整",
    "items.change.cancelled": "取消",
    "items.changedBy": "操作人",
    "items.changedAt": "时间",
    "items.changes": "变更内容",
    "items.isCancelled": "该事项已取消：不再受理新申请，也不能再调整，历史保留。",
    "import.title": "批量导入事项",
    "import.intro": "上传 CSV 或 YAML 文件。文件整体校验：只要有一行有问题，什么都不导入，并逐行列出问题。再次导入同一文件不会改变任何事项。",
    "import.file": "事项文件（CSV 或 YAML）",
    "import.fileHint": "CSV 列：code,name,kind,department,departments,lead_department,window,legal_days,committed_days,trips,online,fee_fen,stage,materials,secret",
    "import.submit": "导入",
    "import.noFile": "请先选择文件。",
    "import.result": "共 {items} 项：新建 {created}，调整 {updated}，未变 {unchanged}，跳过 {skipped}。",
    "import.created": "新建",
    "import.updated": "调整",
    "import.unchanged": "未变",
    "import.skipped": "跳过",
    "import.problems": "文件中的问题（未导入任何事项）",
    "import.where": "位置",
    "import.problem": "问题",
    "calendar.title": "工作日历",
    "calendar.intro": "每年的法定节假日和调休上班日。办结时限按工作日计算；某年没有数据时，时限只按周末计算并标为暂定，录入后自动重算。",
    "calendar.year": "年份",
    "calendar.show": "查看",
    "calendar.noData": "{year} 年尚未录入工作日历。",
    "calendar.hasData": "{year} 年：{holidays} 个节假日，{workdays} 个调休上班日。",
    "calendar.source.package": "来源：chinesecalendar 数据包",
    "calendar.source.admin": "来源：管理员录入",
    "calendar.updated": "最后修改：{by}，{at}",
    "calendar.holidays": "法定节假日（每行或逗号分隔一个日期，YYYY-MM-DD）",
    "calendar.workdays": "调休上班日（周末上班的日期）",
    "calendar.save": "保存 {year} 年日历",
    "calendar.saved": "{year} 年日历已保存，重算了 {n} 个在办时钟。",
    "calendar.badDate": "“{value}”不是 {year} 年的日期（YYYY-MM-DD）。",
    "calendar.badYear": "请输入 2000 至 2200 之间的年份。",
    "staff.title": "工作人员账户",
    "staff.intro": "窗口人员、审批人员、监督、财务和管理员的账户。审批人员须填写部门。",
    "staff.username": "用户名",
    "staff.name": "姓名",
    "staff.password": "初始密码（至少 8 位）",
    "staff.roles": "角色",
    "staff.department": "部门编码（审批人员必填）",
    "staff.hall": "所属大厅",
    "staff.created": "创建时间",
    "staff.create": "创建账户",
    "staff.createTitle": "新建账户",
    "staff.done": "账户 {username} 已创建。",
    "staff.rolesRequired": "至少选择一个角色。",
    "role.clerk": "窗口人员",
    "role.approver": "审批人员",
    "role.supervisor": "监督人员",
    "role.finance": "财务",
    "role.admin": "管理员",
    "kiosks.title": "评价器",
    "kiosks.intro": "登记窗口上的评价器。设备密钥只在登记后显示一次，请立即配置到设备上；吊销后密钥立即失效。",
    "kiosks.register": "登记评价器",
    "kiosks.window": "窗口编号",
    "kiosks.department": "部门（可选）",
    "kiosks.label": "备注（可选）",
    "kiosks.hall": "所在大厅",
    "kiosks.id": "编号",
    "kiosks.state": "状态",
    "kiosks.active": "在用",
    "kiosks.revoked": "已吊销 {at}",
    "kiosks.lastVote": "最近评价",
    "kiosks.revoke": "吊销",
    "kiosks.revokedDone": "评价器 {id} 已吊销。",
    "kiosks.keyTitle": "设备密钥（只显示这一次）",
    "kiosks.keyNote": "评价器 {id} 已登记。请把下面的密钥配置到设备上；离开本页后无法再次查看。",
    "halls.title": "大厅",
    "halls.intro": "市级大厅和各区县大厅共用一个平台。",
    "halls.code": "编码",
    "halls.name": "名称",
    "halls.level": "级别",
    "halls.level.city": "市级",
    "halls.level.county": "区县",
    "halls.region": "行政区划代码（12 位）",
    "halls.create": "新建大厅",
    "halls.done": "大厅 {code} 已创建。",
    "nav.adminDepartments": "部门",
    "departments.title": "部门",
    "departments.intro": "事项、任务和红黄牌上的部门编码在控制台中显示为这里登记的名称。",
    "departments.code": "编码",
    "departments.name": "中文名称",
    "departments.nameEn": "英文名称",
    "departments.create": "新增部门",
    "departments.done": "部门 {code} 已新增。",
    "departments.rename": "改名",
    "departments.nameOf": "{code} 的中文名称",
    "departments.nameEnOf": "{code} 的英文名称",
    "departments.renamed": "部门 {code} 已改名。",
    "partners.title": "快递合作方",
    "partners.intro": "签约的快递合作方、各区域资费和是否接新运单。停用的合作方不再接新运单；恢复后，等待中的运单会自动下单。",
    "partners.carrier": "承运方",
    "partners.priority": "优先级",
    "partners.provinces": "服务省份",
    "partners.tariff": "资费",
    "partners.available": "接新运单",
    "partners.note": "说明",
    "partners.updated": "最后修改",
    "partners.switchOff": "停用",
    "partners.switchOn": "恢复",
    "partners.noteLabel": "{name} 的说明（可选）",
    "partners.on": "{name} 已恢复，接收新运单。",
    "partners.off": "{name} 已停用，不再接收新运单。",
    "partners.everywhere": "全国",
    "partners.zone.city": "同城",
    "partners.zone.province": "省内",
    "partners.zone.national": "省外",
    "partners.zone.remote": "偏远地区",
    "items.firstVersion": "首个版本",
    "partners.booked": "已为 {n} 个等待的运单下单。",
  },
  {
    "nav.adminItems": "Items",
    "nav.adminCalendar": "Calendar",
    "nav.adminStaff": "Staff",
    "nav.adminKiosks": "Kiosks",
    "nav.adminHalls": "Halls",
    "nav.adminPartners": "Couriers",
    "admin.loading": "Loading…",
    "admin.more": "Load more",
    "admin.empty": "Nothing here yet.",
    "admin.actions": "Actions",
    "admin.yes": "Yes",
    "admin.no": "No",
    "admin.confirm": "Confirm: {label}",
    "admin.keepIt": "No, keep it",
    "admin.saved": "Saved.",
    "admin.hintList": "Separate several values with commas.",
    "items.title": "Service items",
    "items.intro": "Create, adjust (each change is a new version; applications keep theirs), cancel items, see their history, import many at once.",
    "items.new": "New item",
    "items.import": "Import",
    "items.status": "Status",
    "items.status.active": "Active",
    "items.status.cancelled": "Cancelled",
    "items.status.all": "All",
    "items.search": "Search name or code",
    "items.filter": "Filter",
    "items.code": "Code",
    "items.name": "Name",
    "items.department": "Department",
    "items.version": "Version",
    "items.edit": "Adjust",
    "items.cancel": "Cancel item",
    "items.cancelled": "Item {code} is cancelled: it takes no new applications.",
    "items.newTitle": "New service item",
    "items.editTitle": "Adjust item {code}",
    "items.kind": "Kind",
    "items.window": "Window",
    "items.departments": "Parallel departments (two or more)",
    "items.lead": "Lead department (parallel items)",
    "items.legalDays": "Legal time limit (working days)",
    "items.committedDays": "Committed time limit (working days)",
    "items.trips": "Trips",
    "items.online": "Fully online",
    "items.secret": "Classified item",
    "items.fee": "Fee (fen)",
    "items.stage": "Investment project stage",
    "items.noStage": "Not a project stage",
    "items.halls": "Halls offering it (codes; empty: every hall)",
    "items.materials": "Materials (one a line: CODE|name|critical or optional)",
    "items.materialsHint": "E.g. APPLY|Application form|critical. optional: may follow later (容缺).",
    "items.materialsBad": "Line {n} should be CODE|name|critical or optional.",
    "items.save": "Save",
    "items.create": "Create",
    "items.created": "Item {code} created (version {version}).",
    "items.updated": "Item {code} saved as version {version}.",
    "items.history": "Version history",
    "items.historyEmpty": "No history yet.",
    "items.change": "Change",
    "items.change.created": "created",
    "items.change.adjusted": "adjusted",
    "items.change.cancelled": "cancelled",
    "items.changedBy": "By",
    "items.changedAt": "When",
    "items.changes": "What changed",
    "items.isCancelled": "This item is cancelled: no new applications, no new versions; its history is kept.",
    "import.title": "Import service items",
    "import.intro": "Upload a CSV or YAML file. The file is checked as a whole: if any row is wrong nothing is imported and every problem is listed. Importing the same file again changes nothing.",
    "import.file": "Items file (CSV or YAML)",
    "import.fileHint": "CSV columns: code,name,kind,department,departments,lead_department,window,legal_days,committed_days,trips,online,fee_fen,stage,materials,secret",
    "import.submit": "Import",
    "import.noFile": "Choose a file first.",
    "import.result": "{items} items: {created} created, {updated} adjusted, {unchanged} unchanged, {skipped} skipped.",
    "import.created": "Created",
    "import.updated": "Adjusted",
    "import.unchanged": "Unchanged",
    "import.skipped": "Skipped",
    "import.problems": "Problems in the file (nothing was imported)",
    "import.where": "Where",
    "import.problem": "Problem",
    "calendar.title": "Working-day calendar",
    "calendar.intro": "Each year's statutory holidays and weekend days made working days. Time limits count working days; for a year with no data they count weekends only, marked provisional, and are recomputed once the year is entered.",
    "calendar.year": "Year",
    "calendar.show": "Show",
    "calendar.noData": "No calendar has been entered for {year}.",
    "calendar.hasData": "{year}: {holidays} holidays, {workdays} make-up working days.",
    "calendar.source.package": "Source: the chinesecalendar package",
    "calendar.source.admin": "Source: entered by an administrator",
    "calendar.updated": "Last changed by {by}, {at}",
    "calendar.holidays": "Statutory holidays (one date a line or comma-separated, YYYY-MM-DD)",
    "calendar.workdays": "Make-up working days (weekend days worked)",
    "calendar.save": "Save the {year} calendar",
    "calendar.saved": "The {year} calendar is saved; {n} open clocks were recomputed.",
    "calendar.badDate": "\"{value}\" is not a date of {year} (YYYY-MM-DD).",
    "calendar.badYear": "Enter a year from 2000 to 2200.",
    "staff.title": "Staff accounts",
    "staff.intro": "Accounts of window clerks, approvers, supervisors, finance and administrators. Approvers need a department.",
    "staff.username": "Username",
    "staff.name": "Name",
    "staff.password": "First password (8 characters or more)",
    "staff.roles": "Roles",
    "staff.department": "Department code (required for approvers)",
    "staff.hall": "Hall",
    "staff.created": "Created",
    "staff.create": "Create account",
    "staff.createTitle": "New account",
    "staff.done": "Account {username} created.",
    "staff.rolesRequired": "Choose at least one role.",
    "role.clerk": "Window clerk",
    "role.approver": "Approver",
    "role.supervisor": "Supervisor",
    "role.finance": "Finance",
    "role.admin": "Administrator",
    "kiosks.title": "Rating kiosks",
    "kiosks.intro": "Register the rating kiosks on the window desks. The device key is shown once, right after registering: set it on the device now. A revoked kiosk's key stops working at once.",
    "kiosks.register": "Register kiosk",
    "kiosks.window": "Window number",
    "kiosks.department": "Department (optional)",
    "kiosks.label": "Note (optional)",
    "kiosks.hall": "Hall",
    "kiosks.id": "Kiosk",
    "kiosks.state": "State",
    "kiosks.active": "Active",
    "kiosks.revoked": "Revoked {at}",
    "kiosks.lastVote": "Last vote",
    "kiosks.revoke": "Revoke",
    "kiosks.revokedDone": "Kiosk {id} is revoked.",
    "kiosks.keyTitle": "Device key (shown this once)",
    "kiosks.keyNote": "Kiosk {id} is registered. Set this key on the device; it cannot be shown again after you leave this page.",
    "halls.title": "Halls",
    "halls.intro": "The city's hall and each county's hall run on the one platform.",
    "halls.code": "Code",
    "halls.name": "Name",
    "halls.level": "Level",
    "halls.level.city": "City",
    "halls.level.county": "County",
    "halls.region": "Region code (12 digits)",
    "halls.create": "Create hall",
    "halls.done": "Hall {code} created.",
    "nav.adminDepartments": "Departments",
    "departments.title": "Departments",
    "departments.intro": "The department codes on items, tasks and cards show in the console as the names registered here.",
    "departments.code": "Code",
    "departments.name": "Chinese name",
    "departments.nameEn": "English name",
    "departments.create": "Add department",
    "departments.done": "Department {code} added.",
    "departments.rename": "Rename",
    "departments.nameOf": "Chinese name of {code}",
    "departments.nameEnOf": "English name of {code}",
    "departments.renamed": "Department {code} renamed.",
    "partners.title": "Courier partners",
    "partners.intro": "The courier partners under contract, their tariff per zone and whether they take new waybills. A partner switched off gets none; when it returns, the shipments that waited are booked.",
    "partners.carrier": "Carrier",
    "partners.priority": "Priority",
    "partners.provinces": "Provinces",
    "partners.tariff": "Tariff",
    "partners.available": "Takes waybills",
    "partners.note": "Note",
    "partners.updated": "Last changed",
    "partners.switchOff": "Switch off",
    "partners.switchOn": "Switch on",
    "partners.noteLabel": "Note for {name} (optional)",
    "partners.on": "{name} is switched on: it takes new waybills.",
    "partners.off": "{name} is switched off: it takes no new waybills.",
    "partners.everywhere": "Everywhere",
    "partners.zone.city": "same city",
    "partners.zone.province": "in the province",
    "partners.zone.national": "other provinces",
    "partners.zone.remote": "remote areas",
    "items.firstVersion": "First version",
    "partners.booked": "{n} waiting shipments were booked.",
  },
);

const ROLES = ["clerk", "approver", "supervisor", "finance", "admin"];

// --- shared pieces ---------------------------------------------------------------------------------

function page(cls, title, intro, ...children) {
  return h("section", { class: `page admin ${cls}` }, h("h1", {}, title), intro ? h("p", { class: "lead" }, intro) : null, ...children);
}

function table(caption, headers, rows) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows),
    ),
  );
}

/**
 * A list that pages with the cursor: `fetchPage(cursor)` returns {items, next_cursor}, `row(item)`
 * a <tr>. Shows loading, empty and error (with the request id) in its own status line.
 */
function pagedTable({ caption, headers, fetchPage, row, id }) {
  const body = h("tbody", { id });
  const status = h("p", { class: "meta list-status", "aria-live": "polite" });
  const alert = alertBox();
  const more = h("button", { type: "button", hidden: true }, t("admin.more"));
  let cursor = null;
  let shown = 0;
  async function load(reset) {
    if (reset) {
      clear(body);
      cursor = null;
      shown = 0;
    }
    status.textContent = t("admin.loading");
    alert.show("");
    try {
      const result = await fetchPage(cursor);
      const items = Array.isArray(result) ? result : result.items || [];
      items.forEach((item) => body.append(row(item, () => load(true))));
      shown += items.length;
      cursor = Array.isArray(result) ? null : result.next_cursor;
      more.hidden = !cursor;
      status.textContent = shown ? "" : t("admin.empty");
    } catch (err) {
      status.textContent = "";
      alert.show(errorText(err));
    }
  }
  more.addEventListener("click", busy(more, () => load(false)));
  const node = h(
    "div",
    { class: "paged" },
    alert,
    h(
      "div",
      { class: "table-wrap" },
      h("table", {}, h("caption", { class: "visually-hidden" }, caption), h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))), body),
    ),
    status,
    h("p", { class: "actions" }, more),
  );
  return { node, load };
}

/** A button that asks once more in place (no browser dialog) before a lasting action. */
function confirmButton(label, action, attrs = {}) {
  const wrap = h("span", { class: "confirm" });
  const first = h("button", { type: "button", class: "danger", ...attrs }, label);
  const yes = h("button", { type: "button", class: "danger confirm-yes" }, t("admin.confirm", { label }));
  const no = h("button", { type: "button", class: "link-button" }, t("admin.keepIt"));
  const ask = (asking) => {
    first.hidden = asking;
    yes.hidden = !asking;
    no.hidden = !asking;
  };
  ask(false);
  first.addEventListener("click", () => {
    ask(true);
    yes.focus();
  });
  no.addEventListener("click", () => {
    ask(false);
    first.focus();
  });
  yes.addEventListener(
    "click",
    busy(yes, async () => {
      await action();
      ask(false);
    }),
  );
  wrap.append(first, yes, no);
  return wrap;
}

function listValue(text) {
  return String(text || "")
    .split(/[,，;\s]+/)
    .map((x) => x.trim())
    .filter(Boolean);
}

function checkbox(name, labelText, checked, value) {
  const id = `${name}-${value || "on"}`.replace(/[^A-Za-z0-9_-]/g, "_");
  return h("div", { class: "choice" }, h("input", { type: "checkbox", name, id, value: value || "on", checked }), h("label", { for: id }, labelText));
}

async function hallOptions(select, selected) {
  try {
    const result = await api("/halls", { auth: false, query: { limit: 100 } });
    clear(select).append(...(result.items || []).map((hall) => h("option", { value: hall.code }, `${hall.name} (${hall.code})`)));
  } catch {
    clear(select).append(h("option", { value: "CITY" }, "CITY"));
  }
  select.value = selected || "CITY";
}

// --- catalog items ---------------------------------------------------------------------------------

export async function adminItemsView(ctx) {
  const q = h("input", { type: "search", name: "q", value: ctx.query.get("q") || "" });
  const status = h("select", { name: "status" }, ["active", "cancelled", "all"].map((s) => h("option", { value: s }, t(`items.status.${s}`))));
  status.value = ctx.query.get("status") || "all";
  const list = pagedTable({
    id: "admin-items",
    caption: t("items.title"),
    headers: [t("items.code"), t("items.name"), t("items.department"), t("items.version"), t("items.status"), t("admin.actions")],
    fetchPage: (cursor) => api("/catalog/items", { auth: false, query: { q: q.value.trim(), status: status.value, limit: 50, cursor } }),
    row: (item, reload) =>
      h(
        "tr",
        { "data-code": item.code },
        h("td", { class: "code" }, item.code),
        h("td", {}, h("a", { href: `#/admin/items/${encodeURIComponent(item.code)}` }, item.name)),
        h("td", {}, item.departments && item.departments.length > 1 ? item.departments.join("、") : item.department),
        h("td", { class: "num" }, `v${item.version}`),
        h("td", {}, h("span", { class: `chip item-${item.status}` }, t(`items.status.${item.status}`))),
        h(
          "td",
          { class: "row-actions" },
          h("a", { class: "button", href: `#/admin/items/${encodeURIComponent(item.code)}` }, t("items.edit")),
          item.status === "active"
            ? confirmButton(t("items.cancel"), async () => {
                try {
                  await api(`/catalog/items/${encodeURIComponent(item.code)}`, { method: "DELETE" });
                  announce(t("items.cancelled", { code: item.code }), "ok");
                  await reload();
                } catch (err) {
                  announce(errorText(err), "error");
                }
              })
            : null,
        ),
      ),
  });
  const form = h(
    "form",
    { class: "filters", role: "search" },
    field(t("items.search"), q),
    field(t("items.status"), status),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("items.filter"))),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    list.load(true);
  });
  status.addEventListener("change", () => list.load(true));
  await list.load(true);
  return page(
    "admin-items",
    t("items.title"),
    t("items.intro"),
    h("p", { class: "toolbar" }, h("a", { class: "button primary", href: "#/admin/items/new", id: "new-item" }, t("items.new")), h("a", { class: "button", href: "#/admin/import" }, t("items.import"))),
    form,
    list.node,
  );
}

function materialsText(materials) {
  return (materials || []).map((m) => `${m.code}|${m.name}|${m.critical ? "critical" : "optional"}`).join("\n");
}

function parseMaterials(text) {
  const out = [];
  const lines = String(text || "").split("\n");
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i].trim();
    if (!line) continue;
    const bits = line.split("|").map((b) => b.trim());
    const flag = (bits[2] || "critical").toLowerCase();
    if (bits.length < 2 || bits.length > 3 || !bits[0] || !bits[1] || !["critical", "optional"].includes(flag)) {
      return { error: t("items.materialsBad", { n: i + 1 }) };
    }
    out.push({ code: bits[0], name: bits[1], critical: flag === "critical" });
  }
  return { materials: out };
}

function itemForm(item, { onSaved }) {
  const editing = !!item;
  const v = item || { kind: "licensing", window: "general", legal_days: 20, committed_days: 10, trips: 1, fee_fen: 0, materials: [] };
  const input = (name, value, props = {}) => h("input", { name, value: value === null || value === undefined ? "" : String(value), ...props });
  const code = input("code", v.code, { required: true, maxlength: "40", autocomplete: "off", readonly: editing });
  const name = input("name", v.name, { maxlength: "200" });
  const kind = h("select", { name: "kind" }, ["licensing", "public_service"].map((k) => h("option", { value: k }, tOr(`kind.${k}`, k))));
  kind.value = v.kind;
  const win = h("select", { name: "window" }, ["general", "commercial", "investment"].map((w) => h("option", { value: w }, tOr(`window.${w}`, w))));
  win.value = v.window;
  const department = input("department", v.department, { maxlength: "40" });
  const departments = input("departments", (v.departments || []).join(", "));
  const lead = input("lead_department", v.lead_department);
  const legal = input("legal_days", v.legal_days, { type: "number", min: "1", max: "365" });
  const committed = input("committed_days", v.committed_days, { type: "number", min: "1", max: "365" });
  const trips = input("trips", v.trips, { type: "number", min: "0", max: "10" });
  const fee = input("fee_fen", v.fee_fen, { type: "number", min: "0", step: "1" });
  const stage = h("select", { name: "stage" }, h("option", { value: "" }, t("items.noStage")), [1, 2, 3, 4].map((n) => h("option", { value: String(n) }, String(n))));
  stage.value = v.stage ? String(v.stage) : "";
  const halls = input("halls", (v.halls || []).join(", "));
  const materials = h("textarea", { name: "materials", rows: "5" });
  materials.value = materialsText(v.materials);
  const online = checkbox("online", t("items.online"), !!v.online);
  const secret = checkbox("secret", t("items.secret"), !!v.secret);
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary", id: "save-item" }, editing ? t("items.save") : t("items.create"));
  const form = h(
    "form",
    { class: "form admin-form", id: "item-form", novalidate: true },
    h(
      "div",
      { class: "form-grid" },
      field(t("items.code"), code, { required: true }),
      field(t("items.name"), name, { required: true }),
      field(t("items.kind"), kind),
      field(t("items.window"), win),
      field(t("items.department"), department),
      field(t("items.departments"), departments, { hint: t("admin.hintList") }),
      field(t("items.lead"), lead),
      field(t("items.legalDays"), legal, { required: true }),
      field(t("items.committedDays"), committed, { required: true }),
      field(t("items.trips"), trips, { required: true }),
      field(t("items.fee"), fee),
      field(t("items.stage"), stage),
      field(t("items.halls"), halls, { hint: t("admin.hintList") }),
    ),
    field(t("items.materials"), materials, { hint: t("items.materialsHint") }),
    online,
    secret,
    alert,
    h("div", { class: "actions" }, submit),
  );
  const key = newKey();
  onSubmit(form, submit, alert, async () => {
    fieldError(materials, "");
    const parsed = parseMaterials(materials.value);
    if (parsed.error) {
      fieldError(materials, parsed.error);
      materials.focus();
      return;
    }
    const body = {
      code: code.value.trim(),
      name: name.value.trim(),
      kind: kind.value,
      window: win.value,
      department: department.value.trim() || null,
      departments: listValue(departments.value),
      lead_department: lead.value.trim() || null,
      legal_days: Number(legal.value),
      committed_days: Number(committed.value),
      trips: Number(trips.value),
      fee_fen: Number(fee.value || 0),
      stage: stage.value ? Number(stage.value) : null,
      halls: listValue(halls.value),
      materials: parsed.materials,
      online: form.querySelector("input[name=online]").checked,
      secret: form.querySelector("input[name=secret]").checked,
    };
    const saved = editing
      ? await api(`/catalog/items/${encodeURIComponent(item.code)}`, { method: "PUT", json: body })
      : await api("/catalog/items", { method: "POST", json: body, key });
    announce(t(editing ? "items.updated" : "items.created", { code: saved.code, version: saved.version }), "ok");
    onSaved(saved);
  });
  return form;
}

function changesText(changes) {
  const entries = Object.entries(changes || {});
  if (!entries.length) return "—";
  return entries
    .map(([k, v]) => {
      if (v && typeof v === "object" && "from" in v && "to" in v) return `${k}: ${JSON.stringify(v.from)} → ${JSON.stringify(v.to)}`;
      return `${k}: ${JSON.stringify(v)}`;
    })
    .join("; ");
}

export async function adminItemNewView(ctx) {
  return page("admin-item", t("items.newTitle"), null, h("p", { class: "crumbs" }, h("a", { href: "#/admin/items" }, t("nav.adminItems"))), h("div", { class: "card" }, itemForm(null, { onSaved: (saved) => ctx.navigate(`#/admin/items/${encodeURIComponent(saved.code)}`) })));
}

export async function adminItemView(ctx) {
  const code = ctx.params.code;
  const item = await api(`/catalog/items/${encodeURIComponent(code)}`, { auth: false });
  const history = pagedTable({
    id: "item-history",
    caption: t("items.history"),
    headers: [t("items.version"), t("items.change"), t("items.changedBy"), t("items.changedAt"), t("items.changes")],
    fetchPage: (cursor) => api(`/catalog/items/${encodeURIComponent(code)}/history`, { auth: false, query: { limit: 50, cursor } }),
    row: (ver) =>
      h(
        "tr",
        { "data-version": String(ver.version) },
        h("td", { class: "num" }, `v${ver.version}`),
        h("td", {}, tOr(`items.change.${ver.change}`, ver.change)),
        h("td", {}, ver.changed_by),
        h("td", {}, dateTime(ver.changed_at)),
        h("td", { class: "changes" }, ver.change === "created" ? t("items.firstVersion") : changesText(ver.changes)),
      ),
  });
  await history.load(true);
  const cancelled = item.status === "cancelled";
  return page(
    "admin-item",
    t("items.editTitle", { code }),
    null,
    h("p", { class: "crumbs" }, h("a", { href: "#/admin/items" }, t("nav.adminItems"))),
    h("p", { class: "meta" }, `${item.name} · v${item.version} · ${t(`items.status.${item.status}`)} · ${money(item.fee_fen)}`),
    cancelled
      ? h("p", { class: "alert", "data-kind": "warn" }, t("items.isCancelled"))
      : h(
          "div",
          { class: "card" },
          itemForm(item, { onSaved: () => ctx.rerender() }),
          h(
            "p",
            { class: "actions" },
            confirmButton(t("items.cancel"), async () => {
              try {
                await api(`/catalog/items/${encodeURIComponent(code)}`, { method: "DELETE" });
                announce(t("items.cancelled", { code }), "ok");
                ctx.rerender();
              } catch (err) {
                announce(errorText(err), "error");
              }
            }),
          ),
        ),
    h("div", { class: "card" }, h("h2", {}, t("items.history")), history.node),
  );
}

export async function adminImportView() {
  const file = h("input", { type: "file", name: "file", accept: ".csv,.yaml,.yml,text/csv,application/yaml" });
  const alert = alertBox();
  const result = h("div", { id: "import-result", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary" }, t("import.submit"));
  const form = h("form", { class: "form", id: "import-form", novalidate: true }, field(t("import.file"), file, { hint: t("import.fileHint"), required: true }), alert, h("div", { class: "actions" }, submit));
  const codes = (label, list) => (list.length ? h("div", {}, h("dt", {}, label), h("dd", {}, list.join("、"))) : null);
  form.addEventListener("submit", (e) => e.preventDefault());
  form.addEventListener(
    "submit",
    busy(submit, async () => {
      alert.show("");
      clear(result);
      if (!file.files || !file.files.length) {
        fieldError(file, t("import.noFile"));
        file.focus();
        return;
      }
      fieldError(file, "");
      const data = new FormData();
      data.append("file", file.files[0]);
      try {
        const r = await api("/catalog/import", { method: "POST", form: data });
        result.append(
          h("p", { class: "alert", "data-kind": "ok" }, t("import.result", { items: r.items, created: r.created.length, updated: r.updated.length, unchanged: r.unchanged.length, skipped: r.skipped.length })),
          h("dl", { class: "facts" }, codes(t("import.created"), r.created), codes(t("import.updated"), r.updated), codes(t("import.unchanged"), r.unchanged)),
          r.skipped.length
            ? table(
                t("import.skipped"),
                [t("import.where"), t("import.problem")],
                r.skipped.map((s) => h("tr", {}, h("td", { class: "code" }, s.code || "—"), h("td", {}, s.reason))),
              )
            : null,
        );
      } catch (err) {
        alert.show(errorText(err));
        const problems = (err.problem && err.problem.errors) || [];
        if (problems.length) {
          result.append(
            h("h2", {}, t("import.problems")),
            table(
              t("import.problems"),
              [t("import.where"), t("import.problem")],
              problems.map((p) => h("tr", { class: "import-problem" }, h("td", { class: "code" }, p.field || (p.loc || []).join(".")), h("td", {}, p.message || p.msg || ""))),
            ),
          );
        }
      }
    }),
  );
  return page("admin-import", t("import.title"), t("import.intro"), h("p", { class: "crumbs" }, h("a", { href: "#/admin/items" }, t("nav.adminItems"))), h("div", { class: "card" }, form), result);
}

// --- the working-day calendar --------------------------------------------------------------------------

export async function adminCalendarView(ctx) {
  const year = Number(ctx.query.get("year")) || new Date().getFullYear();
  const yearInput = h("input", { type: "number", name: "year", min: "2000", max: "2200", value: String(year) });
  const pick = h("form", { class: "filters", id: "calendar-year" }, field(t("calendar.year"), yearInput), h("div", { class: "actions" }, h("button", { type: "submit" }, t("calendar.show"))));
  pick.addEventListener("submit", (e) => {
    e.preventDefault();
    const y = Number(yearInput.value);
    if (!(y >= 2000 && y <= 2200)) {
      fieldError(yearInput, t("calendar.badYear"));
      return;
    }
    ctx.navigate(`#/admin/calendar?year=${y}`);
  });
  const cal = await api(`/calendar/${year}`, { auth: false });
  const summary = cal.has_data
    ? h(
        "div",
        { class: "alert", "data-kind": "info", id: "calendar-state", "data-has-data": "true" },
        h("p", {}, t("calendar.hasData", { year, holidays: cal.holidays.length, workdays: cal.workdays.length })),
        h("p", { class: "small" }, cal.source ? t(`calendar.source.${cal.source}`) : "", cal.updated_by ? ` · ${t("calendar.updated", { by: cal.updated_by, at: dateTime(cal.updated_at) })}` : ""),
      )
    : h("div", { class: "alert", "data-kind": "warn", id: "calendar-state", "data-has-data": "false" }, h("p", {}, h("strong", {}, t("calendar.noData", { year }))), h("p", { class: "small" }, cal.note));
  const holidays = h("textarea", { name: "holidays", rows: "8" });
  holidays.value = cal.holidays.join("\n");
  const workdays = h("textarea", { name: "workdays", rows: "4" });
  workdays.value = cal.workdays.join("\n");
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary", id: "save-calendar" }, t("calendar.save", { year }));
  const form = h("form", { class: "form", id: "calendar-form", novalidate: true }, h("div", { class: "form-grid" }, field(t("calendar.holidays"), holidays), field(t("calendar.workdays"), workdays)), alert, h("div", { class: "actions" }, submit));
  const dates = (control) => {
    const values = listValue(control.value);
    const bad = values.find((d) => !/^\d{4}-\d{2}-\d{2}$/.test(d) || !d.startsWith(`${year}-`) || Number.isNaN(new Date(`${d}T00:00:00Z`).getTime()));
    fieldError(control, bad ? t("calendar.badDate", { value: bad, year }) : "");
    return bad ? null : values;
  };
  onSubmit(form, submit, alert, async () => {
    const h1 = dates(holidays);
    const w1 = dates(workdays);
    if (!h1 || !w1) return;
    const saved = await api(`/calendar/${year}`, { method: "PUT", json: { holidays: h1, workdays: w1 } });
    announce(t("calendar.saved", { year, n: saved.recomputed_clocks || 0 }), "ok");
    ctx.rerender();
  });
  return page("admin-calendar", t("calendar.title"), t("calendar.intro"), pick, summary, h("div", { class: "card" }, form));
}

// --- staff accounts ----------------------------------------------------------------------------------

export async function adminStaffView() {
  const list = pagedTable({
    id: "staff-list",
    caption: t("staff.title"),
    headers: [t("staff.username"), t("staff.name"), t("staff.roles"), t("staff.department"), t("staff.hall"), t("staff.created")],
    fetchPage: (cursor) => api("/admin/staff", { query: { limit: 50, cursor } }),
    row: (s) =>
      h(
        "tr",
        { "data-username": s.username },
        h("td", { class: "code" }, s.username),
        h("td", {}, s.name),
        h("td", {}, (s.roles || []).map((r) => tOr(`role.${r}`, r)).join("、")),
        h("td", {}, s.department || "—"),
        h("td", {}, s.hall),
        h("td", {}, dateTime(s.created_at)),
      ),
  });
  const username = h("input", { name: "username", autocomplete: "off", maxlength: "64" });
  const name = h("input", { name: "name", autocomplete: "off", maxlength: "100" });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password", minlength: "8" });
  const department = h("input", { name: "department", maxlength: "64" });
  const hall = h("select", { name: "hall" });
  await hallOptions(hall, "CITY");
  const roles = h("fieldset", { class: "roles", id: "staff-roles" }, h("legend", {}, t("staff.roles")), ROLES.map((r) => checkbox("roles", t(`role.${r}`), false, r)));
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary", id: "create-staff" }, t("staff.create"));
  const form = h(
    "form",
    { class: "form", id: "staff-form", novalidate: true },
    h("div", { class: "form-grid" }, field(t("staff.username"), username, { required: true }), field(t("staff.name"), name, { required: true }), field(t("staff.password"), password, { required: true }), field(t("staff.department"), department), field(t("staff.hall"), hall)),
    roles,
    alert,
    h("div", { class: "actions" }, submit),
  );
  onSubmit(form, submit, alert, async () => {
    const chosen = [...roles.querySelectorAll("input:checked")].map((i) => i.value);
    if (!chosen.length) {
      alert.show(t("staff.rolesRequired"));
      return;
    }
    const created = await api("/admin/staff", {
      method: "POST",
      json: { username: username.value.trim(), name: name.value.trim(), password: password.value, roles: chosen, department: department.value.trim() || null, hall: hall.value },
    });
    announce(t("staff.done", { username: created.username }), "ok");
    alert.show(t("staff.done", { username: created.username }), "ok");
    form.reset();
    hall.value = "CITY";
    await list.load(true);
  });
  await list.load(true);
  return page("admin-staff", t("staff.title"), t("staff.intro"), h("div", { class: "card" }, h("h2", {}, t("staff.createTitle")), form), list.node);
}

// --- kiosks ------------------------------------------------------------------------------------------

export async function adminKiosksView() {
  const list = pagedTable({
    id: "kiosk-list",
    caption: t("kiosks.title"),
    headers: [t("kiosks.id"), t("kiosks.window"), t("kiosks.hall"), t("kiosks.department"), t("kiosks.state"), t("kiosks.lastVote"), t("admin.actions")],
    fetchPage: (cursor) => api("/kiosks", { query: { limit: 50, cursor } }),
    row: (k, reload) =>
      h(
        "tr",
        { "data-kiosk": k.kiosk_id },
        h("td", { class: "code" }, k.kiosk_id, k.label ? h("span", { class: "meta" }, ` · ${k.label}`) : null),
        h("td", {}, k.window),
        h("td", {}, k.hall),
        h("td", {}, k.department || "—"),
        h("td", {}, k.revoked_at ? t("kiosks.revoked", { at: dateTime(k.revoked_at) }) : t("kiosks.active")),
        h("td", {}, dateTime(k.last_vote_at)),
        h(
          "td",
          {},
          k.revoked_at
            ? null
            : confirmButton(t("kiosks.revoke"), async () => {
                try {
                  await api(`/kiosks/${encodeURIComponent(k.kiosk_id)}`, { method: "DELETE" });
                  announce(t("kiosks.revokedDone", { id: k.kiosk_id }), "ok");
                  await reload();
                } catch (err) {
                  announce(errorText(err), "error");
                }
              }),
        ),
      ),
  });
  const win = h("input", { name: "window", maxlength: "40" });
  const department = h("input", { name: "department", maxlength: "80" });
  const label = h("input", { name: "label", maxlength: "200" });
  const hall = h("select", { name: "hall" });
  await hallOptions(hall, "CITY");
  const alert = alertBox();
  const keyBox = h("div", { id: "kiosk-key", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary", id: "register-kiosk" }, t("kiosks.register"));
  const form = h(
    "form",
    { class: "form", id: "kiosk-form", novalidate: true },
    h("div", { class: "form-grid" }, field(t("kiosks.window"), win, { required: true }), field(t("kiosks.hall"), hall), field(t("kiosks.department"), department), field(t("kiosks.label"), label)),
    alert,
    h("div", { class: "actions" }, submit),
  );
  onSubmit(form, submit, alert, async () => {
    clear(keyBox);
    const created = await api("/kiosks", { method: "POST", key: newKey(), json: { window: win.value.trim(), hall: hall.value, department: department.value.trim() || null, label: label.value.trim() || null } });
    // The key lives in this page only: it is never stored and never shown again.
    keyBox.append(
      h(
        "div",
        { class: "card key-once" },
        h("h2", {}, t("kiosks.keyTitle")),
        h("p", {}, t("kiosks.keyNote", { id: created.kiosk_id })),
        h("p", { class: "device-key" }, h("code", { id: "device-key" }, created.device_key)),
      ),
    );
    form.reset();
    hall.value = "CITY";
    await list.load(true);
  });
  await list.load(true);
  return page("admin-kiosks", t("kiosks.title"), t("kiosks.intro"), h("div", { class: "card" }, h("h2", {}, t("kiosks.register")), form), keyBox, list.node);
}

// --- halls ------------------------------------------------------------------------------------------

export async function adminHallsView() {
  const list = pagedTable({
    id: "hall-list",
    caption: t("halls.title"),
    headers: [t("halls.code"), t("halls.name"), t("halls.level"), t("halls.region")],
    fetchPage: (cursor) => api("/halls", { auth: false, query: { limit: 50, cursor } }),
    row: (x) => h("tr", { "data-hall": x.code }, h("td", { class: "code" }, x.code), h("td", {}, x.name), h("td", {}, tOr(`halls.level.${x.level}`, x.level)), h("td", { class: "code" }, x.region_code)),
  });
  const code = h("input", { name: "code", maxlength: "20", autocomplete: "off" });
  const name = h("input", { name: "name", maxlength: "200" });
  const level = h("select", { name: "level" }, ["county", "city"].map((l) => h("option", { value: l }, t(`halls.level.${l}`))));
  const region = h("input", { name: "region_code", inputmode: "numeric", maxlength: "12", pattern: "\\d{12}" });
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary", id: "create-hall" }, t("halls.create"));
  const form = h(
    "form",
    { class: "form", id: "hall-form", novalidate: true },
    h("div", { class: "form-grid" }, field(t("halls.code"), code, { required: true }), field(t("halls.name"), name, { required: true }), field(t("halls.level"), level), field(t("halls.region"), region, { required: true })),
    alert,
    h("div", { class: "actions" }, submit),
  );
  onSubmit(form, submit, alert, async () => {
    const created = await api("/halls", { method: "POST", json: { code: code.value.trim(), name: name.value.trim(), level: level.value, region_code: region.value.trim() } });
    alert.show(t("halls.done", { code: created.code }), "ok");
    announce(t("halls.done", { code: created.code }), "ok");
    form.reset();
    await list.load(true);
  });
  await list.load(true);
  return page("admin-halls", t("halls.title"), t("halls.intro"), h("div", { class: "card" }, h("h2", {}, t("halls.create")), form), list.node);
}

// --- departments -----------------------------------------------------------------------------------

export async function adminDepartmentsView() {
  const list = pagedTable({
    id: "department-list",
    caption: t("departments.title"),
    headers: [t("departments.code"), t("departments.name"), t("departments.nameEn"), t("admin.actions")],
    fetchPage: (cursor) => api("/departments", { auth: false, query: { limit: 50, cursor } }),
    row: (d, reload) => {
      const zh = h("input", { name: `name-${d.code}`, maxlength: "200", value: d.name });
      const en = h("input", { name: `name_en-${d.code}`, maxlength: "200", value: d.name_en });
      const rename = h("button", { type: "button", "data-rename": d.code }, t("departments.rename"));
      rename.addEventListener(
        "click",
        busy(rename, async () => {
          try {
            await api(`/departments/${encodeURIComponent(d.code)}`, { method: "PUT", json: { name: zh.value.trim(), name_en: en.value.trim() } });
            await loadDepartments({ fresh: true });
            announce(t("departments.renamed", { code: d.code }), "ok");
            await reload();
          } catch (err) {
            announce(errorText(err), "error");
          }
        }),
      );
      return h("tr", { "data-department": d.code }, h("td", { class: "code" }, d.code), h("td", {}, field(t("departments.nameOf", { code: d.code }), zh)), h("td", {}, field(t("departments.nameEnOf", { code: d.code }), en)), h("td", {}, rename));
    },
  });
  const code = h("input", { name: "code", maxlength: "20", autocomplete: "off", pattern: "[A-Z][A-Z0-9_]{1,19}" });
  const name = h("input", { name: "name", maxlength: "200" });
  const nameEn = h("input", { name: "name_en", maxlength: "200" });
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "primary", id: "create-department" }, t("departments.create"));
  const form = h(
    "form",
    { class: "form", id: "department-form", novalidate: true },
    h("div", { class: "form-grid" }, field(t("departments.code"), code, { required: true }), field(t("departments.name"), name, { required: true }), field(t("departments.nameEn"), nameEn, { required: true })),
    alert,
    h("div", { class: "actions" }, submit),
  );
  onSubmit(form, submit, alert, async () => {
    const created = await api("/departments", { method: "POST", json: { code: code.value.trim(), name: name.value.trim(), name_en: nameEn.value.trim() } });
    // Every page names departments from the registry the app loaded: load it again.
    await loadDepartments({ fresh: true });
    alert.show(t("departments.done", { code: created.code }), "ok");
    announce(t("departments.done", { code: created.code }), "ok");
    form.reset();
    await list.load(true);
  });
  await list.load(true);
  return page("admin-departments", t("departments.title"), t("departments.intro"), h("div", { class: "card" }, h("h2", {}, t("departments.create")), form), list.node);
}

// --- courier partners --------------------------------------------------------------------------------

function tariffText(tariff) {
  return Object.entries(tariff || {})
    .map(([zone, fen]) => `${tOr(`partners.zone.${zone}`, zone)} ${money(fen)}`)
    .join("; ");
}

export async function adminPartnersView(ctx) {
  const list = pagedTable({
    id: "partner-list",
    caption: t("partners.title"),
    headers: [t("partners.carrier"), t("partners.priority"), t("partners.provinces"), t("partners.tariff"), t("partners.available"), t("partners.updated"), t("admin.actions")],
    fetchPage: () => api("/delivery/partners"),
    row: (p, reload) => {
      const note = h("input", { name: `note-${p.carrier}`, maxlength: "300", value: p.note || "" });
      const toggle = h("button", { type: "button", class: p.available ? "danger" : "primary", "data-carrier": p.carrier }, p.available ? t("partners.switchOff") : t("partners.switchOn"));
      toggle.addEventListener(
        "click",
        busy(toggle, async () => {
          try {
            const r = await api(`/delivery/partners/${encodeURIComponent(p.carrier)}/availability`, { method: "PUT", json: { available: !p.available, note: note.value.trim() || null } });
            announce(`${t(r.available ? "partners.on" : "partners.off", { name: r.name })}${r.booked_pending ? ` ${t("partners.booked", { n: r.booked_pending })}` : ""}`, "ok");
            await reload();
          } catch (err) {
            announce(errorText(err), "error");
          }
        }),
      );
      return h(
        "tr",
        { "data-carrier": p.carrier },
        h("td", {}, p.name, h("span", { class: "meta" }, ` (${p.carrier})`)),
        h("td", { class: "num" }, String(p.priority)),
        h("td", {}, (p.provinces || []).join(", ") || t("partners.everywhere")),
        h("td", {}, tariffText(p.tariff_fen)),
        h("td", { class: "partner-state" }, p.available ? t("admin.yes") : t("admin.no"), p.note ? h("span", { class: "meta" }, ` · ${p.note}`) : null),
        h("td", {}, p.updated_by ? `${p.updated_by} · ${dateTime(p.updated_at)}` : "—"),
        h("td", { class: "row-actions" }, field(t("partners.noteLabel", { name: p.name }), note), toggle),
      );
    },
  });
  await list.load(true);
  return page("admin-partners", t("partners.title"), t("partners.intro"), list.node);
}
