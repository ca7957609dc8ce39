/* Dispatcher panel (SOP step 3): responsible and nearest teams per role, routes, one-click assign. */
(function () {
  "use strict";
  const S = window.SIGAP;
  const ticket = S.config.ticket;
  const base = S.baseMap("map", { levels: ["kelurahan", "rw"], keepView: true });
  const map = base.map;
  const routes = L.featureGroup().addTo(map);
  const COLORS = ["#c0392b", "#1f5fa8", "#1e8449", "#8e44ad", "#d35400", "#16a085"];
  let incident = null, suggestions = null, incMarker = null;

  const mins = (s) => (s == null ? "—" : Math.max(1, Math.round(s / 60)) + " " + S.t("common.min"));
  const km = (m) => (m == null ? "—" : (m / 1000).toFixed(1) + " " + S.t("common.km"));

  function renderIncident(inc) {
    const p = inc.placement || {};
    S.$("#incident").replaceChildren(
      S.el("p", {}, S.el("strong", {}, inc.category_name || inc.category), " ",
        S.el("span", { class: "badge", style: "background:" + (S.STATUS_COLORS[inc.status] || "#555") }, S.statusLabel(inc.status)),
        " ", S.t("priority." + inc.priority)),
      S.el("p", {}, inc.description || ""),
      S.el("p", { class: "muted" }, (inc.address_text ? inc.address_text + " — " : "") + (p.description || "")),
      S.el("p", { class: "muted" }, S.t("status.reported_at") + ": " + S.wib(inc.reported_at) + " (" + S.ago(inc.reported_at) + ")"),
      inc.assignments && inc.assignments.length
        ? S.el("p", {}, S.t("dispatch.assigned") + ": " + inc.assignments.map((a) => a.team_code + " (" + S.t("dispatch." + a.kind) + ")").join(", "))
        : "");  // replaceChildren() would print a null as the text "null"
    if (inc.lat != null) {
      if (!incMarker) incMarker = L.marker([inc.lat, inc.lon], { title: inc.ticket }).addTo(map);
      else incMarker.setLatLng([inc.lat, inc.lon]);
    }
    const box = S.$("#verify-box");
    box.replaceChildren();
    for (const action of ["verify", "reject", "resolve", "rework"]) {
      if (!(inc.allowed_actions || []).includes(action)) continue;
      box.append(S.el("button", { type: "button", "data-action": action, onclick: () => act(action) }, S.t("action." + action)));
    }
    box.hidden = !box.children.length;
  }

  async function act(action) {
    const body = { action, version: incident.version };
    if (action === "reject" || action === "rework") {
      const reason = prompt(S.t("field.reason")); if (!reason) return; body.reason = reason;
    }
    try { await S.api("POST", "/api/incidents/" + encodeURIComponent(ticket) + "/transitions", body); await load(); }
    catch (e) { S.showError(S.$("#dispatch-error"), e); if (e.status === 409) load(); }
  }

  function drawRoute(gj, color, label) {
    const layer = L.geoJSON(gj && gj.route ? gj.route : gj, { style: { color, weight: 5, opacity: 0.8 }, interactive: true });
    layer.bindTooltip(label, { sticky: true });
    routes.addLayer(layer);
  }

  function chosenAssignments() {
    const out = [];
    for (const r of (suggestions && suggestions.roles) || []) {
      const pick = document.querySelector('input[name="pick-' + r.role + '"]:checked');
      const code = pick ? pick.value : r.recommended;
      if (code && !out.some((a) => a.team_code === code)) out.push({ team_code: code, kind: r.kind });
    }
    if (out.length && !out.some((a) => a.kind === "lead")) out[0].kind = "lead";
    return out;
  }

  async function assign(list) {
    const err = S.$("#dispatch-error"); err.hidden = true;
    try {
      const res = await S.api("POST", "/api/incidents/" + encodeURIComponent(ticket) + "/assign",
        { version: incident.version, assignments: list });
      showMessages(res.messages || []);
      S.toast(S.t("dispatch.assigned"));
      await load(true);
    } catch (e) {
      S.showError(err, e);
      if (e.status === 409) { S.toast(S.t("dispatch.stale")); load(); }
    }
  }

  function showMessages(messages) {
    const box = S.$("#messages");
    box.hidden = !messages.length;
    box.replaceChildren(S.el("h2", {}, S.t("dispatch.messages")), ...messages.map((m) => {
      const pre = S.el("pre", { class: "wa-text" }, m.text);
      return S.el("div", { class: "message", "data-team": m.team_code },
        S.el("h3", {}, m.team_code), pre,
        S.el("div", { class: "actions" },
          S.el("button", { type: "button", class: "copy", onclick: async (ev) => {
            if (await S.copyText(m.text)) ev.target.textContent = S.t("common.copied");
          } }, S.t("common.copy")),
          m.wa_link ? S.el("a", { href: m.wa_link, target: "_blank", rel: "noopener", class: "wa-link" }, S.t("dispatch.open_wa")) : null));
    }));
  }

  async function renderSuggestions() {
    const box = S.$("#suggestions");
    routes.clearLayers();
    box.replaceChildren();
    const roles = (suggestions && suggestions.roles) || [];
    let color = 0;
    const routeJobs = [];
    for (const r of roles) {
      const card = S.el("div", { class: "suggestion", "data-role": r.role },
        S.el("h3", {}, (r.role_label || S.roleLabel(r.role)) + " — " + S.t("dispatch." + r.kind)));
      if (r.note) card.append(S.el("p", { class: "muted" }, r.note));
      for (const c of r.candidates || []) {
        const col = COLORS[color++ % COLORS.length];
        const tags = [c.is_responsible ? S.t("dispatch.responsible") : null, c.rank === 1 ? S.t("dispatch.nearest") : null].filter(Boolean).join(" · ");
        const reason = S.config.locale === "en" ? c.reason_en || c.reason : c.reason;
        card.append(S.el("div", { class: "team-choice", "data-team": c.team_code },
          S.el("label", {}, S.el("input", { type: "radio", name: "pick-" + r.role, value: c.team_code,
            checked: c.team_code === r.recommended, style: "display:inline;width:auto" }),
            S.el("span", { class: "swatch", style: "background:" + col }),
            S.el("strong", {}, c.team_name || c.team_code), " ", tags ? S.el("em", {}, "(" + tags + ")") : null,
            S.el("br"), S.el("span", { class: "muted" }, S.t("dispatch.eta") + " " + mins(c.eta_s) + " · " + S.t("dispatch.distance") + " " + km(c.distance_m) + (reason ? " · " + reason : ""))),
          S.el("button", { type: "button", class: "assign-one small", onclick: () => assign([{ team_code: c.team_code, kind: r.kind === "lead" ? "lead" : "support" }]) }, S.t("dispatch.assign"))));
        const label = (c.team_name || c.team_code) + " · " + mins(c.eta_s) + " · " + km(c.distance_m);
        if (c.route) drawRoute(c.route, col, label);
        else routeJobs.push(S.api("GET", "/api/incidents/" + encodeURIComponent(ticket) + "/route?team=" + encodeURIComponent(c.team_code))
          .then((gj) => drawRoute(gj, col, label)).catch(() => {}));
      }
      box.append(card);
    }
    const canAssign = (incident.allowed_actions || []).includes("assign") && roles.some((r) => r.recommended);
    S.$("#assign-suggested").hidden = !canAssign;
    if (!canAssign && incident.status === "diterima") box.prepend(S.el("p", { class: "muted" }, S.t("dispatch.not_ready")));
    await Promise.all(routeJobs);
    const b = routes.getBounds();
    if (b.isValid()) map.fitBounds(b.extend(incMarker ? incMarker.getLatLng() : b.getCenter()), { padding: [30, 30] });
    else if (incMarker) map.setView(incMarker.getLatLng(), 16);
    document.body.dataset.ready = "1";
  }

  async function load(keepMessages) {
    incident = await S.api("GET", "/api/incidents/" + encodeURIComponent(ticket));
    renderIncident(incident);
    if (!keepMessages && incident.assignments && incident.assignments.length) {
      showMessages(incident.assignments.filter((a) => a.message).map((a) => ({ team_code: a.team_code, text: a.message,
        wa_link: null })));
    }
    if (S.OPEN.has(incident.status) && incident.status !== "ditangani") {
      try { suggestions = await S.api("GET", "/api/incidents/" + encodeURIComponent(ticket) + "/suggestions"); }
      catch (e) { suggestions = null; S.showError(S.$("#dispatch-error"), e); }
    } else suggestions = null;
    await renderSuggestions();
  }

  S.$("#assign-suggested").addEventListener("click", () => assign(chosenAssignments()));
  S.me().then(() => load()).catch((e) => { if (e.status !== 401) S.showError(S.$("#dispatch-error"), e); });
})();
