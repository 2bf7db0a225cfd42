// The operator dashboard. Polls the admin plane's JSON once a second and updates the page in place;
// buttons call the same admin API a script would, and every answer (or error) is shown.
//
// Why it is built this way:
// - Polling, not server-sent events: one request per pool per second is nothing for the admin
//   plane, survives proxies and restarts without reconnect logic, and a failed poll is exactly the
//   "connection lost" signal the page needs.
// - Rows are kept per endpoint and updated in place (textContent only), never re-rendered from
//   HTML: a keyboard user's focus stays on the button they are on, and names that come from a
//   registry (Consul) can never inject markup.
// - No inline script or style anywhere: the page runs under a strict Content-Security-Policy.
"use strict";

/** The issue asks for live data at most a second old. */
const POLL_MS = 1000;
/** A poll that takes longer than this counts as a lost connection (three missed updates). */
const POLL_TIMEOUT_MS = 3000;
/** Admin actions answer at once (a drain proceeds in the background); this is only a safety net. */
const ACTION_TIMEOUT_MS = 10000;
/** How many transitions each pool's log shows, newest first (the balancer keeps a bounded log). */
const TRANSITIONS_SHOWN = 25;
/** Every state-changing call carries this header: the server refuses cookie-authenticated
 *  changes without it, which a forged cross-site form cannot add. */
const CSRF_HEADERS = { "X-Edge-Admin": "1" };

const pools = new Map(); // pool name -> { section, rows: Map(endpoint id -> row parts), logKey }
let lastSuccess = null;
let lostReason = null;
let sessionProblem = null;
let pollTimer = null;
let polling = false;
let pollAgain = false;
let pendingSwitch = null;
let lastBanners = []; // [kind, text] pairs from the last good poll

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** GET a JSON document; throws ApiError with the API's own message on a non-2xx answer. */
async function getJson(path) {
  const response = await fetch(path, {
    credentials: "same-origin",
    cache: "no-store",
    signal: AbortSignal.timeout(POLL_TIMEOUT_MS),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, (body && body.error) || response.statusText);
  }
  return body;
}

// ---- polling -------------------------------------------------------------------------------

function schedulePoll(delayMs) {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, delayMs);
}

/** Polls now, or right after the poll in progress (after an action, so its effect shows at once). */
function refreshNow() {
  if (polling) {
    pollAgain = true;
  } else {
    schedulePoll(0);
  }
}

async function poll() {
  polling = true;
  try {
    const list = await getJson("/admin/pools");
    const views = await Promise.all(
      list.map((p) => getJson("/admin/pools/" + encodeURIComponent(p.name))));
    renderPools(views);
    lastSuccess = new Date();
    lostReason = null;
    sessionProblem = null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      sessionProblem = e.message;
    } else {
      lostReason = e instanceof ApiError ? `${e.status}: ${e.message}` : e.message;
    }
  } finally {
    polling = false;
    renderConnection();
    schedulePoll(pollAgain ? 0 : POLL_MS);
    pollAgain = false;
  }
}

// ---- rendering -----------------------------------------------------------------------------

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** Sets text only when it changed, so screen readers and selection are not disturbed needlessly. */
function setText(node, text) {
  if (node.textContent !== text) {
    node.textContent = text;
  }
}

/** Seconds in an ISO-8601 duration as Jackson writes java.time.Duration ("PT1M2.5S"). */
function isoSeconds(iso) {
  const m = /^PT(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?[\d.]+)S)?$/.exec(iso || "");
  if (!m) {
    return null;
  }
  return Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0);
}

function ago(seconds) {
  if (seconds < 1) {
    return "just now";
  }
  if (seconds < 120) {
    return `${Math.round(seconds)} s ago`;
  }
  if (seconds < 7200) {
    return `${Math.round(seconds / 60)} min ago`;
  }
  return `${Math.round(seconds / 3600)} h ago`;
}

/** Age of {@code at} relative to the snapshot's own time (both server clocks: no browser skew). */
function ageAt(view, at) {
  return Math.max(0, (Date.parse(view.at) - Date.parse(at)) / 1000);
}

function renderPools(views) {
  const seen = new Set();
  for (const view of views) {
    seen.add(view.name);
    renderPool(view);
  }
  for (const [name, pool] of pools) {
    if (!seen.has(name)) {
      pool.section.remove();
      pools.delete(name);
    }
  }
  renderBanners(views);
}

function createPool(name) {
  const fragment = document.getElementById("pool-template").content.cloneNode(true);
  const section = fragment.querySelector(".pool");
  section.dataset.pool = name;
  section.querySelector(".pool-name").textContent = `Pool ${name}`;
  const select = section.querySelector(".strategy-select");
  select.setAttribute("aria-label", `New strategy for pool ${name}`);
  section.querySelector(".strategy-form").addEventListener("submit", (event) => {
    event.preventDefault();
    askStrategySwitch(name, section.querySelector(".strategy").textContent, select.value);
  });
  document.getElementById("pools").appendChild(fragment);
  const pool = { section, rows: new Map(), logKey: "", strategies: "" };
  pools.set(name, pool);
  return pool;
}

function renderPool(view) {
  const pool = pools.get(view.name) || createPool(view.name);
  const s = pool.section;
  setText(s.querySelector(".strategy"), view.strategy);
  const sw = view.lastSwitch;
  setText(s.querySelector(".strategy-since"),
    sw ? `(from ${sw.from}, ${ago(ageAt(view, sw.at))}, by ${sw.reason})` : "(as configured)");
  const strategies = (view.strategies || []).join(",");
  if (pool.strategies !== strategies) {
    // Only when the list changes: rebuilding would reset an operator's half-made choice.
    const select = s.querySelector(".strategy-select");
    select.replaceChildren(...view.strategies.map((name) => new Option(name, name)));
    select.value = view.strategies.find((n) => n !== view.strategy) || view.strategy;
    pool.strategies = strategies;
  }
  const routable = view.endpoints.filter((e) => e.routable).length;
  const inFlight = view.endpoints.reduce((n, e) => n + e.inFlight, 0);
  setText(s.querySelector(".pool-facts"),
    `${view.endpoints.length} endpoints, ${routable} routable, ${inFlight} in flight · `
      + `source: ${view.source.description} · ${view.zoneMode}`);

  const rates = (view.recentErrorRates && view.recentErrorRates.endpoints) || {};
  const windowSeconds = view.recentErrorRates ? view.recentErrorRates.windowSeconds : 0;
  const tbody = s.querySelector("tbody");
  const seen = new Set();
  view.endpoints.forEach((e, index) => {
    const id = e.endpoint.id;
    seen.add(id);
    const row = pool.rows.get(id) || createRow(pool, view.name, id);
    if (tbody.children[index] !== row.tr) {
      tbody.insertBefore(row.tr, tbody.children[index] || null);
    }
    renderRow(row, view, e, rates[id], windowSeconds);
  });
  for (const [id, row] of pool.rows) {
    if (!seen.has(id)) {
      row.tr.remove();
      pool.rows.delete(id);
    }
  }
  renderTransitions(pool, view);
}

const COLUMNS = ["Endpoint", "State", "Weight", "In flight", "EWMA latency", "Errors (recent)",
  "Breaker", "Ejection left", "Last transition", "Actions"];

function createRow(pool, poolName, id) {
  const tr = el("tr");
  tr.dataset.endpoint = id;
  const cells = COLUMNS.map((label) => {
    const td = el("td");
    td.dataset.label = label; // shown as the field name when the table turns into cards
    tr.appendChild(td);
    return td;
  });
  const row = {
    tr,
    id: el("strong", "endpoint-id", id),
    address: el("span", "endpoint-address"),
    state: el("span", "badge"),
    weight: cells[2],
    inFlight: cells[3],
    ewma: cells[4],
    errors: cells[5],
    breaker: el("span", "badge"),
    ejection: cells[7],
    transition: cells[8],
  };
  cells[0].append(row.id, el("br"), row.address);
  cells[1].appendChild(row.state);
  cells[6].appendChild(row.breaker);
  const base = `/admin/pools/${encodeURIComponent(poolName)}/endpoints/${encodeURIComponent(id)}`;
  const actions = [
    ["Drain", "drain", `${base}/drain`],
    ["Undrain", "undrain", `${base}/undrain`],
    ["Maint on", "maint-on", `${base}/maint?on=true&reason=${encodeURIComponent("dashboard")}`],
    ["Maint off", "maint-off", `${base}/maint?on=false&reason=${encodeURIComponent("dashboard")}`],
  ];
  const group = el("div", "actions");
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", `Actions for ${id}`);
  for (const [label, action, url] of actions) {
    const button = el("button", "action", label);
    button.type = "button";
    button.dataset.action = action;
    button.setAttribute("aria-label", `${label} ${id}`);
    button.addEventListener("click", () => act(`${label} ${id} in pool ${poolName}`, url));
    group.appendChild(button);
  }
  cells[9].appendChild(group);
  pool.rows.set(id, row);
  return row;
}

function renderRow(row, view, e, rate, windowSeconds) {
  const ep = e.endpoint;
  setText(row.address, `${ep.host}:${ep.port}${ep.zone ? " · " + ep.zone : ""}`);
  setText(row.state, e.state);
  row.state.className = `badge state state-${e.state.toLowerCase()}`;
  const ramp = e.slowStartFactor < 1 && e.routable
    ? ` · slow start ${Math.round(e.slowStartFactor * 100)}%` : "";
  setText(row.weight, `${e.configuredWeight} / ${e.effectiveWeight.toFixed(2)}${ramp}`);
  setText(row.inFlight, String(e.inFlight));
  setText(row.ewma, `${e.ewmaLatencyMillis.toFixed(1)} ms`);
  if (!rate || rate.requests === 0) {
    setText(row.errors, `no requests in ${windowSeconds} s`);
  } else {
    setText(row.errors,
      `${(rate.rate * 100).toFixed(1)}% (${rate.errors} of ${rate.requests} in ${windowSeconds} s)`);
  }
  row.errors.classList.toggle("bad", !!rate && rate.errors > 0);
  setText(row.breaker, e.breaker.replace("_", "-"));
  row.breaker.className = `badge breaker breaker-${e.breaker.toLowerCase()}`;
  setText(row.ejection, e.ejectionRemainingMillis > 0
    ? `${(e.ejectionRemainingMillis / 1000).toFixed(1)} s` : "—");
  const t = e.lastTransition;
  setText(row.transition, t
    ? `${t.from || "new"} → ${t.to}, ${ago(ageAt(view, t.at))}: ${t.reason}` : "—");
}

function renderTransitions(pool, view) {
  const log = view.recentTransitions;
  const last = log[log.length - 1];
  const key = `${log.length}:${last ? last.tickerNanos : ""}`;
  if (pool.logKey === key) {
    return;
  }
  pool.logKey = key;
  const items = log.slice(-TRANSITIONS_SHOWN).reverse().map((t) => {
    const li = el("li");
    const time = el("time", "", new Date(t.at).toLocaleTimeString());
    time.dateTime = t.at;
    li.append(time, ` ${t.endpointId}: ${t.from || "new"} → ${t.to} (${t.cause.toLowerCase()}) ${t.reason}`);
    return li;
  });
  const list = pool.section.querySelector(".transitions");
  list.replaceChildren(...items);
  if (items.length === 0) {
    list.appendChild(el("li", "empty", "no transitions yet"));
  }
}

function renderBanners(views) {
  const banners = [];
  for (const v of views) {
    if (v.panic) {
      banners.push(["panic", `PANIC in pool ${v.name}: too few healthy endpoints, so traffic is spread`
        + " over every endpoint that is not draining or in maintenance."]);
    }
    if (v.source.problem) {
      const age = isoSeconds(v.source.staleness);
      banners.push(["stale", `Pool ${v.name}: discovery problem, routing on the last good set`
        + (age === null ? " (never had one)" : ` from ${ago(age)}`) + `: ${v.source.problem}`]);
    }
  }
  lastBanners = banners;
  drawBanners();
}

/** Banners from the last data plus the connection's state; redrawn only when the text changes. */
function drawBanners() {
  const all = [...lastBanners];
  if (sessionProblem) {
    all.unshift(["session", `Not logged in (${sessionProblem}).`]);
  }
  if (lostReason) {
    all.unshift(["lost", `Connection lost: ${lostReason}. Showing data from `
      + (lastSuccess ? lastSuccess.toLocaleTimeString() : "never") + "; retrying every second."]);
  }
  const box = document.getElementById("banners");
  const key = JSON.stringify(all);
  if (box.dataset.key === key) {
    return;
  }
  box.dataset.key = key;
  box.replaceChildren(...all.map(([kind, text]) => {
    const p = el("p", `banner banner-${kind}`, text);
    p.dataset.kind = kind;
    if (kind === "session") {
      const link = el("a", "", "Log in");
      link.href = "/admin/ui/login";
      p.append(" ", link);
    }
    return p;
  }));
}

function renderConnection() {
  const pill = document.getElementById("connection");
  const ok = !lostReason && !sessionProblem;
  setText(pill, ok ? "live" : (sessionProblem ? "not logged in" : "connection lost"));
  pill.className = `pill ${ok ? "pill-ok" : "pill-lost"}`;
  const updated = document.getElementById("updated");
  if (lastSuccess) {
    setText(updated, lastSuccess.toLocaleTimeString());
    updated.dateTime = lastSuccess.toISOString();
  }
  drawBanners();
}

// ---- actions -------------------------------------------------------------------------------

function showResult(kind, text) {
  const result = document.getElementById("action-result");
  result.hidden = false;
  result.className = `result result-${kind}`;
  result.dataset.kind = kind;
  result.textContent = text;
}

/** POSTs to the admin API and shows what it said: its success, or its error message verbatim. */
async function act(label, url) {
  showResult("pending", `${label}…`);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: CSRF_HEADERS,
      credentials: "same-origin",
      signal: AbortSignal.timeout(ACTION_TIMEOUT_MS),
    });
    const body = await response.json().catch(() => null);
    if (response.ok) {
      showResult("ok", `${label}: done (${response.status}).`);
    } else {
      showResult("error",
        `${label} failed (${response.status}): ${(body && body.error) || response.statusText}`);
    }
  } catch (e) {
    showResult("error", `${label} failed: the admin plane did not answer (${e.message})`);
  }
  refreshNow();
}

function askStrategySwitch(poolName, current, chosen) {
  pendingSwitch = { poolName, chosen };
  document.getElementById("confirm-text").textContent =
    `Switch pool ${poolName} from ${current} to ${chosen}? New requests are routed by ${chosen}`
      + " at once; another switch is refused until the dwell time has passed.";
  document.getElementById("confirm-strategy").showModal();
}

function setUpDialog() {
  const dialog = document.getElementById("confirm-strategy");
  document.getElementById("confirm-yes").addEventListener("click", () => dialog.close("switch"));
  document.getElementById("confirm-no").addEventListener("click", () => dialog.close("cancel"));
  // Closing by Escape leaves returnValue empty: that is a cancel too.
  dialog.addEventListener("close", () => {
    const p = pendingSwitch;
    pendingSwitch = null;
    if (!p) {
      return;
    }
    if (dialog.returnValue === "switch") {
      act(`Switch pool ${p.poolName} to ${p.chosen}`,
        `/admin/pools/${encodeURIComponent(p.poolName)}/strategy?name=${encodeURIComponent(p.chosen)}`);
    } else {
      showResult("info", `Strategy switch of pool ${p.poolName} cancelled.`);
    }
    dialog.returnValue = "";
  });
}

async function setUpSession() {
  try {
    const session = await getJson("/admin/ui/session");
    const logout = document.getElementById("logout");
    logout.hidden = !(session.authRequired && session.via === "cookie");
    logout.addEventListener("click", async () => {
      await fetch("/admin/ui/logout", { method: "POST", headers: CSRF_HEADERS, credentials: "same-origin" })
        .catch(() => null);
      window.location.assign("/admin/ui/login");
    });
  } catch (e) {
    // The first poll reports the same problem in the banner; nothing to add here.
  }
}

setUpDialog();
setUpSession();
poll();
