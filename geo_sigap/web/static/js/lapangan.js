/* Field team app (SOP steps 4-6) for phones, offline first.
 *
 * Every action (depart, arrive, handled, report with photos, position) goes to an outbox in
 * IndexedDB first and is sent from there in order, each with its own Idempotency-Key, so a
 * lost signal loses nothing and a resend is never counted twice. The last good copy of the
 * assignments is kept too; the service worker (/lapangan-sw.js) keeps the page and the base
 * map. New assignments arrive on the event stream with a sound and a vibration. */
(function () {
  "use strict";
  const S = window.SIGAP, DBX = window.SIGAP_STORE, PHOTO = window.SIGAP_PHOTO;
  const { Outbox, KV } = DBX;
  const NEXT = { depart: "menuju_lokasi", arrive: "di_lokasi", handle: "ditangani" };
  const ALLOWED = { ditugaskan: ["depart", "arrive"], menuju_lokasi: ["arrive"], di_lokasi: ["handle"] };
  // at most one queued fix per 15 s (a test may ask for less through localStorage)
  const POSITION_EVERY_MS = Number(localStorage.getItem("sigap_position_every_ms")) || 15000;
  const MAX_QUEUED_POSITIONS = 240;
  const metrics = { alerts: 0, vibrations: 0, sent: 0, replayed: 0, conflicts: 0, flushes: 0 };
  window.SIGAP_FIELD = { metrics };

  let me = null;
  const cases = new Map(); // ticket → incident (server view, with local changes applied)
  const cards = new Map(); // ticket → card element
  let lastHeard = null, offlineSince = null, flushAgain = false, listedOnce = false;
  let watchId = null, lastFix = 0, teamMarker = null, routeFor = null;

  const base = S.baseMap("map", { levels: ["kelurahan"], collapsed: true, keepView: true });
  const map = base.map;
  base.ready.then(() => { // the area when there is no route to show yet
    const kel = base.overlays.kelurahan;
    if (!routeLayer.getLayers().length && kel.getLayers().length) map.fitBounds(kel.getBounds(), { padding: [10, 10] });
  }).catch(() => {});
  const overlay = L.featureGroup().addTo(map);
  const routeLayer = L.featureGroup().addTo(map);
  const hhmm = (d) => new Intl.DateTimeFormat(S.config.locale === "en" ? "en-GB" : "id-ID",
    { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Jakarta" }).format(d);
  const tpath = (t) => "/api/incidents/" + encodeURIComponent(t);

  /** The outbox items of the signed-in user (another account's stay on the phone unsent). */
  async function mine() { return (await Outbox.all()).filter((i) => me && i.owner === me.username); }

  /* ------------------------------------------------------------ network state */
  function heard() { lastHeard = new Date(); offlineSince = null; KV.set("last_heard", lastHeard.toISOString()); renderNet(); }
  function lost() { if (!offlineSince) offlineSince = new Date(); renderNet(); }

  async function renderNet() {
    const items = await mine();
    const waiting = items.filter((i) => i.state === "waiting");
    const actions = waiting.filter((i) => i.kind !== "position").length;
    const bar = S.$("#net");
    const off = !!offlineSince || navigator.onLine === false;
    bar.classList.toggle("offline", off);
    bar.classList.toggle("pending", waiting.length > 0);
    let text;
    if (off) {
      text = S.t("fieldapp.offline_since", { time: hhmm(offlineSince || new Date()) });
      if (lastHeard) text += " · " + S.t("fieldapp.last_heard", { time: hhmm(lastHeard) });
    } else text = S.t("fieldapp.online") + (lastHeard ? " · " + hhmm(lastHeard) : "");
    if (actions) text += " · " + S.t("fieldapp.waiting_n", { n: actions });
    const pos = waiting.length - actions;
    if (pos) text += " · " + S.t("fieldapp.positions_waiting", { n: pos });
    S.$("#net-text").textContent = text;
    bar.dataset.waiting = String(waiting.length);
  }

  /** GET JSON; on a failed network the last good copy (IndexedDB), flagged offline. */
  async function getJson(path, kvKey) {
    try {
      const res = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json",
        "Accept-Language": S.config.locale === "en" ? "en" : "id" } });
      if (res.status === 401) { const e = new S.ApiError(401, null); throw e; }
      const data = await res.json().catch(() => null);
      if (!res.ok) throw new S.ApiError(res.status, data);
      if (res.headers.get("X-Sigap-Offline")) lost(); else heard();
      if (kvKey) await KV.set(kvKey, { data, at: new Date().toISOString() });
      return data;
    } catch (e) {
      if (e instanceof S.ApiError && e.status) throw e;
      lost();
      const kept = kvKey ? await KV.get(kvKey) : undefined;
      if (kept) return kept.data;
      throw new S.ApiError(0, { error: { message: S.t("common.offline") } });
    }
  }

  /* ------------------------------------------------------------ rendering */
  const catNames = {}; // code → name in the page's language (from /api/categories)
  const catName = (inc) => catNames[inc.category] || inc.category_name || inc.category;
  const isActive = (inc) => ["ditugaskan", "menuju_lokasi", "di_lokasi"].includes(inc.status);
  function placeName(inc) {
    const p = inc.placement || {};
    return [inc.address_text, p.description || (p.kelurahan_name ? "Kel. " + p.kelurahan_name : "")].filter(Boolean).join(" — ") || "—";
  }

  async function queuedFor(ticket) {
    return (await mine()).filter((i) => i.ticket === ticket && i.state === "waiting");
  }

  function stepButtons(inc, node) {
    const steps = node.querySelector(".steps");
    const acts = inc.local_actions || inc.allowed_actions || [];
    const buttons = ["depart", "arrive", "handle"].filter((a) => acts.includes(a)).map((a, i) =>
      S.el("button", { type: "button", class: i === 0 ? "primary" : "secondary", "data-action": a,
        onclick: () => onAction(inc.ticket, a) }, S.t("action." + a)));
    const nav = inc.lat != null ? S.el("a", { class: "navi", href: "geo:" + inc.lat + "," + inc.lon + "?q=" + inc.lat + "," + inc.lon + "(" + encodeURIComponent(inc.ticket) + ")" }, S.t("fieldapp.navigate")) : null;
    if (!buttons.length) steps.replaceChildren(S.el("span", { class: "muted" }, S.t("fieldapp.no_step")), nav || "");
    else steps.replaceChildren(buttons[0], nav || S.el("span"), ...buttons.slice(1));
  }

  function cardFor(inc) {
    let node = cards.get(inc.ticket);
    if (node) return node;
    node = S.$("#assignment-tpl").content.firstElementChild.cloneNode(true);
    node.dataset.ticket = inc.ticket;
    const form = node.querySelector(".report-form");
    const text = form.querySelector("textarea");
    text.addEventListener("input", () => saveDraft(inc.ticket, { text: text.value }));
    form.querySelector("input[type=file]").addEventListener("change", (ev) => addPhotos(inc.ticket, ev.target));
    form.addEventListener("submit", (ev) => { ev.preventDefault(); onReport(inc.ticket, node); });
    node.querySelector(".handle-with-reason").addEventListener("click", () => {
      const reason = node.querySelector(".reason").value.trim();
      if (!reason) { node.querySelector(".reason").focus(); return; }
      queueAction(inc.ticket, "handle", reason);
    });
    node.addEventListener("click", (ev) => { if (!ev.target.closest("button, a, input, textarea, summary, label")) showRoute(inc.ticket, true); });
    cards.set(inc.ticket, node);
    loadDraft(inc.ticket, node);
    return node;
  }

  async function render() {
    const list = [...cases.values()];
    const active = list.filter(isActive).sort((a, b) => (a.priority - b.priority) || String(a.reported_at).localeCompare(String(b.reported_at)));
    const done = list.filter((i) => !isActive(i));
    const box = S.$("#assignments");
    if (!active.length) { box.replaceChildren(S.el("p", { class: "muted" }, S.t("field.no_assignments"))); }
    const nodes = [];
    for (const inc of active) {
      const node = cardFor(inc);
      node.querySelector(".ticket").textContent = inc.ticket;
      const prio = node.querySelector(".prio");
      prio.textContent = S.t("priority." + inc.priority); prio.className = "badge prio p" + inc.priority;
      const badge = node.querySelector(".status");
      badge.textContent = S.statusLabel(inc.status); badge.style.background = S.STATUS_COLORS[inc.status] || "#555";
      node.querySelector(".what").textContent = catName(inc);
      node.querySelector(".where").textContent = placeName(inc);
      node.title = inc.description || "";
      const rule = node.querySelector(".photo-rule");
      rule.textContent = inc.report_photo_required ? S.t("fieldapp.photo_required") : S.t("fieldapp.photo_optional");
      const waiting = await queuedFor(inc.ticket);
      const q = node.querySelector(".queued");
      const actions = waiting.filter((i) => i.kind !== "position");
      q.hidden = !actions.length;
      q.textContent = actions.length ? S.t("fieldapp.waiting_signal") + ": " + actions.map(describe).join(", ") : "";
      const reports = (inc.my_reports || 0) + waiting.filter((i) => i.kind === "report").length;
      node.querySelector(".report-badge").textContent = reports ? "· " + S.t("fieldapp.reports_n", { n: reports }) : "";
      stepButtons(inc, node);
      const det = node.querySelector(".report");
      if (node.dataset.status !== inc.status) { det.open = inc.status === "di_lokasi"; node.dataset.status = inc.status; }
      nodes.push(node);
    }
    if (active.length) box.replaceChildren(...nodes);
    for (const [t, n] of cards) if (!active.some((i) => i.ticket === t)) { n.remove(); cards.delete(t); }
    S.$("#history-count").textContent = String(done.length);
    S.$("#history-list").replaceChildren(...done.map((inc) => S.el("div", { class: "history-row", "data-ticket": inc.ticket },
      S.el("strong", {}, inc.ticket), " · ", catName(inc), " · ", S.statusLabel(inc.status),
      S.el("br"), S.el("span", { class: "muted" }, placeName(inc)))));
    drawMarkers(active);
    if (active.length && (!routeFor || !active.some((i) => i.ticket === routeFor))) showRoute(active[0].ticket, false);
    if (!active.length) { routeLayer.clearLayers(); routeFor = null; }
    document.body.dataset.ready = "1";
  }

  function describe(item) {
    if (item.kind === "transition") return S.t("action." + item.action);
    if (item.kind === "report") return S.t("fieldapp.report_item", { n: (item.photos || []).length });
    return S.t("fieldapp.position_item");
  }

  function drawMarkers(active) {
    overlay.clearLayers();
    for (const inc of active) {
      if (inc.lat == null) continue;
      L.circleMarker([inc.lat, inc.lon], { radius: 10, color: "#fff", weight: 3,
        fillColor: S.STATUS_COLORS[inc.status] || "#555", fillOpacity: 1 })
        .bindTooltip(inc.ticket + " · " + catName(inc), { permanent: active.length <= 3, direction: "top" })
        .on("click", () => showRoute(inc.ticket, true)).addTo(overlay);
    }
  }

  async function showRoute(ticket, focus) {
    const inc = cases.get(ticket);
    if (!inc || !me || !me.team_code) return;
    routeFor = ticket;
    routeLayer.clearLayers();
    try {
      const gj = await getJson(tpath(ticket) + "/route?team=" + encodeURIComponent(me.team_code), "route:" + ticket);
      if (routeFor !== ticket) return;
      L.geoJSON(gj.route || gj, { style: { color: "#c0392b", weight: 6, opacity: 0.85 } }).addTo(routeLayer);
      const node = cards.get(ticket);
      if (node && gj.eta_s != null) node.querySelector(".route-info").textContent = "· " + S.t("field.route") + " " +
        Math.max(1, Math.round(gj.eta_s / 60)) + " " + S.t("common.min") + " · " + (gj.distance_m / 1000).toLocaleString(S.config.locale === "en" ? "en-GB" : "id-ID", { maximumFractionDigits: 1 }) + " km";
      map.fitBounds(routeLayer.getBounds().extend(overlay.getBounds()), { padding: [24, 24], maxZoom: 17 });
    } catch (e) {
      if (inc.lat != null && focus) map.setView([inc.lat, inc.lon], 16);
    }
  }

  /* ------------------------------------------------------------ drafts and photos */
  const drafts = new Map();
  async function saveDraft(ticket, patch) {
    const d = Object.assign(drafts.get(ticket) || { text: "", photos: [] }, patch);
    drafts.set(ticket, d);
    await KV.set("draft:" + ticket, d);
  }
  async function loadDraft(ticket, node) {
    const d = (await KV.get("draft:" + ticket)) || { text: "", photos: [] };
    drafts.set(ticket, d);
    const ta = node.querySelector("textarea");
    if (d.text && !ta.value) ta.value = d.text;
    showThumbs(ticket, node);
  }
  function showThumbs(ticket, node) {
    const d = drafts.get(ticket) || { photos: [] };
    node.querySelector(".thumbs").replaceChildren(...d.photos.map((p, i) => {
      const url = URL.createObjectURL(p.blob);
      return S.el("figure", {}, S.el("img", { src: url, alt: p.name, onload: () => URL.revokeObjectURL(url) }),
        S.el("figcaption", {}, Math.round(p.size / 1024) + " KB ",
          S.el("button", { type: "button", class: "small", "aria-label": S.t("fieldapp.remove_photo"), onclick: async () => {
            d.photos.splice(i, 1); await saveDraft(ticket, { photos: d.photos }); showThumbs(ticket, node);
          } }, "×")));
    }));
  }
  // photos still being made small, by ticket: a report sent meanwhile waits for them
  const shrinking = new Map();
  function addPhotos(ticket, input) {
    const files = Array.from(input.files || []);
    input.value = "";
    const job = (shrinking.get(ticket) || Promise.resolve()).then(async () => {
      const node = cards.get(ticket);
      try {
        const shrunk = await PHOTO.shrinkAll(files);
        const d = drafts.get(ticket) || { text: "", photos: [] };
        d.photos = d.photos.concat(shrunk).slice(0, 6);
        await saveDraft(ticket, { photos: d.photos });
        if (node) showThumbs(ticket, node);
        window.SIGAP_FIELD.lastPhoto = shrunk.map((p) => ({ size: p.size, original_size: p.original_size }));
      } catch (e) { if (node) node.querySelector(".report-state").textContent = S.t("fieldapp.photo_failed"); }
    });
    shrinking.set(ticket, job);
    return job;
  }

  /* ------------------------------------------------------------ actions → outbox */
  function applyLocal(ticket, action) {
    const inc = cases.get(ticket);
    if (!inc || !NEXT[action]) return;
    inc.status = NEXT[action];
    inc.local_actions = ALLOWED[inc.status] || [];
  }

  async function queueAction(ticket, action, reason) {
    const inc = cases.get(ticket);
    if (action === "handle" && !reason) {
      const waiting = (await queuedFor(ticket)).filter((i) => i.kind === "report");
      if (!(inc.my_reports || 0) && !waiting.length) { askReport(ticket); return; }
      if (inc.report_photo_required && !(inc.my_photos || 0) && !waiting.some((i) => (i.photos || []).length)) { askReport(ticket, true); return; }
    }
    await Outbox.add({ owner: me.username, kind: "transition", ticket, action, reason: reason || null, version: inc ? inc.version : null, key: S.uuid() });
    applyLocal(ticket, action);
    await saveCases();
    await render();
    flush();
  }
  const onAction = (ticket, action) => queueAction(ticket, action, null);

  function askReport(ticket, photo) {
    const node = cards.get(ticket);
    node.querySelector(".report").open = true;
    const box = node.querySelector(".no-report");
    box.hidden = false;
    box.querySelector(".need-report").textContent = S.t(photo ? "fieldapp.need_photo" : "fieldapp.need_report");
    node.querySelector("textarea").focus();
  }

  async function onReport(ticket, node) {
    const form = node.querySelector(".report-form");
    const text = form.querySelector("textarea").value.trim();
    const state = form.querySelector(".report-state");
    if (!text) { form.querySelector("textarea").focus(); return; }
    await shrinking.get(ticket);
    const d = drafts.get(ticket) || { photos: [] };
    await Outbox.add({ owner: me.username, kind: "report", ticket, text, photos: d.photos.map((p) => ({ name: p.name, blob: p.blob })), key: S.uuid() });
    form.querySelector("textarea").value = "";
    await saveDraft(ticket, { text: "", photos: [] });
    showThumbs(ticket, node);
    node.querySelector(".no-report").hidden = true;
    state.textContent = "";
    await render();
    const ok = await flush();
    if (ok) state.textContent = S.t("field.report_sent");
    else if (!state.textContent) state.textContent = S.t("fieldapp.report_queued");
  }

  /* ------------------------------------------------------------ sending, in order, once */
  /** One outbox item to the server; a connection that hangs is given up after a while
   * (a report with photos gets longer) and the item is simply sent again later. */
  async function send(item) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), item.kind === "report" ? 120000 : 30000);
    try { return await sendOnce(item, ctl.signal); } finally { clearTimeout(timer); }
  }

  async function sendOnce(item, signal) {
    const headers = { "Idempotency-Key": item.key };
    if (item.kind === "transition") {
      const inc = cases.get(item.ticket);
      const body = { action: item.action, version: inc && inc.version != null ? inc.version : item.version, reason: item.reason || undefined };
      try {
        return await S.api("POST", tpath(item.ticket) + "/transitions", body, { noRedirect: true, headers, signal });
      } catch (e) {
        const cur = e.details && e.details.current;
        if (e.code === "concurrent_edit" && cur && (cur.allowed_actions || []).includes(item.action)) {
          body.version = cur.version; // changed by the posko meanwhile, but the step still stands
          return await S.api("POST", tpath(item.ticket) + "/transitions", body, { noRedirect: true, headers, signal });
        }
        throw e;
      }
    }
    if (item.kind === "report") {
      const fd = new FormData();
      fd.append("text", item.text);
      for (const p of item.photos || []) fd.append("photos", p.blob, p.name);
      return await S.api("POST", tpath(item.ticket) + "/reports", fd, { noRedirect: true, headers, signal });
    }
    return await S.api("POST", "/api/teams/" + encodeURIComponent(item.team) + "/position",
      { lon: item.lon, lat: item.lat, accuracy_m: item.accuracy_m, at: item.at }, { noRedirect: true, headers, signal });
  }

  function conflictText(item, e) {
    if (e.status === 403) return S.t("fieldapp.conflict_reassigned", { ticket: item.ticket });
    if (e.status === 404) return S.t("fieldapp.conflict_gone", { ticket: item.ticket });
    if (e.code === "invalid_transition" || e.code === "concurrent_edit") {
      const st = e.details && (e.details.status || (e.details.current && e.details.current.status));
      return S.t("fieldapp.conflict_state", { ticket: item.ticket, status: st ? S.statusLabel(st) : "?" });
    }
    return S.t("fieldapp.conflict_refused", { ticket: item.ticket, message: e.message });
  }

  /** Send the outbox in order. Resolves true when nothing is left waiting afterwards. */
  let running = null;
  function flush() {
    if (running) { flushAgain = true; return running; }
    running = runFlush().finally(() => { running = null; });
    return running;
  }
  async function runFlush() {
    metrics.flushes++;
    let ok = true;
    do {
      flushAgain = false;
      const items = (await mine()).filter((i) => i.state === "waiting").sort((a, b) => a.seq - b.seq);
      for (const item of items) {
        let res;
        try { res = await send(item); }
        catch (e) {
          if (!e.status || e.status >= 500 || e.status === 429 || e.status === 408) { lost(); ok = false; break; }
          if (e.status === 401) { showSessionExpired(); ok = false; break; }
          item.state = "conflict"; item.error = conflictText(item, e); item.tries++;
          await Outbox.put(item);
          metrics.conflicts++;
          if (item.kind !== "position") await refreshOne(item.ticket, e);
          continue;
        }
        heard();
        metrics.sent++;
        if (res && res.replayed) metrics.replayed++;
        await Outbox.remove(item.seq);
        if (item.kind === "report" && cases.has(item.ticket)) {
          // a sent report counts at once: "Ditangani" right after "Laporan terkirim" must
          // not ask for a report again when the answer carries no report list
          const c = cases.get(item.ticket);
          c.my_reports = (c.my_reports || 0) + 1;
          c.my_photos = (c.my_photos || 0) + (item.photos || []).length;
        }
        if (res && res.ticket && cases.has(res.ticket)) mergeCase(res);
      }
    } while (flushAgain && ok);
    await saveCases();
    await render();
    await renderConflicts();
    await renderNet();
    return ok && !(await mine()).some((i) => i.state === "waiting");
  }

  function mergeCase(view) {
    const old = cases.get(view.ticket) || {};
    const mine = (view.reports || []).filter((r) => r.team_code === (me && me.team_code));
    const merged = Object.assign({}, old, view);
    delete merged.local_actions;
    if (view.reports) {
      merged.my_reports = mine.length;
      merged.my_photos = mine.reduce((n, r) => n + (r.attachments || []).length, 0);
    }
    delete merged.reports; delete merged.assignments;
    cases.set(view.ticket, merged);
  }

  async function refreshOne(ticket, err) {
    if (err && err.status === 403) { cases.delete(ticket); notice(S.t("fieldapp.reassigned", { ticket })); return; }
    try { mergeCase(await S.api("GET", tpath(ticket), null, { noRedirect: true })); }
    catch (e) { if (e.status === 403 || e.status === 404) { cases.delete(ticket); notice(S.t("fieldapp.reassigned", { ticket })); } }
  }

  /** A case that left the team's list: reassigned to another team, or closed by the posko. */
  async function explainGone(ticket) {
    cases.delete(ticket);
    try {
      const inc = await S.api("GET", tpath(ticket), null, { noRedirect: true });
      notice(S.t("fieldapp.closed", { ticket, status: S.statusLabel(inc.status) }));
      cases.set(ticket, Object.assign(inc, { reports: undefined, assignments: undefined }));
    } catch (e) {
      if (e.status === 403 || e.status === 404) notice(S.t("fieldapp.reassigned", { ticket }));
    }
    render();
  }

  async function renderConflicts() {
    const items = (await mine()).filter((i) => i.state === "conflict");
    S.$("#conflicts").replaceChildren(...items.map((i) => S.el("div", { class: "conflict", role: "alert", "data-ticket": i.ticket, "data-kind": i.kind },
      S.el("strong", {}, S.t("fieldapp.not_sent") + ": " + describe(i) + " · " + i.ticket), S.el("br"), i.error,
      i.text ? S.el("blockquote", {}, i.text) : null,
      i.photos && i.photos.length ? S.el("p", { class: "muted" }, S.t("fieldapp.photos_kept", { n: i.photos.length })) : null,
      S.el("div", { class: "actions" },
        i.text ? S.el("button", { type: "button", class: "small", onclick: () => S.copyText(i.text).then(() => S.toast(S.t("fieldapp.copied"))) }, S.t("fieldapp.copy_text")) : null,
        S.el("button", { type: "button", class: "small", onclick: async () => { await Outbox.remove(i.seq); renderConflicts(); } }, S.t("fieldapp.dismiss"))))));
  }

  function notice(text) {
    const box = S.$("#notices");
    if ([...box.children].some((n) => n.dataset.text === text)) return;
    const n = S.el("div", { class: "notice", "data-text": text }, text, " ",
      S.el("button", { type: "button", class: "small", onclick: () => n.remove() }, S.t("fieldapp.dismiss")));
    box.append(n);
  }

  function showSessionExpired() {
    notice(S.t("fieldapp.session_expired"));
    const link = S.el("a", { href: "/masuk?next=/lapangan" }, S.t("fieldapp.sign_in_again"));
    S.$("#notices").lastElementChild.append(" ", link);
  }

  /* ------------------------------------------------------------ assignments */
  async function saveCases() { await KV.set("cases", { owner: me && me.username, items: [...cases.values()] }); }

  async function load() {
    const data = await getJson("/api/me/assignments", "assignments");
    const fresh = S.items(data, "assignments", "incidents");
    const before = new Set(cases.keys());
    const known = new Set(fresh.map((i) => i.ticket));
    const waiting = await mine();
    const first = !listedOnce;
    listedOnce = true;
    for (const t of before) if (!known.has(t) && isActive(cases.get(t))) explainGone(t);
    for (const inc of fresh) {
      const old = cases.get(inc.ticket);
      // a new assignment that this list shows before its event came (a slow stream) is
      // announced all the same (the event then finds it known: announced once)
      if (!old && !first && isActive(inc)) announce(inc.ticket);
      // an answer older than what this phone already knows (asked before a step or a
      // report of ours was stored, answered after it) must not undo it: "Ditangani" right
      // after "Laporan terkirim" asked for the report again once, under load
      if (old && old.version != null && inc.version != null && inc.version < old.version) continue;
      const merged = Object.assign({}, old || {}, inc);
      if (old && old.version === inc.version) {  // a report sent meanwhile counts (a rework, which lowers them, is a new version)
        for (const k of ["my_reports", "my_photos"]) merged[k] = Math.max(old[k] || 0, inc[k] || 0);
      }
      delete merged.local_actions;
      // steps still in the outbox are shown as done (they will be sent)
      for (const w of waiting) if (w.ticket === inc.ticket && w.kind === "transition" && w.state === "waiting") {
        const order = ["ditugaskan", "menuju_lokasi", "di_lokasi", "ditangani"];
        if (order.indexOf(NEXT[w.action]) > order.indexOf(merged.status)) { merged.status = NEXT[w.action]; merged.local_actions = ALLOWED[merged.status] || []; }
      }
      cases.set(inc.ticket, merged);
    }
    await saveCases();
    await render();
    const urls = fresh.filter(isActive).map((i) => tpath(i.ticket) + "/route?team=" + encodeURIComponent(me.team_code));
    if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage({ type: "cache", urls });
    return fresh;
  }

  /* ------------------------------------------------------------ live: event stream */
  function beep() {
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.35].forEach((t) => {
        const o = ctx.createOscillator(), g = ctx.createGain();
        o.frequency.value = 880; o.connect(g); g.connect(ctx.destination);
        g.gain.setValueAtTime(0.25, ctx.currentTime + t); g.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + t + 0.3);
        o.start(ctx.currentTime + t); o.stop(ctx.currentTime + t + 0.3);
      });
    } catch (e) { /* no audio */ }
  }
  // a new assignment is announced once, by its event or by the list that shows it first
  const announced = new Set();
  function announce(ticket) {
    if (announced.has(ticket)) return;
    announced.add(ticket);
    alertNew(ticket);
  }
  function alertNew(ticket) {
    metrics.alerts++;
    beep();
    if (navigator.vibrate && navigator.vibrate([300, 150, 300])) metrics.vibrations++;
    else if (navigator.vibrate) metrics.vibrations++;
    S.toast(S.t("fieldapp.new_assignment", { ticket }));
  }

  let reloadTimer = null;
  function reloadSoon() { clearTimeout(reloadTimer); reloadTimer = setTimeout(() => load().catch(() => {}), 300); }

  function listen() {
    if (!window.EventSource) return;
    const es = new EventSource("/api/events");
    es.onopen = () => { heard(); flush(); };
    es.onerror = () => { if (es.readyState !== EventSource.OPEN) lost(); };
    es.addEventListener("incident", (ev) => {
      heard();
      let d; try { d = JSON.parse(ev.data); } catch (e) { return; }
      const mine = (d.teams || []).includes(me.team_code);
      if (mine && (d.action === "dispatch" || d.action === "assign") && !cases.has(d.ticket)) announce(d.ticket);
      if (d.action === "unassign" && (d.removed || []).includes(me.team_code)) {
        announced.delete(d.ticket);  // assigned again later: announced again
        if (cases.has(d.ticket)) { cases.delete(d.ticket); notice(S.t("fieldapp.reassigned", { ticket: d.ticket })); render(); }
      }
      reloadSoon();
    });
    es.addEventListener("team", () => heard());
    window.SIGAP_FIELD.events = es;
  }

  /* ------------------------------------------------------------ location sharing */
  function shareState() {
    const on = watchId !== null;
    S.$("#share").setAttribute("aria-pressed", on ? "true" : "false");
    S.$("#share .label").textContent = on ? S.t("fieldapp.share_stop") : S.t("field.share_location");
  }
  async function onFix(p) {
    const pos = [p.coords.latitude, p.coords.longitude];
    if (!teamMarker) teamMarker = L.marker(pos, { icon: L.divIcon({ className: "team-dot", iconSize: [14, 14] }), interactive: false }).addTo(map);
    else teamMarker.setLatLng(pos);
    const now = Date.now();
    S.$("#share-state").textContent = S.t("field.sharing") + " · " + hhmm(new Date(p.timestamp || now));
    if (now - lastFix < POSITION_EVERY_MS) return;
    lastFix = now;
    await Outbox.add({ owner: me.username, kind: "position", team: me.team_code, lon: p.coords.longitude, lat: p.coords.latitude,
      accuracy_m: p.coords.accuracy, at: new Date(p.timestamp || now).toISOString(), key: S.uuid() });
    await Outbox.trimPositions(MAX_QUEUED_POSITIONS);
    flush();
  }
  function startSharing() {
    if (!navigator.geolocation || !me || !me.team_code) { S.toast("GPS", "error"); return; }
    watchId = navigator.geolocation.watchPosition(onFix,
      (e) => { S.$("#share-state").textContent = "GPS: " + e.message; },
      { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 });
    localStorage.setItem("sigap_share", "1");
    S.$("#share-state").textContent = S.t("common.loading");
    shareState();
  }
  function stopSharing() {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null; localStorage.removeItem("sigap_share");
    S.$("#share-state").textContent = S.t("fieldapp.share_off");
    shareState();
  }
  S.$("#share").addEventListener("click", () => (watchId === null ? startSharing() : stopSharing()));

  /* ------------------------------------------------------------ start */
  window.addEventListener("online", () => { flush(); load().catch(() => {}); });
  window.addEventListener("offline", () => lost());
  setInterval(() => { renderNet(); mine().then((i) => { if (i.some((x) => x.state === "waiting")) flush(); }); }, 5000);
  setInterval(() => { if (!offlineSince) load().catch(() => {}); }, 60000);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/lapangan-sw.js", { scope: "/lapangan" })
      .then(() => navigator.serviceWorker.ready).then(() => { window.SIGAP_FIELD.swReady = true; })
      .catch(() => { /* no offline cache (not a secure context): the page still works online */ });
  }

  async function start() {
    const last = await KV.get("last_heard");
    if (last) lastHeard = new Date(last);
    try {
      me = await getJson("/api/auth/me", "me");
      me = (me && me.user) || me;
      S.me({ noRedirect: true }).catch(() => {});
    } catch (e) {
      if (e.status === 401) { location.href = "/masuk?next=/lapangan"; return; }
      throw e;
    }
    const kept = await KV.get("cases");
    if (kept && kept.owner === me.username) for (const inc of kept.items || []) cases.set(inc.ticket, inc);
    try {
      const cats = S.items(await getJson("/api/categories", "categories"), "categories");
      for (const c of cats) catNames[c.code] = S.config.locale === "en" && c.name_en ? c.name_en : c.name;
    } catch (e) { /* names from the assignments themselves */ }
    if (!me || !me.team_code) { S.$("#assignments").replaceChildren(S.el("p", { class: "error" }, S.t("fieldapp.not_team"))); document.body.dataset.ready = "1"; return; }
    if (cases.size) await render();
    try { await load(); } catch (e) { if (e.status === 401) { location.href = "/masuk?next=/lapangan"; return; } await render(); }
    await renderConflicts();
    await renderNet();
    listen();
    flush();
    if (localStorage.getItem("sigap_share")) startSharing(); else shareState();
  }
  start().catch((e) => { S.toast(e.message || String(e), "error"); document.body.dataset.ready = "1"; });
})();
