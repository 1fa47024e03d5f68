// Supervisor dashboard: the office live (services, counters, open tickets, safety and printer
// alerts), the few supervisor commands, and the reports. Authentication is the HttpOnly
// session cookie the server sets when the page is opened once with ?token=.
//
// The live part only renders what the server sends through LobbyState (office_state.js):
// every figure (waits and their colour, who waits for which counter, idle time, the breach
// itself) arrives computed. Rules kept here: every text goes into the page through textContent
// (never innerHTML), and nothing about a visitor is written to the console.
"use strict";

(function () {
  const SUPERVISOR_ROLES = ["supervisor", "admin"];
  const PRINTER_WORDS = {
    ok: "OK",
    paper_near_end: "Paper running low",
    paper_out: "Out of paper",
    cover_open: "Cover open",
    offline: "Offline",
    error: "Error",
    unknown: "Not answering",
  };
  const COUNTER_WORDS = { closed: "Closed", open: "Open, idle", calling: "Calling", serving: "Serving", break: "On break" };
  const TICKET_WORDS = { waiting: "Waiting", called: "Called", serving: "At the counter" };
  const TICKET_ORDER = { called: 0, serving: 1, waiting: 2 };
  const SERVICE_WORDS = { open: "Open", closing: "Closing soon", closed: "Closed" };

  let link = null; // LobbyState.follow(): the folded stream
  let state = null; // link.state once a supervisor's snapshot has arrived
  let signedOut = false;
  let lastReport = null;
  const pendingChecks = new Map(); // alert id -> items ticked here, until the server answers
  const rows = new Map(); // table id -> Map(key -> row)

  // ------------------------------------------------------------------ helpers

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, props, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function serverNow() {
    return link ? link.serverNow() : Date.now();
  }

  function timeZone() {
    return (state && state.office && state.office.timezone) || undefined;
  }

  function clockText(iso) {
    const when = iso instanceof Date ? iso : new Date(iso);
    try {
      return when.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit", timeZone: timeZone() });
    } catch (err) {
      return when.toLocaleTimeString();
    }
  }

  function officeToday() {
    const now = new Date(serverNow());
    try {
      const parts = new Intl.DateTimeFormat("en-CA", {
        timeZone: timeZone(), year: "numeric", month: "2-digit", day: "2-digit",
      }).format(now);
      if (/^\d{4}-\d{2}-\d{2}$/.test(parts)) return parts;
    } catch (err) {
      /* fall through */
    }
    return state && state.now ? state.now.slice(0, 10) : now.toISOString().slice(0, 10);
  }

  function minutesText(minutes) {
    if (minutes == null || Number.isNaN(minutes)) return "–";
    if (minutes < 1) return "<1 min";
    if (minutes < 60) return Math.floor(minutes) + " min";
    const h = Math.floor(minutes / 60);
    const m = Math.floor(minutes % 60);
    return h + " h " + String(m).padStart(2, "0") + " min";
  }

  function secondsText(seconds) {
    const s = Math.max(0, Math.round(seconds || 0));
    if (s < 60) return s + " s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + " min " + String(s % 60).padStart(2, "0") + " s";
    return Math.floor(m / 60) + " h " + String(m % 60).padStart(2, "0") + " min";
  }

  async function api(method, path, body) {
    const options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch (err) {
      throw new Error("The server cannot be reached. Check the network and try again.");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (response.status === 401) {
      signOut("Your session has ended. Please sign in again.");
    }
    if (!response.ok) {
      const message = data && data.error && data.error.message;
      const error = new Error(message || "The server refused (" + response.status + ").");
      error.status = response.status;
      throw error;
    }
    return data;
  }

  let toastTimer = null;
  function toast(message) {
    const node = $("toast");
    node.textContent = message;
    node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (node.hidden = true), 8000);
  }

  // Keyed table rows: each row is built once and only its texts change, so a button is never
  // replaced under the pointer while the server's tick redraws the dashboard every 2 s.
  function syncRows(tableId, items, keyOf, build, update) {
    const tbody = $(tableId).tBodies[0];
    const known = rows.get(tableId) || new Map();
    rows.set(tableId, known);
    const wanted = new Set();
    items.forEach((item, index) => {
      const key = String(keyOf(item));
      wanted.add(key);
      let row = known.get(key);
      if (!row) {
        row = build(item);
        row.dataset.key = key;
        known.set(key, row);
      }
      update(row, item);
      if (tbody.children[index] !== row) tbody.insertBefore(row, tbody.children[index] || null);
    });
    for (const [key, row] of known) {
      if (!wanted.has(key)) {
        row.remove();
        known.delete(key);
      }
    }
  }

  function cells(count, numeric) {
    const row = el("tr");
    for (let i = 0; i < count; i++) row.append(el("td", numeric && numeric.includes(i) ? { className: "num" } : {}));
    return row;
  }

  function setCell(cell, text, className) {
    if (cell.textContent !== text) cell.textContent = text;
    const wanted = (cell.classList.contains("num") ? "num " : "") + (className || "");
    if (cell.className !== wanted.trim()) cell.className = wanted.trim();
  }

  // ----------------------------------------------------------------- stream

  function setLink(live) {
    const node = $("link");
    node.textContent = live ? "Live" : "Reconnecting…";
    node.className = "link " + (live ? "live" : "reconnecting");
  }

  function onChange(folded, applied) {
    if (signedOut) return;
    if (applied.snapshot && !SUPERVISOR_ROLES.includes(folded.role)) {
      signOut("This browser is signed in as a " + folded.role + ". The dashboard is for supervisors.");
      return;
    }
    const first = state === null;
    state = folded;
    render();
    if (first) {
      showOnly("dashboard");
      loadDevices();
      loadEmergencyKinds();
      const today = officeToday();
      setRange(today, today);
    }
  }

  function onLink(up, failures) {
    setLink(up);
    if (!up && failures > 1 && state === null) $("starting").textContent = "The server cannot be reached. Trying again…";
  }

  // ----------------------------------------------------------------- render

  function render() {
    if (!state) return;
    $("office-name").textContent = state.office.name;
    renderEmergency();
    renderAlerts();
    renderPrinters();
    renderServices();
    renderCounters();
    renderTickets();
    renderNotice();
    renderClock();
  }

  // The page's own clock: the time in the header and how long ago each alert was raised.
  function tickClock() {
    if (!state || $("dashboard").hidden) return;
    if (state.office.emergency) renderEmergency();
    renderAlertTimes();
    renderClock();
  }

  function renderClock() {
    $("clock").textContent = clockText(new Date(serverNow()));
  }

  function agoText(iso) {
    const minutes = (serverNow() - Date.parse(iso)) / 60000;
    return minutes < 1 ? "just now" : minutesText(minutes) + " ago";
  }

  function renderAlerts() {
    const box = $("alerts");
    const alerts = [...state.alerts.values()].sort((a, b) => a.id - b.id);
    box.hidden = alerts.length === 0;
    document.title = (alerts.length ? "SAFETY ALERT · " : "") + "Supervisor · Lobby";
    const present = new Set(alerts.map((a) => String(a.id)));
    for (const node of [...box.children]) {
      if (!present.has(node.dataset.alert)) node.remove();
    }
    for (const alert of alerts) {
      let node = box.querySelector('[data-alert="' + alert.id + '"]');
      if (!node) {
        node = buildAlert(alert);
        box.append(node);
      }
      node.querySelector(".alert-where").textContent =
        (alert.counter_name || alert.counter || "Unknown counter") + (alert.staff ? " · " + alert.staff : "");
      node.querySelector(".alert-detail").textContent = alert.detail || "";
      const done = pendingChecks.get(alert.id) || alert.done || []; // left out of the JSON when empty
      node.querySelectorAll("input[type=checkbox]").forEach((box_, index) => {
        if (document.activeElement !== box_) box_.checked = done.includes(index);
      });
      // The note another supervisor saved, unless this one is typing over it.
      const note = node.querySelector(".alert-note");
      if (document.activeElement !== note && !note.dataset.dirty) note.value = alert.note || "";
    }
    renderAlertTimes();
  }

  function renderAlertTimes() {
    for (const alert of state.alerts.values()) {
      const node = $("alerts").querySelector('[data-alert="' + alert.id + '"] .alert-when');
      if (node) node.textContent = clockText(alert.at) + " (" + agoText(alert.at) + ")";
    }
  }

  function buildAlert(alert) {
    const checklist = (state.office.safety_checklist || []).map((item, index) =>
      el("li", {}, [
        el("label", {}, [
          el("input", { type: "checkbox", dataset: { item: String(index) }, onchange: () => sendChecklist(alert.id) }),
          el("span", { text: item }),
        ]),
      ])
    );
    const note = el("textarea", {
      className: "alert-note", rows: "2", maxlength: "2000", "aria-label": "Note about this alert",
      oninput: () => (note.dataset.dirty = "1"),
    });
    return el("article", { className: "alert", dataset: { alert: String(alert.id) } }, [
      el("header", { className: "alert-head" }, [
        el("strong", { className: "alert-title", text: "SAFETY ALERT" }),
        el("span", { className: "alert-where" }),
        el("span", { className: "alert-when" }),
      ]),
      el("ol", { className: "alert-checklist" }, checklist),
      el("div", { className: "alert-foot" }, [
        note,
        el("button", { type: "button", className: "light", text: "Save note", onclick: () => sendChecklist(alert.id) }),
        el("span", { className: "alert-detail" }),
      ]),
    ]);
  }

  async function sendChecklist(alertId) {
    const node = $("alerts").querySelector('[data-alert="' + alertId + '"]');
    if (!node) return;
    const done = [];
    node.querySelectorAll("input[type=checkbox]").forEach((box) => {
      if (box.checked) done.push(Number(box.dataset.item));
    });
    const noteBox = node.querySelector(".alert-note");
    const note = noteBox.value.trim();
    pendingChecks.set(alertId, done);
    try {
      const answer = await api("POST", "/api/alerts/checklist", { alert_id: alertId, done: done, note: note || null });
      delete noteBox.dataset.dirty;
      if (answer.resolved) toast("Safety alert at " + (answer.counter_name || "the counter") + ": checklist complete.");
    } catch (err) {
      toast("The checklist was not saved: " + err.message);
    } finally {
      pendingChecks.delete(alertId);
    }
  }

  function printerText(printer) {
    const word = PRINTER_WORDS[printer.status] || printer.status;
    return printer.detail && printer.detail !== word ? word + " (" + printer.detail + ")" : word;
  }

  function renderPrinters() {
    const list = $("printers");
    list.replaceChildren();
    const printers = [...state.printers.values()].sort((a, b) => a.device.localeCompare(b.device));
    if (!printers.length) list.append(el("li", { className: "muted", text: "No kiosk printer has reported yet." }));
    const problems = [];
    for (const printer of printers) {
      const ok = printer.status === "ok";
      if (!ok) problems.push(printer.device + ": " + printerText(printer));
      list.append(
        el("li", { className: ok ? "printer ok" : "printer bad", dataset: { device: printer.device } }, [
          el("span", { className: "device", text: printer.device }),
          el("span", { className: "status", text: printerText(printer) }),
        ])
      );
    }
    const band = $("printer-band");
    band.textContent = problems.length ? "Printer needs attention — " + problems.join(" · ") : "";
    band.hidden = problems.length === 0;
  }

  function renderServices() {
    syncRows(
      "services",
      [...state.services.values()],
      (s) => s.id,
      (service) => {
        const row = cells(6, [2, 3, 4]);
        const actions = el("div", { className: "actions" }, [
          el("button", { type: "button", className: "small", text: "Open", dataset: { action: "open" }, onclick: () => serviceAction(service.id, "open") }),
          el("button", { type: "button", className: "small", text: "Close", dataset: { action: "close" }, onclick: () => serviceAction(service.id, "close") }),
          el("button", { type: "button", className: "small secondary", text: "Follow hours", title: "Open and close by the configured hours again", dataset: { action: "hours" }, onclick: () => serviceAction(service.id, "hours") }),
        ]);
        row.cells[5].append(actions);
        row.cells[0].append(el("span", { className: "name" }), el("span", { className: "sub" }));
        return row;
      },
      (row, service) => {
        const name = row.cells[0].querySelector(".name");
        if (name.textContent !== service.name) name.textContent = service.name;
        row.cells[0].querySelector(".sub").textContent =
          service.prefix + " · " + service.hours + " · target " + service.target_wait_min + " min";
        setCell(row.cells[1], SERVICE_WORDS[service.state] || service.state, "state-" + service.state);
        setCell(row.cells[2], String(service.waiting));
        setCell(
          row.cells[3],
          service.waiting ? minutesText(service.longest_wait_min) : "–",
          service.waiting ? service.wait_level : ""
        );
        setCell(row.cells[4], service.estimate.low_min + "–" + service.estimate.high_min + " min");
      }
    );
  }

  // The reply is not folded in: the stream brings the service (and every screen sees it at once).
  async function serviceAction(serviceId, action) {
    try {
      await api("POST", "/api/services/" + encodeURIComponent(serviceId) + "/" + action, {});
    } catch (err) {
      toast("Could not change the service: " + err.message);
    }
  }

  function renderCounters() {
    syncRows(
      "counters",
      [...state.counters.values()],
      (c) => c.id,
      () => cells(6, [4, 5]),
      (row, counter) => {
        const breach = counter.idle_nudge != null;
        const idle = counter.idle_while_waiting_sec || 0;
        setCell(row.cells[0], counter.name);
        setCell(row.cells[1], COUNTER_WORDS[counter.state] || counter.state, "counter-" + counter.state);
        setCell(row.cells[2], counter.staff || "–");
        setCell(row.cells[3], counter.ticket_number || "–");
        setCell(row.cells[4], String(counter.eligible_waiting || 0));
        setCell(row.cells[5], secondsText(idle), breach ? "breach" : idle >= 1 ? "past-breach" : "");
        row.classList.toggle("breach-row", breach);
      }
    );
  }

  function renderTickets() {
    const tickets = [...state.tickets.values()].sort(
      (a, b) => TICKET_ORDER[a.state] - TICKET_ORDER[b.state] || Date.parse(a.arrived_at) - Date.parse(b.arrived_at)
    );
    $("ticket-count").textContent = "(" + tickets.length + ")";
    $("tickets-empty").hidden = tickets.length > 0;
    $("tickets").hidden = tickets.length === 0;
    syncRows(
      "tickets",
      tickets,
      (t) => t.id,
      () => cells(7, [4]),
      (row, ticket) => {
        // a check-in the kiosk kept while offline: the visitor may be at the desk, unticketed
        setCell(row.cells[0], ticket.received_at ? ticket.number + " (kiosk offline)" : ticket.number, "strong");
        setCell(row.cells[1], ticket.service_name || ticket.service);
        setCell(row.cells[2], (TICKET_WORDS[ticket.state] || ticket.state) + (ticket.recalls ? " (recalled " + ticket.recalls + "×)" : ""), "ticket-" + ticket.state);
        setCell(row.cells[3], ticket.counter_name || "–");
        setCell(row.cells[4], minutesText(ticket.waited_min), ticket.wait_level || "");
        setCell(row.cells[5], ticket.name || "–");
        setCell(row.cells[6], (ticket.needs || []).join(", ") || "–");
      }
    );
  }

  function renderNotice() {
    const text = $("notice-text");
    if (document.activeElement !== text && !text.dataset.dirty) text.value = state.office.notice || "";
  }

  async function saveNotice(value) {
    $("notice-status").textContent = "Saving…";
    try {
      const office = await api("POST", "/api/office/notice", { text: value });
      delete $("notice-text").dataset.dirty;
      $("notice-text").value = office.notice;
      $("notice-status").textContent = office.notice ? "Saved at " + clockText(new Date(serverNow())) : "Notice cleared";
    } catch (err) {
      $("notice-status").textContent = "";
      toast("The notice was not saved: " + err.message);
    }
  }

  // ------------------------------------------------------------- emergency
  // The server says which screens are expected and which are late (it moves `late` with its
  // tick); the page only lists them. The kinds and their texts come from the server too.

  let emergencyKinds = [];
  let emergencyRequest = null; // the request id of a start being confirmed, kept for a retry

  function kindLabel(kind) {
    return (kind.drill ? "Drill: " : "") + kind.kind;
  }

  async function loadEmergencyKinds() {
    try {
      emergencyKinds = (await api("GET", "/api/emergency/kinds")).kinds;
    } catch (err) {
      toast("The emergency kinds could not be loaded: " + err.message);
      return;
    }
    $("emergency-kind").replaceChildren(...emergencyKinds.map((k) => el("option", { value: k.kind, text: kindLabel(k) })));
  }

  function renderEmergency() {
    const emergency = state.office.emergency || null;
    const band = $("emergency");
    $("emergency-card").hidden = emergency !== null;
    if (emergency === null) {
      band.hidden = true;
      $("emergency-end-confirm").hidden = true;
      return;
    }
    const first = state.office.languages[0];
    band.hidden = false;
    band.classList.toggle("drill", emergency.drill);
    $("emergency-title").textContent = (emergency.heading[first] || "") + " · " + emergency.kind;
    $("emergency-since").textContent =
      "since " + clockText(emergency.started_at) + " (" + agoText(emergency.started_at) + "), started by " + emergency.started_by;
    $("emergency-instruction").textContent = emergency.instruction[first] || "";
    const screens = emergency.screens || [];
    const shown = screens.filter((s) => s.acknowledged_at).length;
    const late = screens.filter((s) => s.late && !s.acknowledged_at).length;
    $("emergency-count").textContent =
      "(" + shown + " of " + screens.length + " showing it" + (late ? ", " + late + " late" : "") + ")";
    $("emergency-screens").replaceChildren(...screens.map((screen) => {
      const status = screen.acknowledged_at
        ? "showing since " + clockText(screen.acknowledged_at) + (screen.late ? " (late)" : "")
        : screen.late ? "LATE: not showing it" : "waiting…";
      const className = screen.acknowledged_at ? "shown" : screen.late ? "late" : "waiting";
      return el("li", { className: className, dataset: { screen: screen.screen } }, [
        el("span", { text: screen.screen.split(":")[0] + " " + screen.name + ": " }),
        el("span", { text: status }),
      ]);
    }));
  }

  function askStartEmergency() {
    const kind = emergencyKinds.find((k) => k.kind === $("emergency-kind").value);
    if (!kind) return;
    const first = state.office.languages[0];
    emergencyRequest = { kind: kind.kind, request_id: "sup-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10) };
    $("emergency-question").textContent =
      "Start " + (kind.drill ? "a drill" : "an emergency") + " (" + kind.kind + ") now? Every screen will show: “" +
      (kind.instruction[first] || "") + "” Check-in and calling pause until you end it.";
    $("emergency-confirm").hidden = false;
    $("emergency-start").hidden = true;
    $("emergency-confirm-yes").focus();
  }

  function cancelStartEmergency() {
    emergencyRequest = null;
    $("emergency-confirm").hidden = true;
    $("emergency-start").hidden = false;
  }

  async function startEmergency() {
    if (!emergencyRequest) return;
    $("emergency-confirm-yes").disabled = true;
    try {
      await api("POST", "/api/emergency", emergencyRequest);
      cancelStartEmergency();
    } catch (err) {
      toast("The emergency mode did not start: " + err.message + " Press again to retry.");
    } finally {
      $("emergency-confirm-yes").disabled = false;
    }
  }

  async function endEmergency() {
    $("emergency-end-yes").disabled = true;
    try {
      const answer = await api("POST", "/api/emergency/end", {});
      toast("Emergency mode ended after " + answer.minutes + " min. Check-in and calling resume.");
      $("emergency-end-confirm").hidden = true;
    } catch (err) {
      toast("The emergency mode did not end: " + err.message);
    } finally {
      $("emergency-end-yes").disabled = false;
    }
  }

  // ------------------------------------------------------------- close day

  function askCloseDay() {
    const open = state ? state.tickets.size : 0;
    $("day-question").textContent =
      open === 0
        ? "No visit is open right now. Close the day anyway?"
        : "Close the day now? " + open + (open === 1 ? " visit is" : " visits are") +
          " still open and will be closed as “closed at end of day”.";
    $("day-confirm").hidden = false;
    $("day-close").hidden = true;
    $("day-result").hidden = true;
    $("day-confirm-yes").focus();
  }

  function cancelCloseDay() {
    $("day-confirm").hidden = true;
    $("day-close").hidden = false;
  }

  async function closeDay() {
    $("day-confirm-yes").disabled = true;
    try {
      const answer = await api("POST", "/api/day/close", {});
      const closed = answer.closed || [];
      $("day-result").textContent = closed.length
        ? "Closed at end of day (" + closed.length + "): " + closed.join(", ")
        : "Nothing was open. The day is closed.";
      $("day-result").hidden = false;
      cancelCloseDay();
    } catch (err) {
      toast("The day was not closed: " + err.message);
    } finally {
      $("day-confirm-yes").disabled = false;
    }
  }

  // ----------------------------------------------------------------- reports

  function pct(rate) {
    return rate == null ? "–" : Math.round(rate * 1000) / 10 + "%";
  }

  function num(value, digits) {
    if (value == null) return "–";
    return Number(value).toFixed(digits == null ? 1 : digits);
  }

  function signed(value) {
    if (value == null) return "–";
    const fixed = Math.abs(value).toFixed(1);
    return (value > 0 ? "+" : value < 0 ? "−" : "") + fixed;
  }

  function figure(label, value, detail, extraClass) {
    return el("div", { className: "figure " + (extraClass || "") }, [
      el("div", { className: "figure-label", text: label }),
      el("div", { className: "figure-value", text: value }),
      el("div", { className: "figure-detail", text: detail || "" }),
    ]);
  }

  function levelText(level) {
    if (!level || level.rate == null) return "–";
    return pct(level.rate);
  }

  function surveyOf(figures) {
    return figures.survey || { answers: 0, needs_met_rate: null, mean_rating: null };
  }

  // Every figure below is the server's (server/reports/figures.py); the page only lays it out
  // and writes it (a share as "87.5%", nobody to count as "–"). Charts are the server's SVG.
  const CHARTS = [
    ["wait", "Wait from arrival to first call, per service, against its target"],
    ["service-level", "Called within target, by day, against the goal"],
    ["weekday-hour", "Arrivals per day by weekday and hour"],
    ["arrivals-counters", "Arrivals, counters open and counters advised, by hour of day"],
  ];

  function periodQuery(report) {
    return "from=" + encodeURIComponent(report.first_day) + "&to=" + encodeURIComponent(report.last_day);
  }

  function reportTable(id, heads, rows, caption) {
    const table = el("table", { className: "table report-table", id: id }, [
      el("thead", {}, [el("tr", {}, heads.map((h, i) => el("th", { className: i ? "num" : "", scope: "col", text: h })))]),
      el("tbody", {}, rows.map(([key, cells_]) =>
        el("tr", key ? { dataset: { key: key } } : {}, cells_.map((text, i) =>
          i ? el("td", { className: "num", text: text }) : el("th", { scope: "row", text: text })
        ))
      )),
    ]);
    const wrap = el("div", { className: "scroll" }, [table]);
    if (caption) wrap.append(el("p", { className: "hint", text: caption }));
    return wrap;
  }

  function levelCell(level) {
    if (!level || !level.counted) return "–";
    return pct(level.rate) + " (" + level.met + "/" + level.counted + ")";
  }

  const WORK_HEADS = ["Calls", "Served", "Done", "No-shows", "Transfers", "Needs met", "Service time", "Idle while waiting"];

  function workCells(w) {
    return [String(w.calls), String(w.served), String(w.done), String(w.no_shows), String(w.transfers),
      pct(w.needs_met_rate), num(w.service_time_mean_min), secondsText(w.idle_while_waiting_sec)];
  }

  function renderReport(report) {
    const body = $("report-body");
    body.replaceChildren();
    const all = report.overall;
    const outcomes = all.outcomes;
    const ack = all.acknowledgement_sec;
    const est = all.estimate_error;
    const level = all.service_level;
    const survey = surveyOf(all);
    body.append(
      el("h3", { text: "What visitors lived" }),
      el("div", { className: "figures", id: "report-figures" }, [
        figure("Check-ins", String(all.check_ins),
          outcomes.done + " served · " + outcomes.no_show + " no-show · " + outcomes.walkaway + " left · " +
          outcomes.closed_at_end_of_day + " closed at end of day" + (all.still_open ? " · " + all.still_open + " still open" : "")),
        figure("Wait (arrival to call)", all.wait_min.count ? num(all.wait_min.mean) + " min" : "–",
          all.wait_min.count ? "of " + all.wait_min.count + " called" + (all.during_emergencies.visits ? " (no emergency in their wait)" : "") + " · median " + num(all.wait_min.median) + " · 90% within " + num(all.wait_min.p90) + " min" : "nobody called yet"),
        figure("Waited before leaving", all.waited_before_leaving_min.count ? num(all.waited_before_leaving_min.mean) + " min" : "–",
          all.waited_before_leaving_min.count ? "of " + all.waited_before_leaving_min.count + " never called (left or closed at end of day) · 90% within " + num(all.waited_before_leaving_min.p90) + " min" : "nobody left uncalled"),
        ...(all.during_emergencies.visits ? [figure("Waited through an emergency",
          all.during_emergencies.wait_min.count ? num(all.during_emergencies.wait_min.mean) + " min" : "–",
          all.during_emergencies.visits + " visits waiting when one began · not held to the target")] : []),
        figure("Called within target", levelText(level),
          level && level.counted ? level.met + " of " + level.counted + " visits" : "no visit counted yet",
          level && level.below_goal ? "warn" : ""),
        figure("Needs met (counter)", pct(all.needs_met_rate), "of " + all.needs_met_answered + " answered at the counter"),
        figure("Needs met (visitors)", survey.answers ? pct(survey.needs_met_rate) : "–",
          survey.answers
            ? survey.answers + " answered on their status page" + (survey.mean_rating != null ? " · rating " + num(survey.mean_rating) + "/5" : "")
            : "no visitor answered yet"),
        figure("No-shows", pct(all.no_show_rate), "of visitors called"),
        figure("Walkaways", pct(all.walkaway_rate), "of check-ins"),
        figure("Transfers", String(all.transfers), "referred to another service"),
        figure("Wait inside the range shown", est.count ? pct(est.range_inside) : "–",
          est.count ? "of " + est.count + " called · " + pct(est.range_below) + " sooner · " + pct(est.range_above) + " later · point " + num(est.mean_abs_error_min) + " min off (bias " + signed(est.bias_min) + ")" : "no estimate to compare yet"),
        figure("Acknowledgement", ack.count ? num(ack.mean) + " s" : "–",
          "printed " + all.acknowledged_via.printed + " · on screen " + all.acknowledged_via.screen),
        figure("Call to counter", all.call_to_counter_min.count ? num(all.call_to_counter_min.mean) + " min" : "–", "mean, call to serving"),
        figure("Service time", all.service_time_min.count ? num(all.service_time_min.mean) + " min" : "–",
          all.service_time_min.count ? "median " + num(all.service_time_min.median) + " min · shown, not scored" : "shown, not scored", "quiet"),
      ])
    );

    body.append(
      el("h3", { text: "Charts" }),
      el("div", { className: "report-charts", id: "report-charts" }, CHARTS.map(([name, words]) =>
        el("img", {
          className: "report-chart", dataset: { chart: name }, alt: words + " (the figures are in the tables below)",
          src: "/api/reports/charts/" + name + ".svg?" + periodQuery(report),
        })
      ))
    );

    body.append(el("h3", { text: "By service" }));
    const serviceRows = Object.entries(report.services).map(([id, s]) =>
      el("tr", { dataset: { service: id } }, [
        el("td", { text: s.name }),
        el("td", { className: "num", text: num(s.target_wait_min, 0) + " min" }),
        el("td", { className: "num", text: String(s.check_ins) }),
        el("td", { className: "num", text: num(s.wait_min.mean) }),
        el("td", { className: "num", text: num(s.wait_min.median) }),
        el("td", { className: "num", text: num(s.wait_min.p90) }),
        el("td", { className: "num", text: levelText(s.service_level) }),
        el("td", { className: "num", text: pct(s.needs_met_rate) }),
        el("td", { className: "num", text: surveyOf(s).answers ? pct(surveyOf(s).needs_met_rate) : "–" }),
        el("td", { className: "num", text: pct(s.no_show_rate) }),
        el("td", { className: "num", text: pct(s.walkaway_rate) }),
        el("td", { className: "num", text: String(s.transfers) }),
        el("td", { className: "num", text: num(s.estimate_error.mean_abs_error_min) }),
        el("td", { className: "num", text: signed(s.estimate_error.bias_min) }),
        el("td", { className: "num", text: pct(s.estimate_error.within_5_min) }),
        el("td", { className: "num", text: num(s.service_time_min.mean) }),
        el("td", { className: "num", text: String(s.outcomes.closed_at_end_of_day) }),
      ])
    );
    const heads = ["Service", "Target", "Check-ins", "Wait mean", "Median", "p90", "Within target", "Needs met",
      "Visitors say met", "No-show", "Walkaway", "Transfers", "Estimate MAE", "Bias", "±5 min", "Service time", "Closed at end"];
    body.append(
      el("div", { className: "scroll" }, [
        el("table", { className: "table report-table", id: "report-services" }, [
          el("thead", {}, [el("tr", {}, heads.map((h, i) => el("th", { className: i ? "num" : "", text: h })))]),
          el("tbody", {}, serviceRows),
        ]),
      ]),
      el("p", { className: "hint", text: "Minutes. Wait runs from arrival to the first call; a transfer does not restart it. Service time is shown, never ranked." })
    );

    body.append(
      el("h3", { text: "By counter" }),
      reportTable("report-counters", ["Counter", ...WORK_HEADS],
        Object.entries(report.counters).map(([id, c]) => [id, [c.name, ...workCells(c)]])),
      el("h3", { text: "By staff member" }),
      reportTable("report-staff", ["Staff member", ...WORK_HEADS],
        Object.entries(report.staff).map(([name, w]) => [name, [name, ...workCells(w)]]),
        "In name order: volume and context, never a ranking (service time in minutes).")
    );

    const dayRows = (rows, key, words) => rows.map((d) => [d[key], [words(d), String(d.check_ins), num(d.wait_mean_min), levelCell(d.service_level)]]);
    body.append(
      el("div", { className: "report-columns" }, [
        el("div", {}, [
          el("h3", { text: "By day" }),
          reportTable("report-days", ["Day", "Check-ins", "Wait mean", "Within target"],
            dayRows(report.days, "day", (d) => dayText(d.day))),
        ]),
        el("div", {}, report.months.length > 1 ? [
          el("h3", { text: "By month" }),
          reportTable("report-months", ["Month", "Check-ins", "Wait mean", "Within target"],
            dayRows(report.months, "month", (d) => d.month)),
        ] : []),
      ])
    );

    const advised = new Map(report.staffing.hours.map((h) => [h.hour, h]));
    const serviceIds = Object.keys(report.services);
    body.append(
      el("h3", { text: "By hour of day, with staffing advice" }),
      reportTable("report-hours",
        ["Hour", "Check-ins", "Arrivals per day", "Wait mean", "Within target", "Service time", "Counters open", "Counters advised",
          ...serviceIds.map((id) => "for " + report.services[id].name)],
        report.hours.map((h) => {
          const advice = advised.get(h.hour) || { by_service: {} };
          return [String(h.hour), [h.hour + ":00", String(h.check_ins), num(h.arrivals_per_day), num(h.wait_mean_min),
            levelCell(h.service_level), num(h.service_time_mean_min), num(h.counters_open),
            advice.advised == null ? "–" : String(advice.advised),
            ...serviceIds.map((id) => (advice.by_service[id] == null ? "–" : String(advice.by_service[id])))]];
        }),
        "Staffing advice, not a measure. " + report.staffing.assumptions)
    );

    const hours = [...new Set(report.weekday_hour.map((c) => c.hour))].sort((a, b) => a - b);
    const weekdays = [...new Set(report.weekday_hour.map((c) => c.weekday))];
    const cell = new Map(report.weekday_hour.map((c) => [c.weekday + " " + c.hour, c]));
    body.append(
      el("h3", { text: "Weekday × hour: arrivals per day · mean wait" }),
      reportTable("report-weekday-hour", ["Weekday", ...hours.map((h) => h + ":00")],
        weekdays.map((day) => [day, [day, ...hours.map((h) => {
          const c = cell.get(day + " " + h);
          return c ? num(c.arrivals_per_day) + " · " + num(c.wait_mean_min) : "";
        })]]),
        "Per weekday and hour of arrival: check-ins per open day of that weekday, then the mean wait in minutes.")
    );

    body.append(el("div", { className: "report-columns" }, [
      el("div", {}, [
        el("h3", { text: "Closed at end of day" }),
        el("p", { id: "report-closed", text: report.closed_at_end_of_day.length ? report.closed_at_end_of_day.join(", ") : "None." }),
      ]),
      el("div", {}, [
        el("h3", { text: "Emergencies and drills" }),
        report.emergencies.length
          ? el("ul", { className: "debrief", id: "report-emergencies" }, report.emergencies.map((e) =>
              el("li", {}, [
                el("strong", { text: (e.drill ? "Drill" : "Emergency") + " · " + e.kind }),
                el("span", { text: " · " + clockText(e.started_at) + (e.minutes != null ? " · " + num(e.minutes) + " min" : " · still on") + " · " }),
                el("span", { text: e.all_screens_sec != null
                  ? "every screen showed it within " + num(e.all_screens_sec) + " s"
                  : e.screens_acknowledged + " of " + e.screens_expected + " screens acknowledged" +
                    (e.screens_missing.length ? " (not: " + e.screens_missing.join(", ") + ")" : "") }),
              ])
            ))
          : el("p", { id: "report-emergencies", text: "None in this period." }),
      ]),
      el("div", {}, [
        el("h3", { text: "Debrief list" }),
        report.debrief.length
          ? el("ul", { className: "debrief", id: "report-debrief" }, report.debrief.map((d) =>
              el("li", {}, [el("strong", { text: d.number }), el("span", { text: " · " + clockText(d.at) + " · " }), el("span", { text: d.reason })])
            ))
          : el("p", { id: "report-debrief", text: "No visit was flagged for a debrief." }),
      ]),
    ]));
  }

  function dayText(iso) {
    // an office day as "Mon 2 Nov": the date is the server's, only written out here
    const [y, m, d] = iso.split("-").map(Number);
    return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("en-US", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
  }

  async function loadReport() {
    const from = $("report-from").value;
    const to = $("report-to").value || from;
    if (!from) {
      $("report-status").textContent = "Choose a start date.";
      $("report-status").className = "report-status error";
      return;
    }
    $("report-status").textContent = "Loading…";
    $("report-status").className = "report-status";
    try {
      const report = await api("GET", "/api/reports/summary?from=" + encodeURIComponent(from) + "&to=" + encodeURIComponent(to));
      lastReport = report;
      renderReport(report);
      $("report-csv").disabled = false;
      $("report-print").href = "/supervisor/report?" + periodQuery(report);
      $("report-print").hidden = false;
      $("report-status").textContent =
        (from === to ? from : from + " to " + to) + " · figures as of " + clockText(new Date(serverNow()));
    } catch (err) {
      lastReport = null;
      $("report-body").replaceChildren();
      $("report-csv").disabled = true;
      $("report-print").hidden = true;
      $("report-status").textContent = err.message;
      $("report-status").className = "report-status error";
    }
  }

  function setRange(from, to) {
    $("report-from").value = from;
    $("report-to").value = to;
    loadReport();
  }

  function downloadCsv() {
    // The server writes the CSV from the same report (columns: docs/measures.md).
    if (!lastReport) return;
    const link = el("a", {
      href: "/api/reports/summary.csv?from=" + encodeURIComponent(lastReport.first_day) +
        "&to=" + encodeURIComponent(lastReport.last_day) + "&by=" + encodeURIComponent($("report-by").value),
    });
    document.body.append(link);
    link.click();
    link.remove();
  }


  // ---------------------------------------------------------------- sign-in

  function showOnly(id) {
    for (const view of ["starting", "signin", "dashboard"]) $(view).hidden = view !== id;
  }

  function signOut(reason) {
    signedOut = true;
    if (link) link.stop();
    showOnly("signin");
    const note = $("signin-reason");
    note.textContent = reason || "";
    note.hidden = !reason;
    $("signin-name").focus();
  }

  async function signIn(event) {
    event.preventDefault();
    const name = $("signin-name").value.trim();
    const password = $("signin-password").value;
    const error = $("signin-error");
    error.hidden = true;
    if (!name || !password) {
      error.textContent = "Enter your name and password.";
      error.hidden = false;
      return;
    }
    $("signin-submit").disabled = true;
    try {
      // credentials "omit": a stale session cookie must not get in the way of a new sign-in.
      const response = await fetch("/api/login", {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ name: name, password: password }),
      });
      const data = await response.json().catch(() => null);
      if (!response.ok) {
        throw new Error((data && data.error && data.error.message) || "Sign-in failed (" + response.status + ").");
      }
      if (!SUPERVISOR_ROLES.includes(data.role)) {
        throw new Error(data.name + " is a " + data.role + " account. The dashboard is for supervisors.");
      }
      // Opening the page once with ?token= makes the server set the session cookie.
      location.replace("/supervisor?token=" + encodeURIComponent(data.token));
    } catch (err) {
      error.textContent = err instanceof TypeError ? "The server cannot be reached. Try again." : err.message;
      error.hidden = false;
      $("signin-submit").disabled = false;
    }
  }

  function stripToken() {
    const url = new URL(location.href);
    if (!url.searchParams.has("token")) return;
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }

  // Whether the server can save is not office state: while the disk is full nothing can be
  // logged, so it cannot travel the stream. /healthz is the server's word on it.
  const STORAGE_CHECK_MS = 5000;
  async function checkStorage() {
    let text = "";
    try {
      const response = await fetch("/healthz", { credentials: "omit", headers: { Accept: "application/json" } });
      if (response.status === 503) {
        const data = await response.json().catch(() => null);
        const code = data && data.error && data.error.code;
        text =
          code === "storage_full"
            ? "The server's disk is full: check-ins, calls and changes are not being saved. Free space on the server; it carries on by itself."
            : "The server cannot save: check-ins, calls and changes are not being saved. Check the server's storage.";
      }
    } catch (err) {
      text = ""; // the live link already says when the server cannot be reached
    }
    const band = $("storage-band");
    band.textContent = text;
    band.hidden = !text;
  }

  // Devices are accounts, not office state: listed from /api/devices, refreshed with the
  // storage check, so a kiosk that hit the check-in limit shows within seconds.
  function renderDevices(devices) {
    const list = $("devices");
    list.replaceChildren();
    if (!devices.length) list.append(el("li", { className: "muted", text: "No kiosk or display yet." }));
    for (const device of devices) {
      const limited = device.limited_at ? "hit the check-in limit at " + clockText(device.limited_at) : "";
      list.append(
        el("li", { className: limited ? "device-row limited" : "device-row", dataset: { device: device.name } }, [
          el("span", { className: "name", text: device.name }),
          el("span", { className: "sub", text: device.role + (limited ? " · " + limited : "") }),
          el("button", { type: "button", className: "small secondary", text: "Revoke", dataset: { action: "revoke" }, onclick: () => revokeDevice(device) }),
        ])
      );
    }
  }

  async function loadDevices() {
    try {
      renderDevices((await api("GET", "/api/devices")).devices);
    } catch (err) {
      /* the storage band or the live link says what is wrong */
    }
  }

  async function revokeDevice(device) {
    if (!window.confirm("Revoke " + device.name + "? Its token stops working at once.")) return;
    try {
      renderDevices((await api("POST", "/api/devices/" + device.id + "/revoke", {})).devices);
      toast(device.name + " is revoked.");
    } catch (err) {
      toast("Could not revoke " + device.name + ": " + err.message);
    }
  }

  // The stream is the only source: a refused connection means no (or an expired) session.
  function start() {
    stripToken();
    link = LobbyState.follow({ onChange: onChange, onLink: onLink, onRefused: () => signedOut || signOut("") });
    setInterval(tickClock, 1000);
    checkStorage();
    setInterval(() => {
      checkStorage();
      if (!signedOut && !$("dashboard").hidden) loadDevices();
    }, STORAGE_CHECK_MS);
  }

  function wire() {
    $("signin-form").addEventListener("submit", signIn);
    $("notice-form").addEventListener("submit", (event) => {
      event.preventDefault();
      saveNotice($("notice-text").value.trim());
    });
    $("notice-text").addEventListener("input", () => ($("notice-text").dataset.dirty = "1"));
    $("notice-clear").addEventListener("click", () => saveNotice(""));
    $("emergency-start").addEventListener("click", askStartEmergency);
    $("emergency-cancel").addEventListener("click", cancelStartEmergency);
    $("emergency-confirm-yes").addEventListener("click", startEmergency);
    $("emergency-end").addEventListener("click", () => ($("emergency-end-confirm").hidden = false));
    $("emergency-end-cancel").addEventListener("click", () => ($("emergency-end-confirm").hidden = true));
    $("emergency-end-yes").addEventListener("click", endEmergency);
    $("day-close").addEventListener("click", askCloseDay);
    $("day-cancel").addEventListener("click", cancelCloseDay);
    $("day-confirm-yes").addEventListener("click", closeDay);
    $("report-form").addEventListener("submit", (event) => {
      event.preventDefault();
      loadReport();
    });
    $("report-today").addEventListener("click", () => {
      const today = officeToday();
      setRange(today, today);
    });
    $("report-month").addEventListener("click", () => {
      const today = officeToday();
      setRange(today.slice(0, 8) + "01", today);
    });
    $("report-csv").addEventListener("click", downloadCsv);
  }

  wire();
  start();
})();
