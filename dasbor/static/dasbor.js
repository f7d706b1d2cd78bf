// The dashboard of the mayor's office: a client of /graphql and nothing else.
//
// It sends the operations of queries.graphql (the whole file with an operationName): `Masuk` to sign in; for the
// first view `DasborAwal`, `DasborPemerataan`, `DasborOpd` and `DasborKecamatan` at once, each section drawn as its
// answer arrives, and `DasborPenjualan` (the sales ranking of the first category) as soon as `DasborAwal` named it;
// `DasborPenjualan` again when another category is chosen; `Keluar` to sign out. When every section is drawn the
// page sets `document.body.dataset.ready = "true"` and the performance mark `dasbor-ready` (bench/ measures the
// first view up to it). The token lives in this tab only (sessionStorage) and goes out as
// `Authorization: Bearer …`; no cookie. Every figure shown is the API's; the page only formats it. Every chart has a
// table with the same numbers, each cell carrying the API's value in `data-value`.
"use strict";

(function () {
  const API = "/graphql";
  const DOCUMENT = "/dasbor/static/queries.graphql";
  const TOKEN_KEY = "dasbor.token";
  const LANG_KEY = "dasbor.lang";
  const LATE_DAYS = 14; // a median above this many days from delivery to payment is shown as late
  const LOW_INCOME_THRESHOLD = 5000000; // Rp per month
  const LOW_INCOME_MONTHS = 3;
  const RANK_FIRST = 10;
  const SHOWN_ROLES = ["ADMIN", "ANALYST"];
  const COLOURS = ["#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d5a97", "#30343f", "#ef8354"];

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    lang: sessionStorage.getItem(LANG_KEY) === "en" ? "en" : "id",
    document: null,
    periods: null,
    me: null, // DasborAwal: who is signed in, and the top-level categories
    categories: null,
    equity: null, // DasborPemerataan
    opd: null, // DasborOpd
    kecamatan: null, // DasborKecamatan
    sales: null, // DasborPenjualan
    load: 0, // the current first view: answers of an earlier one are dropped
    salesCategory: null,
    charts: {},
    started: performance.now(),
  };
  window.dasborTimings = {};

  const $ = (id) => document.getElementById(id);
  // The scripts are deferred, this one before the chart library, so that its requests leave before the library is
  // parsed; drawing waits for the document (and so for every deferred script).
  const documentReady = new Promise((resolve) =>
    document.readyState === "loading" ? document.addEventListener("DOMContentLoaded", resolve, { once: true }) : resolve()
  );

  // ------------------------------------------------------------ words and numbers

  function t(key, vars) {
    const words = window.DASBOR_WORDS[state.lang];
    let s = key in words ? words[key] : key;
    for (const [k, v] of Object.entries(vars || {})) s = s.split("{" + k + "}").join(String(v));
    return s;
  }

  function locale() {
    return state.lang === "en" ? "en-GB" : "id-ID";
  }

  function num(v, digits) {
    if (v === null || v === undefined) return t("none");
    return new Intl.NumberFormat(locale(), { minimumFractionDigits: digits || 0, maximumFractionDigits: digits || 0 }).format(v);
  }

  function rupiah(v) {
    return v === null || v === undefined ? t("none") : "Rp" + num(v);
  }

  function pct(v, digits) {
    if (v === null || v === undefined) return t("none");
    return new Intl.NumberFormat(locale(), {
      style: "percent",
      minimumFractionDigits: digits === undefined ? 1 : digits,
      maximumFractionDigits: digits === undefined ? 1 : digits,
    }).format(v);
  }

  function day(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    return new Intl.DateTimeFormat(locale(), { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(
      new Date(Date.UTC(y, m - 1, d))
    );
  }

  function month(period) {
    const [y, m] = period.split("-").map(Number);
    return new Intl.DateTimeFormat(locale(), { month: "long", year: "numeric", timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, 1)));
  }

  function translatePage() {
    document.documentElement.lang = state.lang;
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    $("lang-id").setAttribute("aria-pressed", String(state.lang === "id"));
    $("lang-en").setAttribute("aria-pressed", String(state.lang === "en"));
  }

  // ------------------------------------------------------------ periods (Asia/Jakarta)

  function periods() {
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Jakarta", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
    const [y, m, d] = today.split("-").map(Number);
    const from = new Date(Date.UTC(y - 1, m - 1, d + 1)).toISOString().slice(0, 10);
    const last = m === 1 ? [y - 1, 12] : [y, m - 1];
    return { periodFrom: from, periodTo: today, year: y, period: last[0] + "-" + String(last[1]).padStart(2, "0") };
  }

  // ------------------------------------------------------------ the API

  class ApiError extends Error {
    constructor(code, message, extra) {
      super(message);
      this.code = code;
      this.extra = extra || {};
    }
  }

  function loadDocument() {
    // one fetch shared by the requests sent at once; forgotten if it failed, so that the next try fetches again
    if (state.document === null) {
      state.document = fetch(DOCUMENT, { credentials: "omit" }).then((r) => {
        if (!r.ok) throw new ApiError("DOCUMENT", DOCUMENT + ": HTTP " + r.status);
        return r.text();
      });
      state.document.catch(() => (state.document = null));
    }
    return state.document;
  }

  async function gql(operationName, variables, token) {
    const query = await loadDocument();
    const headers = { "Content-Type": "application/json", Accept: "application/graphql-response+json, application/json" };
    const bearer = token === undefined ? state.token : token;
    if (bearer) headers.Authorization = "Bearer " + bearer;
    const r = await fetch(API, {
      method: "POST",
      credentials: "omit",
      headers,
      body: JSON.stringify({ query, operationName, variables: variables || {} }),
    });
    let body;
    try {
      body = await r.json();
    } catch (e) {
      throw new ApiError("HTTP", "HTTP " + r.status);
    }
    if (body.errors && body.errors.length) {
      const e = body.errors[0];
      const ext = e.extensions || {};
      throw new ApiError(ext.code || "ERROR", e.message, ext);
    }
    return body.data;
  }

  // ------------------------------------------------------------ tables

  // cells: {text, value, cls, title}; `value` (the API's figure) becomes data-value
  function fill(table, head, rows, foot) {
    const thead = table.tHead;
    thead.textContent = "";
    const hr = thead.insertRow();
    for (const h of head) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = h;
      hr.appendChild(th);
    }
    const body = table.tBodies[0];
    body.textContent = "";
    for (const row of rows) addRow(body, row);
    if (table.tFoot) {
      table.tFoot.textContent = "";
      if (foot) addRow(table.tFoot, foot);
    }
  }

  function addRow(section, row) {
    const tr = section.insertRow();
    if (row.key !== undefined) tr.dataset.key = row.key;
    if (row.cls) tr.className = row.cls;
    row.cells.forEach((c, i) => {
      const cell = document.createElement(i === 0 ? "th" : "td");
      if (i === 0) cell.scope = "row";
      const v = typeof c === "object" && c !== null ? c : { text: String(c) };
      cell.textContent = v.text;
      if (v.value !== undefined) cell.dataset.value = v.value === null ? "" : String(v.value);
      if (v.field) cell.dataset.field = v.field;
      if (v.cls) cell.className = v.cls;
      if (v.title) cell.title = v.title;
      tr.appendChild(cell);
    });
  }

  // ------------------------------------------------------------ charts

  function chart(id, config) {
    if (state.charts[id]) state.charts[id].destroy();
    if (typeof window.Chart !== "function") return; // the tables carry every figure
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options || {});
    state.charts[id] = new window.Chart($(id), config);
  }

  // ------------------------------------------------------------ sections

  function busy(section, yes) {
    $(section).setAttribute("aria-busy", String(yes));
  }

  function renderEquity() {
    if (!state.equity) return;
    const rows = state.equity.equityByCategory;
    const deciles = Array.from({ length: 11 }, (_, i) => i / 10);
    chart("chart-lorenz", {
      type: "line",
      data: {
        labels: deciles.map((d) => pct(d, 0)),
        datasets: [
          { label: t("equality"), data: deciles, borderColor: "#999", borderDash: [4, 4], pointRadius: 0 },
          ...rows
            .filter((r) => r.report.lorenz)
            .map((r, i) => ({ label: r.category.name, data: r.report.lorenz, borderColor: COLOURS[i % COLOURS.length], pointRadius: 2 })),
        ],
      },
      options: { scales: { y: { min: 0, max: 1, ticks: { callback: (v) => pct(v, 0) } } } },
    });
    chart("chart-gini", {
      type: "bar",
      data: {
        labels: rows.map((r) => r.category.name),
        datasets: [
          { label: t("gini"), data: rows.map((r) => r.report.gini), backgroundColor: COLOURS[0] },
          { label: t("zeroSalesShare"), data: rows.map((r) => r.report.zeroSalesShare), backgroundColor: COLOURS[2] },
        ],
      },
      options: { scales: { y: { min: 0, max: 1 } } },
    });
    fill(
      $("table-equity"),
      [t("category"), t("gini"), t("zeroSalesShare"), t("top10Share"), t("members"), t("sellers"), t("purchases"), t("total")],
      rows.map((r) => ({
        key: r.category.id,
        cells: [
          r.category.name,
          { text: num(r.report.gini, 3), value: r.report.gini, field: "gini" },
          { text: pct(r.report.zeroSalesShare), value: r.report.zeroSalesShare, field: "zeroSalesShare" },
          { text: pct(r.report.top10Share), value: r.report.top10Share, field: "top10Share" },
          { text: num(r.report.members), value: r.report.members, field: "members" },
          { text: num(r.report.sellers), value: r.report.sellers, field: "sellers" },
          { text: num(r.report.purchases), value: r.report.purchases, field: "purchases" },
          { text: rupiah(r.report.total), value: r.report.total, field: "total" },
        ],
      }))
    );
    fill(
      $("table-lorenz"),
      [t("membersShare"), ...rows.map((r) => r.category.name)],
      deciles.map((d, i) => ({
        key: String(i * 10),
        cells: [pct(d, 0), ...rows.map((r) => (r.report.lorenz ? { text: pct(r.report.lorenz[i]), value: r.report.lorenz[i] } : { text: t("none"), value: null }))],
      }))
    );
  }

  function topCategories() {
    // the API's order (by name), as equityByCategory's rows
    return (state.categories || []).filter((c) => c.parent === null);
  }

  function renderCategoryPicker() {
    const select = $("sales-category");
    const rows = topCategories();
    if (state.salesCategory === null && rows.length) state.salesCategory = rows[0].id;
    select.textContent = "";
    for (const c of rows) {
      const o = document.createElement("option");
      o.value = c.id;
      o.textContent = c.name;
      o.selected = c.id === state.salesCategory;
      select.appendChild(o);
    }
  }

  function renderSales() {
    const s = state.sales;
    if (!s) return;
    chart("chart-most", {
      type: "bar",
      data: {
        labels: s.most.edges.map((e) => e.umkm.name),
        datasets: [{ label: t("amount"), data: s.most.edges.map((e) => e.amount), backgroundColor: COLOURS[3] }],
      },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { ticks: { callback: (v) => rupiah(v) } } } },
    });
    $("most-count").textContent = "(" + t("ofTotal", { n: num(s.most.totalCount) }) + ")";
    $("least-count").textContent = "(" + t("ofTotal", { n: num(s.least.totalCount) }) + ")";
    fill(
      $("table-most"),
      [t("rank"), t("umkm"), t("kecamatan"), t("amount"), t("orders"), t("opds")],
      s.most.edges.map((e) => ({
        key: e.umkm.id,
        cells: [
          { text: num(e.rank), value: e.rank },
          e.umkm.name,
          e.umkm.kecamatan.name,
          { text: rupiah(e.amount), value: e.amount, field: "amount" },
          { text: num(e.orders), value: e.orders },
          { text: num(e.opds), value: e.opds },
        ],
      }))
    );
    fill(
      $("table-least"),
      [t("rank"), t("umkm"), t("kecamatan"), t("amount"), t("orders"), t("daysSinceVerification")],
      s.least.edges.map((e) => ({
        key: e.umkm.id,
        cls: e.amount === 0 ? "never" : "",
        cells: [
          { text: num(e.rank), value: e.rank },
          e.umkm.name,
          e.umkm.kecamatan.name,
          { text: e.amount === 0 ? t("neverSold") : rupiah(e.amount), value: e.amount, field: "amount" },
          { text: num(e.orders), value: e.orders },
          { text: num(e.daysSinceVerification), value: e.daysSinceVerification },
        ],
      }))
    );
  }

  function renderOpd() {
    if (!state.opd) return;
    const rows = state.opd.opdSpending.slice().sort((a, b) => (b.paguShare ?? -1) - (a.paguShare ?? -1) || a.opd.code.localeCompare(b.opd.code));
    $("opd-help").textContent = t("opdHelp", { d: LATE_DAYS });
    chart("chart-opd", {
      type: "bar",
      data: {
        labels: rows.map((r) => r.opd.code),
        datasets: [
          {
            type: "line",
            label: t("target"),
            data: rows.map(() => 0.4),
            borderColor: "#d1495b",
            borderDash: [6, 4],
            pointRadius: 0,
          },
          {
            label: t("paguShare"),
            data: rows.map((r) => r.paguShare),
            backgroundColor: rows.map((r) => (r.medianDaysToPay !== null && r.medianDaysToPay > LATE_DAYS ? "#d1495b" : COLOURS[0])),
          },
        ],
      },
      options: { scales: { y: { min: 0, ticks: { callback: (v) => pct(v, 0) } } } },
    });
    fill(
      $("table-opd"),
      [t("opd"), t("spend"), t("pagu"), t("paguShare"), t("target"), t("fairnessListShare"), t("medianDaysToPay"), t("unpaidDelivered"), t("umkmReached")],
      rows.map((r) => {
        const late = r.medianDaysToPay !== null && r.medianDaysToPay > LATE_DAYS;
        const target = r.meetsSmallBusinessRule === null ? t("noPagu") : r.meetsSmallBusinessRule ? t("meetsTarget") : t("missesTarget");
        return {
          key: r.opd.code,
          cls: late ? "late" : "",
          cells: [
            { text: r.opd.code + " — " + r.opd.name },
            { text: rupiah(r.spend), value: r.spend, field: "spend" },
            { text: rupiah(r.pagu), value: r.pagu, field: "pagu" },
            { text: pct(r.paguShare, 2), value: r.paguShare, field: "paguShare" },
            {
              text: target,
              value: r.meetsSmallBusinessRule,
              field: "meetsSmallBusinessRule",
              cls: r.meetsSmallBusinessRule === null ? "" : r.meetsSmallBusinessRule ? "meets" : "misses",
            },
            { text: pct(r.fairnessListShare), value: r.fairnessListShare, field: "fairnessListShare" },
            {
              text: num(r.medianDaysToPay, 1) + (late ? " · " + t("latePayer") : ""),
              value: r.medianDaysToPay,
              field: "medianDaysToPay",
              cls: late ? "late-cell" : "",
            },
            { text: num(r.unpaidDelivered), value: r.unpaidDelivered, field: "unpaidDelivered" },
            { text: num(r.umkmReached), value: r.umkmReached, field: "umkmReached" },
          ],
        };
      })
    );
  }

  function renderKecamatan() {
    if (!state.kecamatan) return;
    const c = state.kecamatan.omzetCompliance;
    const byId = new Map(c.byKecamatan.map((k) => [k.kecamatan.id, k]));
    const rows = state.kecamatan.lowIncomeByKecamatan;
    $("kecamatan-help").textContent = t("kecamatanHelp", {
      period: month(c.period),
      due: day(c.due.slice(0, 10)),
      threshold: rupiah(LOW_INCOME_THRESHOLD),
      months: LOW_INCOME_MONTHS,
    });
    const zero = { expected: 0, onTime: 0, late: 0, missing: 0 };
    const comp = rows.map((r) => byId.get(r.kecamatan.id) || zero);
    chart("chart-compliance", {
      type: "bar",
      data: {
        labels: rows.map((r) => r.kecamatan.name),
        datasets: [
          { label: t("onTime"), data: comp.map((k) => k.onTime), backgroundColor: COLOURS[4] },
          { label: t("late"), data: comp.map((k) => k.late), backgroundColor: COLOURS[2] },
          { label: t("missing"), data: comp.map((k) => k.missing), backgroundColor: "#b0b0b0" },
          { label: t("lowIncome"), data: rows.map((r) => r.lowIncome), backgroundColor: COLOURS[1], stack: "low" },
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true } } },
    });
    fill(
      $("table-kecamatan"),
      [t("kecamatan"), t("expected"), t("onTime"), t("late"), t("missing"), t("lowIncome")],
      rows.map((r, i) => ({
        key: r.kecamatan.code,
        cells: [
          r.kecamatan.name,
          { text: num(comp[i].expected), value: comp[i].expected, field: "expected" },
          { text: num(comp[i].onTime), value: comp[i].onTime, field: "onTime" },
          { text: num(comp[i].late), value: comp[i].late, field: "late" },
          { text: num(comp[i].missing), value: comp[i].missing, field: "missing" },
          { text: num(r.lowIncome), value: r.lowIncome, field: "lowIncome" },
        ],
      })),
      {
        key: "total",
        cells: [
          t("allKecamatan"),
          { text: num(c.expected), value: c.expected, field: "expected" },
          { text: num(c.onTime), value: c.onTime, field: "onTime" },
          { text: num(c.late), value: c.late, field: "late" },
          { text: num(c.missing), value: c.missing, field: "missing" },
          { text: num(state.kecamatan.lowIncomeUmkm.totalCount), value: state.kecamatan.lowIncomeUmkm.totalCount, field: "lowIncome" },
        ],
      }
    );
  }

  function renderHeader() {
    const p = state.periods;
    const line = $("periods");
    line.textContent = t("periodLine", { from: day(p.periodFrom), to: day(p.periodTo), year: p.year, period: month(p.period) });
    line.dataset.periodFrom = p.periodFrom;
    line.dataset.periodTo = p.periodTo;
    line.dataset.year = String(p.year);
    line.dataset.period = p.period;
    $("who-name").textContent = state.me.fullName + " (" + state.me.role + ")";
    renderCategoryPicker();
  }

  function renderAll() {
    translatePage();
    if (!state.me) return;
    renderHeader();
    renderEquity();
    renderSales();
    renderOpd();
    renderKecamatan();
  }

  // ------------------------------------------------------------ flow

  function show(view, message) {
    $("login").hidden = view !== "login";
    $("content").hidden = view !== "content";
    $("who").hidden = view !== "content";
    $("sign-out").hidden = view !== "content";
    const status = $("status");
    status.hidden = !message;
    status.textContent = message || "";
    document.body.dataset.state = view;
  }

  function forget(message) {
    state.load += 1; // answers still on their way are dropped
    state.token = null;
    state.me = state.categories = state.equity = state.opd = state.kecamatan = state.sales = null;
    sessionStorage.removeItem(TOKEN_KEY);
    show("login");
    const err = $("login-error");
    err.hidden = !message;
    err.textContent = message || "";
  }

  async function loadSales() {
    const p = state.periods;
    const load = state.load;
    busy("sales", true);
    const sales = await gql("DasborPenjualan", {
      categoryId: state.salesCategory,
      periodFrom: p.periodFrom,
      periodTo: p.periodTo,
      first: RANK_FIRST,
    });
    await documentReady;
    if (load !== state.load) return;
    state.sales = sales;
    renderSales();
    busy("sales", false);
    window.dasborTimings.sales = performance.now() - state.started;
  }

  function failed(e) {
    if (e.code === "UNAUTHENTICATED") return forget(t("sessionEnded"));
    if (e.code === "FORBIDDEN") return forget(t("wrongRole"));
    const wait = e.extra.retryAfter ? " " + t("tryAgainIn", { s: e.extra.retryAfter }) : "";
    show(state.me ? "content" : "login", t("failed") + ": " + e.message + wait);
  }

  // One section of the first view: its request, then (the content shown and this view still current) its drawing:
  // charts are drawn in a visible box, at their size.
  async function section(name, operation, variables, load, shown, render) {
    busy(name, true);
    const data = await gql(operation, variables);
    await shown;
    if (load !== state.load) return;
    state[name] = data;
    render();
    busy(name, false);
    window.dasborTimings[name] = performance.now() - state.started;
  }

  async function load() {
    const load = ++state.load;
    show("loading", t("loading"));
    state.periods = periods();
    const p = state.periods;
    state.me = state.categories = state.equity = state.opd = state.kecamatan = state.sales = null;
    state.salesCategory = null;
    document.body.dataset.ready = "false";
    busy("sales", true);
    // who is signed in and the categories: the content is shown, and the sales ranking of the first category asked
    let contentShown;
    const shown = new Promise((resolve) => (contentShown = resolve));
    const first = gql("DasborAwal", {}).then(async (d) => {
      if (!d.me) throw new ApiError("UNAUTHENTICATED", "");
      if (!SHOWN_ROLES.includes(d.me.role)) throw new ApiError("FORBIDDEN", "");
      await documentReady;
      if (load !== state.load) return;
      state.me = d.me;
      state.categories = d.categories;
      translatePage();
      renderHeader();
      show("content");
      contentShown();
      window.dasborTimings.overview = performance.now() - state.started;
      if (state.salesCategory !== null) await loadSales();
    });
    const sections = [
      first,
      section("equity", "DasborPemerataan", { periodFrom: p.periodFrom, periodTo: p.periodTo }, load, shown, renderEquity),
      section("opd", "DasborOpd", { year: p.year }, load, shown, renderOpd),
      section("kecamatan", "DasborKecamatan", { period: p.period, threshold: LOW_INCOME_THRESHOLD, months: LOW_INCOME_MONTHS }, load, shown, renderKecamatan),
    ];
    try {
      await Promise.all(sections);
      if (load !== state.load) return;
      window.dasborTimings.ready = performance.now() - state.started;
      performance.mark("dasbor-ready");
      document.body.dataset.ready = "true";
    } catch (e) {
      if (load === state.load) failed(e);
    }
  }

  async function signIn(event) {
    event.preventDefault();
    const err = $("login-error");
    err.hidden = true;
    $("login-submit").disabled = true;
    state.started = performance.now();
    try {
      const r = (await gql("Masuk", { email: $("login-email").value, password: $("login-password").value }, null)).login;
      if (r.errors.length) {
        const wait = r.retryAfter ? " " + t("tryAgainIn", { s: r.retryAfter }) : "";
        err.textContent = r.errors.map((e) => e.message).join(" ") + wait;
        err.hidden = false;
        return;
      }
      if (!SHOWN_ROLES.includes(r.user.role)) {
        await gql("Keluar", {}, r.token).catch(() => null); // not kept: revoke it at once
        return forget(t("wrongRole"));
      }
      state.token = r.token;
      sessionStorage.setItem(TOKEN_KEY, r.token);
      $("login-password").value = "";
      await load();
    } catch (e) {
      err.textContent = t("failed") + ": " + e.message;
      err.hidden = false;
    } finally {
      $("login-submit").disabled = false;
    }
  }

  async function signOut() {
    const token = state.token;
    forget();
    if (token) await gql("Keluar", {}, token).catch(() => null);
  }

  function setLanguage(lang) {
    state.lang = lang;
    sessionStorage.setItem(LANG_KEY, lang);
    renderAll();
  }

  function start() {
    $("login-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", signOut);
    $("lang-id").addEventListener("click", () => setLanguage("id"));
    $("lang-en").addEventListener("click", () => setLanguage("en"));
    $("sales-category").addEventListener("change", async (event) => {
      state.salesCategory = event.target.value;
      document.body.dataset.ready = "false";
      try {
        await loadSales();
        document.body.dataset.ready = "true";
      } catch (e) {
        failed(e);
      }
    });
    translatePage();
    if (state.token) load();
    else forget();
  }

  start();
})();
