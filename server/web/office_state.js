"use strict";
/*
 * The office state as the pages hold it (display, supervisor): the live stream's
 * snapshot, then its patches, folded in order. The same fold as lobby/state.py, which the
 * terminal apps and the server itself use, so every screen holds the same figures at the same
 * seq.
 *
 * It decides nothing: positions, estimates, waits and their colour, idle time, service states,
 * "now serving" and "earlier calls", and which calls to announce all arrive computed by the
 * server. The fold's only rules: items are replaced whole, by id; a ticket that leaves the open
 * states leaves the list; a resolved alert leaves the alerts; a message older than the state
 * is ignored (a tick applies to the seq it was computed at).
 *
 *   const link = LobbyState.follow({ onChange(state, applied) {...}, onLink(up) {...} });
 *   link.state.services   // Map id -> service, in the office's order
 *   link.serverNow()      // the server's clock, for a page's own clock display
 */
(() => {
  const OPEN = new Set(["waiting", "called", "serving"]);
  const RECONNECT_DELAYS_MS = [500, 1000, 2000, 5000, 10000];

  // Every link the page follows, newest last: read by the browser tests (and handy in a
  // screen's devtools) to compare what the page holds with what the server serves.
  const links = [];

  const byId = (items, key = "id") => new Map((items || []).map((item) => [item[key], item]));

  class OfficeState {
    constructor() {
      this.seq = -1;
      this.role = "";
      this.now = "";
      this.office = null;
      this.services = new Map();
      this.counters = new Map();
      this.tickets = new Map();
      this.calls = { now_serving: [], earlier: [] };
      this.alerts = new Map();
      this.printers = new Map();
    }

    get ready() {
      return this.office !== null;
    }

    /** Fold one message; returns what it changed, or null when it was older than the state. */
    apply(message) {
      if (message.type === "snapshot") {
        this.load(message.state);
        return { snapshot: true, announce: message.announce || [], tickets: message.state.tickets || [] };
      }
      if (message.type !== "patch" || !this.isCurrent(message)) return null;
      this.seq = message.seq;
      this.now = message.at;
      if (message.office) this.office = message.office;
      for (const service of message.services || []) this.services.set(service.id, service);
      for (const counter of message.counters || []) this.counters.set(counter.id, counter);
      for (const ticket of message.tickets || []) this.putTicket(ticket);
      if (message.calls) this.calls = message.calls;
      for (const alert of message.alerts || []) this.putAlert(alert);
      for (const printer of message.printers || []) this.printers.set(printer.device, printer);
      return { snapshot: false, announce: message.announce || [], tickets: message.tickets || [] };
    }

    load(state) {
      this.seq = state.seq;
      this.role = state.role;
      this.now = state.now;
      this.office = state.office;
      this.services = byId(state.services);
      this.counters = byId(state.counters);
      this.tickets = new Map();
      for (const ticket of state.tickets || []) this.putTicket(ticket);
      this.calls = state.calls || { now_serving: [], earlier: [] };
      this.alerts = new Map();
      for (const alert of state.alerts || []) this.putAlert(alert);
      this.printers = new Map(Object.entries(state.printers || {}));
    }

    /** The state as a snapshot carries it (GET /api/state's shape), for a comparison. */
    plain() {
      return {
        seq: this.seq,
        role: this.role,
        office: this.office,
        services: [...this.services.values()],
        counters: [...this.counters.values()],
        tickets: [...this.tickets.values()],
        calls: this.calls,
        alerts: [...this.alerts.values()],
        printers: Object.fromEntries(this.printers),
      };
    }

    isCurrent(patch) {
      if (!this.ready) return false;
      const tick = patch.cause.length === 1 && patch.cause[0] === "tick";
      return patch.seq > this.seq || (tick && patch.seq === this.seq);
    }

    putTicket(ticket) {
      if (OPEN.has(ticket.state)) this.tickets.set(ticket.id, ticket);
      else this.tickets.delete(ticket.id);
    }

    putAlert(alert) {
      if (alert.resolved) this.alerts.delete(alert.id);
      else this.alerts.set(alert.id, alert);
    }
  }

  /**
   * Follow /ws for ever: fold every message into one OfficeState and call onChange(state,
   * applied). Reconnects with backoff and jitter, naming the last seq seen so the snapshot
   * announces the calls missed meanwhile. onLink(up, failures) reports the connection;
   * onRefused() is called when the server refuses the page's sign-in (the page decides what
   * to show); stop() ends it.
   */
  function follow({ onChange = () => {}, onLink = () => {}, onRefused = null, path = "/ws" } = {}) {
    const state = new OfficeState();
    let offsetMs = 0;
    let failures = 0;
    let socket = null;
    let stopped = false;
    let timer = null;

    function connect() {
      if (stopped) return;
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const query = state.seq >= 0 ? `?since=${state.seq}` : "";
      const ws = new WebSocket(`${scheme}//${location.host}${path}${query}`);
      socket = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        failures = 0;
        onLink(true, 0);
      };
      ws.onmessage = (event) => {
        let message;
        try {
          message = JSON.parse(event.data);
        } catch {
          return;
        }
        const applied = state.apply(message);
        if (applied === null) return;
        if (applied.snapshot) offsetMs = Date.parse(message.state.now) - Date.now() || 0;
        onChange(state, applied);
      };
      ws.onclose = async () => {
        if (socket !== ws) return;
        socket = null;
        if (stopped) return;
        failures += 1;
        onLink(false, failures);
        if (!opened && onRefused && (await refused())) {
          onRefused();
          return;
        }
        const base = RECONNECT_DELAYS_MS[Math.min(failures - 1, RECONNECT_DELAYS_MS.length - 1)];
        timer = setTimeout(connect, base * (0.75 + Math.random() * 0.5));
      };
    }

    // A refused WebSocket handshake looks like a server that is down: ask which it is.
    async function refused() {
      try {
        const response = await fetch("/api/state", { credentials: "same-origin" });
        return response.status === 401 || response.status === 403;
      } catch {
        return false;
      }
    }

    connect();
    const link = {
      state,
      serverNow: () => Date.now() + offsetMs,
      stop() {
        stopped = true;
        clearTimeout(timer);
        if (socket) socket.close();
      },
    };
    links.push(link);
    return link;
  }

  window.LobbyState = { OfficeState, follow, links };
})();
