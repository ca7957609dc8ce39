/* Coordinator boards beside the live map (CAD style): open incidents and team status.
   Reads window.SIGAP_MAP (peta.js); redrawn when peta.js signals "sigap:changed". */
(function () {
  "use strict";
  const S = window.SIGAP;
  const M = window.SIGAP_MAP;
  if (!M) return;
  const kelNames = {};
  const sort = { inc: { key: "sla", dir: 1 }, team: { key: "state", dir: 1 } };
  const ACTIVE = ["ditugaskan", "menuju_lokasi", "di_lokasi", "ditangani"];
  const STATUS_ORDER = { diterima: 0, terverifikasi: 1, ditugaskan: 2, menuju_lokasi: 3, di_lokasi: 4, ditangani: 5 };
  const STATE_ORDER = { di_lokasi: 0, menuju_lokasi: 1, ditugaskan: 2, tersedia: 3, libur: 4 };
  const metrics = window.SIGAP_BOARD = { renders: 0 };

  (M.base.ready || Promise.resolve({})).then((found) => {
    for (const f of ((found && found.kelurahan) || {}).features || []) kelNames[f.properties.code] = f.properties.name;
    schedule();
  }).catch(() => {});

  const kel = (d) => kelNames[d.kelurahan_code] || (d.placement && d.placement.kelurahan_name) || "—";
  const teamName = (code) => { const e = M.teams.get(code); return (e && e.d.name) || code; };

  function slaState(d, now) {
    const due = M.deadline(d);
    if (d.on_scene_at) return { key: "met", rank: 3e12, text: S.t("board.sla.on_scene") };
    if (!isFinite(due)) return { key: "none", rank: 2e12, text: "—" };
    const mins = Math.round((due - now) / 60000);
    if (mins < 0) return { key: "late", rank: due, text: S.t("map.sla_over", { n: S.num(-mins) }) };
    return { key: mins <= 10 ? "soon" : "ok", rank: due, text: S.t("map.sla_left", { n: S.num(mins) }) };
  }

  function incidentRows(now) {
    const q = S.$("#board-filter").value.trim().toLowerCase();
    const rows = [];
    for (const e of M.incidents.values()) {
      const d = e.d;
      if (!M.passes(d, now)) continue;
      const teams = (d.teams || []).map(teamName);
      const row = { d, ticket: d.ticket, category: S.category(d.category), place: kel(d),
        age: now - S.parseTime(d.reported_at), sla: slaState(d, now), teams, status: d.status };
      if (q && ![row.ticket, row.category, row.place, teams.join(" "), S.statusLabel(d.status)].join(" ").toLowerCase().includes(q)) continue;
      rows.push(row);
    }
    const k = sort.inc.key, dir = sort.inc.dir;
    const val = (r) => (k === "sla" ? r.sla.rank : k === "status" ? STATUS_ORDER[r.status] : k === "teams" ? r.teams.join(",") : r[k]);
    rows.sort((a, b) => { const x = val(a), y = val(b); return (x < y ? -1 : x > y ? 1 : 0) * dir || (a.age < b.age ? 1 : -1); });
    return rows;
  }

  function renderIncidents(now) {
    const rows = incidentRows(now);
    S.$("#board-count").textContent = S.num(rows.length);
    // a coordinator moving through the rows by keyboard keeps the row they are on
    const body = S.$("#incident-board tbody");
    const focused = body.contains(document.activeElement) && document.activeElement.closest("tr[data-ticket]");
    const keep = focused ? focused.dataset.ticket : null;
    body.replaceChildren(...rows.slice(0, 200).map((r) => S.el("tr", {
      "data-ticket": r.ticket, class: "sla-" + r.sla.key, tabindex: "0",
      onclick: () => M.focusIncident(r.ticket), onkeydown: (ev) => { if (ev.key === "Enter") M.focusIncident(r.ticket); },
    },
    S.el("td", {}, S.el("a", { href: "/dispatch/" + encodeURIComponent(r.ticket), onclick: (ev) => ev.stopPropagation() }, r.ticket)),
    S.el("td", {}, r.category), S.el("td", {}, r.place), S.el("td", {}, S.ago(r.d.reported_at, now)),
    S.el("td", { class: "sla" }, r.sla.text), S.el("td", {}, r.teams.join(", ") || "—"),
    S.el("td", {}, S.el("span", { class: "badge", style: "background:" + (S.STATUS_COLORS[r.status] || "#555") }, S.statusLabel(r.status))))));
    if (keep) {
      const again = body.querySelector('tr[data-ticket="' + CSS.escape(keep) + '"]');
      if (again) again.focus({ preventScroll: true });
    }
  }

  function teamRows(now) {
    const caseOf = {};
    for (const e of M.incidents.values()) for (const code of e.d.teams || []) {
      if (!ACTIVE.includes(e.d.status)) continue;
      const prev = caseOf[code];
      if (!prev || STATUS_ORDER[e.d.status] > STATUS_ORDER[prev.status]) caseOf[code] = e.d;
    }
    const rows = [];
    for (const [code, e] of M.teams) {
      const d = e.d, inc = caseOf[code];
      let state = d.status === "libur" ? "libur" : "tersedia";
      if (inc) state = inc.status === "ditangani" ? "di_lokasi" : inc.status;
      else if (d.status === "bertugas") state = "ditugaskan";
      const pos = M.teamPos(d);
      rows.push({ code, team: d.name || code, role: S.roleLabel(d.role), state, inc,
        case: inc ? inc.ticket : "", position: pos.at ? now - S.parseTime(pos.at) : Infinity, at: pos.at });
    }
    const k = sort.team.key, dir = sort.team.dir;
    const val = (r) => (k === "state" ? STATE_ORDER[r.state] : r[k]);
    rows.sort((a, b) => { const x = val(a), y = val(b); return (x < y ? -1 : x > y ? 1 : 0) * dir || (a.team < b.team ? -1 : 1); });
    return rows;
  }

  function renderTeams(now) {
    const rows = teamRows(now);
    S.$("#team-count").textContent = S.num(rows.length);
    S.$("#team-board tbody").replaceChildren(...rows.map((r) => S.el("tr", { "data-team": r.code, class: "st-" + r.state + (r.position > 15 * 60000 ? " stale" : "") },
      S.el("td", {}, r.team), S.el("td", {}, r.role),
      S.el("td", {}, S.el("span", { class: "state" }, S.t("board.state." + r.state))),
      S.el("td", {}, r.inc ? S.el("a", { href: "#", onclick: (ev) => { ev.preventDefault(); M.focusIncident(r.inc.ticket); } }, r.inc.ticket) : "—"),
      S.el("td", {}, r.at ? S.ago(r.at, now) : S.t("map.no_position")))));
  }

  let pending = null;
  function render() {
    pending = null;
    const now = Date.now();
    if (!S.$("#board-inc").hidden) renderIncidents(now); else S.$("#board-count").textContent = S.num(incidentRows(now).length);
    if (!S.$("#board-team").hidden) renderTeams(now); else S.$("#team-count").textContent = S.num(teamRows(now).length);
    metrics.renders++;
  }
  // at most about twice a second, when the browser is idle: the live map comes first
  const idle = window.requestIdleCallback || ((fn) => setTimeout(fn, 0));
  function schedule() { if (!pending) pending = setTimeout(() => idle(render, { timeout: 500 }), 150); }
  document.addEventListener("sigap:changed", schedule);
  S.$("#board-filter").addEventListener("input", schedule);
  for (const [table, which] of [["#incident-board", "inc"], ["#team-board", "team"]]) {
    S.$(table).querySelector("thead").addEventListener("click", (ev) => {
      const th = ev.target.closest("th"); if (!th) return;
      const key = th.dataset.sort;
      sort[which] = { key, dir: sort[which].key === key ? -sort[which].dir : 1 };
      for (const h of S.$(table).querySelectorAll("th")) h.setAttribute("aria-sort", h === th ? (sort[which].dir > 0 ? "ascending" : "descending") : "none");
      schedule();
    });
  }
  for (const [tab, panel, other, otherPanel] of [["#tab-inc", "#board-inc", "#tab-team", "#board-team"], ["#tab-team", "#board-team", "#tab-inc", "#board-inc"]]) {
    S.$(tab).addEventListener("click", () => {
      S.$(tab).setAttribute("aria-selected", "true"); S.$(other).setAttribute("aria-selected", "false");
      S.$(panel).hidden = false; S.$(otherPanel).hidden = true; schedule();
    });
  }
  setInterval(schedule, 20000);  // ages and SLA clocks move
  schedule();
})();
