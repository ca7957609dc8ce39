/* GeoSIGAP — /analisis: the quarterly rakor pack in the browser (planners, coordinators). */
(function () {
  "use strict";
  const { $, t, api, el, showError, me, latest } = window.SIGAP;
  const form = $("#an-form"), status = $("#an-status"), body = $("#an-body");

  function qs(quarter, area) {
    const p = new URLSearchParams({ quarter });
    if (area) p.set("kecamatan", area);
    return p.toString();
  }

  // a cell that is a number in Indonesian format ("1.355", "6,9", "83%", "+32 (+10%)")
  const NUMBER = /^([−+\-]?[\d.,]+( ?%)?( \(.*\))?|–)$/;

  function table(tb, query, col) {
    const head = el("tr", null, tb.columns.map((c) => el("th", null, c)));
    const rows = tb.rows.map((r) => el("tr", null, r.map((v) =>
      el("td", NUMBER.test(v) ? { class: "n" } : null, v))));
    const base = "?" + query + "&table=" + tb.key;
    return el("section", { class: "an-tbl", id: "tabel-" + col + "-" + tb.number },
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

  /** A finding with its "(Tabel 4)" as a link to that table below. */
  function statement(text, col) {
    const m = /^(.*)\(Tabel (\d+)\)\s*$/.exec(text);
    if (!m) return el("li", null, text);
    return el("li", null, m[1], el("a", { href: "#tabel-" + col + "-" + m[2] },
      t("analysis.table_ref", { n: m[2] })));
  }

  function downloads(query) {
    return el("p", { class: "an-downloads" },
      el("a", { href: "/api/analysis/pack.pdf?" + query, download: "" }, t("analysis.download_pdf")),
      el("a", { href: "/api/analysis/pack.html?" + query, download: "" }, t("analysis.download_html")),
      el("a", { href: "/api/analysis/pack.gpkg?" + query, download: "",
                title: t("analysis.download_gpkg_hint") }, t("analysis.download_gpkg")));
  }

  function column(data, query, col, withLinks) {
    return el("div", { class: "an-col" },
      el("h2", null, data.meta.area + " · " + data.meta.quarter_label),
      withLinks ? downloads(query) : null,
      el("h3", null, t("analysis.headline")), cards(data),
      el("h3", null, t("analysis.findings")), el("ol", { class: "an-find" }, data.findings.map((f) => statement(f, col))),
      el("h3", null, t("analysis.recommendations")), el("ol", { class: "an-rec" }, data.recommendations.map((f) => statement(f, col))),
      el("h3", null, t("analysis.maps")),
      Object.values(data.figures).map((f) => el("figure", { class: "an-fig" }, el("img", { src: f.src, alt: f.title }))),
      el("h3", null, t("analysis.tables")), data.tables.map((tb) => table(tb, query, col)));
  }

  /** "1.355" → 1355, "83%" → 83, "22 menit" → 22 (Indonesian format); NaN otherwise. */
  function figure(v) {
    const m = /^([−+\-]?[\d.]+(,\d+)?)(%| menit)?$/.exec(String(v || "").trim());
    return m ? Number(m[1].replace(/\./g, "").replace(",", ".").replace("−", "-")) : NaN;
  }
  const ID = new Intl.NumberFormat("id-ID", { maximumFractionDigits: 1 });

  function change(a, b) {
    const x = figure(a), y = figure(b);
    if (!isFinite(x) || !isFinite(y)) return "–";
    const d = x - y, unit = /%$/.test(a) ? " " + t("analysis.points") : / menit$/.test(a) ? " " + t("analysis.minutes") : "";
    return (d > 0 ? "+" : d < 0 ? "−" : "±") + ID.format(Math.abs(d)) + unit;
  }

  /** The headline figures of both quarters in one table (same measures, side by side). */
  function comparison(a, b) {
    const other = new Map(b.headline.map(([k, v]) => [k, v]));
    const head = el("tr", null, el("th", null, t("analysis.measure")),
      el("th", null, a.meta.quarter_short), el("th", null, b.meta.quarter_short),
      el("th", null, t("analysis.change")));
    const rows = a.headline.map(([k, v]) => el("tr", null, el("td", null, k),
      el("td", { class: "n" }, v), el("td", { class: "n" }, other.get(k) || "–"),
      el("td", { class: "n" }, change(v, other.get(k)))));
    return el("section", { class: "an-summary" },
      el("h2", null, t("analysis.compare_title", { a: a.meta.quarter_short, b: b.meta.quarter_short })),
      el("div", { class: "an-scroll" },
        el("table", { class: "an-table" }, el("thead", null, head), el("tbody", null, rows))));
  }

  // the answer of the last choice only: a pack asked before it (a bigger area, a slow
  // network) may arrive after it, and must not replace it
  const ask = latest();
  async function show(ev) {
    if (ev) ev.preventDefault();
    const quarter = $("#an-quarter").value, area = $("#an-area").value, other = $("#an-compare").value;
    status.textContent = t("analysis.loading");
    $("#an-result").hidden = true;
    try {
      const query = qs(quarter, area);
      const jobs = [api("GET", "/api/analysis/pack?" + query)];
      if (other && other !== quarter) jobs.push(api("GET", "/api/analysis/pack?" + qs(other, area)));
      const [a, b] = await ask(Promise.all(jobs));
      $("#an-pdf").href = "/api/analysis/pack.pdf?" + query;
      $("#an-html").href = "/api/analysis/pack.html?" + query;
      $("#an-gpkg").href = "/api/analysis/pack.gpkg?" + query;
      body.replaceChildren(...(b ? [comparison(a, b), el("div", { class: "an-cmp" },
        column(a, query, "a", false), column(b, qs(other, area), "b", true))]
        : [column(a, query, "a", false)]));
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
