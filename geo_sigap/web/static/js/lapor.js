/* Citizen report (SOP step 1): anonymous, with GPS or a click on the map. No personal data shown. */
(function () {
  "use strict";
  const S = window.SIGAP;
  const base = S.baseMap("map", { levels: ["kelurahan"], collapsed: true });
  const map = base.map;
  let point = null, marker = null;
  const idemKey = S.uuid();

  function place(lon, lat) {
    point = { lon, lat };
    if (marker) marker.setLatLng([lat, lon]); else marker = L.marker([lat, lon]).addTo(map);
    S.$("#lonlat").textContent = lat.toFixed(5) + ", " + lon.toFixed(5);
  }
  map.on("click", (e) => place(e.latlng.lng, e.latlng.lat));
  S.$("#gps").addEventListener("click", async () => {
    try { const p = await S.gps(); map.setView([p.lat, p.lon], 17); place(p.lon, p.lat); }
    catch (e) { S.toast("GPS: " + e.message, "error"); }
  });

  S.$("#citizen-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = S.$("#form-error"); err.hidden = true;
    if (!point) { S.showError(err, new Error(S.t("intake.need_location"))); return; }
    const body = { category: S.$("#category").value, description: S.$("#description").value.trim(),
      lon: point.lon, lat: point.lat, address_text: S.$("#address").value.trim() || null };
    const phone = S.$("#reporter_phone").value.trim(); if (phone) body.reporter_phone = phone;
    try {
      const res = await S.api("POST", "/api/public/reports", body, { noRedirect: true, headers: { "Idempotency-Key": idemKey } });
      S.$("#citizen-form").hidden = true;
      S.$("#thanks").hidden = false;
      S.$("#ticket").textContent = res.ticket;
      S.$("#status-link").href = "/status/" + encodeURIComponent(res.ticket);
    } catch (e) { S.showError(err, e); }
  });

  S.api("GET", "/api/categories", null, { noRedirect: true }).then((cats) => {
    S.$("#category").replaceChildren(...S.items(cats, "categories").map((c) =>
      S.el("option", { value: c.code }, S.config.locale === "en" && c.name_en ? c.name_en : c.name)));
    document.body.dataset.ready = "1";
  }).catch((e) => S.toast(e.message, "error"));
})();
