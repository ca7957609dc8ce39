/* Coordinator live map: open incidents and team positions, live from /api/events. */
(function () {
  "use strict";
  const S = window.SIGAP;
  const t0 = performance.now();
  const metrics = (window.SIGAP_METRICS = { seen: {}, loadMs: null, incidents: 0, teams: 0 });

  const base = S.baseMap("map", { levels: ["kelurahan", "rw", "rt"] });
  const map = base.map;
  const categories = {};   // code → {name, icon, target_response_min}
  const incidents = new Map(); // ticket → {d, m, late}
  const teams = new Map();     // code → {d, m}
  const filters = { category: "", status: "", kelurahan: "", period: "" };
  let priorityTargets = { 1: 15, 2: 30 };

  const incLayer = L.markerClusterGroup({
    chunkedLoading: true, chunkInterval: 120, chunkDelay: 10, maxClusterRadius: 45,
    disableClusteringAtZoom: 17, showCoverageOnHover: false, spiderfyOnMaxZoom: true,
    animate: !S.stillMotion,
    iconCreateFunction: (cluster) => {
      const kids = cluster.getAllChildMarkers();
      let late = 0;
      for (const k of kids) if (k.options.sigapLate) late++;
      const n = cluster.getChildCount();
      const size = n < 100 ? 34 : n < 1000 ? 42 : 50;
      return L.divIcon({ html: "<span>" + n + "</span>" + (late ? "<b>" + late + "</b>" : ""),
        className: "inc-cluster" + (late ? " has-late" : ""), iconSize: [size, size] });
    },
  });
  // teams: their own pane under the incidents, their own (coarser) clusters and a square,
  // dark symbol, so that they never look like or cover incident clusters
  map.createPane("sigapTeams").style.zIndex = 580;
  const teamLayer = L.markerClusterGroup({ chunkedLoading: true, maxClusterRadius: 60, animate: !S.stillMotion,
    disableClusteringAtZoom: 15, showCoverageOnHover: false, clusterPane: "sigapTeams",
    iconCreateFunction: (c) => L.divIcon({ html: S.glyph("team", 12) + "<span>" + c.getChildCount() + "</span>",
      className: "team-cluster", iconSize: [34, 22] }) });
  incLayer.addTo(map); teamLayer.addTo(map);
  base.control.addOverlay(incLayer, S.t("map.layers.incidents"));
  base.control.addOverlay(teamLayer, S.t("map.layers.teams"));
  let heat = null;

  // ---------------------------------------------------------------- incidents
  const lonlat = (d) => [d.lat != null ? d.lat : d.location && d.location.lat,
    d.lon != null ? d.lon : d.location && d.location.lon];
  const kelCode = (d) => d.kelurahan_code || (d.placement && d.placement.kelurahan_code) ||
    (d.kelurahan && d.kelurahan.code) || "";
  const kelName = (d) => d.kelurahan_name || (d.placement && d.placement.kelurahan_name) ||
    (d.kelurahan && d.kelurahan.name) || "";

  function deadline(d) {
    if (d.due_at) return S.parseTime(d.due_at);
    const cat = categories[d.category] || {};
    let target = cat.target_response_min || 60;
    const byPrio = priorityTargets[d.priority];
    if (byPrio && byPrio < target) target = byPrio;
    return S.parseTime(d.reported_at) + target * 60000;
  }
  const WAITING = new Set(["diterima", "terverifikasi", "ditugaskan", "menuju_lokasi"]);
  function isLate(d, now) {
    if (!WAITING.has(d.status)) return false;
    if (d.overdue === true) return true;
    if (d.on_scene_at) return false;
    return (now || Date.now()) > deadline(d);
  }

  const iconCache = {};
  function incIcon(d, late) {
    const icon = (categories[d.category] || {}).icon || "alert";
    const key = icon + "|" + d.status + "|" + (late ? 1 : 0) + "|" + (d.priority <= 2 ? 1 : 0);
    if (!iconCache[key]) {
      iconCache[key] = L.divIcon({
        className: "inc s-" + d.status + (late ? " late" : "") + (d.priority <= 2 ? " hi" : ""),
        html: '<i style="background:' + (S.STATUS_COLORS[d.status] || "#555") + '">' + S.glyph(icon, 14) + "</i>",
        iconSize: [24, 24], iconAnchor: [12, 12], popupAnchor: [0, -10],
      });
    }
    return iconCache[key];
  }

  function popupHtml(d) {
    const cat = categories[d.category] || {};
    const now = Date.now();
    const mins = Math.round((deadline(d) - now) / 60000);
    const sla = WAITING.has(d.status)
      ? (mins >= 0 ? S.t("map.sla_left", { n: mins }) : '<b class="late-text">' + S.t("map.sla_over", { n: -mins }) + "</b>")
      : "";
    return '<div class="popup"><strong>' + S.esc(d.ticket) + "</strong> · " + S.esc(cat.name || d.category) +
      '<br><span class="badge" style="background:' + (S.STATUS_COLORS[d.status] || "#555") + '">' + S.esc(S.statusLabel(d.status)) + "</span> " +
      S.esc(S.t("priority." + d.priority)) +
      "<br>" + S.esc(S.t("map.age")) + ": " + S.esc(S.ago(d.reported_at, now)) + " (" + S.esc(S.wib(d.reported_at)) + ") " + sla +
      (d.description ? "<br>" + S.esc(String(d.description).slice(0, 160)) : "") +
      (kelName(d) ? "<br>Kel. " + S.esc(kelName(d)) : "") +
      '<br><a href="/dispatch/' + encodeURIComponent(d.ticket) + '">' + S.esc(S.t("map.open_dispatch")) + "</a></div>";
  }

  function passes(d, now) {
    if (!S.OPEN.has(d.status)) return false;
    if (filters.category && d.category !== filters.category) return false;
    if (filters.status && d.status !== filters.status) return false;
    if (filters.kelurahan && kelCode(d) !== filters.kelurahan) return false;
    if (filters.period && now - S.parseTime(d.reported_at) > Number(filters.period) * 3600000) return false;
    return true;
  }

  function makeMarker(d, late) {
    const ll = lonlat(d);
    if (ll[0] == null || ll[1] == null) return null;
    const m = L.marker(ll, { icon: incIcon(d, late), title: d.ticket, sigapLate: late, keyboard: false });
    m.bindPopup(() => popupHtml(d));
    return m;
  }

  /** Add, move, restyle or remove one incident; returns true when the map changed. */
  function upsertIncident(d, fromStream) {
    const now = Date.now();
    const prev = incidents.get(d.ticket);
    if (prev) d = Object.assign({}, prev.d, d);
    const late = isLate(d, now);
    const show = passes(d, now);
    if (!S.OPEN.has(d.status)) {
      if (prev) { if (prev.m) incLayer.removeLayer(prev.m); incidents.delete(d.ticket); }
      return !!prev;
    }
    let entry = prev;
    if (!entry) {
      entry = { d, m: makeMarker(d, late), late };
      incidents.set(d.ticket, entry);
      if (entry.m && show) incLayer.addLayer(entry.m);
      if (fromStream && Number(d.priority) <= 2) alertNew(d, entry);
    } else {
      entry.d = d; entry.late = late;
      if (entry.m) {
        entry.m.options.sigapLate = late;
        const ll = lonlat(d);
        if (ll[0] != null) entry.m.setLatLng(ll);
        entry.m.setIcon(incIcon(d, late));
        const on = incLayer.hasLayer(entry.m);
        if (show && !on) incLayer.addLayer(entry.m);
        else if (!show && on) incLayer.removeLayer(entry.m);
        else if (on) incLayer.refreshClusters(entry.m);
      }
    }
    return true;
  }

  function rebuildIncidents() {
    const now = Date.now();
    const shown = [];
    incLayer.clearLayers();
    for (const e of incidents.values()) {
      e.late = isLate(e.d, now);
      if (e.m) { e.m.options.sigapLate = e.late; e.m.setIcon(incIcon(e.d, e.late)); }
      if (e.m && passes(e.d, now)) shown.push(e.m);
    }
    incLayer.addLayers(shown);
    refreshHeat();
    refreshPanel();
  }

  // ---------------------------------------------------------------- teams
  const ROLE_ABBR = { bhabinkamtibmas: "BK", babinsa: "BS", linmas: "LM", satpol_pp: "PP",
    dinas_sosial: "DS", puskesmas: "PK", damkar: "DK", bpbd: "BP", dinas_peternakan: "DP", lainnya: "IL" };
  const teamPos = (d) => {
    const p = d.position || {};
    const pick = (...v) => v.find((x) => x != null);
    if (Array.isArray(d.position)) return { lon: d.position[0], lat: d.position[1], at: d.last_position_at || null };
    const lon = pick(p.lon, d.lon, d.last_lon, d.post && d.post.lon, d.post_lon);
    const lat = pick(p.lat, d.lat, d.last_lat, d.post && d.post.lat, d.post_lat);
    const at = pick(p.at, p.recorded_at, d.position_at, d.last_position_at) || null;
    return { lon, lat, at };
  };
  const teamIconCache = {};
  function teamIcon(d, stale) {
    const key = d.role + "|" + d.status + "|" + (stale ? 1 : 0);
    if (!teamIconCache[key]) {
      teamIconCache[key] = L.divIcon({ className: "team t-" + d.status + (stale ? " stale" : ""),
        html: "<i>" + (ROLE_ABBR[d.role] || "?") + "</i>", iconSize: [26, 26], iconAnchor: [13, 13] });
    }
    return teamIconCache[key];
  }
  function teamTip(d) {
    const p = teamPos(d);
    return "<strong>" + S.esc(d.name || d.code) + "</strong><br>" + S.esc(S.roleLabel(d.role)) + " · " +
      S.esc(S.t("team.status." + d.status)) + "<br>" +
      (p.at ? S.esc(S.t("map.position_age", { age: S.ago(p.at) })) : S.esc(S.t("map.no_position")));
  }
  function upsertTeam(d) {
    const prev = teams.get(d.code);
    if (d.lon != null && d.lat != null) {  // a live GPS update (team event)
      d = Object.assign({}, d, { position: [d.lon, d.lat], last_position_at: d.position_at || d.last_position_at });
    }
    if (prev) d = Object.assign({}, prev.d, d);
    const p = teamPos(d);
    if (p.lon == null || p.lat == null) return false;
    const stale = !p.at || Date.now() - S.parseTime(p.at) > 15 * 60000;
    if (prev && prev.m) {
      prev.d = d; prev.m.setLatLng([p.lat, p.lon]); prev.m.setIcon(teamIcon(d, stale));
      teamLayer.refreshClusters(prev.m);
      return true;
    }
    const m = L.marker([p.lat, p.lon], { icon: teamIcon(d, stale), title: d.code, keyboard: false, pane: "sigapTeams" });
    const entry = { d, m };
    m.bindTooltip(() => teamTip(entry.d), { direction: "top" });
    teams.set(d.code, entry);
    teamLayer.addLayer(m);
    return true;
  }

  // ---------------------------------------------------------------- panel
  function refreshPanel() {
    const now = Date.now();
    let open = 0; const late = [];
    for (const e of incidents.values()) {
      if (!passes(e.d, now)) continue;
      open++;
      if (e.late) late.push(e.d);
    }
    late.sort((a, b) => deadline(a) - deadline(b));
    S.$("#count-open").textContent = open;
    S.$("#count-late").textContent = late.length;
    S.$("#count-teams").textContent = teams.size;
    document.dispatchEvent(new Event("sigap:changed"));  // the incident and team boards
    const list = S.$("#late-list");
    list.replaceChildren(...late.slice(0, 30).map((d) => S.el("li", { "data-ticket": d.ticket },
      S.el("a", { href: "/dispatch/" + encodeURIComponent(d.ticket),
        onclick: (ev) => { if (!ev.ctrlKey) { ev.preventDefault(); focusIncident(d.ticket); } } }, d.ticket),
      " ", (categories[d.category] || {}).name || d.category, " · ",
      S.el("span", { class: "late-text" }, S.t("map.sla_over", { n: Math.round((now - deadline(d)) / 60000) })))));
  }

  function focusIncident(ticket) {
    const e = incidents.get(ticket);
    if (!e || !e.m) return;
    incLayer.zoomToShowLayer(e.m, () => e.m.openPopup());
  }

  function refreshHeat() {
    // leaflet.heat redraws through this._map._animating: a switched-off layer has no map
    if (!heat || !map.hasLayer(heat)) return;
    const now = Date.now();
    const pts = [];
    for (const e of incidents.values()) if (passes(e.d, now)) { const ll = lonlat(e.d); pts.push([ll[0], ll[1], 0.6]); }
    heat.setLatLngs(pts);
  }

  // ---------------------------------------------------------------- alert
  let audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const now = audio.currentTime;
      for (const [i, f] of [[0, 880], [1, 660], [2, 880]]) {
        const o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = f; o.type = "square";
        g.gain.setValueAtTime(0.15, now + i * 0.22); g.gain.exponentialRampToValueAtTime(0.001, now + i * 0.22 + 0.2);
        o.connect(g).connect(audio.destination); o.start(now + i * 0.22); o.stop(now + i * 0.22 + 0.21);
      }
      metrics.beeps = (metrics.beeps || 0) + 1;
    } catch (e) { /* no audio device */ }
  }
  function alertNew(d, entry) {
    const box = S.$("#alert");
    const cat = (categories[d.category] || {}).name || d.category;
    box.replaceChildren(S.el("strong", {}, S.t("map.new_alert")), " ",
      S.el("a", { href: "/dispatch/" + encodeURIComponent(d.ticket) }, d.ticket), " · ", cat,
      kelName(d) ? " · Kel. " + kelName(d) : "",
      S.el("button", { type: "button", class: "small", onclick: () => { box.hidden = true; } }, S.t("common.close")));
    box.hidden = false;
    beep();
    if (entry.m) {
      const el = entry.m.getElement && entry.m.getElement();
      if (el) el.classList.add("new");
    }
    metrics.alerts = (metrics.alerts || 0) + 1;
  }
  S.$("#sound").addEventListener("click", (ev) => {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    audio.resume(); ev.target.textContent = S.t("map.sound_off");
  });

  // ---------------------------------------------------------------- live stream
  // The stream is opened before the open incidents are read, and its events wait in the
  // queue until the list is on the map, then go on top of it: nothing that happens
  // between the list's answer and the stream's start is missed.
  let pending = null, holding = true;
  const queue = [];
  function schedule() { if (!pending && !holding) pending = requestAnimationFrame(flush); }
  async function flush() {
    pending = null;
    const batch = queue.splice(0);
    let changed = false;
    for (const [kind, d] of batch) {
      if (kind === "incident") {
        let inc = d.incident || d;
        const fresh = !incidents.has(inc.ticket) && (inc.status === undefined || S.OPEN.has(inc.status));
        if (inc.ticket && (inc.status === undefined || (fresh && !inc.reported_at))) {
          try { inc = await S.api("GET", "/api/incidents/" + encodeURIComponent(inc.ticket)); } catch (e) { continue; }
        }
        if (inc.ticket) { changed = upsertIncident(inc, true) || changed; metrics.seen[inc.ticket + ":" + inc.status] = Date.now(); }
      } else if (kind === "team") {
        const tm = d.team || d;
        if (tm.code) { upsertTeam(tm); metrics.seen["team:" + tm.code + ":" + (teamPos(tm).at || "")] = Date.now(); changed = true; }
      }
    }
    if (changed) { refreshPanel(); refreshHeat(); }
  }
  function connect() {
    const es = new EventSource("/api/events");
    const live = S.$("#live");
    es.onopen = () => { live.className = "live on"; live.textContent = S.t("map.live"); };
    es.onerror = () => { live.className = "live off"; live.textContent = S.t("map.disconnected"); };
    for (const kind of ["incident", "team"]) {
      es.addEventListener(kind, (ev) => {
        try { queue.push([kind, JSON.parse(ev.data)]); schedule(); } catch (e) { /* bad event */ }
      });
    }
    window.SIGAP_EVENTS = es;
    // open: the server has fixed where the stream starts (at most a few seconds' wait)
    return new Promise((resolve) => { es.addEventListener("open", () => resolve(), { once: true }); setTimeout(resolve, 3000); });
  }

  // ---------------------------------------------------------------- filters
  for (const key of Object.keys(filters)) {
    S.$("#f-" + key).addEventListener("change", (ev) => { filters[key] = ev.target.value; rebuildIncidents(); });
  }

  // ---------------------------------------------------------------- analytics & coverage overlays
  // Server layers: Gi* hot spots and the KDE grid (/api/analytics/…), road travel-time
  // coverage per RT/RW (/api/map/coverage). Each is fetched when switched on and again when
  // the category, quarter or level changes; a legend shows while it is on.
  const HOT_COLORS = { 3: "#b2182b", 2: "#e34a33", 1: "#fc9272", "-1": "#9ecae1", "-2": "#4292c6", "-3": "#08519c" };
  let covBreaks = [5, 10, 15, 20, 30, 45];  // minutes; re-chosen from the data per role
  const COV_COLORS = ["#ffffd9", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"];
  const NO_PATH = "#9e9e9e", BEYOND = "#e31a1c";
  const KDE_RAMP = "linear-gradient(to right,#fcffa4,#f98e09,#bc3754,#57106e,#000004)";
  const ana = { quarter: "", hotLevel: "hex", covLevel: "rt", role: "", boundaries: {} };
  map.createPane("sigapKde").style.zIndex = 390;  // under the boundary/road canvas
  const kdeLayer = L.layerGroup();
  const hotLayer = L.geoJSON(null, { renderer: base.canvas, style: hotStyle,
    onEachFeature: (f, l) => l.bindPopup(() => hotPopup(f, l)) });
  const covLayer = L.geoJSON(null, { renderer: base.canvas, style: covStyle,
    onEachFeature: (f, l) => l.bindPopup(() => covPopup(f)) });
  metrics.overlays = {};

  const num = (v, d) => (v == null || !isFinite(v) ? "—" : Number(v).toFixed(d));
  const qs = (params) => Object.entries(params).filter(([, v]) => v).map(([k, v]) => k + "=" + encodeURIComponent(v)).join("&");
  const covColor = (m) => { let i = 0; while (i < covBreaks.length && m > covBreaks[i]) i++; return COV_COLORS[i]; };
  /** Six equal "nice" steps (0.5, 1, 2, 2.5, 5 … min) reaching the 95th percentile of the ETAs. */
  function niceBreaks(values) {
    const v = values.filter((x) => x != null && isFinite(x)).sort((a, b) => a - b);
    if (!v.length) return [5, 10, 15, 20, 30, 45];
    const raw = v[Math.floor(0.95 * (v.length - 1))] / 6;
    const step = [0.5, 1, 2, 2.5, 5, 10, 15, 20, 30, 60].find((x) => x >= raw) || 60;
    return [1, 2, 3, 4, 5, 6].map((i) => i * step);
  }

  function hotStyle(f) {
    const c = HOT_COLORS[f.properties.gi_class];
    return c ? { color: c, weight: 0.6, opacity: 0.9, fillColor: c, fillOpacity: 0.6 }
      : { color: "#777", weight: 0.3, opacity: 0.3, fill: true, fillOpacity: 0 };
  }
  function covStyle(f) {
    const p = f.properties, m = p[ana.role + "_eta_min"];
    const beyond = p[ana.role + "_beyond_target"] === true;
    return { fillColor: m == null ? NO_PATH : covColor(m), fillOpacity: 0.62,
      color: beyond ? BEYOND : "#555", weight: beyond ? 2.2 : 0.4, opacity: beyond ? 1 : 0.6 };
  }

  // Where a feature lies: by its admin code, or (hexagons) by point-in-polygon on the boundaries.
  function inRing(r, x, y) {
    let inside = false;
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
      const [xi, yi] = r[i], [xj, yj] = r[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function inGeom(g, x, y) {
    const polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
    return polys.some((rings) => inRing(rings[0], x, y) && !rings.slice(1).some((h) => inRing(h, x, y)));
  }
  function unitAt(level, ll) {
    const feats = (ana.boundaries[level] || {}).features || [];
    const f = feats.find((x) => x.geometry && inGeom(x.geometry, ll.lng, ll.lat));
    return f ? f.properties : null;
  }
  function unitByCode(level, code) {
    const f = ((ana.boundaries[level] || {}).features || []).find((x) => x.properties.code === code);
    return f ? f.properties : null;
  }
  function placeOf(p, layer) {
    const m = String(p.code || "").match(/^(\d+\.\d+\.\d+\.\d+)(\.RW\d+)?(\.RT\d+)?$/);
    let kel, rw;
    if (m) { kel = unitByCode("kelurahan", m[1]); rw = m[2] ? unitByCode("rw", m[1] + m[2]) : null; }
    else { const c = layer.getBounds().getCenter(); kel = unitAt("kelurahan", c); rw = unitAt("rw", c); }
    const parts = [];
    if (m && m[3] && p.name) parts.push(p.name);
    if (rw) parts.push(rw.name);
    if (kel) parts.push("Kel. " + kel.name);
    return parts.join(", ");
  }

  function hotPopup(f, layer) {
    const p = f.properties, where = placeOf(p, layer);
    return '<div class="popup"><strong>' + S.esc(S.t("map.gi." + p.gi_class)) + "</strong>" +
      "<br>" + S.esc(S.t("map.gi.z")) + ": " + num(p.gi_z, 2) + " · p = " + num(p.gi_p, 3) +
      "<br>" + S.esc(S.t("map.gi.count")) + ": " + S.esc(p.count) +
      (where ? "<br>" + S.esc(where) : "") + "</div>";
  }
  function covPopup(f) {
    const p = f.properties, meta = covLayer.sigapMeta || {};
    const rows = (meta.roles || []).map((r) => {
      const late = p[r + "_beyond_target"] === true;
      return "<tr" + (r === ana.role ? ' class="chosen"' : "") + "><td>" + S.esc(S.roleLabel(r)) + "</td><td>" +
        (p[r + "_eta_min"] == null ? S.esc(S.t("map.cov.no_path")) : num(p[r + "_eta_min"], 1) + " " + S.esc(S.t("common.min"))) +
        (late ? ' <b class="late-text">!</b>' : "") + "</td><td>" + S.esc(p[r + "_post"] || "—") + "</td></tr>";
    }).join("");
    return '<div class="popup"><strong>' + S.esc(p.name) + "</strong>" +
      (p.kelurahan_name ? " · Kel. " + S.esc(p.kelurahan_name) : "") +
      (p.beyond_target ? '<br><b class="late-text">' + S.esc(S.t("map.cov.beyond_short")) + " " + num(meta.target_min, 0) + " " + S.esc(S.t("common.min")) + "</b>" : "") +
      '<table class="cov-table"><tr><th></th><th>' + S.esc(S.t("map.cov.eta")) + "</th><th>" + S.esc(S.t("map.cov.post")) + "</th></tr>" + rows + "</table></div>";
  }

  // ---- legend (one control, a section per overlay that is on)
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = () => {
    const div = L.DomUtil.create("div", "map-legend");
    L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  legend.addTo(map);
  const swatch = (color, label, extra) => S.el("div", { class: "lg-row" },
    S.el("i", { class: "lg-sw", style: "background:" + color + ";" + (extra || "") }), label);
  function renderLegend() {
    const box = legend.getContainer();
    const parts = [];
    for (const d of overlayDefs) {
      if (!map.hasLayer(d.layer)) continue;
      const sec = S.el("section", { "data-layer": d.key }, S.el("h3", {}, S.t(d.title)));
      if (d.state === "loading") sec.append(S.el("div", { class: "lg-note" }, S.t("map.layer_loading")));
      else if (d.state && d.state.error) sec.append(S.el("div", { class: "lg-note late-text" }, S.t("map.layer_error", { msg: d.state.error })));
      else d.legend(sec);
      parts.push(sec);
    }
    box.replaceChildren(...parts);
    box.hidden = !parts.length;
  }

  const overlayDefs = [
    { key: "kde", layer: kdeLayer, title: "map.layers.kde",
      url: () => "/api/analytics/heat?" + qs({ quarter: ana.quarter, category: filters.category, compact: 1 }),
      draw(data) {
        kdeLayer.clearLayers();
        const [w, s, e, n] = data.bounds || [];
        if (data.image && data.n_points > 0) {
          kdeLayer.addLayer(L.imageOverlay(data.image, [[s, w], [n, e]],
            { pane: "sigapKde", opacity: 0.85, className: "kde-image", alt: S.t("map.layers.kde") }));
        }
        return data.n_points || 0;
      },
      legend(sec) {
        const m = this.meta || {};
        if (!m.n_points) { sec.append(S.el("div", { class: "lg-note" }, S.t("map.no_data"))); return; }
        sec.append(S.el("div", { class: "lg-ramp", style: "background:" + KDE_RAMP }),
          S.el("div", { class: "lg-ends" }, S.el("span", {}, S.t("map.kde.low")), S.el("span", {}, S.t("map.kde.high"))),
          S.el("div", { class: "lg-note" }, S.t("map.kde.note", { kernel: m.kernel, bw: num(m.bandwidth_m, 0), n: m.n_points, max: num(m.max, 0) })));
      } },
    { key: "hot", layer: hotLayer, title: "map.layers.hotspots",
      // the rakor report's permutation count (and the default seed): one result for both
      url: () => "/api/analytics/hotspots?" + qs({ level: ana.hotLevel, quarter: ana.quarter, category: filters.category,
        permutations: S.$("#map").dataset.giPermutations, compact: 1 }),
      draw(data) { hotLayer.clearLayers(); hotLayer.addData(data); return (data.features || []).length; },
      legend(sec) {
        for (const c of [3, 2, 1]) sec.append(swatch(HOT_COLORS[c], S.t("map.gi." + c)));
        sec.append(swatch("transparent", S.t("map.gi.0"), "border:1px solid #999"));
        for (const c of [-1, -2, -3]) sec.append(swatch(HOT_COLORS[c], S.t("map.gi." + c)));
        const m = (this.meta || {}).meta || {};
        sec.append(S.el("div", { class: "lg-note" }, m.n_incidents ? S.t("map.gi.note", { n: m.n_incidents }) : S.t("map.no_data")));
      } },
    { key: "cov", layer: covLayer, title: "map.layers.coverage",
      url: () => "/api/map/coverage?" + qs({ level: ana.covLevel, category: filters.category }),
      draw(data) {
        covLayer.clearLayers(); covLayer.sigapMeta = data.meta || {};
        const roles = covLayer.sigapMeta.roles || [];
        if (!roles.includes(ana.role)) ana.role = covLayer.sigapMeta.lead_role || roles[0] || "";
        const sel = S.$("#f-role");
        sel.replaceChildren(...roles.map((r) => S.el("option", { value: r, selected: r === ana.role }, S.roleLabel(r))));
        sel.disabled = !roles.length;
        covLayer.addData(data); restyleCoverage();
        return (data.features || []).length;
      },
      legend(sec) {
        const m = covLayer.sigapMeta || {};
        sec.append(S.el("div", { class: "lg-note" }, S.t("map.cov.minutes", { role: ana.role ? S.roleLabel(ana.role) : "—" })));
        const b = covBreaks.map((x) => String(x).replace(".", S.config.locale === "en" ? "." : ","));
        COV_COLORS.forEach((c, i) => sec.append(swatch(c, i === 0 ? "≤ " + b[0]
          : i === b.length ? "> " + b[i - 1] : b[i - 1] + "–" + b[i])));
        sec.append(swatch(NO_PATH, S.t("map.cov.no_path")));
        sec.append(m.target_min != null
          ? swatch("transparent", S.t("map.cov.beyond", { n: num(m.target_min, 0) }), "border:2px solid " + BEYOND)
          : S.el("div", { class: "lg-note" }, S.t("map.cov.no_target")));
      } },
  ];

  function restyleCoverage() {
    covBreaks = niceBreaks(covLayer.getLayers().map((l) => l.feature.properties[ana.role + "_eta_min"]));
    covLayer.setStyle(covStyle);
    covLayer.eachLayer((l) => { if (l.feature.properties[ana.role + "_beyond_target"] === true) l.bringToFront(); });
  }

  /** Fetch and draw one overlay if it is on and its query changed (or `force`). */
  async function refreshOverlay(d, force) {
    if (!map.hasLayer(d.layer)) return;
    const url = d.url();
    if (!force && url === d.drawnUrl) { renderLegend(); return; }
    const token = (d.token = (d.token || 0) + 1);
    d.state = "loading"; renderLegend();
    try {
      let stale = false;  // X-Sigap-Cache: stale — the layer of the posts before, the new one is being computed
      const data = await S.api("GET", url, null, { onResponse: (res) => { stale = res.headers.get("X-Sigap-Cache") === "stale"; } });
      if (token !== d.token) return;
      d.meta = data; d.drawnUrl = url; d.state = null;
      const n = d.draw(data);
      metrics.overlays[d.key] = { url, n, at: Date.now(), stale };
      clearTimeout(d.retry);
      if (stale) d.retry = setTimeout(() => { if (token === d.token) refreshOverlay(d, true); }, 2000);
      for (const lv of ["rw", "kelurahan"]) if (base.overlays[lv] && map.hasLayer(base.overlays[lv])) base.overlays[lv].bringToFront();
    } catch (e) {
      if (token !== d.token) return;
      d.state = { error: e.message || String(e) }; d.drawnUrl = null;
      metrics.overlays[d.key] = { url, error: d.state.error };
    }
    renderLegend();
  }
  const refreshOverlays = () => overlayDefs.forEach((d) => refreshOverlay(d));

  // switched on: ask again (cheap: the server caches and answers 304 when nothing changed)
  map.on("overlayadd", (e) => { const d = overlayDefs.find((x) => x.layer === e.layer); if (d) refreshOverlay(d, true); });
  map.on("overlayremove", (e) => { if (overlayDefs.some((x) => x.layer === e.layer)) renderLegend(); });
  S.$("#f-category").addEventListener("change", refreshOverlays);
  S.$("#f-quarter").addEventListener("change", (ev) => { ana.quarter = ev.target.value; refreshOverlays(); });
  S.$("#f-hotlevel").addEventListener("change", (ev) => { ana.hotLevel = ev.target.value; refreshOverlays(); });
  S.$("#f-covlevel").addEventListener("change", (ev) => { ana.covLevel = ev.target.value; refreshOverlays(); });
  S.$("#f-role").addEventListener("change", (ev) => { ana.role = ev.target.value; restyleCoverage(); renderLegend(); });

  /** Quarters for the analytics layers (default: the last complete one); layers in the control. */
  async function setupOverlays(found) {
    ana.boundaries = found || {};
    try {
      const per = await S.api("GET", "/api/map/periods");
      const sel = S.$("#f-quarter");
      for (const q of per.quarters || []) {
        const [y, n] = q.code.split("Q");
        const label = S.config.locale === "en" ? S.t("map.quarter.label", { y, n }) : q.label;
        sel.append(S.el("option", { value: q.code, selected: q.code === per.default }, label));
      }
      ana.quarter = per.default || "";
      sel.value = ana.quarter;
    } catch (e) { /* no analytics data: every quarter */ }
    for (const d of overlayDefs) base.control.addOverlay(d.layer, S.t(d.title));
    renderLegend();
  }

  // ---------------------------------------------------------------- start
  async function start() {
    await connect();
    const [cats, incs, tms] = await Promise.all([
      S.api("GET", "/api/categories"),
      S.api("GET", "/api/map/incidents"),
      S.api("GET", "/api/teams"),
    ]);
    if (cats && cats.target_by_priority) priorityTargets = cats.target_by_priority;
    const catSel = S.$("#f-category");
    for (const c of S.items(cats, "categories")) {
      if (S.config.locale === "en" && c.name_en) c.name = c.name_en;  // names in the page's language
      categories[c.code] = c;
      catSel.append(S.el("option", { value: c.code }, c.name));
    }
    const now = Date.now();
    const markers = [];
    const rows = incs.rows ? incs.rows.map((r) => Object.fromEntries(incs.fields.map((f, i) => [f, r[i]]))) : S.items(incs, "incidents");
    for (const d of rows) {
      if (!S.OPEN.has(d.status)) continue;
      const late = isLate(d, now);
      const entry = { d, m: makeMarker(d, late), late };
      incidents.set(d.ticket, entry);
      if (entry.m && passes(d, now)) markers.push(entry.m);
    }
    incLayer.addLayers(markers);
    for (const d of S.items(tms, "teams")) upsertTeam(d);
    metrics.incidents = incidents.size; metrics.teams = teams.size;
    refreshPanel();
    holding = false;
    if (queue.length) schedule();  // what changed since the stream started
    base.ready.then((found) => {
      const kelSel = S.$("#f-kelurahan");
      const feats = (found.kelurahan && found.kelurahan.features) || [];
      for (const f of feats.slice().sort((a, b) => a.properties.name.localeCompare(b.properties.name))) {
        kelSel.append(S.el("option", { value: f.properties.code }, f.properties.name));
      }
    }).catch(() => {});
    await base.ready.catch(() => {});
    metrics.loadMs = performance.now() - t0;
    metrics.navToReadyMs = performance.now();
    document.body.dataset.ready = "1";
    if (L.heatLayer) {
      heat = L.heatLayer([], { radius: 22, blur: 18, maxZoom: 17 });
      base.control.addOverlay(heat, S.t("map.layers.heat"));
      map.on("overlayadd", (e) => { if (e.layer === heat) refreshHeat(); });
    }
    await setupOverlays(await base.ready.catch(() => ({})));
    document.body.dataset.overlays = "1";
  }

  S.me().then(start).catch((e) => { if (e.status !== 401) S.toast(e.message, "error"); });
  setInterval(() => {
    // SLA clocks move: restyle incidents whose lateness changed, refresh the panel
    const now = Date.now();
    for (const e of incidents.values()) {
      const late = isLate(e.d, now);
      if (late !== e.late && e.m) {
        e.late = late; e.m.options.sigapLate = late; e.m.setIcon(incIcon(e.d, late));
        if (incLayer.hasLayer(e.m)) incLayer.refreshClusters(e.m);
      }
    }
    refreshPanel();
  }, 20000);
  window.SIGAP_MAP = { map, base, incidents, teams, incLayer, teamLayer, focusIncident, passes, deadline, isLate, teamPos,
    overlays: { kde: kdeLayer, hot: hotLayer, cov: covLayer }, refreshOverlay: (k) => refreshOverlay(overlayDefs.find((d) => d.key === k), true) };
})();
