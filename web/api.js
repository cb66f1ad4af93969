// The public REST API (docs/api.md) at the same origin, through the gateway. Tokens live in
// sessionStorage (gone when the tab closes); a 401 is answered by one refresh, then a new login.

const TOKENS = "ow.tokens";
const ME = "ow.me";
// While a person acts for an enterprise (act-as), their own session waits here, and ACTING
// says who acts for whom (the header shows it; the way back restores SELF).
const SELF = "ow.self";
const ACTING = "ow.acting";
const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(status, problem) {
    const detail = (problem && (problem.detail || problem.title)) || `HTTP ${status}`;
    super(detail);
    this.status = status;
    this.problem = problem || {};
  }

  /** Field problems as "field: message" lines, when the server listed them. */
  get fieldErrors() {
    const errors = this.problem.errors;
    if (!Array.isArray(errors)) return [];
    return errors.map((e) => {
      const where = e.field || (Array.isArray(e.loc) ? e.loc.filter((p) => p !== "body").join(".") : "");
      return where ? `${where}: ${e.message || e.msg || ""}` : String(e.message || e.msg || "");
    });
  }

  /** Detail plus field problems, for an alert box. */
  get full() {
    const extra = this.fieldErrors;
    return extra.length ? `${this.message} (${extra.join("; ")})` : this.message;
  }
}

function read(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) || "null");
  } catch {
    return null;
  }
}

export function tokens() {
  return read(TOKENS);
}

export function me() {
  return read(ME);
}

export function setSession(pair, who) {
  if (pair) sessionStorage.setItem(TOKENS, JSON.stringify({ access: pair.access_token, refresh: pair.refresh_token }));
  if (who) sessionStorage.setItem(ME, JSON.stringify(who));
}

export function clearSession() {
  sessionStorage.removeItem(TOKENS);
  sessionStorage.removeItem(ME);
  sessionStorage.removeItem(SELF);
  sessionStorage.removeItem(ACTING);
}

/** Who acts for whom: {agent: {name, id_number}, enterprise: {name, id_number}}, or null. */
export function acting() {
  return read(ACTING);
}

/** The person's own session (tokens, me) kept aside while acting, or null. */
export function ownSession() {
  return read(SELF);
}

/** Enter act-as: keep the person's own session aside and hold the enterprise's. */
export function startActing(pair, who, actingAs) {
  sessionStorage.setItem(SELF, JSON.stringify({ tokens: tokens(), me: me() }));
  sessionStorage.setItem(ACTING, JSON.stringify(actingAs));
  sessionStorage.setItem(TOKENS, JSON.stringify({ access: pair.access_token, refresh: pair.refresh_token }));
  sessionStorage.setItem(ME, JSON.stringify(who));
}

/** Leave act-as: the person's own session comes back. */
export function stopActing() {
  const own = ownSession();
  sessionStorage.removeItem(SELF);
  sessionStorage.removeItem(ACTING);
  if (own && own.tokens) {
    sessionStorage.setItem(TOKENS, JSON.stringify(own.tokens));
    sessionStorage.setItem(ME, JSON.stringify(own.me));
  } else {
    clearSession();
  }
}

/** A random Idempotency-Key (crypto.randomUUID needs a secure context; this does not). */
export function newKey() {
  if (window.crypto && typeof window.crypto.randomUUID === "function" && window.isSecureContext) {
    return window.crypto.randomUUID();
  }
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

let refreshing = null;

/** Spend the refresh token once for a new pair (shared by concurrent callers). */
async function refresh() {
  const held = tokens();
  if (!held || !held.refresh) return false;
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const res = await fetch(`${BASE}/auth/refresh`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ refresh_token: held.refresh }),
        });
        if (!res.ok) return false;
        setSession(await res.json(), null);
        return true;
      } catch {
        return false;
      }
    })().finally(() => {
      window.setTimeout(() => {
        refreshing = null;
      }, 0);
    });
  }
  return refreshing;
}

async function parse(res) {
  if (res.status === 204) return null;
  const type = res.headers.get("content-type") || "";
  if (type.includes("json")) return res.json();
  if (type.startsWith("text/")) return res.text();
  return res.blob();
}

/**
 * Call the API. `path` starts after /api/v1. Options: method, json (a body), form (FormData),
 * query (an object; empty values are left out), auth (default true), key (an Idempotency-Key).
 */
export async function api(path, { method = "GET", json, form, query, auth = true, key } = {}) {
  let url = `${BASE}${path}`;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
    }
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  const send = async () => {
    const headers = { Accept: "application/json, application/problem+json" };
    const held = tokens();
    if (auth && held && held.access) headers.Authorization = `Bearer ${held.access}`;
    if (key) headers["Idempotency-Key"] = key;
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form) {
      body = form;
    }
    return fetch(url, { method, headers, body });
  };
  let res = await send();
  if (res.status === 401 && auth && tokens()) {
    if (await refresh()) {
      res = await send();
    }
    if (res.status === 401) {
      clearSession();
      window.dispatchEvent(new CustomEvent("ow:signed-out"));
    }
  }
  const data = await parse(res).catch(() => null);
  if (!res.ok) throw new ApiError(res.status, typeof data === "object" ? data : { detail: String(data || "") });
  return data;
}

/** Every page of a list (up to `max` items). */
export async function all(path, query = {}, max = 500) {
  const items = [];
  let cursor = null;
  do {
    const page = await api(path, { query: { ...query, limit: 100, cursor } });
    items.push(...(page.items || []));
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

/**
 * PUT one file as multipart form data, reporting progress (fetch cannot: XMLHttpRequest can).
 * `onProgress(fraction)` gets 0..1. Errors are ApiError like api()'s; a 401 is refreshed once.
 */
export async function uploadFile(path, file, { onProgress } = {}) {
  const send = () =>
    new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", `${BASE}${path}`);
      xhr.setRequestHeader("Accept", "application/json, application/problem+json");
      const held = tokens();
      if (held && held.access) xhr.setRequestHeader("Authorization", `Bearer ${held.access}`);
      xhr.upload.addEventListener("progress", (e) => {
        if (onProgress && e.lengthComputable) onProgress(e.loaded / e.total);
      });
      xhr.addEventListener("load", () => {
        let data = null;
        try {
          data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch {
          data = { detail: xhr.responseText };
        }
        resolve({ status: xhr.status, data });
      });
      xhr.addEventListener("error", () => reject(new TypeError("network error")));
      const form = new FormData();
      form.append("file", file, file.name);
      xhr.send(form);
    });
  let res = await send();
  if (res.status === 401 && tokens() && (await refresh())) res = await send();
  if (res.status < 200 || res.status >= 300) throw new ApiError(res.status, res.data || {});
  if (onProgress) onProgress(1);
  return res.data;
}
