/* Dispatcher panel (SOP step 3, and the close of step 7): one team per role chosen on one
   screen, one click to assign, one message for all teams; live; evidence before closing. */
(function () {
  "use strict";
  const S = window.SIGAP;
  const ticket = S.config.ticket;
  const base = S.baseMap("map", { levels: ["kelurahan", "rw"], keepView: true });
  const map = base.map;
  const routes = L.featureGroup().addTo(map);
  const COLORS = ["#c0392b", "#1f5fa8", "#1e8449", "#8e44ad", "#d35400", "#16a085"];
  let incident = null, suggestions = null, incMarker = null, lastMessages = null;
  const unitNames = {}, teamNames = {}, teamInfo = {};
  const routeCache = {};
  const metrics = window.SIGAP_DISPATCH = { updates: 0, seen: {}, routes: [] };

  const namesReady = (base.ready || Promise.resolve({})).then((found) => {
    for (const gj of Object.values(found || {})) for (const f of (gj && gj.features) || []) {
      const p = f.properties || {};
      if (p.code && p.name) unitNames[p.code] = p.name;
    }
  }).catch(() => {});
  /** "(15.71.11.1004)" → "(Kel. Talang Bakung)": places by name, not by code. */
  const named = (text) => String(text || "").replace(/\b\d{2}\.\d{2}\.\d{2}\.\d{4}(?:\.[\w.]+)?\b/g,
    (code) => (unitNames[code] ? (code.split(".").length === 4 ? "Kel. " : "") + unitNames[code] : code));
  const teamName = (code) => teamNames[code] || code;

  // ---------------------------------------------------------------- the case
  function renderIncident(inc) {
    const assigned = (inc.assignments || []).filter((a) => a.active !== false);
    S.$("#incident").replaceChildren(
      S.el("p", { class: "inc-head" }, S.el("strong", {}, S.category(inc.category)), " ",
        S.el("span", { class: "badge", style: "background:" + (S.STATUS_COLORS[inc.status] || "#555") }, S.statusLabel(inc.status)),
        " ", S.el("span", { class: "badge p" + inc.priority }, S.t("priority." + inc.priority))),
      S.el("p", { class: "inc-desc" }, inc.description || ""),
      S.el("p", { class: "muted" }, (inc.address_text ? inc.address_text + " — " : "") + S.place(inc.placement) + " · " + S.reported(inc.reported_at)),
      assigned.length
        ? S.el("p", { class: "assigned" }, S.t("dispatch.assigned") + ": " + assigned.map((a) => teamName(a.team_code) + " (" + S.t("dispatch." + a.kind) + ")").join(", "))
        : "");
    if (inc.lat != null) {
      if (!incMarker) incMarker = L.marker([inc.lat, inc.lon], { title: inc.ticket }).addTo(map);
      else incMarker.setLatLng([inc.lat, inc.lon]);
    }
    const box = S.$("#verify-box");
    box.replaceChildren();
    for (const action of ["verify", "reject", "resolve", "rework"]) {
      if (!(inc.allowed_actions || []).includes(action)) continue;
      box.append(S.el("button", { type: "button", "data-action": action, class: action === "verify" ? "primary" : null, onclick: () => act(action) }, S.t("action." + action)));
    }
    box.hidden = !box.children.length;
    renderEvidence(inc);
  }

  let closeDraft = null;
  async function act(action) {
    const body = { action, version: incident.version };
    if (action === "reject" || action === "rework") {
      const reason = prompt(S.t("field.reason")); if (!reason) return; body.reason = reason;
    }
    if (action === "resolve" && !S.$("#seen-evidence").checked) {
      S.showError(S.$("#dispatch-error"), new Error(S.t("close.need_seen"))); S.$("#seen-evidence").focus(); return;
    }
    if (action === "resolve") {
      const note = (S.$("#public-note") || {}).value;
      if (note && note.trim()) body.public_note = note.trim();
    }
    try {
      await S.api("POST", "/api/incidents/" + encodeURIComponent(ticket) + "/transitions", body);
      if (action === "resolve" && closeDraft) closeDraft.clear();
      await reload();
    }
    catch (e) { S.showError(S.$("#dispatch-error"), e); if (e.status === 409) reload().catch(() => {}); }
  }

  // ---------------------------------------------------------------- evidence (close, step 7)
  function renderEvidence(inc) {
    const box = S.$("#evidence");
    const reports = inc.reports || [];
    const showIt = reports.length || ["ditangani", "selesai"].includes(inc.status);
    box.hidden = !showIt;
    if (!showIt) return;
    const parts = [S.el("h2", {}, S.t("close.reports"))];
    if (!reports.length) parts.push(S.el("p", { class: "warn-text" }, S.t("close.no_report")));
    for (const r of reports) {
      parts.push(S.el("div", { class: "field-report", "data-report": r.id },
        S.el("p", {}, S.el("strong", {}, teamName(r.team_code)), " · ", S.el("span", { class: "muted" }, S.wib(r.created_at))),
        S.el("p", { class: "d-text" }, r.text || "—"),
        S.el("div", { class: "photos" }, (r.attachments || []).map((a) => (a.content_type || "").startsWith("image/")
          ? S.el("a", { href: a.url, target: "_blank", rel: "noopener" }, S.el("img", { src: a.url, alt: a.filename || S.t("close.photo"), class: "photo", loading: "lazy" }))
          : S.el("a", { href: a.url }, a.filename)))));
    }
    parts.push(S.el("h2", {}, S.t("close.timeline")));
    const steps = ["reported_at", "verified_at", "dispatched_at", "en_route_at", "on_scene_at", "handled_at", "resolved_at"];
    parts.push(S.el("ol", { class: "timeline" }, steps.filter((k) => inc[k]).map((k) =>
      S.el("li", { class: "done" }, S.el("strong", {}, S.t("status." + k)), " · " + S.wib(inc[k])))));
    if ((inc.allowed_actions || []).includes("resolve")) {
      parts.push(S.el("label", { class: "check seen" }, S.el("input", { type: "checkbox", id: "seen-evidence" }), " " + S.t(reports.length ? "close.seen" : "close.seen_none")));
      // what the citizen reads on /status when the case is closed (kept as a draft until sent)
      parts.push(S.el("form", { id: "close-form", class: "close-form", onsubmit: (ev) => ev.preventDefault() },
        S.el("label", {}, S.t("close.public_note"),
          S.el("textarea", { id: "public-note", name: "public_note", rows: "2", maxlength: "1000",
            placeholder: S.t("close.public_note_hint") })),
        S.el("p", { class: "hint" }, S.t("close.public_note_help"))));
    }
    box.replaceChildren(...parts);
    const closeForm = S.$("#close-form");
    if (closeForm) closeDraft = S.draft(closeForm, "close." + ticket);
    const resolve = S.$("#verify-box button[data-action='resolve']");
    if (resolve) {  // the close button goes with the evidence, after the confirmation
      resolve.classList.add("primary");
      box.append(S.el("div", { class: "actions" }, resolve));
      S.$("#verify-box").hidden = !S.$("#verify-box").children.length;
    }
  }

  // ---------------------------------------------------------------- the decision
  function pickFor(r) {
    const sel = document.querySelector('select[data-role="' + r.role + '"]');
    return sel ? sel.value : r.recommended;
  }
  function chosenAssignments() {
    const out = [];
    for (const r of (suggestions && suggestions.roles) || []) {
      const code = pickFor(r);
      if (code && !out.some((a) => a.team_code === code)) out.push({ team_code: code, kind: r.kind === "lead" ? "lead" : "support" });
    }
    if (out.length && !out.some((a) => a.kind === "lead")) out[0].kind = "lead";
    return out;
  }

  function routeLabel(c) { return teamName(c.team_code) + " · " + S.minutes(c.eta_s) + " · " + S.km(c.distance_m); }
  async function drawChosen() {
    routes.clearLayers();
    metrics.routes = [];
    const roles = (suggestions && suggestions.roles) || [];
    const jobs = [];
    roles.forEach((r, i) => {
      const code = pickFor(r);
      const c = (r.candidates || []).find((x) => x.team_code === code);
      if (!c) return;
      const col = COLORS[i % COLORS.length];
      const sw = document.querySelector('.suggestion[data-role="' + r.role + '"] .swatch');
      if (sw) sw.style.background = col;
      const draw = (gj) => {
        const layer = L.geoJSON(gj && gj.route ? gj.route : gj, { style: { color: col, weight: 6, opacity: 0.85 } });
        layer.bindTooltip(routeLabel(c), { sticky: true });
        routes.addLayer(layer);
        metrics.routes.push(code);
      };
      const info = teamInfo[c.team_code] || {};
      const pt = Array.isArray(info.post) && info.post.length === 2 ? info.post : Array.isArray(c.position) ? c.position : null;
      if (pt) routes.addLayer(L.marker([pt[1], pt[0]], { icon: L.divIcon({ className: "team-post", html: "<i style='background:" + col + "'>" + S.esc((c.team_code || "").split("-")[0]) + "</i>", iconSize: [30, 22] }), title: teamName(c.team_code) })
        .bindTooltip(teamName(c.team_code) + " — " + S.t("dispatch.post")));
      if (c.route) draw(c.route);
      else if (routeCache[code]) draw(routeCache[code]);
      else jobs.push(S.api("GET", "/api/incidents/" + encodeURIComponent(ticket) + "/route?team=" + encodeURIComponent(code))
        .then((gj) => { routeCache[code] = gj; draw(gj); }).catch(() => {}));
    });
    await Promise.all(jobs);
    const b = routes.getBounds();
    if (b.isValid()) map.fitBounds(b.extend(incMarker ? incMarker.getLatLng() : b.getCenter()), { padding: [30, 30] });
    else if (incMarker) map.setView(incMarker.getLatLng(), 16);
  }

  function optionText(c) {
    const tags = [c.is_responsible ? S.t("dispatch.responsible") : null, c.rank === 1 ? S.t("dispatch.nearest") : null].filter(Boolean).join(", ");
    return (c.team_name || teamName(c.team_code)) + " · " + S.minutes(c.eta_s) + " · " + S.km(c.distance_m) + (tags ? " (" + tags + ")" : "");
  }
  function renderDecision(canAssign) {
    const box = S.$("#suggestions");
    box.replaceChildren();
    for (const r of (suggestions && suggestions.roles) || []) {
      for (const c of r.candidates || []) if (c.team_name) teamNames[c.team_code] = c.team_name;
      const select = S.el("select", { "data-role": r.role, "aria-label": S.roleLabel(r.role), onchange: () => { updateReason(r); drawChosen(); } },
        (r.candidates || []).map((c) => S.el("option", { value: c.team_code, selected: c.team_code === r.recommended }, optionText(c))));
      const card = S.el("div", { class: "suggestion", "data-role": r.role },
        S.el("div", { class: "sg-head" }, S.el("span", { class: "swatch" }),
          S.el("strong", {}, r.role_label && S.config.locale !== "en" ? r.role_label : S.roleLabel(r.role)), " — ", S.t("dispatch." + r.kind)),
        select, S.el("p", { class: "muted reason" }));
      box.append(card);
      updateReason(r);
    }
    S.$("#assign-suggested").hidden = !canAssign;
    S.$("#decision").hidden = !canAssign;
  }
  function updateReason(r) {
    const code = pickFor(r);
    const c = (r.candidates || []).find((x) => x.team_code === code);
    const p = document.querySelector('.suggestion[data-role="' + r.role + '"] .reason');
    const more = (r.not_ranked || []).length ? " " + S.t("dispatch.not_ranked", { n: S.num(r.not_ranked.length), k: S.num((r.candidates || []).length) }) : "";
    if (p) p.textContent = (c ? named(S.config.locale === "en" ? c.reason_en || c.reason : c.reason) : "") + more;
  }

  async function assign(list) {
    const err = S.$("#dispatch-error"); err.hidden = true;
    const btn = S.$("#assign-suggested"); btn.disabled = true;
    try {
      const res = await S.api("POST", "/api/incidents/" + encodeURIComponent(ticket) + "/assign",
        { version: incident.version, assignments: list });
      lastMessages = res.messages || [];
      S.toast(S.t("dispatch.assigned"));
      await reload();
    } catch (e) {
      S.showError(err, e);
      if (e.status === 409) { S.toast(S.t("dispatch.stale")); reload().catch(() => {}); }
    } finally { btn.disabled = false; }
  }

  // ---------------------------------------------------------------- the WhatsApp messages
  const share = (text, phone) => S.$("#messages").dataset.share + (phone || "") + "?text=" + encodeURIComponent(text);
  /** As the server's ``normalize_phone``: "0812-3456-789" → "628123456789". */
  const waNumber = (phone) => {
    const d = String(phone || "").replace(/\D/g, "");
    return !d ? "" : d[0] === "0" ? "62" + d.slice(1) : d[0] === "8" ? "62" + d : d;
  };
  let shownMessages = null;
  function showMessages(inc) {
    const active = (inc.assignments || []).filter((a) => a.message && a.active !== false);
    const box = S.$("#messages");
    box.hidden = !active.length;
    if (!active.length) { shownMessages = null; return; }
    const fromApi = {};
    for (const m of lastMessages || []) fromApi[m.team_code] = m;
    // each team's own chat: the link the assignment answered with, or (after a reload)
    // one to the team's number
    const link = (a) => (fromApi[a.team_code] && fromApi[a.team_code].wa_link)
      || share(a.message, waNumber((teamInfo[a.team_code] || {}).phone));
    // A live update that leaves the messages as they are leaves them on screen as they
    // are (a message the dispatcher opened stays open, "copied" stays, nothing jumps);
    // only their links are brought up to date.
    const key = JSON.stringify(active.map((a) => [a.team_code, a.kind, a.message, teamName(a.team_code)]));
    if (key === shownMessages) {
      for (const a of active) {
        const el = box.querySelector('details.message[data-team="' + CSS.escape(a.team_code) + '"] a.wa-link');
        if (el && el.getAttribute("href") !== link(a)) el.setAttribute("href", link(a));
      }
      return;
    }
    shownMessages = key;
    const wasOpen = new Set([...box.querySelectorAll("details.message[open]")].map((d) => d.dataset.team));
    const lead = active.find((a) => a.kind === "lead") || active[0];
    const all = active.length > 1
      ? S.t("dispatch.all_header", { ticket: inc.ticket }) + "\n\n" + active.map((a) => a.message).join("\n\n———\n\n")
      : lead.message;
    const copyBtn = (text) => S.el("button", { type: "button", class: "copy small", onclick: async (ev) => {
      if (await S.copyText(text)) ev.target.textContent = S.t("common.copied");
    } }, S.t("common.copy"));
    box.replaceChildren(
      S.el("h2", {}, S.t("dispatch.messages")),
      S.el("div", { class: "actions send-all" },
        S.el("a", { href: share(all), target: "_blank", rel: "noopener", class: "wa-link wa-all primary-link" },
          S.t(active.length > 1 ? "dispatch.send_all" : "dispatch.send_group")),
        copyBtn(all)),
      ...active.map((a) => S.el("details", { class: "message", "data-team": a.team_code,
        open: active.length === 1 || wasOpen.has(a.team_code) ? true : null },
        S.el("summary", {}, teamName(a.team_code) + " (" + S.t("dispatch." + a.kind) + ")"),
        S.el("pre", { class: "wa-text" }, a.message),
        S.el("div", { class: "actions" }, copyBtn(a.message),
          S.el("a", { href: link(a), target: "_blank", rel: "noopener", class: "wa-link" }, S.t("dispatch.open_wa"))))));
  }

  // ---------------------------------------------------------------- loading and live updates
  async function load() {
    incident = await S.api("GET", "/api/incidents/" + encodeURIComponent(ticket));
    metrics.version = incident.version;
    renderIncident(incident);
    showMessages(incident);
    const assigned = (incident.assignments || []).some((a) => a.active !== false);
    const canAssign = (incident.allowed_actions || []).includes("assign");
    const wantSuggestions = canAssign && S.OPEN.has(incident.status) && incident.status !== "ditangani";
    if (wantSuggestions && !suggestions) {
      try { suggestions = await S.api("GET", "/api/incidents/" + encodeURIComponent(ticket) + "/suggestions"); }
      catch (e) { suggestions = null; S.showError(S.$("#dispatch-error"), e); }
    }
    const roles = (suggestions && suggestions.roles) || [];
    await namesReady;
    // the first decision is on screen; after assigning only "add a team" remains, folded
    renderDecision(!assigned && wantSuggestions && roles.some((r) => r.recommended));
    S.$("#not-ready").hidden = incident.status !== "diterima";
    const more = S.$("#more-teams");
    more.hidden = !(assigned && canAssign && roles.length && incident.status !== "ditangani");
    if (!more.hidden) renderMore(roles);
    if (!assigned) await drawChosen();
    else await drawAssigned();
    document.body.dataset.ready = "1";
  }
  function renderMore(roles) {
    const have = new Set((incident.assignments || []).map((a) => a.team_code));
    S.$("#more-list").replaceChildren(...roles.flatMap((r) => (r.candidates || []).filter((c) => !have.has(c.team_code)).slice(0, 3).map((c) =>
      S.el("div", { class: "team-choice", "data-team": c.team_code },
        S.el("span", {}, S.roleLabel(r.role) + ": " + optionText(c)),
        S.el("button", { type: "button", class: "small assign-one", onclick: () => assign([{ team_code: c.team_code, kind: "support" }]) }, S.t("dispatch.assign"))))));
  }
  async function drawAssigned() {
    routes.clearLayers();
    const active = (incident.assignments || []).filter((a) => a.active !== false);
    await Promise.all(active.map((a, i) => {
      const col = COLORS[i % COLORS.length];
      const draw = (gj) => { routes.addLayer(L.geoJSON(gj && gj.route ? gj.route : gj, { style: { color: col, weight: 6, opacity: 0.85 } }).bindTooltip(teamName(a.team_code))); };
      if (routeCache[a.team_code]) { draw(routeCache[a.team_code]); return null; }
      return S.api("GET", "/api/incidents/" + encodeURIComponent(ticket) + "/route?team=" + encodeURIComponent(a.team_code))
        .then((gj) => { routeCache[a.team_code] = gj; draw(gj); }).catch(() => {});
    }));
    const b = routes.getBounds();
    if (b.isValid()) map.fitBounds(b.extend(incMarker ? incMarker.getLatLng() : b.getCenter()), { padding: [30, 30] });
  }

  // One load at a time, in order. A change that arrives while a load runs asks for one
  // more after it (that load's answer may have been read before the change) and waits
  // for it; further changes meanwhile join the same one.
  let running = null, queued = null;
  function reload() {
    if (!running) {
      running = load().finally(() => { running = null; });
      return running;
    }
    if (!queued) queued = running.catch(() => {}).then(() => { queued = null; return reload(); });
    return queued;
  }
  S.live({
    incident: (d) => {
      if (d.ticket !== ticket || !incident) return;
      if (d.version != null && d.version <= incident.version) return;  // shown already
      metrics.updates++; metrics.seen[d.status] = Date.now();
      reload().catch(() => {});
    },
    reconnect: () => reload().catch(() => {}),
  }, S.$("#live"));

  S.$("#assign-suggested").addEventListener("click", () => assign(chosenAssignments()));
  S.api("GET", "/api/teams").then((d) => {
    for (const t of S.items(d, "teams", "items")) { teamNames[t.code] = t.name; teamInfo[t.code] = t; }
    if (incident) showMessages(incident);  // the teams' names and numbers, now known
  }).catch(() => {});
  S.me().then(() => reload()).catch((e) => { if (e.status !== 401) S.showError(S.$("#dispatch-error"), e); });
})();
