/* Field team page (SOP steps 4-6) for phones: my assignments, route, status buttons, report. */
(function () {
  "use strict";
  const S = window.SIGAP;
  const base = S.baseMap("map", { levels: ["kelurahan"], collapsed: true });
  const map = base.map;
  const routes = L.featureGroup().addTo(map);
  const FIELD_ACTIONS = ["depart", "arrive", "handle"];
  let me = null, watchId = null, lastSent = 0;

  const incOf = (a) => a.incident || a;

  async function act(inc, action, card) {
    try {
      const fresh = await S.api("GET", "/api/incidents/" + encodeURIComponent(inc.ticket));
      await S.api("POST", "/api/incidents/" + encodeURIComponent(inc.ticket) + "/transitions",
        { action, version: fresh.version });
      S.toast(S.t("action." + action) + " ✓");
      await load();
    } catch (e) { S.toast(e.message, "error"); if (e.status === 409) load(); }
  }

  function render(list) {
    const box = S.$("#assignments");
    routes.clearLayers();
    if (!list.length) { box.replaceChildren(S.el("p", { class: "muted" }, S.t("field.no_assignments"))); return; }
    const tpl = S.$("#assignment-tpl");
    box.replaceChildren(...list.map((a) => {
      const inc = incOf(a);
      const node = tpl.content.firstElementChild.cloneNode(true);
      node.dataset.ticket = inc.ticket;
      node.querySelector(".ticket").textContent = inc.ticket;
      const badge = node.querySelector(".status");
      badge.textContent = S.statusLabel(inc.status); badge.style.background = S.STATUS_COLORS[inc.status] || "#555";
      node.querySelector(".what").textContent = (inc.category_name || inc.category) + (inc.description ? " — " + inc.description : "");
      node.querySelector(".where").textContent = [inc.address_text, inc.placement && inc.placement.description].filter(Boolean).join(" — ");
      const steps = node.querySelector(".steps");
      const allowed = inc.allowed_actions || [];
      for (const action of FIELD_ACTIONS) {
        if (!allowed.includes(action)) continue;
        steps.append(S.el("button", { type: "button", class: "primary", "data-action": action, onclick: () => act(inc, action, node) }, S.t("action." + action)));
      }
      const form = node.querySelector(".report-form");
      form.hidden = !["di_lokasi", "ditangani", "menuju_lokasi", "ditugaskan"].includes(inc.status);
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const state = form.querySelector(".report-state");
        const fd = new FormData(form);
        try {
          await S.api("POST", "/api/incidents/" + encodeURIComponent(inc.ticket) + "/reports", fd);
          state.textContent = S.t("field.report_sent"); form.reset();
        } catch (e) { state.textContent = e.message; }
      });
      const team = a.team_code || (me && me.team_code);
      if (team && inc.lat != null) {
        L.circleMarker([inc.lat, inc.lon], { radius: 9, color: "#fff", weight: 2, fillColor: S.STATUS_COLORS[inc.status], fillOpacity: 1 })
          .bindTooltip(inc.ticket).addTo(routes);
        S.api("GET", "/api/incidents/" + encodeURIComponent(inc.ticket) + "/route?team=" + encodeURIComponent(team))
          .then((gj) => {
            const layer = L.geoJSON(gj && gj.route ? gj.route : gj, { style: { color: "#c0392b", weight: 5 } }).addTo(routes);
            const props = gj.properties || {};
            const eta = props.eta_s != null ? props.eta_s : gj.eta_s, dist = props.distance_m != null ? props.distance_m : gj.distance_m;
            if (eta != null) node.querySelector(".route-info").textContent = S.t("field.route") + ": " +
              Math.max(1, Math.round(eta / 60)) + " " + S.t("common.min") + (dist != null ? " · " + (dist / 1000).toFixed(1) + " km" : "");
            map.fitBounds(routes.getBounds(), { padding: [20, 20] });
            return layer;
          }).catch(() => map.setView([inc.lat, inc.lon], 16));
      }
      return node;
    }));
  }

  async function load() {
    const data = await S.api("GET", "/api/me/assignments");
    render(S.items(data, "assignments", "incidents"));
    document.body.dataset.ready = "1";
  }

  async function sendPosition(p) {
    if (!me || !me.team_code) return;
    const now = Date.now();
    if (now - lastSent < 10000) return;
    lastSent = now;
    try {
      await S.api("POST", "/api/teams/" + encodeURIComponent(me.team_code) + "/position",
        { lon: p.coords.longitude, lat: p.coords.latitude, accuracy_m: p.coords.accuracy });
      S.$("#share-state").textContent = S.t("field.sharing") + " · " + new Date().toLocaleTimeString();
    } catch (e) { S.$("#share-state").textContent = e.message; }
  }

  S.$("#share").addEventListener("click", () => {
    if (!navigator.geolocation) { S.toast("GPS", "error"); return; }
    if (watchId !== null) { navigator.geolocation.clearWatch(watchId); watchId = null; S.$("#share-state").textContent = ""; return; }
    watchId = navigator.geolocation.watchPosition(sendPosition,
      (e) => { S.$("#share-state").textContent = "GPS: " + e.message; },
      { enableHighAccuracy: true, maximumAge: 10000, timeout: 20000 });
    S.$("#share-state").textContent = S.t("common.loading");
  });

  S.me().then((u) => { me = u; return load(); })
    .catch((e) => { if (e.status !== 401) S.toast(e.message, "error"); });
  setInterval(() => { load().catch(() => {}); }, 30000);
})();
