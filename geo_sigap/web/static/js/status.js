/* Citizen ticket status (SOP step 7): status, category, kelurahan and step times only. */
(function () {
  "use strict";
  const S = window.SIGAP;
  const ticket = S.config.ticket;
  const STEPS = ["reported_at", "verified_at", "dispatched_at", "en_route_at", "on_scene_at", "handled_at", "resolved_at"];
  const out = S.$("#status-result");
  if (!ticket) return;
  S.api("GET", "/api/public/status/" + encodeURIComponent(ticket), null, { noRedirect: true }).then((d) => {
    const en = S.config.locale === "en";
    const steps = d.steps || {};
    const list = d.status === "ditolak" ? ["reported_at", "rejected_at"] : STEPS;
    const lastDone = list.filter((k) => steps[k]).pop();
    out.replaceChildren(
      S.el("div", { class: "card" },
        S.el("p", { class: "ticket-big" }, d.ticket),
        S.el("p", {}, S.el("span", { class: "badge", style: "background:" + (S.STATUS_COLORS[d.status] || "#555") },
          en ? d.status_label_en || S.statusLabel(d.status) : d.status_label || S.statusLabel(d.status))),
        S.el("p", {}, (en ? d.category_name_en : d.category_name) || d.category, d.kelurahan ? " · Kel. " + d.kelurahan : ""),
        d.public_note ? S.el("div", { class: "public-note", id: "public-note" }, S.el("strong", {}, S.t("warga.public_note")), S.el("p", {}, d.public_note)) : null,
        d.message ? S.el("p", { class: "saved" }, d.message) : null,
        S.el("h2", {}, S.t("status.steps")),
        S.el("ol", { class: "timeline" }, list.map((k) => S.el("li", { class: (steps[k] ? "done" : "") + (k === lastDone ? " current" : "") },
          S.t("status." + k), ": ", steps[k] ? S.wib(steps[k]) : "—")))));
    document.body.dataset.ready = "1";
  }).catch((e) => {
    out.replaceChildren(S.el("p", { class: "error" }, e.status === 404 ? S.t("status.not_found") : e.message));
    document.body.dataset.ready = "1";
  });
})();
