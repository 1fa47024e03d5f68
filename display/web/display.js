"use strict";
/*
 * The lobby display page. It follows the server's live stream (/ws, authenticated by the
 * display's cookie), shows the newest calls in very large type, the earlier ones below, the
 * queues, the notice and a clock, and announces each new call in turn: a chime, then the
 * spoken call in each office language that has a voice (WAVs made offline by the server).
 *
 * /display?sound=off keeps a second screen in the same room quiet.
 *
 * Rules it keeps:
 * - a call is announced once: calls are remembered by (time, number, counter, recall), and a
 *   call older than FRESH_SEC when it first reaches the page is shown but never announced, so
 *   a reload or a reconnect never replays old calls as new;
 * - calls arriving together each get their own line and their own announcement, oldest first;
 * - every line exists from the start (fixed slots), so nothing moves when a call arrives.
 */
(() => {
  const NOW_SLOTS = 4;
  const EARLIER_SLOTS = 4;
  const FRESH_SEC = 90;
  const LABEL_CYCLE_MS = 6000;
  const SILENT_HIGHLIGHT_MS = 2000;
  const GAP_MS = 400;
  const RECONNECT_DELAYS_MS = [500, 1000, 2000, 5000];
  const SEEN_LIMIT = 500;

  const $ = (id) => document.getElementById(id);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  const state = {
    seq: null,
    office: null,
    services: [],
    calls: [],
    seen: new Set(),
    seenOrder: [],
    hadSnapshot: false,
    offsetMs: 0,
    announcing: null,
    languages: ["en"],
    speech: [],
    labels: {},
    labelLang: "en",
    labelIndex: 0,
    failures: 0,
  };

  // Read by the browser tests and handy in the devtools of a lobby TV; numbers only.
  const debug = { announced: [], connections: 0, snapshots: 0, sockets: [] };
  window.lobbyDisplay = debug;

  // ------------------------------------------------------------------ calls

  const callKey = (c) => `${c.at}|${c.number}|${c.counter}|${c.recall}`;

  /** True the first time a call is seen (it may then be announced), false ever after. */
  function remember(call) {
    const key = callKey(call);
    if (state.seen.has(key)) return false;
    state.seen.add(key);
    state.seenOrder.push(key);
    while (state.seenOrder.length > SEEN_LIMIT) state.seen.delete(state.seenOrder.shift());
    return true;
  }

  function isFresh(call) {
    const ageSec = (Date.now() + state.offsetMs - Date.parse(call.at)) / 1000;
    return Number.isFinite(ageSec) && ageSec < FRESH_SEC;
  }

  /** Newest first, each ticket once (a recall moves its number back to the top), one per slot. */
  function shown(calls) {
    const seen = new Set();
    return calls
      .filter((c) => !seen.has(c.number) && seen.add(c.number))
      .slice(0, NOW_SLOTS + EARLIER_SLOTS);
  }

  function applySnapshot(snap) {
    debug.snapshots += 1;
    state.office = snap.office;
    state.services = snap.services || [];
    state.offsetMs = Date.parse(snap.now) - Date.now() || 0;
    const calls = snap.recent_calls || [];
    const unseen = calls.filter((call) => remember(call) && state.hadSnapshot && isFresh(call));
    state.hadSnapshot = true;
    state.calls = shown(calls);
    unseen.reverse().forEach(enqueue);
    setLanguages();
    render();
    tickClock(); // now in the office's time zone and the server's time
    $("board").dataset.live = "1";
  }

  function applyEvent(event) {
    if (event.services) state.services = event.services;
    if (event.kind === "office.notice" && state.office) state.office.notice = event.notice || "";
    const call = event.call;
    if (call && remember(call)) {
      state.calls = shown([call, ...state.calls]);
      if (isFresh(call)) enqueue(call);
    }
    render();
  }

  function handle(message) {
    if (message.type === "snapshot") {
      state.seq = message.seq;
      applySnapshot(message.state);
    } else if (message.type === "event") {
      if (state.seq !== null && message.seq <= state.seq) return;
      state.seq = message.seq;
      applyEvent(message);
    }
  }

  // ------------------------------------------------------------ connection

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = state.seq === null ? "" : `?since=${state.seq}`;
    const url = `${scheme}//${location.host}/ws${query}`;
    debug.sockets = [...debug.sockets.slice(-19), url];
    const ws = new WebSocket(url);
    ws.onopen = () => {
      state.failures = 0;
      debug.connections += 1;
      showReconnecting(false);
    };
    ws.onmessage = (e) => {
      let message;
      try {
        message = JSON.parse(e.data);
      } catch {
        return;
      }
      handle(message);
    };
    ws.onclose = () => {
      showReconnecting(true);
      const delay = RECONNECT_DELAYS_MS[Math.min(state.failures, RECONNECT_DELAYS_MS.length - 1)];
      state.failures += 1;
      if (state.failures === 3) checkSignedIn();
      setTimeout(connect, delay);
    };
  }

  function showReconnecting(on) {
    $("reconnecting").classList.toggle("on", on);
  }

  async function checkSignedIn() {
    try {
      const response = await fetch("/display/settings.json", { credentials: "same-origin" });
      $("signed-out").hidden = response.status !== 401 && response.status !== 403;
    } catch {
      /* the server is down: the reconnecting mark says enough */
    }
  }

  // ------------------------------------------------------------------ sound

  const audio = { ctx: null, chime: null };

  function setupAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    audio.ctx = new Context();
    audio.ctx.onstatechange = updateSoundButton;
    fetchSound("/display/chime.wav").then((buffer) => {
      audio.chime = buffer;
    });
    updateSoundButton();
    $("enable-sound").addEventListener("click", async () => {
      await audio.ctx.resume();
      updateSoundButton();
      play(audio.chime);
    });
  }

  const soundOn = () => Boolean(audio.ctx) && audio.ctx.state === "running";

  function updateSoundButton() {
    $("enable-sound").hidden = !audio.ctx || soundOn();
  }

  async function fetchSound(url) {
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) return null;
      return await audio.ctx.decodeAudioData(await response.arrayBuffer());
    } catch {
      return null;
    }
  }

  function play(buffer) {
    return new Promise((resolve) => {
      if (!buffer || !soundOn()) {
        resolve();
        return;
      }
      const source = audio.ctx.createBufferSource();
      source.buffer = buffer;
      source.connect(audio.ctx.destination);
      const guard = setTimeout(resolve, (buffer.duration + 1) * 1000);
      source.onended = () => {
        clearTimeout(guard);
        resolve();
      };
      source.start();
    });
  }

  function speechFor(call) {
    return state.speech.map((lang) => {
      const query = new URLSearchParams({ number: call.number, counter: call.counter, lang });
      return fetchSound(`/display/announce.wav?${query}`);
    });
  }

  // ------------------------------------------------------------ announcing

  const queue = [];
  let wake = null;

  function enqueue(call) {
    queue.push({ call, speech: soundOn() ? speechFor(call) : null });
    if (wake) {
      wake();
      wake = null;
    }
  }

  async function announcer() {
    for (;;) {
      if (queue.length === 0) await new Promise((resolve) => (wake = resolve));
      const item = queue.shift();
      state.announcing = item.call.number;
      debug.announced = [
        ...debug.announced.slice(-99),
        { number: item.call.number, counter: item.call.counter, recall: item.call.recall },
      ];
      renderCalls();
      try {
        await announce(item);
      } catch {
        /* a failed sound must never stop the next announcement */
      }
      state.announcing = null;
      renderCalls();
      await sleep(GAP_MS);
    }
  }

  async function announce(item) {
    if (!soundOn()) {
      await sleep(SILENT_HIGHLIGHT_MS);
      return;
    }
    const speech = item.speech || speechFor(item.call);
    await play(audio.chime);
    for (const pending of speech) {
      const buffer = await pending;
      if (buffer) {
        await play(buffer);
        await sleep(GAP_MS);
      }
    }
  }

  // ---------------------------------------------------------------- labels

  /** The wanted languages that have labels (English when none has). */
  function knownLanguages(wanted) {
    const known = wanted.filter((lang) => state.labels[lang]);
    return known.length ? known : ["en"];
  }

  function setLanguages() {
    const languages = knownLanguages((state.office && state.office.languages) || state.languages);
    if (languages.join() !== state.languages.join()) {
      state.languages = languages;
      state.labelIndex = 0;
      applyLabels();
    }
  }

  function label(key) {
    const table = state.labels[state.labelLang] || {};
    return table[key] || (state.labels.en || {})[key] || "";
  }

  function applyLabels() {
    state.labelLang = state.languages[state.labelIndex % state.languages.length];
    for (const el of document.querySelectorAll("[data-label]")) {
      el.textContent = label(el.dataset.label);
      el.lang = state.labelLang;
    }
    renderServices();
    tickClock();
  }

  function cycleLabels() {
    if (state.languages.length < 2) return;
    state.labelIndex = (state.labelIndex + 1) % state.languages.length;
    applyLabels();
  }

  // ------------------------------------------------------------- rendering

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function labelled(tag, className, key) {
    const el = element(tag, className, label(key));
    el.dataset.label = key;
    return el;
  }

  const slots = [];

  function buildSlots() {
    for (const [listId, count] of [
      ["now-list", NOW_SLOTS],
      ["earlier-list", EARLIER_SLOTS],
    ]) {
      const list = $(listId);
      for (let i = 0; i < count; i += 1) {
        const li = element("li", "call empty");
        li.append(
          element("span", "num"),
          element("span", "arrow", "→"),
          element("span", "ctr"),
          labelled("span", "badge", "called_again"),
        );
        list.append(li);
        slots.push(li);
      }
    }
  }

  function renderCalls() {
    slots.forEach((li, i) => {
      const call = state.calls[i];
      li.classList.toggle("empty", !call);
      li.classList.toggle("recall", Boolean(call) && call.recall > 0);
      li.classList.toggle("announcing", Boolean(call) && call.number === state.announcing);
      li.dataset.number = call ? call.number : "";
      fit(li.querySelector(".num"), call ? call.number : "");
      fit(li.querySelector(".ctr"), call ? call.counter_name : "");
    });
  }

  /** Shrink a long counter name (or number) to fit its fixed box instead of cutting it. */
  function fit(el, text) {
    if (el.textContent === text && el.dataset.fitWidth === String(el.clientWidth)) return;
    el.textContent = text;
    el.style.fontSize = "";
    el.dataset.fitWidth = String(el.clientWidth);
    if (text && el.scrollWidth > el.clientWidth) {
      const scale = Math.max(0.5, (el.clientWidth / el.scrollWidth) * 0.98);
      el.style.fontSize = `${scale.toFixed(3)}em`;
    }
  }

  function renderServices() {
    const list = $("service-list");
    const ids = state.services.map((s) => s.id).join();
    if (list.dataset.ids !== ids) {
      list.replaceChildren();
      list.dataset.ids = ids;
      const columns = Math.min(Math.max(1, state.services.length), 4);
      list.style.setProperty("--cols-wide", String(columns));
      for (const service of state.services) {
        const li = element("li", "service");
        li.dataset.service = service.id;
        const count = element("div", "count");
        count.append(element("span", "n"), labelled("span", "word", "waiting"));
        const closed = labelled("div", "closed-word", "closed");
        const detail = element("div", "detail");
        detail.append(element("span", "what"), element("span", "value"));
        li.append(element("div", "name"), count, closed, detail);
        list.append(li);
      }
    }
    state.services.forEach((service, i) => {
      const li = list.children[i];
      const closed = service.state === "closed";
      li.classList.toggle("closed", closed);
      li.classList.toggle("closing", service.state === "closing");
      li.querySelector(".name").textContent = service.name;
      li.querySelector(".n").textContent = String(service.waiting);
      const what = li.querySelector(".what");
      const value = li.querySelector(".value");
      if (closed) {
        what.dataset.label = "hours";
        value.textContent = service.hours.replace("-", "–");
      } else if (service.state === "closing") {
        what.dataset.label = "closing_soon";
        value.textContent = "";
      } else {
        what.dataset.label = "estimated_wait";
        const { low_min: low, high_min: high } = service.estimate;
        value.textContent = high <= 0 ? label("no_wait") : `${low}–${high} ${label("minutes")}`;
      }
      what.textContent = label(what.dataset.label);
    });
  }

  function renderOffice() {
    const office = state.office;
    $("office").textContent = office ? office.name : "";
    const notice = office ? office.notice : "";
    $("notice-text").textContent = notice;
    $("notice").classList.toggle("blank", !notice);
  }

  function render() {
    renderOffice();
    renderCalls();
    renderServices();
  }

  function tickClock() {
    const timeZone = state.office ? state.office.timezone : undefined;
    const now = new Date(Date.now() + state.offsetMs);
    try {
      const time = new Intl.DateTimeFormat(state.labelLang, {
        hour: "numeric",
        minute: "2-digit",
        timeZone,
      }).format(now);
      const day = new Intl.DateTimeFormat(state.labelLang, {
        weekday: "long",
        day: "numeric",
        month: "long",
        timeZone,
      }).format(now);
      $("clock").replaceChildren(element("span", "time", time), element("span", "day", day));
    } catch {
      $("clock").textContent = now.toLocaleTimeString();
    }
  }

  // ------------------------------------------------------------------ start

  async function getJSON(url) {
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      return response.ok ? await response.json() : null;
    } catch {
      return null;
    }
  }

  async function start() {
    const params = new URLSearchParams(location.search);
    const silent = params.get("sound") === "off"; // a second screen in the same room
    if (params.has("token")) {
      // the cookie holds the token now; keep it out of the address bar and the history
      history.replaceState(null, "", location.pathname + (silent ? "?sound=off" : ""));
    }
    // Before any await: the browser decides here, once, whether sound may start by itself.
    if (!silent) setupAudio();
    const [labels, settings] = await Promise.all([
      getJSON("/display/labels.json"),
      getJSON("/display/settings.json"),
    ]);
    state.labels = labels || {};
    if (settings) {
      state.speech = settings.speech || [];
      state.languages = knownLanguages(settings.languages || ["en"]);
    }
    buildSlots();
    applyLabels();
    updateSoundButton();
    render();
    connect();
    announcer();
    setInterval(tickClock, 1000);
    setInterval(cycleLabels, LABEL_CYCLE_MS);
    window.addEventListener("resize", renderCalls);
  }

  start();
})();
