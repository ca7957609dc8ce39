/* Operator intake (SOP steps 1-2): hotline / walk-in / WhatsApp report, placed on the map. */
(function () {
  "use strict";
  const S = window.SIGAP;
  const base = S.baseMap("map", { levels: ["kelurahan", "rw", "rt"], rtMinZoom: 16 });
  const map = base.map;
  let point = null, marker = null, idemKey = S.uuid(), categories = [];

  async function place(lon, lat, label) {
    point = { lon, lat };
    if (marker) marker.setLatLng([lat, lon]);
    else marker = L.marker([lat, lon], { draggable: true, title: "lokasi" }).addTo(map)
      .on("dragend", (e) => { const ll = e.target.getLatLng(); place(ll.lng, ll.lat); });
    S.$("#lonlat").textContent = lat.toFixed(6) + ", " + lon.toFixed(6);
    if (label) S.$("#address").value = S.$("#address").value || label;
    S.$("#placement").textContent = S.t("common.loading");
    try {
      const r = await S.api("GET", "/api/geocode/reverse?lon=" + lon + "&lat=" + lat);
      S.$("#placement").textContent = S.describePlacement(r) +
        ((r.flags || []).length ? " (" + r.flags.join(", ") + ")" : "");
    } catch (e) { S.$("#placement").textContent = e.message; }
  }

  map.on("click", (e) => place(e.latlng.lng, e.latlng.lat));
  window.SIGAP_INTAKE = { map, place };

  function showCandidates(list) {
    const ul = S.$("#candidates");
    ul.replaceChildren();
    if (!list.length) { ul.append(S.el("li", { class: "muted" }, S.t("intake.no_candidates"))); return; }
    for (const c of list.slice(0, 8)) {
      const desc = c.placement && c.placement.description ? " — " + c.placement.description : "";
      const conf = c.confidence != null ? " (" + Math.round(c.confidence * 100) + "%)" : "";
      ul.append(S.el("li", {}, S.el("button", { type: "button", class: "candidate", onclick: () => {
        ul.replaceChildren(); map.setView([c.lat, c.lon], Math.max(map.getZoom(), 16));
        place(c.lon, c.lat, c.label);
      } }, (c.label || "?") + desc + conf)));
    }
  }

  S.$("#search").addEventListener("click", async () => {
    const q = S.$("#address").value.trim();
    if (!q) return;
    try { showCandidates(S.items(await S.api("GET", "/api/geocode/search?q=" + encodeURIComponent(q)), "candidates")); }
    catch (e) { S.toast(e.message, "error"); }
  });
  S.$("#address").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); S.$("#search").click(); } });

  S.$("#gps").addEventListener("click", async () => {
    try { const p = await S.gps(); map.setView([p.lat, p.lon], 17); place(p.lon, p.lat); }
    catch (e) { S.toast("GPS: " + e.message, "error"); }
  });

  S.$("#wa-fill").addEventListener("click", async () => {
    const text = S.$("#wa-text").value.trim();
    if (!text) return;
    try {
      const d = await S.api("POST", "/api/intake/whatsapp", { text });
      S.$("#channel").value = "wa_group";
      if (d.description) S.$("#description").value = d.description;
      if (d.category_guess) S.$("#category").value = d.category_guess.code || d.category_guess;
      if (d.sender) S.$("#reporter_name").value = d.sender;
      if (d.address_text) S.$("#address").value = d.address_text;
      S.$("#wa-text").dataset.reportedAt = d.reported_at || "";
      if (d.lon != null && d.lat != null) { map.setView([d.lat, d.lon], 17); place(d.lon, d.lat); }
      showCandidates(d.candidates || []);
    } catch (e) { S.toast(e.message, "error"); }
  });

  async function transition(ticket, action, extra) {
    const inc = await S.api("GET", "/api/incidents/" + encodeURIComponent(ticket));
    return S.api("POST", "/api/incidents/" + encodeURIComponent(ticket) + "/transitions",
      Object.assign({ action, version: inc.version }, extra || {}));
  }

  function verifyControls(inc, after) {
    const prio = S.el("select", { "aria-label": S.t("field.priority"), class: "prio" },
      [1, 2, 3, 4].map((p) => S.el("option", { value: p, selected: Number(inc.priority) === p }, S.t("priority." + p))));
    const verify = S.el("button", { type: "button", class: "primary verify", onclick: async () => {
      try { await transition(inc.ticket, "verify", { priority: Number(prio.value) }); S.toast(S.t("status.terverifikasi") + " " + inc.ticket); after(inc.ticket, "verify"); }
      catch (e) { S.toast(e.message, "error"); }
    } }, S.t("action.verify"));
    const reject = S.el("button", { type: "button", class: "reject", onclick: async () => {
      const reason = prompt(S.t("field.reason"));
      if (!reason) return;
      try { await transition(inc.ticket, "reject", { reason }); S.toast(S.t("status.ditolak") + " " + inc.ticket); after(inc.ticket, "reject"); }
      catch (e) { S.toast(e.message, "error"); }
    } }, S.t("action.reject"));
    return [prio, verify, reject];
  }

  function showSaved(inc) {
    const box = S.$("#saved");
    box.hidden = false;
    const parts = [S.el("p", {}, S.el("strong", { class: "ticket" }, S.t("intake.saved", { ticket: inc.ticket }))),
      S.el("p", {}, S.describePlacement(inc.placement))];
    if (inc.duplicate_of) parts.push(S.el("p", { class: "error" }, S.t("intake.duplicate", { ticket: inc.duplicate_of })));
    const actions = S.el("div", { class: "actions" }, verifyControls(inc, (ticket, action) => {
      loadPending();
      actions.replaceChildren(action === "verify"
        ? S.el("a", { href: "/dispatch/" + encodeURIComponent(ticket), class: "dispatch-link" }, S.t("intake.dispatch") + " →")
        : S.el("span", {}, S.t("status.ditolak")));
    }));
    parts.push(actions);
    box.replaceChildren(...parts);
  }

  S.$("#intake-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = S.$("#form-error"); err.hidden = true;
    if (!point) { S.showError(err, new Error(S.t("intake.need_location"))); return; }
    const body = {
      category: S.$("#category").value, description: S.$("#description").value.trim(),
      channel: S.$("#channel").value, lon: point.lon, lat: point.lat,
      address_text: S.$("#address").value.trim() || null,
      reporter_name: S.$("#reporter_name").value.trim() || null,
      reporter_phone: S.$("#reporter_phone").value.trim() || null,
    };
    const prio = S.$("#priority").value; if (prio) body.priority = Number(prio);
    const at = S.$("#wa-text").dataset.reportedAt; if (at && body.channel === "wa_group") body.reported_at = at;
    const btn = S.$("#submit"); btn.disabled = true;
    try {
      const inc = await S.api("POST", "/api/incidents", body, { headers: { "Idempotency-Key": idemKey } });
      idemKey = S.uuid();
      ev.target.reset(); S.$("#wa-text").value = ""; S.$("#candidates").replaceChildren();
      showSaved(inc); loadPending();
    } catch (e) { S.showError(err, e); }
    finally { btn.disabled = false; }
  });

  async function loadPending() {
    try {
      const list = S.items(await S.api("GET", "/api/incidents?status=diterima&limit=30"), "incidents");
      S.$("#pending").replaceChildren(...list.map((inc) => S.el("li", { "data-ticket": inc.ticket },
        S.el("strong", {}, inc.ticket), " ", inc.category_name || inc.category, " · ", S.ago(inc.reported_at),
        ...verifyControls(inc, () => loadPending()))));
    } catch (e) { /* shown by the form */ }
  }

  S.me().then(async () => {
    const cats = await S.api("GET", "/api/categories");
    categories = S.items(cats, "categories");
    S.$("#category").replaceChildren(...categories.map((c) => S.el("option", { value: c.code }, c.name)));
    loadPending();
  }).catch((e) => { if (e.status !== 401) S.toast(e.message, "error"); });
})();
