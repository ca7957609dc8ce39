/* Posko console helpers (operator, dispatcher, coordinator): live events, alerts,
   locale formats (drafts: common.js). Loaded after common.js; adds to window.SIGAP. */
(function () {
  "use strict";
  const S = window.SIGAP;
  const LOCALE = S.config.locale === "en" ? "en-GB" : "id-ID";

  // ------------------------------------------------------------ numbers, names, places
  const _num = {};
  /** A number in the page's locale ("1,3" in Indonesian, "1.3" in English). */
  function num(value, digits) {
    if (value == null || !isFinite(value)) return "—";
    const d = digits == null ? 0 : digits;
    const key = String(d);
    if (!_num[key]) _num[key] = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: d, maximumFractionDigits: d });
    return _num[key].format(value);
  }
  const km = (m) => (m == null ? "—" : num(m / 1000, m < 10000 ? 1 : 0) + " " + S.t("common.km"));
  const minutes = (s) => (s == null ? "—" : num(Math.max(1, Math.round(s / 60))) + " " + S.t("common.min"));
  const metres = (m) => (m == null ? "—" : m >= 1000 ? km(m) : num(Math.round(m)) + " m");

  /** Category name in the page's language (from the server's table), else the code. */
  function category(code) {
    const names = S.config.categories || {};
    return names[code] || code || "—";
  }
  /** "RT 005 / RW 002, Kel. Eka Jaya" from a placement (reverse result or incident). */
  function place(p) {
    if (!p) return "—";
    const u = p.units || {};
    const name = (k) => (u[k] && u[k].name) || p[k + "_name"];
    const rtrw = [name("rt"), name("rw")].filter(Boolean).join(" / ");
    const parts = [rtrw, name("kelurahan") ? "Kel. " + name("kelurahan") : null].filter(Boolean);
    if (!parts.length) return (p.flags || []).includes("outside_coverage") || !p.kelurahan_code ? S.t("place.outside") : (p.description || "—");
    return parts.join(", ");
  }
  /** Flags of a placement in words ("border" → "dekat batas wilayah"). */
  function flags(p) {
    return ((p && p.flags) || []).map((f) => S.t("flag." + f)).filter((x) => x && x.indexOf("flag.") !== 0);
  }
  const _full = new Intl.DateTimeFormat(LOCALE, { timeZone: "Asia/Jakarta", day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" });
  /** "5 September 2024 21.14 WIB" (with the year, for times that may be old). */
  const dateTime = (iso) => { const v = S.parseTime(iso); return isFinite(v) ? _full.format(new Date(v)) + " WIB" : "—"; };
  /** Ticket age: "Dilaporkan 20 menit lalu". */
  const reported = (iso) => S.t("common.reported_ago", { ago: S.ago(iso) });

  // ------------------------------------------------------------ live events
  /**
   * Follow /api/events. handlers: {incident(d), team(d), reconnect()}. The element
   * `liveEl` shows "Langsung" / "Terputus". Returns the EventSource.
   */
  function live(handlers, liveEl) {
    let es = null, wasDown = false;
    function open() {
      es = new EventSource("/api/events");
      es.onopen = () => {
        if (liveEl) { liveEl.className = "live on"; liveEl.textContent = S.t("map.live"); }
        // after a drop the page reloads what it shows (the stream resumes from now); with
        // resyncOnOpen also on the first open, so nothing between the page's first read and
        // the stream's start is missed
        if ((wasDown || handlers.resyncOnOpen) && handlers.reconnect) handlers.reconnect();
        wasDown = false;
      };
      es.onerror = () => {
        wasDown = true;
        if (liveEl) { liveEl.className = "live off"; liveEl.textContent = S.t("map.disconnected"); }
      };
      for (const kind of ["incident", "team"]) {
        if (!handlers[kind]) continue;
        es.addEventListener(kind, (ev) => {
          let d; try { d = JSON.parse(ev.data); } catch (e) { return; }
          try { handlers[kind](d); } catch (e) { console.error(e); }
        });
      }
      live.source = es;
    }
    open();
    return es;
  }

  // ------------------------------------------------------------ alert sound
  let _audio = null;
  const soundOn = () => localStorage.getItem("sigap.sound") !== "off";
  /** A short two-tone chime (Web Audio; no file, no network). */
  function chime() {
    if (!soundOn()) return false;
    try {
      _audio = _audio || new (window.AudioContext || window.webkitAudioContext)();
      if (_audio.state === "suspended") _audio.resume();
      const t0 = _audio.currentTime;
      for (const [i, f] of [[0, 880], [1, 1175]]) {
        const o = _audio.createOscillator(), g = _audio.createGain();
        o.frequency.value = f; o.type = "sine";
        g.gain.setValueAtTime(0.0001, t0 + i * 0.18);
        g.gain.exponentialRampToValueAtTime(0.25, t0 + i * 0.18 + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.18 + 0.16);
        o.connect(g).connect(_audio.destination);
        o.start(t0 + i * 0.18); o.stop(t0 + i * 0.18 + 0.17);
      }
      chime.count = (chime.count || 0) + 1;
      return true;
    } catch (e) { return false; }
  }
  /** A checkbox that turns the chime on/off (remembered in this browser). */
  function soundToggle(input) {
    input.checked = soundOn();
    input.addEventListener("change", () => { localStorage.setItem("sigap.sound", input.checked ? "on" : "off"); if (input.checked) chime(); });
  }

  Object.assign(S, { dateTime, num, km, minutes, metres, category, place, flags, reported, live, chime, soundToggle });
})();
