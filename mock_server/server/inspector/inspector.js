// The mock-server inspector: the journal as it fills, a request's detail, the scenarios.
// Everything comes from the admin API; every piece of request text is put in the page as text
// (textContent), never as markup.
"use strict";

const pageBase = location.pathname.replace(/\/__admin(\/.*)?$/, "");
const state = { entries: [], lastId: null, selected: null, tenant: "", timer: null };
const $ = (id) => document.getElementById(id);

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function adminBase() {
  const tenant = state.tenant.trim();
  return (tenant ? "/t/" + encodeURIComponent(tenant) : pageBase) + "/__admin";
}

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const token = sessionStorage.getItem("mock-server-token");
  const headers = Object.assign({}, options.headers || {});
  if (token) headers["X-Admin-Token"] = token;
  const response = await fetch(adminBase() + path, Object.assign({}, options, { headers }));
  if (response.status === 401) throw new Unauthorized();
  if (!response.ok) {
    // An admin error is {"error": {...}}; the catch-all's 404 is in the profile's envelope.
    const said = await response.json().then((body) => {
      const error = Array.isArray(body) ? (body[0] || {}).error : (body || {}).error;
      return (error && error.message) || "";
    }, () => "");
    throw new Error(path + ": " + response.status + (said ? " " + said : ""));
  }
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

function askForToken(refused) {
  clearInterval(state.timer);
  $("requests-view").hidden = true;
  $("scenarios-view").hidden = true;
  $("token-form").hidden = false;
  $("token-error").hidden = !refused;
}

async function start() {
  try {
    await api("/health");
  } catch (error) {
    if (error instanceof Unauthorized) return askForToken(Boolean(sessionStorage.getItem("mock-server-token")));
    throw error;
  }
  $("token-form").hidden = true;
  show("requests");
  await poll();
  state.timer = setInterval(poll, 1000);
}

function show(view) {
  $("requests-view").hidden = view !== "requests";
  $("scenarios-view").hidden = view !== "scenarios";
  $("tab-requests").classList.toggle("active", view === "requests");
  $("tab-scenarios").classList.toggle("active", view === "scenarios");
  if (view === "scenarios") loadScenarios();
}

// --- the request list ----------------------------------------------------------------------

async function poll() {
  try {
    // At most the newest 200 a poll, so a page open under load costs the server little.
    const query = "?limit=200" + (state.lastId ? "&after=" + encodeURIComponent(state.lastId) : "");
    const answer = await api("/requests" + query);
    if (answer.requests.length) {
      state.entries.push(...answer.requests);
      state.entries.splice(0, Math.max(0, state.entries.length - 1000));
      state.lastId = answer.requests[answer.requests.length - 1].id;
      renderList();
    }
    $("status").textContent = state.entries.length + " request(s)";
  } catch (error) {
    if (error instanceof Unauthorized) askForToken(true);
    else $("status").textContent = "server unreachable";
  }
}

function answeredBy(entry) {
  if (entry.scenario) return entry.scenario + "#" + entry.step + (entry.fault ? " fault: " + entry.fault : "");
  if (entry.recorded) return "recorded as " + entry.recorded;
  if (entry.fault) return "fault: " + entry.fault;
  if (entry.status === 200) return "fallback";
  if (entry.near_miss) return "no match";
  if (entry.status === 0) return "client hung up";
  return "error";
}

// A request's conversation as chat messages: chat's own, or a Responses request's instructions
// and input items (an embeddings request's inputs as user messages).
function conversationOf(body) {
  if (!body || typeof body !== "object") return [];
  if (Array.isArray(body.messages)) return body.messages;
  const input = typeof body.input === "string" ? [body.input] : (Array.isArray(body.input) ? body.input : []);
  const messages = body.instructions ? [{ role: "system", content: body.instructions }] : [];
  for (const item of input) messages.push(...asMessages(item));
  return messages;
}

// Responses items (input or output) as chat messages.
function asMessages(item) {
  if (typeof item === "string" || typeof item === "number" || Array.isArray(item)) return [{ role: "user", content: String(item) }];
  if (!item || typeof item !== "object") return [];
  const kind = item.type || (item.role ? "message" : "");
  if (kind === "message") return [{ role: item.role, content: item.content }];
  if (kind === "function_call") return [{ role: "assistant", content: null, tool_calls: [{ id: item.call_id, function: { name: item.name, arguments: item.arguments } }] }];
  if (kind === "function_call_output") return [{ role: "tool", tool_call_id: item.call_id, content: typeof item.output === "string" ? item.output : pretty(item.output) }];
  if (kind === "reasoning") return [{ role: "assistant", content: null, reasoning_content: (item.summary || []).map((s) => s.text).join("\n") }];
  return [{ role: kind || "item", content: item.id ? "(" + item.id + ")" : pretty(item) }];
}

function messagesText(entry) {
  return conversationOf(entry.body).map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content || ""))).join("\n");
}

function visible(entry) {
  const status = $("filter-status").value;
  if (status && String(entry.status)[0] !== status) return false;
  const matched = $("filter-matched").value;
  if (matched === "matched" && !entry.matched) return false;
  if (matched === "unmatched" && entry.matched) return false;
  const scenario = $("filter-scenario").value.trim();
  if (scenario && entry.scenario !== scenario) return false;
  const text = $("filter-text").value.trim().toLowerCase();
  return !text || messagesText(entry).toLowerCase().includes(text);
}

function renderList() {
  const rows = state.entries.filter(visible).reverse().map((entry) => {
    const row = el("tr", { "data-id": entry.id, onclick: () => select(entry) },
      el("td", {}, new Date(entry.time * 1000).toLocaleTimeString()),
      el("td", { class: "s" + String(entry.status)[0] }, entry.status || "—"),
      el("td", {}, entry.profile),
      el("td", {}, (entry.body && entry.body.model) || "—"),
      el("td", {}, answeredBy(entry)),
      el("td", {}, entry.duration_ms),
      el("td", {}, entry.tenant));
    if (state.selected && state.selected.id === entry.id) row.classList.add("selected");
    return row;
  });
  $("requests").tBodies[0].replaceChildren(...rows);
}

// --- one request -----------------------------------------------------------------------------

function pretty(value) {
  if (typeof value === "string") {
    try { return JSON.stringify(JSON.parse(value), null, 2); } catch (_) { return value; }
  }
  return JSON.stringify(value, null, 2);
}

function toolCalls(calls) {
  return (calls || []).map((call) => {
    const fn = call.function || {};
    return el("div", { class: "tool-call" },
      el("div", {}, "→ ", el("strong", {}, fn.name || "?"), call.id ? " (" + call.id + ")" : ""),
      el("pre", { class: "arguments" }, pretty(fn.arguments || "")));
  });
}

function messageBlock(message) {
  const role = message.role || "user";
  const content = typeof message.content === "string" || message.content === null || message.content === undefined
    ? message.content
    : message.content.map((part) => part.text || part.refusal || "[" + part.type + "]").join("\n");
  return el("div", { class: "message " + role },
    el("div", {}, el("span", { class: "role" }, role),
      el("span", { class: "muted" }, (message.tool_call_id ? " → " + message.tool_call_id : "") + (message.name ? " (" + message.name + ")" : ""))),
    content ? el("div", { class: "text" }, content) : null,
    message.reasoning_content ? el("pre", { class: "reasoning" }, message.reasoning_content) : null,
    ...toolCalls(message.tool_calls));
}

function nearMissTable(misses) {
  if (!misses.length) return el("p", {}, "No scenario is loaded for this request's tenant and profile.");
  const rows = [];
  for (const miss of misses) {
    for (const failure of miss.conditions || []) {
      rows.push(el("tr", {},
        el("td", {}, miss.scenario), el("td", {}, miss.source),
        el("td", {}, failure.condition), el("td", {}, failure.wanted), el("td", {}, failure.actual)));
    }
  }
  return el("table", { class: "near-miss" },
    el("thead", {}, el("tr", {}, ...["scenario", "from", "condition", "expected", "actual"].map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows));
}

function timingChart(times) {
  const ns = "http://www.w3.org/2000/svg";
  const width = 420, height = 48, end = Math.max(times[times.length - 1] || 0, 1);
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "timing");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  times.forEach((t) => {
    const tick = document.createElementNS(ns, "line");
    const x = 4 + (t / end) * (width - 8);
    for (const [k, v] of Object.entries({ x1: x, x2: x, y1: 8, y2: height - 8, stroke: "#2563eb" })) tick.setAttribute(k, v);
    svg.append(tick);
  });
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  return el("div", {}, svg, el("div", { class: "muted" },
    "first chunk at " + (times[0] || 0) + " ms, last at " + end + " ms, largest gap " + (gaps.length ? Math.max(...gaps).toFixed(1) : 0) + " ms"));
}

function curlOf(entry) {
  const quote = (text) => "'" + String(text).replace(/'/g, "'\\''") + "'";
  return ["curl -s " + quote(location.origin + entry.path),
    "-H 'Content-Type: application/json'", '-H "Authorization: Bearer $OPENAI_API_KEY"',  // the shell fills the key in
    "-d " + quote(JSON.stringify(entry.body))].join(" \\\n  ");
}

function select(entry) {
  state.selected = entry;
  renderList();
  const body = entry.body && typeof entry.body === "object" ? entry.body : {};
  const parameters = Object.fromEntries(Object.entries(body).filter(([k]) => !["messages", "input", "instructions"].includes(k) || (k === "input" && entry.api === "embeddings")));
  const response = entry.response;
  const choice = response && response.choices && response.choices[0];
  const output = el("pre", { id: "output" });
  const sections = [
    el("h2", {}, entry.method + " " + entry.path + " → " + (entry.status || "no response")),
    el("p", {}, "answered by ", el("strong", { id: "answered-by" }, answeredBy(entry)),
      " · " + entry.profile + " · tenant " + entry.tenant + " · " + entry.duration_ms + " ms"),
    el("div", { class: "actions" },
      el("button", { type: "button", id: "copy-curl", onclick: () => show_(curlOf(entry)) }, "copy as curl"),
      el("button", { type: "button", id: "save-scenario", onclick: saveScenario }, "save as scenario")),
    output,
    el("h2", {}, "Conversation"),
    ...conversationOf(entry.api === "embeddings" ? {} : body).map(messageBlock),
    el("h2", {}, "Parameters"), el("pre", {}, pretty(parameters)),
  ];
  if (entry.near_miss) sections.push(el("h2", {}, "Why no scenario matched"), nearMissTable(entry.near_miss));
  sections.push(el("h2", {}, "Response" + (entry.stream ? " (stream of " + entry.chunks + " chunks)" : "")));
  if (choice && choice.message) sections.push(messageBlock(choice.message), el("p", { class: "muted" }, "finish_reason: " + choice.finish_reason));
  else if (response && Array.isArray(response.output)) sections.push(...response.output.flatMap(asMessages).map(messageBlock), el("p", { class: "muted" }, "status: " + response.status));
  else if (response) sections.push(el("pre", {}, pretty(response)));
  if (entry.stream && entry.chunk_ms && entry.chunk_ms.length) sections.push(timingChart(entry.chunk_ms));
  sections.push(el("h2", {}, "Headers"),
    el("table", {}, el("tbody", {}, ...Object.entries(entry.headers || {}).map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v))))));
  $("detail").replaceChildren(...sections);

  function show_(text) {
    output.textContent = text;
    output.dataset.filled = "true";
    if (navigator.clipboard) navigator.clipboard.writeText(text).catch(() => {});
  }
  async function saveScenario() {
    try {
      show_(await api("/requests/" + encodeURIComponent(entry.id) + "/scenario"));
    } catch (error) {
      if (error instanceof Unauthorized) throw error;
      show_(error.message);  // why no scenario can be made of it
    }
  }
}

// --- scenarios --------------------------------------------------------------------------------

async function loadScenarios() {
  const answer = await api("/scenarios");
  const rows = answer.scenarios.map((s) => el("tr", {},
    el("td", {}, s.name + (s.origin === "added" ? " (added)" : "")), el("td", {}, s.source),
    el("td", {}, s.priority), el("td", {}, s.profile || "any"),
    el("td", {}, s.served_per_step.join(" / ")), el("td", {}, s.on_exhausted)));
  $("scenarios").tBodies[0].replaceChildren(...rows);
}

function refilter() {
  renderList();
}

function switchTenant() {
  state.tenant = $("filter-tenant").value;
  state.entries = [];
  state.lastId = null;
  state.selected = null;
  $("detail").replaceChildren(el("p", { class: "muted" }, "Pick a request to see it."));
  poll();
}

document.addEventListener("DOMContentLoaded", () => {
  $("tab-requests").addEventListener("click", () => show("requests"));
  $("tab-scenarios").addEventListener("click", () => show("scenarios"));
  $("reset-sequences").addEventListener("click", async () => {
    await api("/scenarios/reset", { method: "POST" });
    loadScenarios();
  });
  for (const id of ["filter-status", "filter-matched", "filter-scenario", "filter-text"]) {
    $(id).addEventListener("input", refilter);
  }
  $("filter-tenant").addEventListener("change", switchTenant);
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("mock-server-token", $("token").value);
    start();
  });
  start();
});
