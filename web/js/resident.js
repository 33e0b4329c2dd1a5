// The resident's page: sign in, declare, and the code card (colour, QR, live clock, refresh countdown,
// reasons, quarantine progress, daily check-in).
import { api, COLOR_WORD, el, lang, NetworkError, Problem, request, showFieldErrors, start, t, token, wireSignIn } from "./common.js";

const ROLE = "resident";
const SYMPTOMS = ["fever", "cough", "sore_throat", "fatigue", "shortness_of_breath", "diarrhoea", "loss_of_taste_or_smell"];
const $ = (id) => document.getElementById(id);
// when to fetch a new code: a minute (at most a quarter of its life) before it expires, counted on this
// phone's clock from when the code arrived (a phone whose clock is wrong still refreshes in time)
let refreshAt = null;
let qrUrl = null;
let refreshing = false;
// Never stale without saying so: offline, the last code stays with the live clock under a 网络异常
// banner, and once it has expired the QR is greyed and marked 已过期 until a fresh one arrives. Online,
// an open page asks every few seconds whether anything it shows changed (a conditional GET: 304 while
// nothing did), and nothing while it is hidden.
const WATCH_MS = 10_000;
const LAST = "hc.lastcode";
let etag = null;
let offline = false;
let retryMs = 2000;
let retryTimer = null;

function show(section) {
  for (const id of ["sign-in", "declare", "code"]) $(id).hidden = id !== section;
}

function symptomBoxes(container, name) {
  container.replaceChildren(
    ...SYMPTOMS.map((s) =>
      el("label", { class: "check" }, el("input", { type: "checkbox", name, value: s }), " ", t(`symptom_${s}`)),
    ),
  );
}

function addStay() {
  const i = $("stays").children.length;
  $("stays").append(
    el(
      "div",
      { class: "stay" },
      el("label", {}, el("span", {}, t("stay_region")), el("input", { name: "stay_region", "data-field": `travel_history[${i}].region`, required: "" })),
      el("label", {}, el("span", {}, t("stay_arrived")), el("input", { name: "stay_arrived", type: "date", "data-field": `travel_history[${i}].arrived_on` })),
      el("label", {}, el("span", {}, t("stay_left")), el("input", { name: "stay_left", type: "date", "data-field": `travel_history[${i}].left_on` })),
    ),
  );
}

function declaration(form) {
  const f = new FormData(form);
  const stays = [...$("stays").children].map((row) => ({
    region: row.querySelector("[name=stay_region]").value.trim(),
    arrived_on: row.querySelector("[name=stay_arrived]").value || null,
    left_on: row.querySelector("[name=stay_left]").value || null,
  }));
  const kind = f.get("contact_kind");
  const temperature = f.get("temperature");
  return {
    name: f.get("name").trim(),
    id_type: "resident_id",
    id_number: f.get("id_number").trim(),
    phone: f.get("phone").trim(),
    residence_region: f.get("residence_region").trim(),
    travel_history: stays,
    contact: kind === "none" ? { kind } : { kind, on: f.get("contact_on") || null },
    symptoms: f.getAll("symptoms"),
    temperature: temperature === "" ? null : Number(temperature),
    attestation: f.get("attestation") === "on",
  };
}

function fmtTime(d) {
  return d.toLocaleTimeString(lang, { hour12: false });
}

function tick() {
  const now = new Date();
  $("clock").textContent = `${now.toLocaleDateString(lang)} ${fmtTime(now)}`;
  $("clock").dateTime = now.toISOString();
  const expiresAt = Date.parse($("qr").dataset.expiresAt || "");
  const expired = Number.isFinite(expiresAt) && now.getTime() > expiresAt;
  $("qr").classList.toggle("expired", expired);
  $("expired-mark").hidden = !expired;
  if (!refreshAt) return;
  const left = Math.max(0, Math.round((refreshAt - now) / 1000));
  $("countdown").textContent = offline ? t("refresh_when_online") : t("refresh_in", { seconds: left });
  if (left === 0 && !refreshing && !offline) refresh();
}

function setOffline(isOffline) {
  offline = isOffline;
  $("stale").hidden = !isOffline;
  $("stale").textContent = isOffline ? t("code_offline") : "";
  clearTimeout(retryTimer);
  if (isOffline) {
    retryTimer = setTimeout(() => refresh(), retryMs + Math.random() * 1000); // backing off, with jitter
    retryMs = Math.min(retryMs * 2, 30_000);
  } else retryMs = 2000;
}

function showQr(svgText, expiresAt, color) {
  if (qrUrl) URL.revokeObjectURL(qrUrl);
  qrUrl = URL.createObjectURL(new Blob([svgText], { type: "image/svg+xml" }));
  $("qr").src = qrUrl;
  $("qr").alt = t("qr_alt", { color: t(COLOR_WORD[color]) });
  $("qr").dataset.expiresAt = expiresAt;
}

// the last code this phone had, shown when it cannot get a new one (a reload with no network)
function restore() {
  const kept = JSON.parse(localStorage.getItem(LAST) || "null");
  if (!kept) return false;
  render(kept.view);
  showQr(kept.svg, kept.expiresAt, kept.view.color);
  show("code");
  return true;
}

// while the page is visible: has anything it shows changed? (304: no)
async function watch() {
  if (document.visibilityState !== "visible" || refreshing || offline || !etag || $("code").hidden) return;
  try {
    const r = await request(ROLE, "GET", "/v1/codes/me", undefined, { "If-None-Match": etag }, "no-store");
    if (r.status === 304 || !r.ok) return;
    etag = r.headers.get("ETag");
    const view = await r.json();
    const before = $("code").dataset.color;
    render(view);
    if (view.color !== before) await refresh(); // the QR carries the colour too: a new one at once
  } catch (e) {
    if (e instanceof NetworkError) setOffline(true);
  }
}

function render(view) {
  const card = $("code");
  card.dataset.color = view.color;
  $("banner").className = `banner ${view.color}`;
  $("color-word").textContent = t(COLOR_WORD[view.color]);
  $("masked-name").textContent = view.masked_name;
  $("green-on").textContent = view.green_eligible_on || "—";
  const q = view.quarantine;
  $("progress").textContent = q
    ? q.checkins_required
      ? `${q.checkins_done}/${q.checkins_required}` + (q.note ? ` · ${q.note}` : "")
      : t("quarantine_medical")
    : "—";
  $("reasons").replaceChildren(
    ...(view.reasons.length ? view.reasons : [{ detail: t("no_reasons"), points: 0 }]).map((r) =>
      el("li", {}, r.detail, r.points ? el("span", { class: "points" }, ` +${r.points}`) : null),
    ),
  );
}

async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const r = await request(ROLE, "GET", "/v1/codes/me", undefined, {}, "no-store");
    if (!r.ok) throw new Problem(r.status, (r.headers.get("content-type") || "").includes("json") ? await r.json() : null);
    etag = r.headers.get("ETag");
    const view = await r.json();
    render(view);
    const pic = await api(ROLE, "GET", "/v1/codes/me/qr.svg");
    const svg = await pic.blob.text();
    const expiresAt = pic.headers.get("X-Token-Expires-At");
    showQr(svg, expiresAt, view.color);
    const lifetime = Number(pic.headers.get("X-Token-Lifetime")) * 1000;
    refreshAt = Date.now() + lifetime - Math.min(60_000, lifetime / 4);
    localStorage.setItem(LAST, JSON.stringify({ view, svg, expiresAt }));
    setOffline(false);
    show("code");
  } catch (e) {
    if (e instanceof NetworkError || (e instanceof Problem && e.status >= 502)) {
      if ($("code").hidden && !restore()) show("sign-in");
      setOffline(true);
    } else if (e instanceof Problem && e.status === 404) show("declare");
    else if (e instanceof Problem && e.status === 401) show("sign-in");
    else throw e;
  } finally {
    refreshing = false;
  }
}

async function main() {
  await start();
  for (const box of document.querySelectorAll(".symptoms")) symptomBoxes(box, "symptoms");
  $("add-stay").addEventListener("click", addStay);
  $("redeclare").addEventListener("click", () => show("declare"));
  wireSignIn(
    ROLE,
    (f) => ({ sub: f.get("sub"), roles: [], identity: { id_type: "resident_id", id_number: f.get("id_number").trim() } }),
    async (f) => {
      $("declaration").elements.id_number.value = f.get("id_number").trim();
      await refresh();
    },
  );
  $("declaration").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api(ROLE, "POST", "/v1/applications", declaration(ev.target), { "Idempotency-Key": crypto.randomUUID() });
      showFieldErrors(ev.target, null);
      await refresh();
    } catch (e) {
      if (e instanceof Problem) showFieldErrors(ev.target, e);
      else throw e;
    }
  });
  $("checkin").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    try {
      render(await api(ROLE, "POST", "/v1/checkins", { temperature: Number(f.get("temperature")), symptoms: f.getAll("symptoms") }));
      showFieldErrors(ev.target, null);
      ev.target.querySelector(".form-error").textContent = t("checked_in");
    } catch (e) {
      if (e instanceof Problem) showFieldErrors(ev.target, e);
      else throw e;
    }
  });
  setInterval(tick, 1000);
  setInterval(watch, WATCH_MS);
  window.addEventListener("online", () => refresh()); // a fresh code as soon as the network is back
  window.addEventListener("offline", () => setOffline(true));
  document.addEventListener("visibilitychange", () => watch());
  tick();
  if (token(ROLE)) await refresh();
  else show("sign-in");
}

main();
