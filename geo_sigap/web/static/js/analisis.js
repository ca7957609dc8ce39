/* GeoSIGAP — /analisis: the quarterly rakor pack in the browser (planners, coordinators). */
(function () {
  "use strict";
  const { $, t, api, el, showError, me } = window.SIGAP;
  const form = $("#an-form"), status = $("#an-status"), body = $("#an-body");

  function qs(quarter, area) {
    const p = new URLSearchParams({ quarter });
    if (area) p.set("kecamatan", area);
    return p.toString();
  }

  function table(tb, query) {
    const head = el("tr", null, tb.columns.map((c) => el("th", null, c)));
    const rows = tb.rows.map((r) => el("tr", null, r.map((v) => el("td", null, v))));
    const base = "?" + query + "&table=" + tb.key;
    return el("section", { class: "an-tbl", id: "tabel-" + tb.number },
      el("h3", null, t("analysis.table", { n: tb.number, title: tb.title })),
      el("p", { class: "an-dl" }, t("analysis.table_data"), " ",
        el("a", { href: "/api/analysis/table.csv" + base, download: "", class: "an-csv" }, t("analysis.csv")),
        " · ",
        el("a", { href: "/api/analysis/table.gpkg" + base, download: "", class: "an-gpkg",
                  title: t(tb.spatial ? "analysis.gpkg_spatial" : "analysis.gpkg_plain") },
          t("analysis.gpkg"))),
      tb.note ? el("p", { class: "muted" }, tb.note) : null,
      el("div", { class: "an-scroll" },
        el("table", { class: "an-table" }, el("thead", null, head), el("tbody", null, rows))));
  }

  function cards(data) {
    return el("div", { class: "an-cards" }, data.headline.map(([k, v, note]) =>
      el("div", { class: "an-card" }, el("div", { class: "muted" }, k), el("div", { class: "v" }, v),
        el("div", { class: "muted" }, note))));
  }

  function column(data, query) {
    return el("div", { class: "an-col" },
      el("h2", null, data.meta.area + " · " + data.meta.quarter_label),
      el("h3", null, t("analysis.headline")), cards(data),
      el("h3", null, t("analysis.findings")), el("ol", { class: "an-find" }, data.findings.map((f) => el("li", null, f))),
      el("h3", null, t("analysis.recommendations")), el("ol", { class: "an-rec" }, data.recommendations.map((f) => el("li", null, f))),
      el("h3", null, t("analysis.maps")),
      Object.values(data.figures).map((f) => el("figure", { class: "an-fig" }, el("img", { src: f.src, alt: f.title }))),
      el("h3", null, t("analysis.tables")), data.tables.map((tb) => table(tb, query)));
  }

  async function show(ev) {
    if (ev) ev.preventDefault();
    const quarter = $("#an-quarter").value, area = $("#an-area").value, other = $("#an-compare").value;
    status.textContent = t("analysis.loading");
    $("#an-result").hidden = true;
    try {
      const query = qs(quarter, area);
      const jobs = [api("GET", "/api/analysis/pack?" + query)];
      if (other && other !== quarter) jobs.push(api("GET", "/api/analysis/pack?" + qs(other, area)));
      const [a, b] = await Promise.all(jobs);
      $("#an-pdf").href = "/api/analysis/pack.pdf?" + query;
      $("#an-html").href = "/api/analysis/pack.html?" + query;
      $("#an-gpkg").href = "/api/analysis/pack.gpkg?" + query;
      body.replaceChildren(b ? el("div", { class: "an-cmp" }, column(a, query), column(b, qs(other, area)))
                             : column(a, query));
      $("#an-result").hidden = false;
      status.textContent = t("analysis.ready");
    } catch (e) { status.textContent = ""; showError(status, e); }
  }

  async function init() {
    me();
    try {
      const opt = await api("GET", "/api/analysis/options");
      if (!opt.quarters.length) { status.textContent = t("analysis.no_data"); return; }
      for (const q of opt.quarters) {
        $("#an-quarter").append(el("option", { value: q.code, selected: q.code === opt.default }, q.label));
        $("#an-compare").append(el("option", { value: q.code }, q.label));
      }
      for (const a of opt.areas) $("#an-area").append(el("option", { value: a.code || "" }, a.name));
      form.addEventListener("submit", show);
    } catch (e) { showError(status, e); }
  }
  init();
})();
