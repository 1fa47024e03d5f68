// Visitor status page: follows /status/{token}/ws and says, in the visitor's language, where
// they stand. Every figure (place in line, estimate, state, counter) is the server's, shown as
// sent. The page speaks the ticket's language (the server says which), or the one the visitor
// picks here; an address's ?lang= does not count. Everything inserted into the page goes
// through textContent: the office's texts (service name, notice, what to bring) are never
// treated as HTML.
"use strict";

(function () {
  // The page's words, from the server's gettext catalogues (server/web/status/LANG.po), each
  // language with its name in itself; loaded once before the first drawing.
  let CATALOGUE = { en: { language_name: "English" } };
  const FINAL_STATES = ["done", "no_show", "walkaway", "closed_at_end_of_day"];
  const base = location.pathname.replace(/\/+$/, "");
  const jsonUrl = base + "/json";
  const streamUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + base + "/ws";
  const PICKED = "lobby-status-language:" + location.pathname; // this tab's pick, kept on reload

  let data = null; // last status the server sent
  let picked = remembered();
  let lang = chooseLanguage();
  let updatedAt = null; // the server's time of that status: the office's clock, not the phone's
  let offline = false;
  let notFound = false;
  let socket = null;
  let retry = null;
  let failures = 0;
  let lastCallKey = null;
  let surveyAnswered = false;
  let surveySending = false;
  let surveyFailed = false;

  function remembered() {
    try {
      return sessionStorage.getItem(PICKED);
    } catch (err) {
      return null; // storage refused: the pick lasts until a reload
    }
  }

  // The visitor's pick on this page, then the ticket's language, then the phone's.
  function chooseLanguage() {
    const ticket = data && data.language;
    const wanted = [picked, ticket].concat(navigator.languages || [navigator.language || ""]);
    for (const tag of wanted) {
      if (!tag) continue;
      const base = String(tag).toLowerCase().split("-")[0];
      if (CATALOGUE[base]) return base;
    }
    return "en";
  }

  function t(key, values) {
    const text = (CATALOGUE[lang] && CATALOGUE[lang][key]) || CATALOGUE.en[key] || key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (values && name in values ? String(values[name]) : ""));
  }

  function $(id) {
    return document.getElementById(id);
  }

  function show(id, text) {
    const node = $(id);
    node.textContent = text || "";
    node.hidden = !text;
  }

  function clock(date) {
    try {
      return date.toLocaleTimeString(lang, { hour: "numeric", minute: "2-digit", timeZone: data.timezone });
    } catch (err) {
      return date.toTimeString().slice(0, 5);
    }
  }

  function offeredLanguages() {
    const office = (data && data.languages) || [];
    const both = office.filter((code) => CATALOGUE[code]);
    return both.length ? both : Object.keys(CATALOGUE);
  }

  function renderLanguages() {
    const nav = $("languages");
    nav.setAttribute("aria-label", t("language"));
    nav.replaceChildren();
    const codes = offeredLanguages();
    if (codes.length < 2) return;
    for (const code of codes) {
      const button = document.createElement("button");
      button.type = "button";
      button.lang = code;
      button.textContent = CATALOGUE[code].language_name;
      button.setAttribute("aria-pressed", String(code === lang));
      button.dataset.lang = code;
      button.addEventListener("click", () => setLanguage(code));
      nav.appendChild(button);
    }
  }

  function setLanguage(code) {
    picked = lang = code;
    try {
      sessionStorage.setItem(PICKED, code);
    } catch (err) {
      /* see remembered() */
    }
    render();
  }

  function renderStatic() {
    document.documentElement.lang = lang;
    for (const node of document.querySelectorAll("[data-text]")) {
      node.textContent = t(node.dataset.text);
    }
  }

  function renderState() {
    const box = $("state");
    box.className = "card state";
    show("detail", "");
    show("hint", "");
    $("ask").hidden = true;
    if (notFound) {
      box.classList.add("unknown");
      $("headline").textContent = t("not_found");
      $("ask").hidden = false;
      return;
    }
    if (!data) {
      $("headline").textContent = t("loading");
      return;
    }
    const ticket = data.ticket;
    const counter = ticket.counter_name || ticket.counter || "";
    box.classList.add(ticket.state);
    switch (ticket.state) {
      case "waiting": {
        const position = ticket.position;
        $("headline").textContent =
          position === 1 ? t("position_next") : position ? t("position_n", { n: position }) : "";
        const estimate = ticket.estimate;
        if (estimate) {
          show(
            "detail",
            estimate.low_min > 0
              ? t("estimate_range", { low: estimate.low_min + "\u2060", high: "\u2060" + estimate.high_min })
              : t("estimate_upto", { high: estimate.high_min })
          );
        }
        // the range errs high on purpose: say so, so "up to 20" is not read as a promise
        show("hint", (estimate ? t("estimate_note") + " " : "") + t("waiting_hint"));
        break;
      }
      case "called":
        $("headline").textContent = t("called", { counter: counter });
        show("hint", t("called_hint"));
        break;
      case "serving":
        $("headline").textContent = t("serving", { counter: counter });
        break;
      case "done":
        $("headline").textContent = t("done");
        show("hint", t("done_hint"));
        break;
      default:
        box.classList.add("ended");
        $("headline").textContent = t(ticket.state);
        $("ask").hidden = false;
    }
  }

  function renderTitle() {
    if (data && data.ticket.state === "called") {
      const counter = data.ticket.counter_name || data.ticket.counter || "";
      document.title = data.ticket.number + " · " + t("called_title", { counter: counter });
    } else if (data) {
      document.title = data.ticket.number + " · " + t("title");
    } else {
      document.title = t("title");
    }
  }

  function renderSurvey() {
    const ticket = data && data.ticket;
    const done = !!ticket && ticket.state === "done";
    const answered = surveyAnswered || (done && ticket.survey_needs_met != null);
    $("survey").hidden = !done;
    $("survey-buttons").hidden = answered;
    $("survey-thanks").hidden = !answered;
    $("survey-yes").disabled = $("survey-no").disabled = surveySending;
    show("survey-error", surveyFailed && !answered ? t("survey_failed") : "");
  }

  async function answerSurvey(needsMet) {
    if (surveySending) return;
    surveySending = true;
    surveyFailed = false;
    renderSurvey();
    try {
      const response = await fetch(jsonUrl.replace(/\/json$/, "/survey"), {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ needs_met: needsMet }),
      });
      // 409: this visit's answer is already recorded (another tap, another tab).
      surveyAnswered = response.ok || response.status === 409;
      surveyFailed = !surveyAnswered;
    } catch (err) {
      surveyFailed = true;
    } finally {
      surveySending = false;
    }
    renderSurvey();
  }

  // Emergency mode: the server's heading and instruction, in the page's language first (the
  // visit's, or the one picked here), then in every other office language.
  function renderEmergency() {
    const box = $("emergency");
    const emergency = data && data.emergency;
    box.hidden = !emergency;
    box.replaceChildren();
    if (!emergency) return;
    box.classList.toggle("drill", !!emergency.drill);
    const codes = Object.keys(emergency.instruction);
    const first = codes.includes(lang) ? lang : codes[0];
    const order = [first].concat(codes.filter((code) => code !== first));
    order.forEach((code, i) => {
      const heading = document.createElement(i === 0 ? "h1" : "p");
      heading.className = "emergency-heading";
      heading.lang = code;
      heading.textContent = emergency.heading[code] || "";
      const words = document.createElement("p");
      words.className = i === 0 ? "words" : "words other";
      words.lang = code;
      words.textContent = emergency.instruction[code];
      box.append(heading, words);
    });
  }

  function render() {
    renderStatic();
    renderLanguages();
    renderState();
    renderSurvey();
    renderTitle();
    renderEmergency();
    if (data) {
      $("office").textContent = data.office;
      $("number").textContent = data.ticket.number;
      $("service").textContent = data.ticket.service_name || data.ticket.service;
      $("info").textContent = data.info || "";
      $("info-card").hidden = !data.info || FINAL_STATES.includes(data.ticket.state);
      $("notice").textContent = data.notice || "";
      $("notice-card").hidden = !data.notice;
    }
    show("updated", updatedAt ? t("updated", { time: clock(updatedAt) }) : "");
    if (offline) {
      show("offline", updatedAt ? t("offline", { time: clock(updatedAt) }) : t("offline_never"));
    } else {
      show("offline", "");
    }
  }

  function buzzIfCalled() {
    const ticket = data && data.ticket;
    if (!ticket || ticket.state !== "called") return;
    const key = ticket.called_at + "/" + (ticket.recalls || 0);
    if (key === lastCallKey) return;
    lastCallKey = key;
    if (navigator.vibrate) {
      try {
        navigator.vibrate([400, 200, 400, 200, 400]);
      } catch (err) {
        /* vibration is a courtesy; some browsers refuse it without a tap */
      }
    }
  }

  function finished() {
    return notFound || (data && FINAL_STATES.includes(data.ticket.state));
  }

  function receive(status) {
    data = status;
    lang = chooseLanguage();
    updatedAt = new Date(data.now);
    offline = false;
    failures = 0;
    buzzIfCalled();
    render();
    if (finished() && socket) socket.close(1000);
  }

  // The server pushes the visit's status whenever it moves (and once a minute): nothing here
  // polls. A lost connection is shown at once and retried with backoff and jitter.
  function connect() {
    clearTimeout(retry);
    if (socket || finished()) return;
    const ws = new WebSocket(streamUrl);
    socket = ws;
    let heard = false;
    ws.onmessage = (event) => {
      heard = true;
      receive(JSON.parse(event.data));
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      if (finished()) return;
      offline = true;
      failures += 1;
      render();
      if (!heard) checkKnown(); // refused before a word: the visit may be gone (another day)
      const seconds = Math.min(30, 0.5 * 2 ** Math.min(failures, 6)) * (0.5 + Math.random() / 2);
      retry = setTimeout(connect, seconds * 1000);
    };
  }

  async function checkKnown() {
    try {
      const response = await fetch(jsonUrl, { cache: "no-store", credentials: "omit" });
      if (response.status === 404) {
        notFound = true;
        offline = false;
        clearTimeout(retry);
        render();
      }
    } catch (err) {
      /* the server is down: the stream's retries will tell */
    }
  }

  $("survey-yes").addEventListener("click", () => answerSurvey(true));
  $("survey-no").addEventListener("click", () => answerSurvey(false));
  // A phone that slept or lost its network reconnects as soon as it is back.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") connect();
  });
  window.addEventListener("online", () => connect());

  async function start() {
    for (;;) {
      try {
        const response = await fetch("/status/assets/labels.json", { cache: "no-cache" });
        if (response.ok) {
          CATALOGUE = await response.json();
          break;
        }
      } catch (err) {
        // no connection yet: the words come with the first answer the server can give
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    lang = chooseLanguage();
    render();
    connect();
  }

  start();
})();
