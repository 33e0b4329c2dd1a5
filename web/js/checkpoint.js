// The checkpoint's page: scan with the camera (BarcodeDetector where the browser has it, jsQR
// otherwise) or paste a token; the answer fills the screen: 通行 / 禁止, colour, masked name, instruction.
import { api, claims, COLOR_WORD, el, Problem, start, t, token, wireSignIn } from "./common.js";

const ROLE = "checkpoint";
const $ = (id) => document.getElementById(id);
const SAME_CODE_MS = 4000; // the same code held in front of the camera is not scanned twice
let last = { value: null, at: 0 };
let busy = false;

// the checkpoint this account scans for: the one its token names (the first), or the one it signed in as
const checkpointId = () => String(claims(ROLE).checkpoints || "").split(" ")[0] || localStorage.getItem("hc.checkpoint") || "gate-1";
const today = () => new Date().toISOString().slice(0, 10);

function tally() {
  const saved = JSON.parse(localStorage.getItem("hc.tally") || "{}");
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

function count(view) {
  const n = tally();
  n[view.color || "invalid"] += 1;
  localStorage.setItem("hc.tally", JSON.stringify(n));
  showTally();
}

function answer(view) {
  const box = $("answer");
  box.className = `answer ${view.decision} ${view.color || "none"}`;
  box.dataset.decision = view.decision;
  $("decision").textContent = view.decision === "pass" ? t("pass") : t("stop");
  $("answer-color").textContent = view.color ? t(COLOR_WORD[view.color]) : t(`status_${view.code_status}`);
  $("answer-name").textContent = view.masked_name || "";
  $("instruction").textContent = view.instruction + (view.degraded ? ` (${t("degraded")})` : "");
  box.hidden = false;
  box.focus();
}

async function verify(value) {
  if (busy) return;
  const now = Date.now();
  if (value === last.value && now - last.at < SAME_CODE_MS) return;
  last = { value, at: now };
  busy = true;
  try {
    const view = await api(ROLE, "POST", "/v1/verifications", { token: value.trim(), checkpoint_id: checkpointId() });
    count(view);
    answer(view);
  } catch (e) {
    if (e instanceof Problem && e.status === 401) return show(false);
    answer({ decision: "stop", color: null, code_status: "error", instruction: e.message });
  } finally {
    busy = false;
  }
}

async function camera() {
  const video = $("video");
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  video.srcObject = stream;
  await video.play();
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
  $("camera").addEventListener("click", () => camera().catch((e) => ($("camera-state").textContent = e.message)));
  $("paste").addEventListener("submit", (ev) => {
    ev.preventDefault();
    last = { value: null, at: 0 };
    verify(new FormData(ev.target).get("token"));
  });
  $("next").addEventListener("click", () => ($("answer").hidden = true));
  show(Boolean(token(ROLE)));
}

main();
