// The checkpoint's page: scan with the camera (BarcodeDetector where the browser has it, jsQR
// otherwise) or paste a token; the answer fills the screen: 通行 / 禁止, colour, masked name, instruction.
//
// When the API cannot be reached the gate keeps moving: the code is checked on the device against the
// keys kept from the last online visit (js/jws.js) and answered on a distinct offline screen — the colour
// as signed, how long ago, 离线核验 — never the red 禁止 of a real stop; a forged, expired or unknown
// code is still refused. Offline scans are queued on the device and uploaded when the network returns,
// with when they were checked (the server counts each once and catches a colour changed since).
import { api, claims, COLOR_WORD, el, NetworkError, Problem, start, t, token, wireSignIn } from "./common.js";
import { checkOffline } from "./jws.js";

const ROLE = "checkpoint";
const $ = (id) => document.getElementById(id);
const SAME_CODE_MS = 10_000; // the same code is not scanned again for 10 s after an answer
const PASS_SHOWN_MS = 1200; // a pass returns to scanning by itself (a stop waits for the tap)
const ONLINE_TIMEOUT_MS = 3000; // then the device checks the code itself
const KEYS_MAX_AGE_MS = 5 * 60_000; // the JWKS's own Cache-Control: past it the answer says the keys are old
const DRAIN_EVERY_MS = 15_000;
let last = { value: null, at: 0 };
let busy = false;
let passTimer = null;
let wakeLock = null;

// the checkpoint this account scans for: the one its token names (the first), or the one it signed in as
const checkpointId = () => String(claims(ROLE).checkpoints || "").split(" ")[0] || localStorage.getItem("hc.checkpoint") || "gate-1";
// the tally's day is the gate's day in China, not UTC's (which turns at 08:00)
const today = () => new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
const tallyKey = () => `hc.tally.${checkpointId()}`;
const queueKey = () => `hc.queue.${checkpointId()}`;

// ------------------------------------------------------------------ the day's tally, per checkpoint
function tally() {
  const saved = JSON.parse(localStorage.getItem(tallyKey()) || "{}");
  return saved.day === today() ? saved : { day: today(), green: 0, yellow: 0, red: 0, invalid: 0 };
}

function showTally() {
  const n = tally();
  $("tally").replaceChildren(
    ...["green", "yellow", "red", "invalid"].map((k) =>
      el("li", { class: `tally-${k}` }, el("span", {}, t(k === "invalid" ? "invalid_codes" : COLOR_WORD[k])), el("strong", { "data-count": k }, String(n[k]))),
    ),
  );
}

function count(color) {
  const n = tally();
  n[color || "invalid"] += 1;
  localStorage.setItem(tallyKey(), JSON.stringify(n));
  showTally();
}

// ------------------------------------------------------------------ the keys kept for offline checks
function keys() {
  return JSON.parse(localStorage.getItem("hc.jwks") || "null");
}

// ours, and the partner cities' (the trust list): both public documents, kept until the next refresh
async function refreshKeys() {
  try {
    const jwks = await api(ROLE, "GET", "/.well-known/jwks.json", undefined, {}, true, ONLINE_TIMEOUT_MS);
    const trust = await api(ROLE, "GET", "/.well-known/trust-list.json", undefined, {}, true, ONLINE_TIMEOUT_MS);
    const kept = { jwks, partners: trust.issuers || {}, fetched_at: Date.now(), issuer: keys()?.issuer || null };
    localStorage.setItem("hc.jwks", JSON.stringify(kept));
  } catch (e) {
    if (e instanceof NetworkError) setNetwork(false); // the kept keys stay
  }
}

function learnIssuer(issuer) {
  const kept = keys();
  if (kept && issuer && kept.issuer !== issuer) localStorage.setItem("hc.jwks", JSON.stringify({ ...kept, issuer }));
}

// ------------------------------------------------------------------ the offline queue
function queue() {
  return JSON.parse(localStorage.getItem(queueKey()) || "[]");
}

function saveQueue(items) {
  localStorage.setItem(queueKey(), JSON.stringify(items));
  $("queue").textContent = items.length ? t("queued", { n: items.length }) : "";
  $("queue").dataset.count = String(items.length);
}

function enqueue(value) {
  saveQueue([...queue(), { token: value, checkpoint_id: checkpointId(), scanned_at: new Date().toISOString() }]);
}

let draining = false;
async function drain() {
  if (draining || !queue().length) return;
  draining = true;
  try {
    for (const scan of queue()) {
      try {
        await api(ROLE, "POST", "/v1/verifications", scan, {}, false, ONLINE_TIMEOUT_MS);
      } catch (e) {
        if (e instanceof NetworkError) return setNetwork(false); // still offline: the rest waits for the next try
        if (e instanceof Problem && ([401, 408, 429].includes(e.status) || e.status >= 500)) return; // signed out, or busy
        // any other answer is final (the server has judged it): the scan leaves the queue
      }
      saveQueue(queue().filter((q) => !(q.token === scan.token && q.scanned_at === scan.scanned_at)));
    }
    setNetwork(true);
  } finally {
    draining = false;
  }
}

// ------------------------------------------------------------------ answers
function setNetwork(ok) {
  $("network").hidden = ok;
}

function signal(pass) {
  try {
    navigator.vibrate?.(pass ? 60 : [200, 100, 200]);
    const audio = new AudioContext();
    const tones = pass ? [880] : [330, 0, 330];
    tones.forEach((hz, i) => {
      if (!hz) return;
      const osc = audio.createOscillator();
      osc.frequency.value = hz;
      osc.connect(audio.destination);
      osc.start(audio.currentTime + i * 0.15);
      osc.stop(audio.currentTime + i * 0.15 + 0.12);
    });
  } catch {
    /* no sound on this device: the screen says it */
  }
}

function showAnswer(classes, decision, color, name, instruction, note = "", retry = null) {
  const box = $("answer");
  box.className = `answer ${classes}`;
  box.dataset.decision = decision;
  $("decision").textContent = decision === "pass" ? t("pass") : decision === "stop" ? t("stop") : t(decision);
  $("answer-color").textContent = color;
  $("answer-name").textContent = name || "";
  $("instruction").textContent = instruction;
  $("answer-note").textContent = note;
  $("retry").hidden = !retry;
  $("retry").onclick = retry;
  box.hidden = false;
  box.focus();
  clearTimeout(passTimer);
  if (decision === "pass" || decision === "offline_pass") passTimer = setTimeout(next, PASS_SHOWN_MS);
  signal(decision === "pass" || decision === "offline_pass");
}

function answer(view) {
  const word = view.color ? t(COLOR_WORD[view.color]) : t(`status_${view.code_status}`);
  showAnswer(`${view.decision} ${view.color || "none"}`, view.decision, word, view.masked_name, view.instruction + (view.degraded ? ` (${t("degraded")})` : ""));
}

// the code checked on the device: the colour as signed, how long ago, and what to do
async function answerOffline(value, retry) {
  enqueue(value); // whatever the device makes of it, the server judges it again when the network is back
  const kept = keys();
  if (!kept) {
    count(null);
    return showAnswer("offline none", "offline_unknown", t("network_error"), "", t("offline_no_keys"), "", retry);
  }
  const found = await checkOffline(value, { jwks: kept.jwks, issuer: kept.issuer }, kept.partners || {});
  if (found.status !== "valid") {
    count(null);
    return showAnswer("stop none", "stop", t(`status_${found.status}`), "", t(`offline_refused_${found.status}`), t("offline_checked"), retry);
  }
  count(found.color);
  const minutes = Math.max(0, Math.round((Date.now() / 1000 - found.iat) / 60));
  const old = Date.now() - kept.fetched_at > KEYS_MAX_AGE_MS;
  const notes = [
    found.partner ? t("offline_partner", { issuer: found.issuer }) : "",
    minutes ? t("offline_signed", { minutes }) : t("offline_signed_now"),
    old ? t("offline_keys_old", { minutes: Math.round((Date.now() - kept.fetched_at) / 60_000) }) : ""];
  const pass = found.color === "green";
  showAnswer(
    `offline ${found.color}`,
    pass ? "offline_pass" : "offline_stop",
    t(COLOR_WORD[found.color]),
    "",
    t(`offline_${found.color}`),
    notes.filter(Boolean).join(" "),
    retry,
  );
}

async function verify(value) {
  value = String(value || "").trim();
  if (busy || !value) return;
  const now = Date.now();
  if (value === last.value && now - last.at < SAME_CODE_MS) return;
  busy = true;
  const retry = () => {
    last = { value: null, at: 0 };
    next();
    verify(value);
  };
  try {
    const view = await api(ROLE, "POST", "/v1/verifications", { token: value, checkpoint_id: checkpointId() }, {}, false, ONLINE_TIMEOUT_MS);
    setNetwork(true);
    learnIssuer(view.issuer);
    count(view.color);
    answer(view);
    drain();
  } catch (e) {
    if (e instanceof Problem && e.status === 401) return show(false);
    if (e instanceof NetworkError || (e instanceof Problem && e.status >= 502)) {
      setNetwork(false);
      await answerOffline(value, retry);
    } else {
      answer({ decision: "stop", color: null, code_status: "error", instruction: e.message });
    }
  } finally {
    last = { value, at: Date.now() };
    busy = false;
  }
}

function next() {
  clearTimeout(passTimer);
  $("answer").hidden = true;
}

// ------------------------------------------------------------------ the camera
const CAMERA_ERRORS = {
  NotFoundError: "camera_not_found",
  OverconstrainedError: "camera_not_found",
  NotAllowedError: "camera_denied",
  SecurityError: "camera_denied",
  NotReadableError: "camera_busy",
  AbortError: "camera_busy",
};

async function keepAwake() {
  try {
    if ("wakeLock" in navigator && document.visibilityState === "visible") wakeLock = await navigator.wakeLock.request("screen");
  } catch {
    wakeLock = null; // refused (battery saver): the gate taps the screen now and then
  }
}

async function camera() {
  const video = $("video");
  if (!navigator.mediaDevices?.getUserMedia) throw Object.assign(new Error(), { name: "NotFoundError" });
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  video.srcObject = stream;
  await video.play();
  await keepAwake();
  let detector = null;
  if ("BarcodeDetector" in window) {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    if (formats.includes("qr_code")) detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  }
  $("camera-state").textContent = detector ? t("camera_native") : t("camera_jsqr");
  $("camera-state").dataset.decoder = detector ? "BarcodeDetector" : "jsQR";
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const scan = async () => {
    if (video.readyState >= 2 && !busy && $("answer").hidden) {
      let value = null;
      if (detector) {
        const found = await detector.detect(video);
        value = found.length ? found[0].rawValue : null;
      } else {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        ctx.drawImage(video, 0, 0);
        const found = window.jsQR(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height, { inversionAttempts: "dontInvert" });
        value = found ? found.data : null;
      }
      if (value) await verify(value);
    }
    setTimeout(scan, 150);
  };
  scan();
}

function show(signedIn) {
  $("sign-in").hidden = signedIn;
  $("scanner").hidden = !signedIn;
  $("checkpoint-id").textContent = checkpointId();
  showTally();
  saveQueue(queue());
  setNetwork(navigator.onLine);
  if (signedIn) {
    refreshKeys();
    drain();
  }
}

async function main() {
  await start();
  wireSignIn(
    ROLE,
    (f) => ({ sub: f.get("sub"), roles: ["checkpoint"], checkpoints: [f.get("checkpoint").trim()] }),
    (f) => {
      localStorage.setItem("hc.checkpoint", f.get("checkpoint").trim());
      show(true);
    },
  );
  $("camera").addEventListener("click", () =>
    camera().catch((e) => {
      $("camera-state").textContent = t(CAMERA_ERRORS[e.name] || "camera_failed");
      $("camera-state").dataset.error = e.name || "Error";
    }),
  );
  $("paste").addEventListener("submit", (ev) => {
    ev.preventDefault();
    last = { value: null, at: 0 };
    verify(new FormData(ev.target).get("token"));
  });
  $("next").addEventListener("click", next);
  $("network-retry").addEventListener("click", () => drain());
  window.addEventListener("online", () => {
    setNetwork(true);
    drain();
  });
  window.addEventListener("offline", () => setNetwork(false));
  document.addEventListener("visibilitychange", () => wakeLock === null || keepAwake());
  setInterval(() => token(ROLE) && drain(), DRAIN_EVERY_MS);
  setInterval(() => token(ROLE) && refreshKeys(), KEYS_MAX_AGE_MS);
  show(Boolean(token(ROLE)));
}

main();
