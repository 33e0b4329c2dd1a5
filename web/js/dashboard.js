// The health authority's dashboard: the five-colour map, statistics, the index over time, village
// colours, proposed levels, setting a level, uploading a case list, a full rescoring run.
import { api, el, lang, Problem, showFieldErrors, start, t, token, wireSignIn } from "./common.js";

const ROLE = "admin";
const $ = (id) => document.getElementById(id);
const CHUNK = 500; // rows per request: the case list route's limit
const MAP_EVERY_MS = 3000;
const LEVEL_COLORS = { 1: "#1a9e3a", 2: "#2f6fd6", 3: "#f2b600", 4: "#ef7d00", 5: "#d42b2b" };
let mapUrl = null;

async function loadMap() {
  const region = new FormData($("map-form")).get("region").trim();
  const q = region ? `?region=${encodeURIComponent(region)}` : "";
  const [view, pic] = await Promise.all([
    api(ROLE, "GET", `/v1/map${q}`, undefined, {}, true),
    api(ROLE, "GET", `/v1/map.svg${q}`, undefined, {}, true),
  ]);
  if (mapUrl) URL.revokeObjectURL(mapUrl);
  mapUrl = URL.createObjectURL(pic.blob);
  $("map").src = mapUrl;
  $("map").alt = t("map_alt", { name: view.name || region, day: view.as_of });
  $("map-levels").replaceChildren(
    ...Object.entries(view.per_level).map(([color, n]) => el("li", { class: `swatch ${color}` }, `${t(`level_color_${color}`)}: ${n}`)),
  );
  $("map-table").tBodies[0].replaceChildren(
    ...view.counties.map((c) =>
      el("tr", { "data-code": c.code, "data-level": String(c.level) }, el("td", {}, `${c.name} (${c.code})`), el("td", {}, `${c.level} · ${t(`level_color_${c.color}`)}`), el("td", {}, c.set_at ? new Date(c.set_at).toLocaleString(lang) : "—")),
    ),
  );
  await loadStats(region);
}

let serviceDay = null; // the service's day (its clock, not this computer's): the index ends there

async function loadStats(region) {
  const s = await api(ROLE, "GET", `/admin/v1/stats${region ? `?region=${encodeURIComponent(region)}` : ""}`);
  serviceDay = s.on;
  const rows = [
    [t("stats_on"), s.on],
    [t("codes_issued"), s.codes_issued],
    [t("green_code"), s.by_color.green],
    [t("yellow_code"), s.by_color.yellow],
    [t("red_code"), s.by_color.red],
    [t("green_rate"), s.green_rate === null ? "—" : `${(s.green_rate * 100).toFixed(1)}%`],
  ];
  $("stats").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))]));
}

async function loadProposals() {
  const region = new FormData($("map-form")).get("region").trim();
  const p = await api(ROLE, "GET", `/admin/v1/regions/proposals${region ? `?region=${region}` : ""}`);
  $("proposals").replaceChildren(
    ...(p.proposals.length
      ? p.proposals.map((x) =>
          el(
            "li",
            {},
            t("proposal", { name: x.name, from: x.current_level, to: x.proposed_level }),
            " ",
            el("button", { type: "button", class: "small", onclick: () => setLevel(x.code, x.proposed_level) }, t("accept")),
          ),
        )
      : [el("li", { class: "muted" }, t("no_proposals"))]),
  );
}

async function setLevel(code, level) {
  await api(ROLE, "PUT", `/admin/v1/regions/${encodeURIComponent(code)}`, { level: Number(level) });
  await Promise.all([loadMap(), loadProposals()]);
}

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

async function loadIndex() {
  const f = new FormData($("index-form"));
  const q = new URLSearchParams({ region: f.get("region").trim(), from: f.get("from"), to: f.get("to") });
  const view = await api(ROLE, "GET", `/admin/v1/index?${q}`); // exact figures: an official's
  const byCounty = new Map();
  for (const d of view.days) {
    if (!byCounty.has(d.county)) byCounty.set(d.county, { name: d.name, points: [] });
    byCounty.get(d.county).points.push([d.day, d.index]);
  }
  const days = [...new Set(view.days.map((d) => d.day))].sort();
  const svg = $("index-chart");
  const W = 600, H = 220, P = 30;
  const x = (day) => P + (days.length < 2 ? (W - 2 * P) / 2 : (days.indexOf(day) * (W - 2 * P)) / (days.length - 1));
  const y = (v) => H - P - (v / 100) * (H - 2 * P);
  const ns = "http://www.w3.org/2000/svg";
  const node = (tag, attrs, text) => {
    const n = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text) n.textContent = text;
    return n;
  };
  const title = svg.querySelector("title");
  svg.replaceChildren(title, node("line", { x1: P, y1: y(0), x2: W - P, y2: y(0), stroke: "#888" }), node("line", { x1: P, y1: y(0), x2: P, y2: y(100), stroke: "#888" }));
  for (const v of [0, 50, 100]) svg.append(node("text", { x: 4, y: y(v) + 4, "font-size": 10 }, String(v)));
  if (days.length) {
    svg.append(node("text", { x: P, y: H - 8, "font-size": 10 }, days[0]), node("text", { x: W - P - 60, y: H - 8, "font-size": 10 }, days.at(-1)));
  }
  const palette = ["#2f6fd6", "#d42b2b", "#1a9e3a", "#ef7d00", "#7a3fb0", "#00838f"]; // app.css .dot.c0…c5
  $("index-legend").replaceChildren();
  [...byCounty.values()].forEach((c, i) => {
    const color = palette[i % palette.length];
    svg.append(node("polyline", { points: c.points.map(([d, v]) => `${x(d)},${y(v)}`).join(" "), fill: "none", stroke: color, "stroke-width": 2 }));
    for (const [d, v] of c.points) svg.append(node("circle", { cx: x(d), cy: y(v), r: 3, fill: color }, null));
    $("index-legend").append(el("li", {}, el("span", { class: `dot c${i % palette.length}` }), ` ${c.name}: ${c.points.at(-1)[1].toFixed(1)}`));
  });
  if (!byCounty.size) $("index-legend").append(el("li", { class: "muted" }, t("no_index")));
}

async function loadAreas() {
  const county = new FormData($("areas-form")).get("county").trim();
  const view = await api(ROLE, "GET", `/admin/v1/areas?county=${encodeURIComponent(county)}`);
  const severity = { red: 0, yellow: 1, green: 2 };
  const areas = [...view.areas].sort((a, b) => severity[a.color] - severity[b.color] || b.holders - a.holders);
  $("areas").tBodies[0].replaceChildren(
    ...areas.map((a) => el("tr", { class: `row-${a.color}` }, el("td", {}, a.name || a.code), el("td", {}, String(a.holders)), el("td", {}, el("span", { class: `swatch ${a.color}` }, t(`${a.color}_code`))))),
  );
}

function parseCsv(text) {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const head = lines.shift().split(",").map((h) => h.trim());
  return lines.map((line) => {
    const cells = line.split(",").map((c) => c.trim());
    const row = Object.fromEntries(head.map((h, i) => [h, cells[i] || null]));
    return { id_type: row.id_type || "resident_id", id_number: row.id_number, status: row.status, ...(row.on ? { on: row.on } : {}) };
  });
}

async function uploadCases(ev) {
  ev.preventDefault();
  const file = new FormData(ev.target).get("file");
  const rows = parseCsv(await file.text());
  const bar = $("cases-progress");
  bar.hidden = false;
  bar.max = rows.length;
  bar.value = 0;
  let accepted = 0;
  const failed = [];
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    try {
      const r = await api(ROLE, "POST", "/admin/v1/cases", { cases: chunk }, { "Idempotency-Key": `${file.name}-${file.size}-${i}` });
      accepted += r.accepted;
    } catch (e) {
      failed.push(...(e instanceof Problem && e.fields.length ? e.fields.map((f) => `${t("line")} ${i + 2 + Number((f.field.match(/\d+/) || [0])[0])}: ${f.message}`) : [e.message]));
    }
    bar.value = Math.min(i + CHUNK, rows.length);
  }
  $("cases-result").textContent = t("cases_done", { accepted, total: rows.length }) + (failed.length ? ` · ${failed.join("; ")}` : "");
}

async function rescore() {
  const run = await api(ROLE, "POST", "/admin/v1/rescoring", { scope: "all" });
  const bar = $("run-progress");
  bar.hidden = false;
  const poll = async () => {
    const r = await api(ROLE, "GET", `/admin/v1/rescoring/${encodeURIComponent(run.run_id)}`);
    bar.max = r.segments_total;
    bar.value = r.segments_done;
    $("run-state").textContent = t(r.finished ? "run_finished" : "run_going", { done: r.segments_done, total: r.segments_total, read: r.holders_read, changed: r.holders_changed });
    $("run-state").dataset.finished = String(Boolean(r.finished));
    if (!r.finished) setTimeout(poll, 1000);
  };
  await poll();
}

function signedIn(yes) {
  $("sign-in").hidden = yes;
  for (const id of ["map-card", "stats-card", "level-card", "index-card", "areas-card", "cases-card", "rescoring-card"]) $(id).hidden = !yes;
}

async function main() {
  await start();
  wireSignIn(ROLE, (f) => ({ sub: f.get("sub"), roles: ["health_admin"] }), open);
  const on = (id, fn) => $(id).addEventListener("submit", (ev) => { ev.preventDefault(); fn(); });
  on("map-form", () => Promise.all([loadMap(), loadProposals()]));
  on("index-form", loadIndex);
  on("areas-form", loadAreas);
  $("level-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    try {
      await setLevel(f.get("code").trim(), f.get("level"));
      showFieldErrors(ev.target, null);
      ev.target.querySelector(".form-error").textContent = t("saved");
    } catch (e) {
      if (e instanceof Problem) showFieldErrors(ev.target, e);
      else throw e;
    }
  });
  $("cases-form").addEventListener("submit", uploadCases);
  $("rescore").addEventListener("click", rescore);
  if (token(ROLE)) await open();
  else signedIn(false);
}

async function open() {
  signedIn(true);
  await Promise.all([loadMap(), loadProposals(), loadAreas().catch(() => {})]);
  const to = new Date(`${serviceDay}T00:00:00Z`);
  $("index-form").elements.to.value = isoDay(to);
  $("index-form").elements.from.value = isoDay(new Date(to.getTime() - 13 * 86400000));
  await loadIndex().catch(() => {});
  setInterval(() => loadMap().catch(() => {}), MAP_EVERY_MS); // a level set elsewhere shows within seconds
}

main();
