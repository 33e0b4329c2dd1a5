// The resident's page: sign in, declare, and the code card (colour, QR, live clock, refresh countdown,
// reasons, quarantine progress, daily check-in).
import { api, COLOR_WORD, el, lang, Problem, showFieldErrors, start, t, token, wireSignIn } from "./common.js";

const ROLE = "resident";
const SYMPTOMS = ["fever", "cough", "sore_throat", "fatigue", "shortness_of_breath", "diarrhoea", "loss_of_taste_or_smell"];
const $ = (id) => document.getElementById(id);
// when to fetch a new code: a minute (at most a quarter of its life) before it expires, counted on this
// phone's clock from when the code arrived (a phone whose clock is wrong still refreshes in time)
let refreshAt = null;
let qrUrl = null;
let refreshing = false;

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
  if (!refreshAt) return;
  const left = Math.max(0, Math.round((refreshAt - now) / 1000));
  $("countdown").textContent = t("refresh_in", { seconds: left });
  if (left === 0 && !refreshing) refresh();
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
  refreshing = true;
  try {
    const view = await api(ROLE, "GET", "/v1/codes/me");
    render(view);
    const pic = await api(ROLE, "GET", "/v1/codes/me/qr.svg");
    if (qrUrl) URL.revokeObjectURL(qrUrl);
    qrUrl = URL.createObjectURL(pic.blob);
    $("qr").src = qrUrl;
    $("qr").alt = t("qr_alt", { color: t(COLOR_WORD[view.color]) });
    const lifetime = Number(pic.headers.get("X-Token-Lifetime")) * 1000;
    refreshAt = Date.now() + lifetime - Math.min(60_000, lifetime / 4);
    $("qr").dataset.expiresAt = pic.headers.get("X-Token-Expires-At");
    show("code");
  } catch (e) {
    if (e instanceof Problem && e.status === 404) show("declare");
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
  tick();
  if (token(ROLE)) await refresh();
  else show("sign-in");
}

main();
