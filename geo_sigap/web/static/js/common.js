/* GeoSIGAP — shared helpers for every page (no framework, no network beyond this origin). */
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const readJson = (id) => JSON.parse(document.getElementById(id).textContent || "{}");
  const MESSAGES = readJson("sigap-i18n");
  const CONFIG = readJson("sigap-config");

  function t(key, fmt) {
    let text = MESSAGES[key] || key;
    if (fmt) for (const k of Object.keys(fmt)) text = text.split("{" + k + "}").join(fmt[k]);
    return text;
  }

  class ApiError extends Error {
    constructor(status, body) {
      const err = (body && body.error) || {};
      super(err.message || t("common.error") + " (" + status + ")");
      this.status = status; this.code = err.code; this.details = err.details || {};
    }
  }

  /** fetch() on this origin; JSON in/out; 401 sends staff pages to the sign-in page. */
  async function api(method, path, body, opts) {
    opts = opts || {};
    const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
    const init = { method, headers, credentials: "same-origin" };
    if (opts.signal) init.signal = opts.signal;
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined && body !== null) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (CONFIG.locale === "en") headers["Accept-Language"] = "en";
    let res;
    try { res = await fetch(path, init); }
    catch (e) { throw new ApiError(0, { error: { message: t("common.offline") } }); }
    if (opts.onResponse) opts.onResponse(res);
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
    if (res.status === 401 && !opts.noRedirect) {
      location.href = "/masuk?next=" + encodeURIComponent(location.pathname + location.search);
      throw new ApiError(401, data);
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  /** Lists come as an array or wrapped ({items|incidents|teams|candidates|features: […]}). */
  function items(data, ...keys) {
    if (Array.isArray(data)) return data;
    if (!data) return [];
    for (const k of keys.concat(["items", "results", "data"])) if (Array.isArray(data[k])) return data[k];
    return [];
  }

  function toast(msg, kind) {
    const el = $("#toast"); if (!el) return;
    el.textContent = msg; el.className = "show " + (kind || "");
    clearTimeout(toast._t); toast._t = setTimeout(() => { el.className = ""; }, 4000);
  }

  function showError(el, err) {
    if (!el) { toast(err.message || String(err), "error"); return; }
    el.textContent = err.message || String(err); el.hidden = false;
  }

  const parseTime = (iso) => (iso ? new Date(iso).getTime() : NaN);

  function ago(iso, now) {
    const ms = (now || Date.now()) - parseTime(iso);
    if (!isFinite(ms)) return "—";
    const m = Math.floor(ms / 60000);
    if (m < 1) return t("common.just_now");
    if (m < 60) return t("common.minutes_ago", { n: m });
    if (m < 48 * 60) return t("common.hours_ago", { n: Math.floor(m / 60) });
    return t("common.days_ago", { n: Math.floor(m / 1440) });
  }

  const _wib = new Intl.DateTimeFormat(CONFIG.locale === "en" ? "en-GB" : "id-ID", {
    timeZone: "Asia/Jakarta", day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit",
  });
  function wib(iso) { const v = parseTime(iso); return isFinite(v) ? _wib.format(new Date(v)) + " WIB" : "—"; }

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c != null) node.append(c.nodeType ? c : document.createTextNode(String(c)));
    return node;
  }

  // Category glyphs (24×24 SVG paths, drawn here: no icon font, no CDN).
  const GLYPHS = {
    store: "M4 10h16v10H4zM3 4h18l1 5H2zM9 14h6v6H9z",
    user: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-8 9c0-4 4-6 8-6s8 2 8 6z",
    paw: "M12 13c-3 0-6 3-6 6 0 2 2 2 3 2h6c1 0 3 0 3-2 0-3-3-6-6-6zM6 11a2 2 0 1 0 0-4 2 2 0 0 0 0 4zm12 0a2 2 0 1 0 0-4 2 2 0 0 0 0 4zM9 7a2 2 0 1 0 0-4 2 2 0 0 0 0 4zm6 0a2 2 0 1 0 0-4 2 2 0 0 0 0 4z",
    ban: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 3a7 7 0 0 1 5.6 11.2L7.8 6.4A7 7 0 0 1 12 5zm-5.6 2.8 9.8 9.8A7 7 0 0 1 6.4 7.8z",
    heart: "M12 21 3 12a5 5 0 0 1 9-6 5 5 0 0 1 9 6z",
    bolt: "M13 2 4 14h7l-1 8 9-12h-7z",
    lock: "M6 10V7a6 6 0 0 1 12 0v3h1v12H5V10zm3 0h6V7a3 3 0 0 0-6 0z",
    fire: "M12 2c1 4 6 6 6 12a6 6 0 0 1-12 0c0-3 2-5 3-6 0 2 1 3 2 3 0-3-1-6 1-9z",
    alert: "M12 2 1 21h22zm-1 7h2v6h-2zm0 8h2v2h-2z",
    team: "M12 2 4 6v6c0 5 3.5 8.5 8 10 4.5-1.5 8-5 8-10V6z",
  };
  function glyph(name, size) {
    const d = GLYPHS[name] || GLYPHS.alert; size = size || 16;
    return '<svg viewBox="0 0 24 24" width="' + size + '" height="' + size + '" aria-hidden="true"><path fill="currentColor" d="' + d + '"/></svg>';
  }

  const STATUS_COLORS = {
    diterima: "#d62728", terverifikasi: "#ff7f0e", ditugaskan: "#9467bd",
    menuju_lokasi: "#1f77b4", di_lokasi: "#17becf", ditangani: "#2ca02c",
    selesai: "#7f7f7f", ditolak: "#7f7f7f",
  };
  const OPEN = new Set(["diterima", "terverifikasi", "ditugaskan", "menuju_lokasi", "di_lokasi", "ditangani"]);

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  async function copyText(text) {
    try { await navigator.clipboard.writeText(text); return true; }
    catch (e) {
      const ta = el("textarea", {}, text); document.body.append(ta); ta.select();
      const ok = document.execCommand("copy"); ta.remove(); return ok;
    }
  }

  let _me = null;
  /** The signed-in user (GET /api/auth/me), shown in the top bar; redirects when signed out. */
  async function me(opts) {
    if (_me) return _me;
    const data = await api("GET", "/api/auth/me", null, opts);
    _me = (data && data.user) || data;
    const who = $("#whoami");
    if (who && _me) who.textContent = (_me.full_name || _me.username || "") + (_me.role ? " · " + t("user_role." + _me.role) : "");
    const out = $("#logout");
    if (out) {
      out.hidden = false;
      out.addEventListener("click", async (ev) => {
        ev.preventDefault();
        try { await api("POST", "/api/auth/logout", {}, { noRedirect: true }); } catch (e) { /* already out */ }
        location.href = "/masuk";
      });
    }
    return _me;
  }

  /** Current position from the browser's GPS, as {lon, lat, accuracy_m}. */
  function gps() {
    return new Promise((resolve, reject) => {
      if (!navigator.geolocation) { reject(new Error("GPS")); return; }
      navigator.geolocation.getCurrentPosition(
        (p) => resolve({ lon: p.coords.longitude, lat: p.coords.latitude, accuracy_m: p.coords.accuracy }),
        (e) => reject(new Error(e.message || "GPS")), { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
    });
  }

  function describePlacement(p) {
    if (!p) return "—";
    if (p.description) return p.description;
    const u = p.units || {};
    const parts = [];
    if (u.rt && u.rt.name) parts.push(u.rt.name);
    if (u.rw && u.rw.name) parts.push(u.rw.name);
    if (u.kelurahan && u.kelurahan.name) parts.push("Kel. " + u.kelurahan.name);
    return parts.join(", ") || p.kelurahan_name || "—";
  }

  // ------------------------------------------------------------ drafts (localStorage)
  /**
   * Keep a form's fields in this browser until it is saved: `draft(form, key, extra)`.
   * extra: {get() → object, set(object)} for state that is not a field (e.g. the pin).
   * Returns {clear(), restored}. Files are not kept.
   */
  function draft(form, key, extra) {
    const storeKey = "sigap.draft." + key;
    const fields = () => Array.from(form.elements).filter((e) => e.name && e.type !== "file" && e.type !== "submit" && e.type !== "button");
    function save() {
      const data = { at: Date.now(), fields: {} };
      let any = false;
      for (const e of fields()) {
        if (e.type === "radio") {  // one value per group: the checked one
          if (e.checked) { data.fields[e.name] = e.value; any = true; }
          continue;
        }
        const v = e.type === "checkbox" ? e.checked : e.value;
        data.fields[e.name] = v;
        if (e.type !== "checkbox" && e.tagName !== "SELECT" && v) any = true;
      }
      if (extra) { data.extra = extra.get(); if (data.extra) any = true; }
      if (any) localStorage.setItem(storeKey, JSON.stringify(data));
      else localStorage.removeItem(storeKey);
    }
    let restored = false;
    try {
      const old = JSON.parse(localStorage.getItem(storeKey) || "null");
      if (old && old.fields) {
        for (const e of fields()) {
          if (!(e.name in old.fields)) continue;
          if (e.type === "radio") e.checked = e.value === old.fields[e.name];
          else if (e.type === "checkbox") e.checked = !!old.fields[e.name]; else e.value = old.fields[e.name];
        }
        if (extra && old.extra) extra.set(old.extra);
        restored = true;
      }
    } catch (e) { /* a broken draft is dropped */ }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    return { save, restored, clear: () => localStorage.removeItem(storeKey) };
  }

  /** Requests of one kind of which only the last one asked counts (a search corrected,
   *  another quarter chosen): ``const ask = latest(); … await ask(S.api(…))`` resolves
   *  or rejects as the request does, or never when a later one was asked meanwhile (an
   *  earlier answer that arrives late must not replace the newer one). */
  function latest() {
    let n = 0;
    return (promise) => {
      const mine = ++n;
      return new Promise((resolve, reject) => promise.then(
        (v) => { if (mine === n) resolve(v); }, (e) => { if (mine === n) reject(e); }));
    };
  }

  /** The user asked their system for less motion: maps jump instead of gliding, markers
   *  and banners do not pulse (the CSS stops every animation the same way). */
  const stillMotion = Boolean(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);

  window.SIGAP = {
    stillMotion,
    $, t, api, items, toast, showError, ago, wib, esc, el, glyph, uuid, copyText, me, gps, latest,
    parseTime, describePlacement, ApiError, config: CONFIG, STATUS_COLORS, OPEN, draft,
    statusLabel: (s) => t("status." + s), roleLabel: (r) => t("role." + r),
  };
})();
