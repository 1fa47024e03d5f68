"use strict";
/*
 * The lobby display page. It follows the office state with LobbyState.follow
 * (/assets/office_state.js: the live stream folded, reconnecting by itself) and draws what the
 * server decided: the calls now being served in very large type, the earlier calls below, the
 * queues, the notice and a clock in office time. It announces the calls the server lists in
 * each message's `announce`, one after the other: a chime, then the spoken call in each office
 * language that has a voice (WAVs made offline by the server). The server announces each call
 * once, also across a reconnect or a reload, so the page keeps no memory of calls.
 *
 * While the office is in emergency mode (or a drill) the page shows only the emergency
 * (/display/emergency.js), sounds the alarm instead of the chime and announces no call.
 *
 * /display?sound=off keeps a second screen in the same room quiet.
 *
 * Every line exists from the start (fixed slots), so nothing moves when a call arrives.
 */
(() => {
  const NOW_SLOTS = 4;
  const EARLIER_SLOTS = 4;
  const LABEL_CYCLE_MS = 6000;
  const SILENT_HIGHLIGHT_MS = 2000;
  const GAP_MS = 400;

  const $ = (id) => document.getElementById(id);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  const state = {
    link: null,
    announcing: null,
    languages: ["en"],
    speech: [],
    labels: {},
    labelLang: "en",
    labelIndex: 0,
  };
  const office = () => (state.link ? state.link.state.office : null);
  const services = () => (state.link ? [...state.link.state.services.values()] : []);
  const calls = () => (state.link ? state.link.state.calls : { now_serving: [], earlier: [] });

  // Read by the browser tests and handy in the devtools of a lobby TV; numbers only.
  const debug = {
    announced: [],
    connections: 0,
    snapshots: 0,
    emergency: null,
    acknowledged: [],
    alarms: 0,
    spoken: [],
  };
  window.lobbyDisplay = debug;
  let emergency = null; // LobbyEmergency's screen, made at start

  // ------------------------------------------------------------ connection

  function follow() {
    state.link = LobbyState.follow({
      onChange(_, applied) {
        emergency.show(office() ? office().emergency : null);
        render();
        if (applied.snapshot) {
          debug.snapshots += 1;
          setLanguages();
          tickClock(); // now in the office's time zone and the server's time
          $("board").dataset.live = "1";
        }
        applied.announce.forEach(enqueue);
      },
      onLink(up) {
        if (up) debug.connections += 1;
        $("reconnecting").classList.toggle("on", !up);
      },
      onRefused() {
        $("signed-out").hidden = false;
      },
    });
  }

  // ------------------------------------------------------------------ sound

  const audio = { ctx: null, chime: null, alarm: null, playing: new Set() };

  function setupAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    audio.ctx = new Context();
    audio.ctx.onstatechange = updateSoundButton;
    fetchSound("/display/chime.wav").then((buffer) => {
      audio.chime = buffer;
    });
    fetchSound("/display/alarm.wav").then((buffer) => {
      audio.alarm = buffer;
    });
    updateSoundButton();
    $("enable-sound").addEventListener("click", async () => {
      await audio.ctx.resume();
      updateSoundButton();
      if (!emergency.active) play(audio.chime); // in an emergency the alarm loop starts itself
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
      const done = () => {
        clearTimeout(guard);
        audio.playing.delete(source);
        resolve();
      };
      const guard = setTimeout(done, (buffer.duration + 1) * 1000);
      source.onended = done;
      audio.playing.add(source);
      source.start();
    });
  }

  /** Silence at once: an emergency cuts a call short, its end cuts the alarm short. */
  function stopSound() {
    for (const source of [...audio.playing]) {
      try {
        source.stop();
      } catch {
        /* already ended */
      }
    }
  }

  /** What the emergency screen may do with the page's sound (nothing on a silent screen). */
  const emergencySound = {
    on: soundOn,
    fetch: (url) => (audio.ctx ? fetchSound(url) : Promise.resolve(null)),
    play: (name) => play(audio[name]),
    playBuffer: play,
    stop: stopSound,
  };

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
    if (emergency.active) return; // no call is announced in emergency mode
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
      if (emergency.active) continue;
      state.announcing = item.call.ticket;
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
      if (emergency.active) return;
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
    const languages = knownLanguages((office() && office().languages) || state.languages);
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
    renderCalls();
    renderOffice();
    tickClock();
  }

  /** An office text in the language the labels are in now: the server sends every office
   * language (a missing translation already filled in); ``plain`` is for an older server. */
  function inLanguage(texts, plain) {
    return (texts && texts[state.labelLang]) || plain;
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

  const slots = { now_serving: [], earlier: [] };

  function buildSlots() {
    for (const [listId, count, list] of [
      ["now-list", NOW_SLOTS, slots.now_serving],
      ["earlier-list", EARLIER_SLOTS, slots.earlier],
    ]) {
      for (let i = 0; i < count; i += 1) {
        const li = element("li", "call empty");
        li.append(
          element("span", "num"),
          element("span", "arrow", "→"),
          element("span", "ctr"),
          labelled("span", "badge", "called_again"),
        );
        $(listId).append(li);
        list.push(li);
      }
    }
  }

  /** The server's two lists, newest first, in as many slots as the page has. */
  function renderCalls() {
    const shown = calls();
    for (const [list, lines] of Object.entries(slots)) {
      lines.forEach((li, i) => {
        const call = shown[list][i];
        li.classList.toggle("empty", !call);
        li.classList.toggle("recall", Boolean(call) && call.recall > 0);
        li.classList.toggle("announcing", Boolean(call) && call.ticket === state.announcing);
        li.dataset.number = call ? call.number : "";
        fit(li.querySelector(".num"), call ? call.number : "");
        fit(li.querySelector(".ctr"), call ? inLanguage(call.counter_names, call.counter_name) : "");
      });
    }
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
    const all = services();
    const ids = all.map((s) => s.id).join();
    if (list.dataset.ids !== ids) {
      list.replaceChildren();
      list.dataset.ids = ids;
      const columns = Math.min(Math.max(1, all.length), 4);
      list.style.setProperty("--cols-wide", String(columns));
      for (const service of all) {
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
    all.forEach((service, i) => {
      const li = list.children[i];
      const closed = service.state === "closed";
      li.classList.toggle("closed", closed);
      li.classList.toggle("closing", service.state === "closing");
      li.querySelector(".name").textContent = inLanguage(service.names, service.name);
      li.querySelector(".n").textContent = String(service.ahead); // as the kiosk tells a new arrival
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

  /** The office's name whole: as large as the header allows, smaller only if it must be. */
  function fitOffice(name) {
    const el = $("office");
    if (el.textContent === name && el.dataset.fitWidth === String(el.clientWidth)) return;
    el.textContent = name;
    el.style.fontSize = "";
    el.dataset.fitWidth = String(el.clientWidth);
    const base = parseFloat(getComputedStyle(el).fontSize);
    for (let scale = 0.95; scale >= 0.5; scale -= 0.05) {
      if (el.scrollHeight <= el.clientHeight + 1 && el.scrollWidth <= el.clientWidth + 1) return;
      el.style.fontSize = `${(base * scale).toFixed(1)}px`;
    }
  }

  function renderOffice() {
    const shown = office();
    fitOffice(shown ? shown.name : "");
    const notice = shown ? inLanguage(shown.notices, shown.notice) : "";
    $("notice-text").textContent = notice;
    $("notice").classList.toggle("blank", !notice);
  }

  function render() {
    renderOffice();
    renderCalls();
    renderServices();
  }

  function tickClock() {
    const timeZone = office() ? office().timezone : undefined;
    const now = new Date(state.link ? state.link.serverNow() : Date.now());
    try {
      // A language the browser has no calendar words for (Somali in many builds) gets the
      // date in figures, never in another language's words.
      const known = Intl.DateTimeFormat.supportedLocalesOf([state.labelLang]).length > 0;
      const locale = known ? state.labelLang : "en-GB";
      const time = new Intl.DateTimeFormat(locale, {
        hour: "numeric",
        minute: "2-digit",
        hourCycle: known ? undefined : "h23",
        timeZone,
      }).format(now);
      const day = new Intl.DateTimeFormat(
        locale,
        known
          ? { weekday: "long", day: "numeric", month: "long", timeZone }
          : { day: "numeric", month: "numeric", year: "numeric", timeZone }
      ).format(now);
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

  /** Which languages the calls are said in, by their own names ("🔊 English · Español"). */
  function showSpoken(silent) {
    const names = state.speech.map((lang) => (state.labels[lang] || {}).language_name || lang);
    $("spoken").textContent = names.length ? "♪ " + names.join(" · ") : "";
    $("spoken").hidden = silent || names.length === 0;
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
    emergency = LobbyEmergency.create({ sound: emergencySound, debug });
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
    showSpoken(silent);
    updateSoundButton();
    render();
    follow();
    announcer();
    setInterval(tickClock, 1000);
    setInterval(cycleLabels, LABEL_CYCLE_MS);
    window.addEventListener("resize", renderCalls);
  }

  start();
})();
