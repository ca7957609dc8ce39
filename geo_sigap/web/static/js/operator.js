/* Operator console (SOP steps 1-2): take a report (hotline, walk-in, WhatsApp) and place
   it only where the operator confirms; verify the live queue from a detail view. */
(function () {
  "use strict";
  const S = window.SIGAP;
  const base = S.baseMap("map", { levels: ["kelurahan", "rw", "rt"], rtMinZoom: 16 });
  const map = base.map;
  const form = S.$("#intake-form");
  let point = null, marker = null, outside = false, idemKey = S.uuid();
  const candLayer = L.layerGroup().addTo(map);
  const queueLayer = L.layerGroup().addTo(map);
  const pending = new Map();  // ticket → incident (status diterima)
  let liveSeq = 0;  // stream events seen; a list read while events came in keeps what they added
  const leftAt = new Map();  // ticket → liveSeq when the stream said it left the queue
  let selected = null;
  const metrics = window.SIGAP_OPS = { seen: {}, alerts: 0 };

  // ---------------------------------------------------------------- time of the report (WIB)
  const WIB_MS = 7 * 3600e3;
  const toLocalInput = (iso) => { const v = S.parseTime(iso); return isFinite(v) ? new Date(v + WIB_MS).toISOString().slice(0, 16) : ""; };
  const fromLocalInput = (v) => (v ? v + ":00+07:00" : null);
  function timeNote() {
    const v = S.$("#reported_at").value, note = S.$("#time-note");
    if (!v) { note.hidden = true; return; }
    const iso = fromLocalInput(v), age = Date.now() - S.parseTime(iso);
    note.hidden = age < 6 * 3600e3 && age > -5 * 60e3;
    note.className = age > 365 * 86400e3 || age < -5 * 60e3 ? "hint warn-text" : "hint";
    note.replaceChildren(S.t(age < 0 ? "intake.time_future" : "intake.time_old", { when: S.dateTime(iso), ago: S.ago(iso) }), " ",
      S.el("button", { type: "button", class: "small", id: "time-now", onclick: () => { S.$("#reported_at").value = ""; timeNote(); form.dispatchEvent(new Event("input")); } }, S.t("intake.time_now")));
  }
  S.$("#reported_at").addEventListener("change", timeNote);

  // ---------------------------------------------------------------- the pin (confirmed place)
  async function place(lon, lat) {
    point = { lon, lat };
    if (marker) marker.setLatLng([lat, lon]);
    else marker = L.marker([lat, lon], { draggable: true, title: S.t("intake.pin") }).addTo(map)
      .on("dragend", (e) => { const ll = e.target.getLatLng(); place(ll.lng, ll.lat); });
    S.$("#lonlat").textContent = S.num(lat, 6) + ", " + S.num(lon, 6);
    S.$("#clear-pin").hidden = false;
    S.$("#placement").textContent = S.t("common.loading");
    draftState.save();
    try {
      const r = await S.api("GET", "/api/geocode/reverse?lon=" + lon + "&lat=" + lat);
      if (!point || point.lon !== lon || point.lat !== lat) return;
      const words = S.flags({ flags: (r.flags || []).filter((f) => f !== "outside_coverage") });
      S.$("#placement").textContent = S.place(r) + (words.length ? " (" + words.join("; ") + ")" : "");
      setOutside((r.flags || []).includes("outside_coverage"));
    } catch (e) { if (point && point.lon === lon && point.lat === lat) S.$("#placement").textContent = e.message; }
  }
  function clearPin() {
    point = null; outside = false;
    if (marker) { marker.remove(); marker = null; }
    S.$("#placement").textContent = "—"; S.$("#lonlat").textContent = "";
    S.$("#clear-pin").hidden = true; setOutside(false);
  }
  function setOutside(on) {
    outside = on;
    S.$("#outside").hidden = !on;
    if (!on) S.$("#outside-ok").checked = false;
  }
  S.$("#clear-pin").addEventListener("click", () => { clearPin(); draftState.save(); });
  map.on("click", (e) => { candLayer.clearLayers(); place(e.latlng.lng, e.latlng.lat); });

  // ---------------------------------------------------------------- candidates (never auto-placed)
  const nameOf = (c) => String(c.label || "?").split(" — ")[0];
  function showCandidates(list) {
    const ul = S.$("#candidates");
    ul.replaceChildren(); candLayer.clearLayers();
    if (!list.length) { ul.append(S.el("li", { class: "muted" }, S.t("intake.no_candidates"))); return; }
    const shown = list.slice(0, 6);
    shown.forEach((c, i) => {
      const where = c.placement && c.placement.description ? c.placement.description : "";
      let street = null;
      if (c.near_street) street = S.el("span", { class: c.near_street.near ? "ok-text" : "warn-text" },
        S.t(c.near_street.near ? "intake.near_street" : "intake.far_street", { street: c.near_street.street, distance: S.metres(c.near_street.distance_m) }));
      const choose = () => {
        ul.replaceChildren(); candLayer.clearLayers();
        map.setView([c.lat, c.lon], Math.max(map.getZoom(), 17));
        place(c.lon, c.lat);
      };
      ul.append(S.el("li", { "data-level": c.level },
        S.el("button", { type: "button", class: "candidate", onclick: choose },
          S.el("b", {}, (i + 1) + ". " + nameOf(c)), " ", S.el("span", { class: "muted" }, S.t("level." + c.level)),
          S.el("br"), where, street ? S.el("br") : null, street,
          c.notes && c.notes.length ? S.el("br") : null,
          c.notes && c.notes.length ? S.el("span", { class: "warn-text note" }, c.notes.join("; ")) : null,
          S.el("span", { class: "conf" }, S.num(Math.round((c.confidence || 0) * 100)) + "%"))));
      L.marker([c.lat, c.lon], { icon: L.divIcon({ className: "cand-pin", html: "<i>" + (i + 1) + "</i>", iconSize: [22, 22] }), title: nameOf(c) })
        .on("click", choose).addTo(candLayer);
    });
    ul.append(S.el("li", { class: "hint" }, S.t("intake.choose_candidate")));
    const b = L.latLngBounds(shown.map((c) => [c.lat, c.lon]));
    if (b.isValid()) map.fitBounds(b.pad(0.3), { maxZoom: 17 });
  }

  // the candidates of the last search only: an earlier one answered late must not
  // replace them (the operator would pick from another address's list)
  const askSearch = S.latest();
  async function search() {
    const q = S.$("#address").value.trim();
    if (!q) return;
    try { showCandidates(S.items(await askSearch(S.api("GET", "/api/geocode/search?limit=6&q=" + encodeURIComponent(q))), "candidates")); }
    catch (e) { S.toast(e.message, "error"); }
  }
  S.$("#search").addEventListener("click", search);
  S.$("#address").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); search(); } });
  S.$("#gps").addEventListener("click", async () => {
    try { const p = await S.gps(); map.setView([p.lat, p.lon], 17); place(p.lon, p.lat); }
    catch (e) { S.toast("GPS: " + e.message, "error"); }
  });

  // ---------------------------------------------------------------- pasted WhatsApp message
  S.$("#wa-fill").addEventListener("click", async () => {
    const text = S.$("#wa-text").value.trim();
    if (!text) return;
    try {
      const d = await S.api("POST", "/api/intake/whatsapp", { text });
      S.$("#channel").value = "wa_group";
      if (d.description) S.$("#description").value = d.description;
      const cat = d.category_guess && (d.category_guess.code || d.category_guess);
      if (cat) S.$("#category").value = cat;
      if (d.sender) S.$("#reporter_name").value = d.sender;
      if (d.reported_at) { S.$("#reported_at").value = toLocalInput(d.reported_at); timeNote(); }
      const cands = (d.candidates || []).slice();
      if (d.location_source === "koordinat_pesan" && d.lon != null)
        cands.unshift({ label: S.t("intake.coords_in_message"), level: "point", lon: d.lon, lat: d.lat, confidence: 1,
          placement: d.placement });
      showCandidates(cands);
      draftState.save();
    } catch (e) { S.toast(e.message, "error"); }
  });

  // ---------------------------------------------------------------- the draft in this browser
  const draftState = S.draft(form, "operator", {
    get: () => (point ? { point } : null),
    set: (x) => { if (x && x.point) setTimeout(() => { map.setView([x.point.lat, x.point.lon], 17); place(x.point.lon, x.point.lat); }, 0); },
  });
  if (draftState.restored) { S.$("#draft-note").hidden = false; timeNote(); }
  S.$("#draft-discard").addEventListener("click", () => { draftState.clear(); resetForm(); S.$("#draft-note").hidden = true; });

  function resetForm() {
    form.reset(); S.$("#wa-text").value = ""; S.$("#candidates").replaceChildren(); candLayer.clearLayers();
    S.$("#time-note").hidden = true; clearPin();
  }

  // ---------------------------------------------------------------- verify / reject
  async function transition(ticket, action, extra) {
    const inc = await S.api("GET", "/api/incidents/" + encodeURIComponent(ticket));
    return S.api("POST", "/api/incidents/" + encodeURIComponent(ticket) + "/transitions",
      Object.assign({ action, version: inc.version }, extra || {}));
  }

  function verifyControls(inc, after) {
    const prio = S.el("select", { "aria-label": S.t("field.priority"), class: "prio" },
      [1, 2, 3, 4].map((p) => S.el("option", { value: p, selected: Number(inc.priority) === p }, S.t("priority." + p))));
    const reason = S.el("input", { class: "reason", placeholder: S.t("field.reason"), "aria-label": S.t("field.reason"), hidden: true });
    const verify = S.el("button", { type: "button", class: "primary verify", onclick: async () => {
      try { await transition(inc.ticket, "verify", { priority: Number(prio.value) }); S.toast(S.t("status.terverifikasi") + " " + inc.ticket); after(inc.ticket, "verify"); }
      catch (e) { S.toast(e.message, "error"); }
    } }, S.t("action.verify"));
    const reject = S.el("button", { type: "button", class: "reject", onclick: async () => {
      if (reason.hidden) { reason.hidden = false; reason.focus(); return; }
      if (!reason.value.trim()) { reason.focus(); return; }
      try { await transition(inc.ticket, "reject", { reason: reason.value.trim() }); S.toast(S.t("status.ditolak") + " " + inc.ticket); after(inc.ticket, "reject"); }
      catch (e) { S.toast(e.message, "error"); }
    } }, S.t("action.reject"));
    return [prio, verify, reject, reason];
  }
  const afterDecision = (box) => (ticket, action) => {
    removePending(ticket);
    box.replaceChildren(action === "verify"
      ? S.el("a", { href: "/dispatch/" + encodeURIComponent(ticket), class: "dispatch-link primary-link" }, S.t("intake.dispatch") + " →")
      : S.el("span", {}, S.t("status.ditolak")));
  };

  function showSaved(inc) {
    const box = S.$("#saved");
    box.hidden = false;
    const parts = [S.el("p", {}, S.el("strong", { class: "ticket" }, S.t("intake.saved", { ticket: inc.ticket }))),
      S.el("p", {}, S.category(inc.category) + " · " + S.place(inc.placement))];
    if (inc.duplicate_of) parts.push(S.el("p", { class: "error" }, S.t("intake.duplicate", { ticket: inc.duplicate_of })));
    const actions = S.el("div", { class: "actions" });
    actions.append(...verifyControls(inc, afterDecision(actions)));
    parts.push(actions);
    box.replaceChildren(...parts);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = S.$("#form-error"); err.hidden = true;
    if (!point) { S.showError(err, new Error(S.t("intake.need_location"))); return; }
    if (outside && !S.$("#outside-ok").checked) { S.showError(err, new Error(S.t("intake.outside_need_confirm"))); S.$("#outside-ok").focus(); return; }
    const body = {
      category: S.$("#category").value, description: S.$("#description").value.trim(),
      channel: S.$("#channel").value, lon: point.lon, lat: point.lat,
      address_text: S.$("#address").value.trim() || null,
      reporter_name: S.$("#reporter_name").value.trim() || null,
      reporter_phone: S.$("#reporter_phone").value.trim() || null,
    };
    const prio = S.$("#priority").value; if (prio) body.priority = Number(prio);
    const at = fromLocalInput(S.$("#reported_at").value); if (at) body.reported_at = at;
    const btn = S.$("#submit"); btn.disabled = true;
    try {
      const inc = await S.api("POST", "/api/incidents", body, { headers: { "Idempotency-Key": idemKey } });
      idemKey = S.uuid();
      draftState.clear(); S.$("#draft-note").hidden = true;
      resetForm();
      showSaved(inc);
      addPending(inc, false);
    } catch (e) { S.showError(err, e); }
    finally { btn.disabled = false; }
  });

  // ---------------------------------------------------------------- the live queue
  function queueItem(inc) {
    const cls = "queue-item" + (selected === inc.ticket ? " selected" : "") + (inc._new ? " new" : "");
    return S.el("li", { "data-ticket": inc.ticket, class: cls },
      S.el("button", { type: "button", class: "queue-open", onclick: () => openDetail(inc.ticket) },
        S.el("span", { class: "q-head" }, S.el("strong", {}, inc.ticket), " ",
          S.el("span", { class: "badge p" + inc.priority }, S.t("priority." + inc.priority))),
        S.el("span", { class: "q-what" }, S.category(inc.category), inc.channel ? " · " + S.t("channel." + inc.channel) : ""),
        S.el("span", { class: "q-desc" }, (inc.description || "").slice(0, 90)),
        S.el("span", { class: "q-where muted" }, S.place(inc.placement), " · ", S.reported(inc.reported_at))));
  }
  function renderQueue() {
    const list = Array.from(pending.values()).sort((a, b) => S.parseTime(b.reported_at) - S.parseTime(a.reported_at));
    S.$("#pending").replaceChildren(...list.map(queueItem));
    S.$("#pending-count").textContent = S.num(list.length);
    S.$("#pending-empty").hidden = list.length > 0;
    document.title = (list.length ? "(" + list.length + ") " : "") + document.title.replace(/^\(\d+\) /, "");
    queueLayer.clearLayers();
    for (const inc of list) if (inc.lat != null) {
      L.circleMarker([inc.lat, inc.lon], { radius: selected === inc.ticket ? 11 : 7, color: "#fff", weight: 2,
        fillColor: selected === inc.ticket ? "#d62728" : "#ff7f0e", fillOpacity: 0.95 })
        .bindTooltip(inc.ticket + " · " + S.category(inc.category)).on("click", () => openDetail(inc.ticket)).addTo(queueLayer);
    }
  }
  function addPending(inc, alert) {
    const fresh = !pending.has(inc.ticket);
    pending.set(inc.ticket, Object.assign({}, inc, { _new: alert && fresh, _live: liveSeq }));
    metrics.seen[inc.ticket] = Date.now();
    renderQueue();
    if (alert && fresh) {
      metrics.alerts++;
      S.chime();
      S.toast(S.t("intake.new_report", { ticket: inc.ticket, category: S.category(inc.category) }));
      setTimeout(() => { const x = pending.get(inc.ticket); if (x) { x._new = false; renderQueue(); } }, 12000);
    }
  }
  function removePending(ticket) {
    if (!pending.delete(ticket)) return;
    renderQueue();
  }

  async function openDetail(ticket) {
    selected = ticket; renderQueue();
    const box = S.$("#detail");
    box.hidden = false; box.replaceChildren(S.el("p", {}, S.t("common.loading")));
    let inc;
    try { inc = await S.api("GET", "/api/incidents/" + encodeURIComponent(ticket)); }
    catch (e) { box.replaceChildren(S.el("p", { class: "error" }, e.message)); return; }
    if (selected !== ticket) return;
    box.dataset.ticket = ticket;
    const rows = [
      [S.t("field.category"), S.category(inc.category)],
      [S.t("field.channel"), S.t("channel." + inc.channel)],
      [S.t("status.reported_at"), S.wib(inc.reported_at) + " · " + S.ago(inc.reported_at)],
      [S.t("field.address"), inc.address_text || "—"],
      [S.t("field.location"), S.place(inc.placement) + (S.flags(inc.placement).length ? " (" + S.flags(inc.placement).join("; ") + ")" : "")],
      [S.t("field.reporter_name"), [inc.reporter_name, inc.reporter_phone].filter(Boolean).join(" · ") || "—"],
    ];
    const dups = [];
    if (inc.duplicate_of) dups.push(S.el("p", { class: "error" }, S.t("intake.duplicate", { ticket: inc.duplicate_of })));
    if ((inc.duplicates || []).length) dups.push(S.el("p", { class: "muted" }, S.t("intake.duplicates", { tickets: inc.duplicates.join(", ") })));
    if (!dups.length) dups.push(S.el("p", { class: "muted" }, S.t("intake.no_duplicates")));
    const actions = S.el("div", { class: "actions" });
    if (inc.status === "diterima") actions.append(...verifyControls(inc, afterDecision(actions)));
    const extra = [];
    const photos = (inc.reports || []).flatMap((r) => r.attachments || []).filter((a) => (a.content_type || "").startsWith("image/"));
    if (photos.length) extra.push(S.el("div", { class: "evidence" }, S.el("p", { class: "muted" }, S.t("intake.draft_photos", { n: S.num(photos.length) })),
      S.el("div", { class: "photos" }, photos.map((a) => S.el("a", { href: a.url, target: "_blank", rel: "noopener" },
        S.el("img", { src: a.url, alt: a.filename || S.t("intake.draft_photo"), class: "photo", loading: "lazy" }))))));
    if (inc.status === "diterima") extra.push(placeControl(inc));
    else {
      actions.append(S.el("span", { class: "badge", style: "background:" + (S.STATUS_COLORS[inc.status] || "#555") }, S.statusLabel(inc.status)));
      // verified (here or elsewhere, the event may come before the answer): on to dispatch
      if (inc.status === "terverifikasi") actions.append(" ", S.el("a", { href: "/dispatch/" + encodeURIComponent(inc.ticket), class: "dispatch-link primary-link" }, S.t("intake.dispatch") + " →"));
    }
    box.replaceChildren(
      S.el("header", {}, S.el("h3", {}, inc.ticket), S.el("button", { type: "button", class: "small", onclick: closeDetail, "aria-label": S.t("common.close") }, "×")),
      S.el("p", { class: "d-text" }, inc.description || ""),
      S.el("dl", {}, ...rows.flatMap(([k, v]) => [S.el("dt", {}, k), S.el("dd", {}, v)])),
      ...dups, ...extra, actions);
    if (inc.lat != null) map.setView([inc.lat, inc.lon], Math.max(map.getZoom(), 16));
  }
  /** A draft without a point (a chat message) — or placed wrongly: put it on the pin the
      operator set on the map (PATCH /api/incidents/{ticket}/draft). */
  function placeControl(inc) {
    const label = S.t(inc.lat == null ? "intake.place_draft" : "intake.move_draft");
    return S.el("p", { class: "place-draft" }, S.el("button", { type: "button", class: "small", onclick: async () => {
      if (!point) { S.toast(S.t("intake.place_draft_hint"), "error"); return; }
      try {
        const fresh = await S.api("GET", "/api/incidents/" + encodeURIComponent(inc.ticket));
        await S.api("PATCH", "/api/incidents/" + encodeURIComponent(inc.ticket) + "/draft",
          { version: fresh.version, lon: point.lon, lat: point.lat });
        S.toast(S.t("intake.place_draft_done", { ticket: inc.ticket }));
        clearPin(); await loadPending(); openDetail(inc.ticket);
      } catch (e) { S.toast(e.message, "error"); }
    } }, label), inc.lat == null ? S.el("span", { class: "warn-text" }, " " + S.t("intake.place_draft_hint")) : "");
  }
  function closeDetail() { selected = null; S.$("#detail").hidden = true; renderQueue(); }

  async function loadPending() {
    try {
      const seqAtStart = liveSeq;
      const list = S.items(await S.api("GET", "/api/incidents?status=diterima&limit=100"), "incidents", "items");
      for (const [t, inc] of pending) if (!(inc._live > seqAtStart)) pending.delete(t);
      // a case the stream took out of the queue while the list was on its way (verified,
      // rejected) is not put back by the older list
      for (const inc of list) if (!pending.has(inc.ticket) && !(leftAt.get(inc.ticket) > seqAtStart)) pending.set(inc.ticket, inc);
      renderQueue();
    } catch (e) { /* the form shows errors; the queue retries on reconnect */ }
  }

  S.live({
    incident: async (d) => {
      if (!d.ticket) return;
      liveSeq++;
      if (d.status === "diterima") {
        if (pending.has(d.ticket)) return;
        // shown at once from the event (no personal data in it), completed by the API
        addPending({ ticket: d.ticket, category: d.category, priority: d.priority, status: d.status, channel: d.channel,
          lon: d.lon, lat: d.lat, reported_at: d.at || new Date().toISOString(), description: "", placement: null }, true);
        try {
          const full = await S.api("GET", "/api/incidents/" + encodeURIComponent(d.ticket));
          if (pending.has(d.ticket) && full.status === "diterima") { pending.set(d.ticket, Object.assign(full, { _new: pending.get(d.ticket)._new })); renderQueue(); }
        } catch (e) { /* gone */ }
      } else {
        leftAt.set(d.ticket, liveSeq);
        if (leftAt.size > 5000) leftAt.delete(leftAt.keys().next().value);  // a long shift
        if (!pending.has(d.ticket)) return;
        removePending(d.ticket);
        if (selected === d.ticket) openDetail(d.ticket);
      }
    },
    reconnect: loadPending,
    resyncOnOpen: true,  // the first open too: a report made before the stream started is in the list
  }, S.$("#live"));

  S.soundToggle(S.$("#sound"));
  window.SIGAP_INTAKE = { map, place, pending };
  S.me().then(loadPending).catch((e) => { if (e.status !== 401) S.toast(e.message, "error"); });
})();
