/* GeoSIGAP — the offline base map: boundaries and roads from /api/map/…, tiles optional. */
(function () {
  "use strict";
  const S = window.SIGAP;

  const ROAD_WEIGHT = { motorway: 4, trunk: 4, primary: 3.5, secondary: 3, tertiary: 2.5,
    residential: 1.5, unclassified: 1.5, service: 1, living_street: 1, track: 1, path: 0.8 };

  // Roads grow with the zoom so a street stays visible when zoomed in (zoom 17 after GPS
  // showed hairlines on the background: "blank grey"); names appear from ROAD_NAMES_ZOOM.
  const ROAD_NAMES_ZOOM = 16;
  function zoomFactor(z) { return z >= 18 ? 3 : z >= 17 ? 2.3 : z >= 16 ? 1.6 : z >= 15 ? 1.2 : 1; }
  function roadStyleAt(z) {
    const k = zoomFactor(z);
    return (f) => {
      const hw = String((f.properties || {}).highway || "").replace("_link", "");
      const w = ROAD_WEIGHT[hw] || 1;
      return { color: w >= 2.5 ? "#c8a45f" : (z >= 16 ? "#a89f90" : "#c9c2b6"), weight: w * k,
        opacity: 0.95, lineCap: "round", interactive: false };
    };
  }
  const roadStyle = roadStyleAt(14);

  /** One name label per street in view (at the middle of its longest visible piece). */
  function roadNames(map, roads, group) {
    group.clearLayers();
    if (map.getZoom() < ROAD_NAMES_ZOOM || !map.hasLayer(roads)) return;
    const view = map.getBounds(), best = new Map();
    roads.eachLayer((l) => {
      const name = l.feature && l.feature.properties && l.feature.properties.name;
      if (!name) return;
      const b = l.getBounds();
      if (!view.intersects(b)) return;
      const pts = l.getLatLngs().flat(2).filter((p) => view.contains(p));
      if (pts.length < 2) return;
      const len = pts[0].distanceTo(pts[pts.length - 1]);
      const cur = best.get(name);
      if (!cur || len > cur.len) best.set(name, { len, at: pts[Math.floor(pts.length / 2)] });
    });
    let n = 0;
    const placed = [];
    for (const [name, v] of [...best.entries()].sort((a, b) => b[1].len - a[1].len)) {
      if (n >= 40) break;
      const p = map.latLngToContainerPoint(v.at), half = name.length * 3.2 + 6;
      if (placed.some((q) => Math.abs(q.x - p.x) < half + q.half && Math.abs(q.y - p.y) < 16)) continue;
      placed.push({ x: p.x, y: p.y, half });
      n++;
      group.addLayer(L.marker(v.at, { interactive: false, keyboard: false,
        icon: L.divIcon({ className: "road-label", html: S.esc(name), iconSize: null }) }));
    }
  }

  /**
   * Build a Leaflet map in element `id` with the area's own base layers.
   * opts.levels: boundary levels to draw (default kelurahan + rw); opts.rtMinZoom: show RT from
   * this zoom. Returns {map, overlays, control, ready} where ready resolves when drawn.
   */
  function baseMap(id, opts) {
    opts = opts || {};
    const canvas = L.canvas({ padding: 0.3 });
    const glide = !S.stillMotion;
    const map = L.map(id, { preferCanvas: true, zoomControl: true, attributionControl: true,
      minZoom: 10, maxZoom: 19, zoomAnimation: glide, fadeAnimation: glide, markerZoomAnimation: glide,
    }).setView([-1.63, 103.63], 14);
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution(opts.attribution || S.t("map.attribution"));
    const overlays = {};
    const control = L.control.layers(null, null, { collapsed: !!opts.collapsed }).addTo(map);

    if (S.config.tiles_url) {
      const tiles = L.tileLayer(S.config.tiles_url, { maxZoom: 19 });
      control.addBaseLayer(tiles, S.t("map.layers.tiles"));
    }

    const roads = L.geoJSON(null, { renderer: canvas, style: roadStyle, interactive: false });
    overlays.roads = roads; roads.addTo(map); control.addOverlay(roads, S.t("map.layers.roads"));

    const styles = {
      kelurahan: { color: "#3b3b98", weight: 2.5, fill: true, fillOpacity: 0.03, interactive: false },
      rw: { color: "#6c5ce7", weight: 1.2, dashArray: "5 4", fill: false, interactive: false },
      rt: { color: "#a29bfe", weight: 0.8, dashArray: "2 3", fill: false, interactive: false },
    };
    const levels = opts.levels || ["kelurahan", "rw", "rt"];
    const loads = [];
    for (const level of levels) {
      const layer = L.geoJSON(null, { renderer: canvas, style: styles[level] || styles.rt, interactive: false });
      overlays[level] = layer;
      control.addOverlay(layer, S.t("map.layers." + level));
      if (level === "rt") continue; // loaded for the view, at its zoom only (below)
      layer.addTo(map);
      loads.push(S.api("GET", "/api/map/boundaries?level=" + level, null, { noRedirect: true })
        .then((gj) => { layer.addData(gj); return [level, gj]; }));
    }
    const rtMinZoom = opts.rtMinZoom || 16;
    if (overlays.rt) {
      // RT polygons (thousands in a city) are fetched only when drawn: at zoom ≥ rtMinZoom,
      // for the view (bbox, with a margin), simplified for the zoom; again after a move.
      let rtTimer = null, rtAsked = "";
      const loadRt = () => {
        const z = map.getZoom();
        if (z < rtMinZoom) return;
        const b = map.getBounds().pad(0.5);
        const q = "level=rt&zoom=" + z + "&bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
          .map((v) => v.toFixed(5)).join(",");
        if (q === rtAsked) return;
        rtAsked = q;
        S.api("GET", "/api/map/boundaries?" + q, null, { noRedirect: true })
          .then((gj) => { if (rtAsked === q) { overlays.rt.clearLayers(); overlays.rt.addData(gj); } })
          .catch(() => { rtAsked = ""; });
      };
      const syncRt = () => {
        if (map.getZoom() >= rtMinZoom) { if (!map.hasLayer(overlays.rt)) overlays.rt.addTo(map); }
        else if (map.hasLayer(overlays.rt)) map.removeLayer(overlays.rt);
        clearTimeout(rtTimer);
        rtTimer = setTimeout(loadRt, 150);
      };
      map.on("zoomend moveend", syncRt);
      map.on("overlayadd", (e) => { if (e.layer === overlays.rt) { rtAsked = ""; loadRt(); } });
    }
    const labels = L.layerGroup().addTo(map);
    const ready = Promise.all(loads).then((pairs) => {
      const found = Object.fromEntries(pairs);
      const kel = overlays.kelurahan;
      if (kel && kel.getLayers().length) {
        if (!opts.keepView) map.fitBounds(kel.getBounds(), { padding: [10, 10] });
        kel.eachLayer((l) => {
          const p = l.feature.properties;
          labels.addLayer(L.marker(l.getBounds().getCenter(), { interactive: false, keyboard: false,
            icon: L.divIcon({ className: "kel-label", html: S.esc(p.name), iconSize: null }) }));
        });
      }
      return found;
    });
    const names = L.layerGroup().addTo(map);
    let zoomSeen = null;
    const restyle = () => {
      const z = map.getZoom();
      if (z !== zoomSeen) { roads.setStyle(roadStyleAt(z)); zoomSeen = z; }
      roadNames(map, roads, names);
    };
    map.on("zoomend moveend overlayadd overlayremove", restyle);
    overlays.road_names = names;
    S.api("GET", "/api/map/roads", null, { noRedirect: true })
      .then((gj) => { roads.addData(gj); roads.bringToBack(); restyle(); })
      .catch(() => { /* no road file configured: boundaries alone */ });
    return { map, overlays, control, ready, canvas };
  }

  S.baseMap = baseMap;
})();
