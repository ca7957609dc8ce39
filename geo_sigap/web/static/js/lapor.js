/* Citizen report (SOP step 1): anonymous; category in plain words, place by search, GPS or
 * a tap on the map, photos shrunk on the phone, recent reports nearby. No personal data shown. */
(function () {
  "use strict";
  const S = window.SIGAP, PHOTO = window.SIGAP_PHOTO;
  const en = S.config.locale === "en";
  const base = S.baseMap("map", { levels: ["kelurahan"], collapsed: true });
  const map = base.map;
  const nearbyLayer = L.layerGroup().addTo(map);
  let point = null, marker = null, photos = [], draft = null;
  const idemKey = S.uuid();
  window.SIGAP_LAPOR = { map, base, state: () => ({ point, photos: photos.length }) };

  function place(lon, lat, label) {
    point = { lon, lat };
    if (marker) marker.setLatLng([lat, lon]); else marker = L.marker([lat, lon], { keyboard: false }).addTo(map);
    S.$("#lonlat").textContent = (label ? label + " · " : "") + lat.toFixed(5) + ", " + lon.toFixed(5);
    S.$("#map").classList.remove("invalid");
    if (draft) draft.save();  // the pin is part of the draft
    loadNearby();
  }
  map.on("click", (e) => place(e.latlng.lng, e.latlng.lat));
  S.$("#gps").addEventListener("click", async () => {
    try { const p = await S.gps(); map.setView([p.lat, p.lon], 17); place(p.lon, p.lat, S.t("warga.gps_here")); }
    catch (e) { showError(S.t("warga.gps_failed")); }
  });

  const askPlaces = S.latest();  // the last search's places only (an earlier one may answer later)
  async function search() {
    const q = S.$("#address").value.trim();
    const box = S.$("#results");
    if (q.length < 2) { S.$("#address").focus(); return; }
    box.replaceChildren(S.el("li", { class: "muted" }, S.t("common.loading")));
    try {
      const data = await askPlaces(S.api("GET", "/api/public/places?q=" + encodeURIComponent(q), null, { noRedirect: true }));
      const c = data.candidates || [];
      if (!c.length) { box.replaceChildren(S.el("li", { class: "muted" }, S.t("warga.no_results"))); return; }
      box.replaceChildren(...c.map((x) => S.el("li", {}, S.el("button", { type: "button", onclick: () => {
        map.setView([x.lat, x.lon], 17); place(x.lon, x.lat, x.label); box.replaceChildren();
      } }, x.label, x.place && !String(x.label).includes(x.place) ? S.el("small", { class: "muted" }, " — " + x.place) : null))));
    } catch (e) { box.replaceChildren(S.el("li", { class: "error" }, e.message)); }
  }
  S.$("#search").addEventListener("click", search);
  S.$("#address").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); search(); } });

  const _day = new Intl.DateTimeFormat(en ? "en-GB" : "id-ID", { day: "numeric", month: "short", timeZone: "UTC" });
  const day = (iso) => { const d = new Date(iso + "T00:00:00Z"); return isFinite(d) ? _day.format(d) : iso; };

  /* recent reports nearby: approximate places only */
  const askNearby = S.latest();  // the place moved meanwhile: the newer answer shows
  async function loadNearby() {
    const c = point || map.getCenter() && { lon: map.getCenter().lng, lat: map.getCenter().lat };
    try {
      const data = await askNearby(S.api("GET", "/api/public/nearby?lon=" + c.lon + "&lat=" + c.lat + "&radius_m=2000", null, { noRedirect: true }));
      nearbyLayer.clearLayers();
      const items = data.items || [];
      S.$("#nearby-count").textContent = String(items.length);
      S.$("#nearby-list").replaceChildren(...items.slice(0, 30).map((i) => S.el("li", {},
        S.el("strong", {}, en ? i.category_name_en : i.category_name), " · ", en ? i.status_label_en : i.status_label,
        i.kelurahan ? " · Kel. " + i.kelurahan : "", " · ", day(i.reported_on),
        i.approximate === "area" ? S.el("small", { class: "muted" }, " (" + S.t("warga.area_only") + ")") : null)));
      for (const i of items) {
        L.circleMarker([i.lat, i.lon], { radius: i.approximate === "area" ? 12 : 7, weight: 2, color: "#fff",
          fillColor: S.STATUS_COLORS[i.status] || "#777", fillOpacity: i.approximate === "area" ? 0.45 : 0.85 })
          .bindTooltip((en ? i.category_name_en : i.category_name) + " · " + (en ? i.status_label_en : i.status_label))
          .addTo(nearbyLayer);
      }
    } catch (e) { /* the map works without it */ }
  }

  /* photos: shrunk before sending; a send tapped while they are still being made small
   * waits for them (it does not go without the photo) */
  let shrinking = Promise.resolve();
  S.$("#photos").addEventListener("change", (ev) => {
    const files = Array.from(ev.target.files || []);
    ev.target.value = "";
    shrinking = shrinking.then(async () => {
      try {
        const shrunk = await PHOTO.shrinkAll(files);
        photos = photos.concat(shrunk).slice(0, 6);
        renderThumbs();
      } catch (e) { showError(S.t("warga.photo_failed")); }
    });
  });
  function renderThumbs() {
    S.$("#thumbs").replaceChildren(...photos.map((p, i) => {
      const url = URL.createObjectURL(p.blob);
      return S.el("figure", {}, S.el("img", { src: url, alt: p.name }),
        S.el("figcaption", {}, Math.round(p.size / 1024) + " KB ",
          S.el("button", { type: "button", class: "small", "aria-label": S.t("warga.remove_photo"),
            onclick: () => { photos.splice(i, 1); renderThumbs(); } }, "×")));
    }));
  }

  /* errors where the citizen looks: right above the send button, scrolled into view */
  function showError(msg, field) {
    const box = S.$("#form-error");
    box.textContent = msg; box.hidden = false;
    if (field) field.classList.add("invalid");
    box.scrollIntoView({ block: "center" });
    if (field && field.focus) field.focus({ preventScroll: true }); else box.focus({ preventScroll: true });
  }

  S.$("#citizen-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = S.$("#form-error"); err.hidden = true;
    document.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
    const chosen = document.querySelector("input[name=category]:checked");
    const desc = S.$("#description").value.trim();
    if (!chosen) { showError(S.t("warga.need_category"), S.$("#categories")); return; }
    if (desc.length < 3) { showError(S.t("warga.need_description"), S.$("#description")); return; }
    if (!point) { showError(S.t("warga.need_location"), S.$("#map")); return; }
    const btn = S.$("#send"); btn.disabled = true;
    await shrinking;
    const fd = new FormData();
    fd.append("category", chosen.value); fd.append("description", desc);
    fd.append("lon", String(point.lon)); fd.append("lat", String(point.lat));
    const addr = S.$("#address").value.trim(); if (addr) fd.append("address_text", addr);
    const phone = S.$("#reporter_phone").value.trim(); if (phone) fd.append("reporter_phone", phone);
    for (const p of photos) fd.append("photos", p.blob, p.name);
    try {
      const res = await S.api("POST", "/api/public/photo-reports", fd, { noRedirect: true, headers: { "Idempotency-Key": idemKey } });
      S.$("#citizen-form").hidden = true;
      const thanks = S.$("#thanks"); thanks.hidden = false;
      S.$("#ticket").textContent = res.ticket;
      S.$("#status-link").href = "/status/" + encodeURIComponent(res.ticket);
      thanks.scrollIntoView({ block: "start" }); thanks.focus({ preventScroll: true });
      window.SIGAP_LAPOR.ticket = res.ticket;
      if (draft) draft.clear();
    } catch (e) {
      const field = e.details && e.details.field === "reporter_phone" ? S.$("#reporter_phone") : (e.code === "outside_coverage" ? S.$("#map") : null);
      showError(e.message, field);
    } finally { btn.disabled = false; }
  });

  function statusUrl() { return location.origin + "/status/" + encodeURIComponent(S.$("#ticket").textContent); }
  S.$("#copy").addEventListener("click", async () => {
    const ok = await S.copyText(S.$("#ticket").textContent + " — " + statusUrl());
    S.toast(ok ? S.t("warga.copied") : S.t("common.error"));
  });
  S.$("#share-ticket").addEventListener("click", async () => {
    const text = S.t("warga.share_text", { ticket: S.$("#ticket").textContent });
    if (navigator.share) { try { await navigator.share({ title: "GeoSIGAP", text, url: statusUrl() }); return; } catch (e) { /* cancelled */ } }
    const ok = await S.copyText(text + " " + statusUrl());
    S.toast(ok ? S.t("warga.copied") : S.t("common.error"));
  });

  S.api("GET", "/api/categories", null, { noRedirect: true }).then((cats) => {
    const list = S.items(cats, "categories");
    const other = list.filter((c) => c.code === "lainnya");
    S.$("#categories").append(...list.filter((c) => c.code !== "lainnya").concat(other).map((c) =>
      S.el("label", { class: "cat-choice" },
        S.el("input", { type: "radio", name: "category", value: c.code, required: true,
          onchange: () => S.$("#categories").classList.remove("invalid") }),
        S.el("span", {}, S.el("strong", {}, en && c.name_en ? c.name_en : c.name),
          S.el("small", {}, (en ? c.description_en : c.description) || "")))));
    // the typed report (text, category, place) stays in this browser until it is sent
    draft = S.draft(S.$("#citizen-form"), "lapor", {
      get: () => point, set: (p) => { if (p && isFinite(p.lon) && isFinite(p.lat)) place(p.lon, p.lat); } });
    document.body.dataset.ready = "1";
  }).catch((e) => S.toast(e.message, "error"));
  base.ready.then(loadNearby).catch(loadNearby);
})();
