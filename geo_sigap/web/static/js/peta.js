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
  const teamLayer = L.markerClusterGroup({ chunkedLoading: true, maxClusterRadius: 30,
    disableClusteringAtZoom: 15, showCoverageOnHover: false,
    iconCreateFunction: (c) => L.divIcon({ html: "<span>" + c.getChildCount() + "</span>",
      className: "team-cluster", iconSize: [30, 30] }) });
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
    const m = L.marker([p.lat, p.lon], { icon: teamIcon(d, stale), title: d.code, keyboard: false });
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
    if (!heat) return;
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
  let pending = null;
  const queue = [];
  function schedule() { if (!pending) pending = requestAnimationFrame(flush); }
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
  }

  // ---------------------------------------------------------------- filters
  for (const key of Object.keys(filters)) {
    S.$("#f-" + key).addEventListener("change", (ev) => { filters[key] = ev.target.value; rebuildIncidents(); });
  }

  // ---------------------------------------------------------------- start
  async function start() {
    const [cats, incs, tms] = await Promise.all([
      S.api("GET", "/api/categories"),
      S.api("GET", "/api/map/incidents"),
      S.api("GET", "/api/teams"),
    ]);
    if (cats && cats.target_by_priority) priorityTargets = cats.target_by_priority;
    const catSel = S.$("#f-category");
    for (const c of S.items(cats, "categories")) {
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
    connect();
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
  window.SIGAP_MAP = { map, incidents, teams, incLayer, teamLayer, focusIncident };
})();
