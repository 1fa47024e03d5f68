"use strict";
/*
 * The display page in emergency mode (and in a drill): what the page shows and says while the
 * office's state carries `office.emergency` (lobby/protocol.py EmergencyView). Everything shown
 * is the server's: the heading ("EMERGENCY", or "DRILL" for a drill) and the instruction in
 * every office language, in the office's order. The page only lays it out:
 *
 *   - every language at once, as large as the screen allows; when they cannot all fit at a
 *     readable size, one language at a time, each for CYCLE_MS;
 *   - the alarm (alarm.wav, never the call chime), then the instruction spoken in each language
 *     the server can say it in (/display/emergency.wav), again every REPEAT_MS while it lasts;
 *   - once drawn, the page tells the server it is showing this emergency (POST
 *     /api/emergency/ack), once per emergency id, retried with backoff until the server answers.
 *
 *   const screen = LobbyEmergency.create({ sound, debug });
 *   screen.show(office.emergency)   // or null: back to the board
 */
(() => {
  const CYCLE_MS = 5000;
  const REPEAT_MS = 20000;
  const GAP_MS = 600;
  const ACK_DELAYS_MS = [500, 1000, 2000, 5000, 10000, 30000];
  const LARGEST_EM = 1.8; // short texts on a tall screen grow to fill it
  const SMALLEST_EM = 0.6; // of the instruction's full size: below this, one language at a time

  const $ = (id) => document.getElementById(id);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** The distinct headings in the office's order: "EMERGENCY · EMERGENCIA · XAALAD DEGDEG". */
  function headings(emergency) {
    return [...new Set(Object.values(emergency.heading))].join("\u00a0· "); // never "· " first
  }

  function create({ sound, debug }) {
    let current = null; // the EmergencyView on show
    let cycle = null;
    let index = 0;
    const acked = new Set();
    let wake = null;

    // ---------------------------------------------------------------- drawing

    function build(emergency) {
      const lines = $("emergency-lines");
      lines.replaceChildren();
      for (const [lang, text] of Object.entries(emergency.instruction)) {
        const block = document.createElement("div");
        block.className = "instruction";
        block.lang = lang;
        block.dataset.lang = lang;
        const heading = document.createElement("p");
        heading.className = "lang-heading";
        heading.textContent = emergency.heading[lang] || "";
        const words = document.createElement("p");
        words.className = "words";
        words.textContent = text;
        block.append(heading, words);
        lines.append(block);
      }
      $("emergency").classList.toggle("drill", emergency.drill);
      $("emergency-heading").textContent = headings(emergency);
      fit();
    }

    /** All languages at once, shrunk to fit; one at a time when even the smallest overflows. */
    function fit() {
      const box = $("emergency");
      const lines = $("emergency-lines");
      box.classList.remove("cycling");
      lines.style.fontSize = "";
      for (const block of lines.children) block.hidden = false;
      const fits = (scale) => {
        lines.style.fontSize = `${scale.toFixed(3)}em`;
        return lines.scrollHeight <= lines.clientHeight + 1;
      };
      if (fits(SMALLEST_EM)) {
        // the largest size that fits, in a few layouts: the page must show it at once
        let low = SMALLEST_EM;
        let high = LARGEST_EM;
        while (high - low > 0.02) {
          const middle = (low + high) / 2;
          if (fits(middle)) low = middle;
          else high = middle;
        }
        fits(low);
        return;
      }
      box.classList.add("cycling");
      lines.style.fontSize = "";
      showOne();
    }

    function showOne() {
      const blocks = [...$("emergency-lines").children];
      if (blocks.length === 0) return;
      index %= blocks.length;
      blocks.forEach((block, i) => {
        block.hidden = i !== index;
      });
      const fitted = blocks[index];
      fitted.style.fontSize = "";
      for (let scale = 1; scale >= 0.3 && fitted.scrollHeight > fitted.clientHeight + 1; scale -= 0.05) {
        fitted.style.fontSize = `${scale.toFixed(2)}em`;
      }
    }

    function next() {
      if (!current || !$("emergency").classList.contains("cycling")) return;
      index += 1;
      showOne();
    }

    // ---------------------------------------------------------------- telling the server

    async function acknowledge(id) {
      if (acked.has(id)) return;
      acked.add(id);
      for (let attempt = 0; current && current.id === id; attempt += 1) {
        try {
          const response = await fetch("/api/emergency/ack", {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ emergency: id }),
          });
          // 409: no longer the current one (it ended meanwhile); any 4xx: asking again is no use
          if (response.ok || (response.status >= 400 && response.status < 500)) {
            debug.acknowledged.push({ id, status: response.status });
            return;
          }
        } catch {
          /* no answer: try again */
        }
        await sleep(ACK_DELAYS_MS[Math.min(attempt, ACK_DELAYS_MS.length - 1)]);
      }
    }

    // ---------------------------------------------------------------- sound

    const clips = new Map(); // "kind/lang" -> Promise<AudioBuffer|null>

    function spoken(emergency, lang) {
      const key = `${emergency.kind}/${lang}`;
      if (!clips.has(key)) {
        const query = new URLSearchParams({ kind: emergency.kind, lang });
        clips.set(key, sound.fetch(`/display/emergency.wav?${query}`));
      }
      return clips.get(key);
    }

    /** The alarm and the spoken instruction, again and again until this emergency ends. */
    async function alarm(emergency) {
      const still = () => current !== null && current.id === emergency.id;
      while (still()) {
        if (sound.on()) {
          const languages = Object.keys(emergency.instruction);
          languages.forEach((lang) => spoken(emergency, lang)); // made while the alarm sounds
          debug.alarms += 1;
          await sound.play("alarm");
          for (const lang of languages) {
            if (!still()) return;
            const buffer = await spoken(emergency, lang);
            if (buffer && still()) {
              debug.spoken.push(lang);
              highlight(lang);
              await sound.playBuffer(buffer);
              await sleep(GAP_MS);
            }
          }
          highlight(null);
        }
        await new Promise((resolve) => {
          wake = resolve;
          setTimeout(resolve, sound.on() ? REPEAT_MS : 1000);
        });
      }
    }

    /** The language being spoken, marked on screen (and shown, when one is shown at a time). */
    function highlight(lang) {
      const blocks = [...$("emergency-lines").children];
      blocks.forEach((block, i) => {
        block.classList.toggle("speaking", block.dataset.lang === lang);
        if (block.dataset.lang === lang && $("emergency").classList.contains("cycling")) {
          index = i;
          showOne();
        }
      });
    }

    // ---------------------------------------------------------------- the mode

    function show(emergency) {
      const was = current;
      current = emergency || null;
      const on = current !== null;
      $("emergency").hidden = !on;
      $("board").inert = on; // covered by the emergency; its sound button and link mark stay up
      document.documentElement.classList.toggle("in-emergency", on);
      if (!on) {
        clearInterval(cycle);
        cycle = null;
        sound.stop();
        if (wake) wake();
        debug.emergency = null;
        return;
      }
      if (was && was.id === current.id && JSON.stringify(was) === JSON.stringify(current)) return;
      build(current);
      debug.emergency = current.id;
      if (!was || was.id !== current.id) {
        index = 0;
        clearInterval(cycle);
        cycle = setInterval(next, CYCLE_MS);
        sound.stop();
        alarm(current);
        const id = current.id;
        // after the browser has drawn it: the acknowledgement says "on screen" (a hidden tab
        // draws no frames, so the timer stands in)
        const ack = () => acknowledge(id);
        requestAnimationFrame(() => setTimeout(ack, 0));
        setTimeout(ack, 1000);
      }
    }

    window.addEventListener("resize", () => current && fit());
    return {
      show,
      get active() {
        return current !== null;
      },
    };
  }

  window.LobbyEmergency = { create };
})();
