// What every page shares: the configuration, signing in, calling the API in the page's language, and
// the page's own words (web/i18n/<lang>.json: catalogue files, not code).
const CONFIG_URL = "config.json";
let config = null;
let words = {};

export const lang = (() => {
  const asked = new URLSearchParams(location.search).get("lang") || localStorage.getItem("hc.lang");
  if (asked === "en" || asked === "zh-CN") return asked;
  return (navigator.language || "zh-CN").toLowerCase().startsWith("en") ? "en" : "zh-CN";
})();

export async function start() {
  config = await (await fetch(CONFIG_URL)).json();
  words = await (await fetch(`i18n/${lang}.json`)).json();
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
  for (const el of document.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
  const other = lang === "en" ? "zh-CN" : "en";
  const toggle = document.getElementById("lang");
  if (toggle) {
    toggle.textContent = other === "en" ? "English" : "中文";
    toggle.addEventListener("click", () => {
      localStorage.setItem("hc.lang", other);
      location.search = `?lang=${other}`;
    });
  }
  if (config.oidc) await finishOidc();
  // after one online visit the page opens with no network (web/sw.js keeps the pages' own files)
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(() => {});
  return config;
}

export function t(key, values = {}) {
  const text = words[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in values ? String(values[k]) : `{${k}}`));
}

// ------------------------------------------------------------------ signing in
const TOKEN = "hc.token";

export function token(role) {
  return sessionStorage.getItem(`${TOKEN}.${role}`);
}

export function signOut(role) {
  sessionStorage.removeItem(`${TOKEN}.${role}`);
}

// On the local stack: a "sign in as" box mints a token at /dev/tokens (never deployed).
async function devSignIn(role, body) {
  const r = await fetch(`${config.api}/dev/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(t("sign_in_failed"));
  sessionStorage.setItem(`${TOKEN}.${role}`, (await r.json()).token);
}

// The sign-in card every page has: the "sign in as" form where the configuration allows it (the local
// stack), the OpenID Connect button where there is an issuer. ``devBody(form)`` is the /dev/tokens
// request for what the form says; ``signedIn(form)`` runs once the token is in.
export function wireSignIn(role, devBody, signedIn) {
  if (config.dev_sign_in) {
    const form = document.getElementById("dev-sign-in");
    form.hidden = false;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = new FormData(ev.target);
      await devSignIn(role, devBody(f));
      await signedIn(f);
    });
  }
  if (config.oidc) {
    const button = document.getElementById("oidc-sign-in");
    button.hidden = false;
    button.addEventListener("click", () => oidcSignIn(role));
  }
}

// What the signed-in token says about its holder (read only for display: the API checks it)
export function claims(role) {
  const bearer = token(role);
  if (!bearer) return {};
  try {
    const part = bearer.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

// In the deployment: OpenID Connect authorization code with PKCE (RFC 7636) against the configured issuer,
// its endpoints from its discovery document.
async function discovery() {
  const o = config.oidc;
  if (!o.endpoints) o.endpoints = await (await fetch(`${o.issuer}/.well-known/openid-configuration`)).json();
  return o.endpoints;
}

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// what each page asks the identity provider for (the API's routes check these scopes)
const SCOPES = { resident: "openid", checkpoint: "openid checkpoint", admin: "openid health_admin" };

async function oidcSignIn(role) {
  const o = config.oidc;
  const endpoints = await discovery();
  const redirect = `${location.origin}${location.pathname}`; // each page is a registered redirect URI
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem("hc.pkce", JSON.stringify({ verifier, state, role, redirect }));
  const q = new URLSearchParams({
    response_type: "code",
    client_id: o.client_id,
    redirect_uri: redirect,
    scope: SCOPES[role] || "openid",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`${endpoints.authorization_endpoint}?${q}`);
}

async function finishOidc() {
  const q = new URLSearchParams(location.search);
  const saved = JSON.parse(sessionStorage.getItem("hc.pkce") || "null");
  if (!q.get("code") || !saved || q.get("state") !== saved.state) return;
  sessionStorage.removeItem("hc.pkce");
  const o = config.oidc;
  const r = await fetch((await discovery()).token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: q.get("code"),
      redirect_uri: saved.redirect,
      client_id: o.client_id,
      code_verifier: saved.verifier,
    }),
  });
  if (r.ok) sessionStorage.setItem(`${TOKEN}.${saved.role}`, (await r.json()).access_token);
  history.replaceState(null, "", location.pathname); // the code and state leave the address bar
}

// ------------------------------------------------------------------ the API
export class Problem extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title || body.message)) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
  get fields() {
    return this.body.errors || [];
  }
}

// The network failed or took too long (not an answer of the API): the page says 网络异常, never the
// browser's English "Failed to fetch", and decides what it can do without the API.
export class NetworkError extends Error {
  constructor() {
    super(t("network_error"));
  }
}

export const API_TIMEOUT_MS = 8000;

// ``fresh``: ask the server, not the browser's cache (the public map is cacheable for a minute; a
// dashboard watching it wants the level set a moment ago). ``timeoutMs``: then a NetworkError.
export async function api(role, method, path, body, extra = {}, fresh = false, timeoutMs = API_TIMEOUT_MS) {
  const r = await request(role, method, path, body, extra, fresh ? "no-cache" : "default", timeoutMs);
  const type = r.headers.get("content-type") || "";
  if (!r.ok) throw new Problem(r.status, type.includes("json") ? await r.json() : null);
  if (type.startsWith("image/")) return { blob: await r.blob(), headers: r.headers };
  return type.includes("json") ? r.json() : r.text();
}

// The raw answer (a 304 included) or a NetworkError.
export async function request(role, method, path, body, extra = {}, cache = "default", timeoutMs = API_TIMEOUT_MS) {
  const headers = { "Accept-Language": lang, ...extra };
  const bearer = token(role);
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), timeoutMs);
  try {
    return await fetch(`${config.api}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache,
      signal: stop.signal,
    });
  } catch {
    throw new NetworkError();
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------ small helpers
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

export function showFieldErrors(form, problem) {
  for (const old of form.querySelectorAll(".field-error")) old.remove();
  for (const old of form.querySelectorAll("[aria-invalid]")) old.removeAttribute("aria-invalid");
  const general = form.querySelector(".form-error");
  if (general) general.textContent = problem ? problem.message : "";
  if (!problem) return;
  for (const f of problem.fields) {
    const input = form.querySelector(`[data-field="${CSS.escape(f.field)}"]`) || form.querySelector(`[data-field="${CSS.escape(f.field.split(/[.[]/)[0])}"]`);
    const msg = el("span", { class: "field-error", role: "alert" }, `${f.field}: ${f.message}`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.closest("label, fieldset, .field")?.append(msg);
    } else if (general) general.append(el("br"), msg);
  }
}

export const COLOR_WORD = { green: "green_code", yellow: "yellow_code", red: "red_code" };
