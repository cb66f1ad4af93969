// What went wrong, in the console's language: a problem+json's stable `code` and its field errors'
// `code` and `params` (libs/owkernel/errors.py) become sentences that name materials, departments
// and fields by their names. `detail` (English prose for API users) is only the fallback for a
// code the console does not know yet. Also the names of codes a person should never have to read
// (departments, from intake's registry; carriers), kept here so every page says them the same way.
import { api } from "./api.js";
import { addLabels, has, lang, t } from "./i18n.js";

// Department names come from intake's registry (GET /api/v1/departments), loaded once per page
// load and paged through its cursor; the app awaits loadDepartments() before it renders a page,
// so departmentName() can stay synchronous. While loading, when the call failed (tried again at
// the next page) or for a code the registry does not know, the code itself shows.
let departments = new Map();
let departmentsLoad = null;

async function fetchDepartments() {
  const found = new Map();
  let cursor = null;
  do {
    const page = await api("/departments", { auth: false, query: { limit: 100, cursor } });
    for (const d of page.items || []) found.set(d.code, [d.name, d.name_en]);
    cursor = page.next_cursor;
  } while (cursor);
  departments = found;
}

/** Load the department registry once (again after `{ fresh: true }`, e.g. when an admin changed it). */
export function loadDepartments({ fresh = false } = {}) {
  if (!departmentsLoad || fresh) {
    departmentsLoad = fetchDepartments().catch(() => {
      departmentsLoad = null;
    });
  }
  return departmentsLoad;
}

// The delivery service's partners (services/delivery/partners/catalog.py); a shipment carries
// carrier_name too, but the timeline's detail has only the code.
const CARRIERS = {
  "sim-express": ["模拟快递", "Simulated Express"],
  "sim-post": ["模拟邮政", "Simulated Post"],
};

function pick(pair, code) {
  return pair ? pair[lang() === "zh" ? 0 : 1] : code;
}

/** A department's name (its code when unknown). */
export function departmentName(code) {
  return code ? pick(departments.get(code), code) : "";
}

/** A carrier's name (its code when unknown). */
export function carrierName(code) {
  return code ? pick(CARRIERS[code], code) : "";
}

/** A material's name from the materials an application or item lists (its code when unknown). */
export function materialName(materials, code) {
  const found = (materials || []).find((m) => m.code === code);
  return found ? found.name : code;
}

// Field names as a person reads them; the last part of a field path is looked up.
const FIELDS_ZH = {
  password: "密码",
  new_password: "新密码",
  id_number: "身份证号或统一社会信用代码",
  applicant_id_number: "申请人证件号码",
  collector_id_number: "领取人证件号码",
  collector_name: "领取人姓名",
  applicant_name: "申请人姓名",
  applicant_phone: "申请人电话",
  name: "姓名或名称",
  phone: "联系电话",
  region_code: "所在地区",
  detail: "详细地址",
  recipient: "收件人",
  reason: "原因",
  opinion: "审批意见",
  note: "备注",
  file: "文件",
  item_code: "办理事项",
  username: "用户名",
  score: "评分",
  comment: "评价内容",
  deferred_materials: "容缺材料",
  activation_code: "激活码",
};
const FIELDS_EN = {
  password: "Password",
  new_password: "New password",
  id_number: "ID number or credit code",
  applicant_id_number: "Applicant's ID number",
  collector_id_number: "Collector's ID number",
  collector_name: "Collector's name",
  applicant_name: "Applicant's name",
  applicant_phone: "Applicant's phone",
  name: "Name",
  phone: "Phone",
  region_code: "Region",
  detail: "Street address",
  recipient: "Recipient",
  reason: "Reason",
  opinion: "Opinion",
  note: "Note",
  file: "File",
  item_code: "Service item",
  username: "Username",
  score: "Score",
  comment: "Comment",
  deferred_materials: "Deferred materials",
  activation_code: "Activation code",
};

addLabels(
  {
    "problem.fieldSep": "；",
    "problem.listSep": "、",
    // pydantic's error types (a request the server could not read)
    "problem.missing": "{field}：必须填写。",
    "problem.string_too_short": "{field}：至少 {min_length} 个字符。",
    "problem.string_too_long": "{field}：最多 {max_length} 个字符。",
    "problem.string_pattern_mismatch": "{field}：格式不正确。",
    "problem.too_short": "{field}：至少 {min_length} 项。",
    "problem.too_long": "{field}：最多 {max_length} 项。",
    "problem.greater_than_equal": "{field}：不能小于 {ge}。",
    "problem.less_than_equal": "{field}：不能大于 {le}。",
    "problem.literal_error": "{field}：只能是 {expected}。",
    "problem.enum": "{field}：只能是 {expected}。",
    "problem.int_parsing": "{field}：请填写整数。",
    "problem.date_from_datetime_parsing": "{field}：日期格式不正确。",
    "problem.value_error": "{field}：填写的内容不正确。",
    "problem.invalid": "{field}：填写的内容不正确。",
    "problem.region_invalid": "{field}：不是有效的 12 位行政区划代码。",
    // business codes (the names come in params)
    "problem.critical_materials_missing": "缺少必须提交的材料：{names}。请先上传再提交。",
    "problem.critical_material_missing": "缺少必须提交的材料：{name}。",
    "problem.material_missing": "缺少材料：{name}。",
    "problem.material_type": "材料必须是 PDF、JPEG 或 PNG 文件（按文件内容判断）。",
    "problem.material_bad_type": "材料必须是 PDF、JPEG 或 PNG 文件（按文件内容判断）。",
    "problem.unsupported_media_type": "材料必须是 PDF、JPEG 或 PNG 文件（按文件内容判断）。",
    "problem.material_too_large": "文件太大：每份材料不超过 {max}。",
    "problem.payload_too_large": "文件太大，请换一个较小的文件。",
    "problem.collector_mismatch": "领取人证件号码与申请人的不一致，请核对领取人身份。",
    "problem.collector_id_mismatch": "领取人证件号码与申请人的不一致，请核对领取人身份。",
    "problem.password_too_short": "密码至少 {min_length} 位。",
    "problem.invalid_credentials": "账号或密码不正确。",
    "problem.account_exists": "这个证件号码已经注册过账号，请直接登录。",
    "problem.rate_limited": "操作太频繁，请稍后再试。",
    "problem.too_many_requests": "操作太频繁，请稍后再试。",
    "problem.not_found": "没有找到要办理的内容。",
    "problem.forbidden": "当前账号无权进行此操作。",
    "problem.unauthorized": "请重新登录。",
    "problem.status_conflict": "申请当前的状态（{status}）不允许这一步。",
    "problem.department_forbidden": "只有{department}的工作人员可以办理。",
    "problem.deferred_not_allowed": "{names} 不能容缺受理。",
    "problem.reason_required": "请填写原因。",
    "problem.opinion_required": "请填写审批意见。",
    "problem.material_file_type": "材料必须是 PDF、JPEG 或 PNG 文件（按文件内容判断），请换一个文件。",
    "problem.material_file_too_large": "文件太大：每份材料不超过 {max}。",
    "problem.material_file_empty": "文件是空的，请换一个。",
    "problem.material_unknown": "这个事项没有“{name}”这项材料。",
    "problem.material_not_deferred": "“{name}”受理时没有容缺，不需要补交。",
    "problem.material_already_supplied": "“{name}”已经补交过了。",
    "problem.material_already_provided": "“{name}”已经提交，不需要容缺。",
    "problem.material_has_no_file": "“{name}”还没有上传文件。",
    "problem.critical_material_not_deferrable": "“{name}”是必须提交的材料，不能容缺。",
    "problem.acceptance_refused_as_it_stands": "现在还不能受理。",
    "problem.materials_quota_exceeded": "上传的材料已达到存储上限，请联系窗口。",
    "problem.login_failed": "账号或密码不正确。",
    "problem.login_throttled": "登录失败次数太多，请稍后再试。",
    "problem.account_locked": "账号已被锁定，请稍后再试或到窗口办理。",
    "problem.number_is_staff_username": "这个号码是工作人员的用户名，不能注册。",
    "problem.activation_code_invalid": "激活码不正确或已过期，请到窗口重新获取。",
    "problem.identity_not_verified": "需要先完成实名核验。",
    "problem.application_not_found": "没有找到这件申请。",
    "problem.application_of_someone_else": "这件申请属于其他人。",
    "problem.application_not_editable": "申请已提交，不能再修改。",
    "problem.application_not_submittable": "申请现在的状态不能提交。",
    "problem.application_not_submitted": "申请还没有提交，不能预审。",
    "problem.application_not_a_draft": "申请已不是草稿。",
    "problem.application_takes_no_supplements": "申请现在的状态不能补交材料。",
    "problem.applicant_id_number_required": "请填写申请人证件号码。",
    "problem.item_not_offered_at_hall": "本大厅不办理这个事项。",
    "problem.open_drafts_limit": "未提交的草稿太多，请先提交或删除一些。",
    "problem.no_pickup_waiting": "这件申请没有等待领取的证照。",
    "problem.certificate_already_collected": "证照已经领走了。",
    "problem.username_taken": "这个用户名已被使用。",
    // checks the console makes before sending
    "check.required": "请填写{field}。",
    "check.passwordShort": "密码至少 {n} 位（现在 {have} 位）。",
    "check.fileType": "“{file}”不是 PDF、JPEG 或 PNG 文件，请换一个。",
    "check.fileSize": "“{file}”有 {size}，超过了 {max} 的上限。",
    "check.fileEmpty": "“{file}”是空文件。",
  },
  {
    "problem.fieldSep": "; ",
    "problem.listSep": ", ",
    "problem.missing": "{field}: required.",
    "problem.string_too_short": "{field}: at least {min_length} characters.",
    "problem.string_too_long": "{field}: at most {max_length} characters.",
    "problem.string_pattern_mismatch": "{field}: not in the right format.",
    "problem.too_short": "{field}: at least {min_length} entries.",
    "problem.too_long": "{field}: at most {max_length} entries.",
    "problem.greater_than_equal": "{field}: at least {ge}.",
    "problem.less_than_equal": "{field}: at most {le}.",
    "problem.literal_error": "{field}: must be {expected}.",
    "problem.enum": "{field}: must be {expected}.",
    "problem.int_parsing": "{field}: a whole number, please.",
    "problem.date_from_datetime_parsing": "{field}: not a valid date.",
    "problem.value_error": "{field}: not valid.",
    "problem.invalid": "{field}: not valid.",
    "problem.region_invalid": "{field}: not a valid 12-digit division code.",
    "problem.critical_materials_missing": "Required materials are missing: {names}. Upload them before submitting.",
    "problem.critical_material_missing": "Required material missing: {name}.",
    "problem.material_missing": "Material missing: {name}.",
    "problem.material_type": "A material must be a PDF, JPEG or PNG file (judged by its content).",
    "problem.material_bad_type": "A material must be a PDF, JPEG or PNG file (judged by its content).",
    "problem.unsupported_media_type": "A material must be a PDF, JPEG or PNG file (judged by its content).",
    "problem.material_too_large": "The file is too large: at most {max} per material.",
    "problem.payload_too_large": "The file is too large; choose a smaller one.",
    "problem.collector_mismatch": "The collector's ID number does not match the applicant's; check who is collecting.",
    "problem.collector_id_mismatch": "The collector's ID number does not match the applicant's; check who is collecting.",
    "problem.password_too_short": "The password needs at least {min_length} characters.",
    "problem.invalid_credentials": "Wrong account or password.",
    "problem.account_exists": "This number already has an account: log in instead.",
    "problem.rate_limited": "Too many requests; try again shortly.",
    "problem.too_many_requests": "Too many requests; try again shortly.",
    "problem.not_found": "Not found.",
    "problem.forbidden": "This account may not do that.",
    "problem.unauthorized": "Please log in again.",
    "problem.status_conflict": "The application's current status ({status}) does not allow this step.",
    "problem.department_forbidden": "Only staff of {department} may do this.",
    "problem.deferred_not_allowed": "{names} may not be deferred.",
    "problem.reason_required": "Give a reason.",
    "problem.opinion_required": "Give an opinion.",
    "problem.material_file_type": "A material must be a PDF, JPEG or PNG file (judged by its content); choose another file.",
    "problem.material_file_too_large": "The file is too large: at most {max} per material.",
    "problem.material_file_empty": "The file is empty; choose another.",
    "problem.material_unknown": "This item has no material \"{name}\".",
    "problem.material_not_deferred": "\"{name}\" was not deferred at acceptance: nothing to supplement.",
    "problem.material_already_supplied": "\"{name}\" has already been supplied.",
    "problem.material_already_provided": "\"{name}\" is already provided; it need not be deferred.",
    "problem.material_has_no_file": "\"{name}\" has no file yet.",
    "problem.critical_material_not_deferrable": "\"{name}\" is required and cannot be deferred.",
    "problem.acceptance_refused_as_it_stands": "The application cannot be accepted as it stands.",
    "problem.materials_quota_exceeded": "Your materials have reached the storage limit; ask at a window.",
    "problem.login_failed": "Wrong account or password.",
    "problem.login_throttled": "Too many failed logins; try again later.",
    "problem.account_locked": "The account is locked; try later or ask at a window.",
    "problem.number_is_staff_username": "This number is a staff username and cannot be registered.",
    "problem.activation_code_invalid": "The activation code is wrong or has expired; ask at a window for a new one.",
    "problem.identity_not_verified": "Verify your identity first.",
    "problem.application_not_found": "No such application.",
    "problem.application_of_someone_else": "This application belongs to someone else.",
    "problem.application_not_editable": "The application has been submitted and can no longer change.",
    "problem.application_not_submittable": "The application cannot be submitted in its current status.",
    "problem.application_not_submitted": "The application has not been submitted: nothing to pre-review.",
    "problem.application_not_a_draft": "The application is no longer a draft.",
    "problem.application_takes_no_supplements": "The application takes no supplements in its current status.",
    "problem.applicant_id_number_required": "Give the applicant's ID number.",
    "problem.item_not_offered_at_hall": "This hall does not offer the item.",
    "problem.open_drafts_limit": "Too many unsubmitted drafts: submit or delete some first.",
    "problem.no_pickup_waiting": "No certificate waits for this application.",
    "problem.certificate_already_collected": "The certificate has already been collected.",
    "problem.username_taken": "This username is taken.",
    "check.required": "Fill in {field}.",
    "check.passwordShort": "The password needs at least {n} characters (it has {have}).",
    "check.fileType": "\"{file}\" is not a PDF, JPEG or PNG file; choose another.",
    "check.fileSize": "\"{file}\" is {size}, over the {max} limit.",
    "check.fileEmpty": "\"{file}\" is empty.",
  },
);

/** A field path ("body.address.region_code", "materials.HUKOU") as a person reads it. */
export function fieldName(path, materials) {
  const parts = String(path || "")
    .split(".")
    .filter((p) => p && !["body", "query", "path", "form"].includes(p));
  if (!parts.length) return "";
  const last = parts[parts.length - 1];
  if ((parts[0] === "materials" || parts[0] === "deferred_materials") && parts.length > 1 && !/^\d+$/.test(last)) return materialName(materials, last);
  const names = lang() === "zh" ? FIELDS_ZH : FIELDS_EN;
  if (names[last]) return names[last];
  // A list index (deferred_materials.0) says nothing: name the list instead.
  if (/^\d+$/.test(last) && parts.length > 1 && names[parts[parts.length - 2]]) return names[parts[parts.length - 2]];
  return last;
}

function listOf(values) {
  return values.filter(Boolean).join(t("problem.listSep"));
}

/** The names a message needs, from a code's params (names when the server sent them, else codes). */
function namesOf(params, materials) {
  const vars = {};
  for (const [k, v] of Object.entries(params || {})) {
    if (v === null || v === undefined) continue;
    vars[k] = Array.isArray(v) ? listOf(v.map(String)) : String(v);
  }
  const mats = params && (params.names || params.material_names || params.materials || params.codes);
  if (Array.isArray(mats)) vars.names = listOf(mats.map((m) => (typeof m === "object" && m ? m.name || m.code : materialName(materials, String(m)))));
  const one = params && (params.material_name || params.name || params.material || params.material_code);
  if (one) vars.name = materialName(materials, String(one));
  if (params && params.department) vars.department = departmentName(params.department);
  if (params && params.status) vars.status = has(`status.${params.status}`) ? t(`status.${params.status}`) : String(params.status);
  if (params && typeof params.max_bytes === "number") vars.max = fileSize(params.max_bytes);
  if (params && params.expected !== undefined) vars.expected = String(params.expected).replace(/'/g, "");
  return vars;
}

function fieldMessage(e, materials) {
  const field = fieldName(e.field || (Array.isArray(e.loc) ? e.loc.join(".") : ""), materials);
  const code = e.code || e.type;
  const key = `problem.${code}`;
  if (code && has(key)) {
    const vars = namesOf(e.params, materials);
    return t(key, { field, ...vars, name: vars.name || field });
  }
  // An unknown code: the field's name with the server's words, never the raw path.
  const words = e.message || e.msg || "";
  return field ? `${field}：${words}` : String(words);
}

/**
 * A problem (problem+json) as one sentence in the console's language. `materials` (an
 * application's or item's list) turns material codes into names.
 */
export function problemMessage(problem, { materials } = {}) {
  const p = problem || {};
  const errors = Array.isArray(p.errors) ? p.errors : [];
  const vars = namesOf({ ...p, ...(p.params || {}) }, materials);
  const parts = [];
  const topKnown = p.code && has(`problem.${p.code}`) && !GENERIC.has(p.code);
  if (topKnown) {
    // The missing materials of a refused submit are listed in errors: say their names.
    if (!vars.names && errors.length && errors.every((e) => String(e.field || "").startsWith("materials."))) {
      vars.names = listOf(errors.map((e) => namesOf(e.params, materials).name || fieldName(e.field, materials)));
    }
    parts.push(t(`problem.${p.code}`, vars));
    // The field errors repeat the top message for these; for the rest they add what is wrong.
    if (!(p.code || "").includes("materials")) parts.push(...errors.map((e) => fieldMessage(e, materials)));
  } else if (errors.length) {
    parts.push(...errors.map((e) => fieldMessage(e, materials)));
  } else if (p.code && has(`problem.${p.code}`) && !p.detail) {
    parts.push(t(`problem.${p.code}`, vars));
  } else {
    parts.push(p.detail || p.title || "");
  }
  return [...new Set(parts.filter(Boolean))].join(t("problem.fieldSep"));
}

// Codes that only repeat the HTTP status: the detail or the field errors say more.
const GENERIC = new Set(["unprocessable", "request_invalid", "bad_request", "conflict", "not_found", "forbidden", "unauthorized", "payload_too_large"]);

/** Bytes as a person reads them (KB, MB). */
export function fileSize(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(bytes % (1024 * 1024) ? 1 : 0)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}

// What intake accepts as a material (by content; the console checks the name and the type the
// browser reports, which catches the common slip of choosing a .docx or a photo in HEIC).
export const MATERIAL_TYPES = ["application/pdf", "image/jpeg", "image/png"];
export const MATERIAL_MAX_BYTES = 10 * 1024 * 1024;

/** Why a chosen file would be refused, or "" when it may be sent. */
export function fileProblem(file, maxBytes = MATERIAL_MAX_BYTES) {
  if (!file) return "";
  const byName = /\.(pdf|jpe?g|png)$/i.test(file.name || "");
  if (!MATERIAL_TYPES.includes(file.type) && !byName) return t("check.fileType", { file: file.name });
  if (file.size === 0) return t("check.fileEmpty", { file: file.name });
  if (file.size > maxBytes) return t("check.fileSize", { file: file.name, size: fileSize(file.size), max: fileSize(maxBytes) });
  return "";
}

/** "Fill in <field>": a required field left empty, said with its name. */
export function requiredMessage(label) {
  return t("check.required", { field: label });
}
