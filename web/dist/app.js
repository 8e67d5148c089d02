// H-log seller dashboard: the sales views. Plain JavaScript without a
// bundler: the gateway serves this file as is, next to Chart.js from npm
// (see scripts/build-web.sh). Shared parts are in core.js, sign-in in
// auth.js, accounts and connecting in accounts.js.
//
// The period, granularity, platform and basis live in the URL, so a view
// can be shared. The main view (period totals and chart) sets
// document.body.dataset.state; every other panel has its own data-state.
'use strict';

(function () {
  const hlog = window.hlog;
  const t = hlog.t;
  const hooks = hlog.hooks;

  const API = {
    summary: '/v1/sales/summary',
    timeSeries: '/v1/sales/timeseries',
    topProducts: '/v1/sales/top-products',
    split: '/v1/sales/platform-split',
    lines: '/v1/sales/order-lines',
  };
  const DEFAULT_TIME_ZONE = 'Asia/Seoul';
  const LINES_PAGE_SIZE = 25;

  // URL and form values (short, readable) to the proto enum names the API takes.
  const GRANULARITIES = {
    DAY: 'GRANULARITY_DAY',
    WEEK: 'GRANULARITY_WEEK',
    MONTH: 'GRANULARITY_MONTH',
    YEAR: 'GRANULARITY_YEAR',
  };
  const PLATFORMS = {
    cafe24: 'PLATFORM_CAFE24',
    smartstore: 'PLATFORM_SMARTSTORE',
    ably: 'PLATFORM_ABLY',
  };
  const BASES = {
    payment: 'BASIS_PAYMENT_DATE',
    order: 'BASIS_ORDER_DATE',
  };
  const MONEY_METRICS = ['gross', 'discount', 'paid', 'refunded', 'net'];
  const COUNT_UNITS = { orders: 'unit.orders', units: 'unit.units', buyers: 'unit.buyers' };
  const GLANCE_PERIODS = ['today', 'this-week', 'this-month', 'this-year'];

  const el = {
    form: document.getElementById('filters'),
    start: document.getElementById('start-date'),
    end: document.getElementById('end-date'),
    granularity: document.getElementById('granularity'),
    platform: document.getElementById('platform'),
    presets: document.querySelectorAll('[data-preset]'),
    periodNote: document.getElementById('period-note'),
    cards: document.getElementById('summary-cards'),
    canvas: document.getElementById('sales-chart'),
    seriesRows: document.getElementById('series-rows'),
    timeZone: document.getElementById('time-zone'),
    glance: document.getElementById('glance'),
    glanceCards: document.getElementById('glance-cards'),
    splitPanel: document.getElementById('split-panel'),
    splitRows: document.getElementById('split-rows'),
    productsPanel: document.getElementById('products-panel'),
    productRows: document.getElementById('product-rows'),
    byOption: document.getElementById('by-option'),
    claimCards: document.getElementById('claim-cards'),
    linesPanel: document.getElementById('lines-panel'),
    linesFilters: document.getElementById('lines-filters'),
    linesQuery: document.getElementById('lines-query'),
    linesClaim: document.getElementById('lines-claim'),
    linesStatus: document.getElementById('lines-status'),
    lineRows: document.getElementById('line-rows'),
    linesCount: document.getElementById('lines-count'),
    linesPage: document.getElementById('lines-page'),
    linesPrev: document.getElementById('lines-prev'),
    linesNext: document.getElementById('lines-next'),
    basisNow: document.getElementById('basis-now'),
    basisToggle: document.getElementById('basis-toggle'),
    langSwitch: document.getElementById('lang-switch'),
    bannerDismiss: document.getElementById('error-dismiss'),
    banner: document.getElementById('error-banner'),
  };

  let timeZone = DEFAULT_TIME_ZONE;
  let chart = null;
  const loads = { sales: { seq: 0, abort: null }, side: { seq: 0 }, lines: { seq: 0 } };
  // Order-line paging: tokens of the pages before the current one.
  let linesPages = [''];

  function setState(state) {
    hooks.state = state;
    hooks.ready = state === 'ready';
    document.body.dataset.state = state;
  }

  function baseQuery(request) {
    const q = new URLSearchParams();
    q.set('start_date', request.start);
    q.set('end_date', request.end);
    q.set('basis', BASES[request.basis]);
    if (request.platform !== 'all') q.append('platforms', PLATFORMS[request.platform]);
    return q;
  }

  // ---- request state (kept in the URL) -------------------------------------

  function initialRequest() {
    const params = new URLSearchParams(window.location.search);
    const range = hlog.presetRange('this-month', hlog.todayIn(timeZone));
    const start = params.get('start');
    const end = params.get('end');
    const granularity = (params.get('granularity') || '').toUpperCase();
    const platform = (params.get('platform') || '').toLowerCase();
    const basis = (params.get('basis') || '').toLowerCase();
    return {
      start: start && hlog.validDate(start) ? start : range.start,
      end: end && hlog.validDate(end) ? end : range.end,
      granularity: GRANULARITIES[granularity] ? granularity : 'DAY',
      platform: PLATFORMS[platform] ? platform : 'all',
      basis: BASES[basis] ? basis : 'payment',
    };
  }

  function readForm() {
    const basis = el.form.querySelector('input[name="basis"]:checked');
    return {
      start: el.start.value,
      end: el.end.value,
      granularity: el.granularity.value,
      platform: el.platform.value,
      basis: basis ? basis.value : 'payment',
    };
  }

  function writeForm(request) {
    el.start.value = request.start;
    el.end.value = request.end;
    el.granularity.value = request.granularity;
    el.platform.value = request.platform;
    for (const radio of el.form.querySelectorAll('input[name="basis"]')) {
      radio.checked = radio.value === request.basis;
    }
    markPreset(request);
  }

  function markPreset(request) {
    const today = hlog.todayIn(timeZone);
    for (const button of el.presets) {
      const range = hlog.presetRange(button.dataset.preset, today);
      button.setAttribute('aria-pressed', String(range.start === request.start && range.end === request.end));
    }
  }

  function writeURL(request) {
    const params = new URLSearchParams({
      start: request.start,
      end: request.end,
      granularity: request.granularity,
      platform: request.platform,
      basis: request.basis,
    });
    window.history.replaceState(null, '', window.location.pathname + '?' + params.toString() + window.location.hash);
  }

  // ---- exports --------------------------------------------------------------

  // Every table offers its rows as CSV and Excel; the gateway builds the
  // file from the same query, all pages of it.
  function writeExports(request) {
    const extra = {
      timeseries: { granularity: GRANULARITIES[request.granularity] },
      'top-products': { by_option: String(el.byOption.checked), limit: '100' },
      'platform-split': { by_account: 'true' },
      'order-lines': linesFilterParams(),
    };
    for (const box of document.querySelectorAll('[data-export]')) {
      const table = box.dataset.export;
      const q = baseQuery(request);
      if (table === 'platform-split') q.delete('platforms');
      for (const [k, v] of Object.entries(extra[table] || {})) {
        if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
        else if (v !== '') q.set(k, v);
      }
      q.set('lang', hlog.lang());
      const links = ['csv', 'xlsx'].map((format) => {
        const a = hlog.textNode('a', 'export-link', t('export.' + format));
        const fq = new URLSearchParams(q);
        fq.set('format', format);
        a.href = '/export/' + table + '?' + fq.toString();
        a.dataset.format = format;
        a.setAttribute('download', '');
        return a;
      });
      box.replaceChildren(...links);
    }
  }

  // ---- the main view: period totals and the chart ---------------------------

  async function loadSales() {
    const request = readForm();
    markPreset(request);
    writeURL(request);
    hooks.request = request;
    writeExports(request);
    renderBasis(request);

    if (loads.sales.abort) loads.sales.abort.abort();
    const seq = ++loads.sales.seq;
    const abort = new AbortController();
    loads.sales.abort = abort;
    setState('loading');

    try {
      if (!hlog.validDate(request.start) || !hlog.validDate(request.end)) throw new Error(t('app.badDates'));
      if (request.start > request.end) throw new Error(t('app.startAfterEnd'));
      const q = baseQuery(request);
      const seriesQuery = new URLSearchParams(q);
      seriesQuery.set('granularity', GRANULARITIES[request.granularity]);
      const [summary, series] = await Promise.all([
        hlog.requestJSON('GET', API.summary + '?' + q.toString(), { signal: abort.signal }),
        hlog.requestJSON('GET', API.timeSeries + '?' + seriesQuery.toString(), { signal: abort.signal }),
      ]);
      if (seq !== loads.sales.seq) return;
      renderSummary(summary);
      const drawn = renderSeries(series);
      hlog.clearError();
      hooks.summary = summary;
      hooks.series = series;
      hooks.chartLabels = drawn.labels;
      hooks.chartData = { net: drawn.net, paid: drawn.paid };
      hooks.renderCount += 1;
      setState('ready');
    } catch (err) {
      if (seq !== loads.sales.seq || (err && err.name === 'AbortError')) return;
      hlog.showError(err);
      hooks.renderCount += 1;
      setState('error');
      return;
    }
    loadSide(request);
    linesPages = [''];
    loadLines(request);
  }

  function renderSummary(summary) {
    hlog.setCurrency(summary.currency_code);
    if (summary.time_zone && summary.time_zone !== timeZone) {
      timeZone = summary.time_zone;
      hlog.accounts.setTimeZone(timeZone);
      markPreset(readForm());
    }
    el.timeZone.textContent = timeZone;

    const totals = summary.totals || {};
    const previous = summary.previous_totals || {};
    for (const card of el.cards.querySelectorAll('[data-metric]')) {
      const metric = card.dataset.metric;
      let valueText;
      let current;
      let before;
      let previousText;
      if (MONEY_METRICS.includes(metric)) {
        valueText = hlog.formatMoney(totals[metric]);
        previousText = hlog.formatMoney(previous[metric]);
        current = hlog.minorUnits(totals[metric]);
        before = hlog.minorUnits(previous[metric]);
      } else {
        valueText = hlog.formatCount(totals[metric], COUNT_UNITS[metric]);
        previousText = hlog.formatCount(previous[metric], COUNT_UNITS[metric]);
        current = hlog.int64(totals[metric]);
        before = hlog.int64(previous[metric]);
      }
      const delta = hlog.change(current, before);
      card.querySelector('.value').textContent = valueText;
      const changeNode = card.querySelector('.change');
      changeNode.textContent = delta.text;
      changeNode.dataset.direction = delta.direction;
      changeNode.title = t('app.previous') + previousText;
    }
    el.periodNote.textContent = summary.start_date + ' ~ ' + summary.end_date +
      t('app.compare') + summary.previous_start_date + ' ~ ' + summary.previous_end_date;

    // Cancels, returns and refunds of the period.
    for (const card of el.claimCards.querySelectorAll('[data-claim]')) {
      const key = card.dataset.claim;
      card.querySelector('.value').textContent = key === 'refunded'
        ? hlog.formatMoney(totals.refunded)
        : hlog.formatCount(totals[key], 'unit.units');
    }
  }

  function renderSeries(series) {
    const points = series.points || [];
    const labels = points.map((p) => p.label);
    const net = points.map((p) => hlog.chartAmount((p.totals || {}).net));
    const paid = points.map((p) => hlog.chartAmount((p.totals || {}).paid));
    drawChart(labels, net, paid);

    const rows = document.createDocumentFragment();
    for (const p of points) {
      const totals = p.totals || {};
      rows.appendChild(tableRow([p.label, hlog.formatMoney(totals.net), hlog.formatMoney(totals.paid), hlog.formatCount(totals.orders, 'unit.orders')], true));
    }
    el.seriesRows.replaceChildren(rows);
    return { labels: labels, net: net, paid: paid };
  }

  function tableRow(cells, firstIsHeader) {
    const tr = document.createElement('tr');
    cells.forEach((text, i) => {
      const cell = document.createElement(i === 0 && firstIsHeader ? 'th' : 'td');
      if (i === 0 && firstIsHeader) cell.scope = 'row';
      cell.textContent = text;
      tr.appendChild(cell);
    });
    return tr;
  }

  function drawChart(labels, net, paid) {
    if (typeof window.Chart !== 'function') throw new Error(t('app.noChart'));
    el.canvas.setAttribute('aria-label', t('app.chartLabel'));
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets[0].data = net;
      chart.data.datasets[0].label = t('metric.net');
      chart.data.datasets[1].data = paid;
      chart.data.datasets[1].label = t('metric.paid');
      chart.update();
      return;
    }
    chart = new window.Chart(el.canvas, {
      type: 'bar',
      data: {
        labels: labels,
        datasets: [
          { key: 'net', type: 'bar', label: t('metric.net'), data: net, backgroundColor: '#2f6fde', order: 2 },
          {
            key: 'paid', type: 'line', label: t('metric.paid'), data: paid,
            borderColor: '#e0862d', backgroundColor: '#e0862d', pointRadius: 2, cubicInterpolationMode: 'monotone', order: 1,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: 'index', intersect: false },
        scales: {
          y: {
            beginAtZero: true,
            ticks: { callback: (value) => hlog.compactMoneyFormat(hlog.currency()).format(value) },
          },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: (ctx) => ctx.dataset.label + ': ' + hlog.moneyFormat(hlog.currency()).format(ctx.raw),
            },
          },
        },
      },
    });
  }

  // ---- the other panels ------------------------------------------------------

  function setPanel(node, state) {
    node.dataset.state = state;
  }

  async function loadSide(request) {
    const seq = ++loads.side.seq;
    const current = () => seq === loads.side.seq;
    await Promise.all([loadGlance(request, current), loadSplit(request, current), loadProducts(request, current)]);
  }

  // loadGlance fills today / this week / this month / this year, each
  // against the period of the same length just before it.
  async function loadGlance(request, current) {
    setPanel(el.glance, 'loading');
    const today = hlog.todayIn(timeZone);
    try {
      const answers = await Promise.all(GLANCE_PERIODS.map((period) => {
        const range = hlog.presetRange(period, today);
        const q = baseQuery(Object.assign({}, request, range));
        return hlog.requestJSON('GET', API.summary + '?' + q.toString());
      }));
      if (!current()) return;
      GLANCE_PERIODS.forEach((period, i) => {
        const card = el.glanceCards.querySelector('[data-period="' + period + '"]');
        const totals = answers[i].totals || {};
        const previous = answers[i].previous_totals || {};
        const delta = hlog.change(hlog.minorUnits(totals.net), hlog.minorUnits(previous.net));
        card.querySelector('.value').textContent = hlog.formatMoney(totals.net);
        const changeNode = card.querySelector('.change');
        changeNode.textContent = delta.text;
        changeNode.dataset.direction = delta.direction;
        changeNode.title = t('app.previous') + answers[i].previous_start_date + ' ~ ' + answers[i].previous_end_date + ': ' + hlog.formatMoney(previous.net);
        hooks.glance[period] = answers[i];
      });
      setPanel(el.glance, 'ready');
    } catch (err) {
      if (!current()) return;
      setPanel(el.glance, 'error');
      hlog.showError(err);
    }
  }

  async function loadSplit(request, current) {
    setPanel(el.splitPanel, 'loading');
    const q = baseQuery(request);
    q.delete('platforms'); // the split is across platforms
    q.set('by_account', 'true');
    try {
      const data = await hlog.requestJSON('GET', API.split + '?' + q.toString());
      if (!current()) return;
      const rows = data.rows || [];
      let total = 0n;
      for (const r of rows) total += hlog.minorUnits((r.totals || {}).net);
      const frag = document.createDocumentFragment();
      for (const r of rows) {
        const totals = r.totals || {};
        const net = hlog.minorUnits(totals.net);
        const share = total > 0n ? Number((net * 1000n) / total) / 10 : 0;
        const name = t('platform.' + r.platform) + (r.account_display_name ? ' · ' + r.account_display_name : '');
        const tr = tableRow([name, hlog.formatMoney(totals.net), share.toLocaleString(hlog.locale(), { maximumFractionDigits: 1 }) + '%',
          hlog.formatCount(totals.orders, 'unit.orders'), hlog.formatMoney(totals.refunded)], true);
        const bar = document.createElement('span');
        bar.className = 'share-bar';
        bar.style.width = Math.max(0, Math.min(100, share)) + '%';
        tr.children[2].appendChild(bar);
        tr.dataset.platform = r.platform;
        frag.appendChild(tr);
      }
      if (rows.length === 0) frag.appendChild(emptyRow(5, t('split.empty')));
      el.splitRows.replaceChildren(frag);
      hooks.split = data;
      setPanel(el.splitPanel, 'ready');
    } catch (err) {
      if (!current()) return;
      setPanel(el.splitPanel, 'error');
      hlog.showError(err);
    }
  }

  function emptyRow(span, text) {
    const tr = document.createElement('tr');
    const td = hlog.textNode('td', 'empty', text);
    td.colSpan = span;
    tr.appendChild(td);
    return tr;
  }

  async function loadProducts(request, current) {
    setPanel(el.productsPanel, 'loading');
    const q = baseQuery(request);
    q.set('limit', '10');
    q.set('by_option', String(el.byOption.checked));
    try {
      const data = await hlog.requestJSON('GET', API.topProducts + '?' + q.toString());
      if (!current()) return;
      const products = data.products || [];
      const frag = document.createDocumentFragment();
      products.forEach((p, i) => {
        const totals = p.totals || {};
        const name = p.product_name + (p.option_name ? ' · ' + p.option_name : '');
        const tr = tableRow([String(i + 1), name, hlog.formatMoney(totals.net), hlog.formatCount(totals.units, 'unit.units'), hlog.formatMoney(totals.refunded)], false);
        tr.children[1].title = t('platform.' + p.platform);
        frag.appendChild(tr);
      });
      if (products.length === 0) frag.appendChild(emptyRow(5, t('products.empty')));
      el.productRows.replaceChildren(frag);
      hooks.products = data;
      setPanel(el.productsPanel, 'ready');
    } catch (err) {
      if (!current()) return;
      setPanel(el.productsPanel, 'error');
      hlog.showError(err);
    }
  }

  // ---- order lines -----------------------------------------------------------

  function linesFilterParams() {
    const out = {};
    if (el.linesQuery.value.trim()) out.query = el.linesQuery.value.trim();
    if (el.linesClaim.value) out.claim_filter = el.linesClaim.value;
    if (el.linesStatus.value) out.statuses = [el.linesStatus.value];
    return out;
  }

  async function loadLines(request) {
    const seq = ++loads.lines.seq;
    setPanel(el.linesPanel, 'loading');
    const q = baseQuery(request || hooks.request);
    for (const [k, v] of Object.entries(linesFilterParams())) {
      if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
      else q.set(k, v);
    }
    q.set('page_size', String(LINES_PAGE_SIZE));
    const token = linesPages[linesPages.length - 1];
    if (token) q.set('page_token', token);
    try {
      const data = await hlog.requestJSON('GET', API.lines + '?' + q.toString());
      if (seq !== loads.lines.seq) return;
      const lines = data.lines || [];
      const frag = document.createDocumentFragment();
      for (const l of lines) {
        const name = l.product_name + (l.option_name ? ' · ' + l.option_name : '');
        const tr = tableRow([l.payment_date || l.order_date, t('platform.' + l.platform), l.order_source_id, name,
          hlog.formatCount(l.quantity), hlog.formatMoney(l.paid), hlog.formatMoney(l.refunded), t('status.' + l.status)], false);
        tr.dataset.line = l.line_source_id;
        frag.appendChild(tr);
      }
      if (lines.length === 0) frag.appendChild(emptyRow(8, t('lines.empty')));
      el.lineRows.replaceChildren(frag);
      el.linesCount.textContent = t('lines.count', { n: hlog.formatCount(data.total_count) });
      el.linesPage.textContent = t('lines.page', { page: linesPages.length });
      el.linesPrev.disabled = linesPages.length <= 1;
      el.linesNext.disabled = !data.next_page_token;
      el.linesNext.dataset.token = data.next_page_token || '';
      hooks.lines = data;
      hooks.linesPage = linesPages.length;
      setPanel(el.linesPanel, 'ready');
    } catch (err) {
      if (seq !== loads.lines.seq) return;
      setPanel(el.linesPanel, 'error');
      hlog.showError(err);
    }
  }

  // ---- basis ------------------------------------------------------------------

  function renderBasis(request) {
    const order = request.basis === 'order';
    el.basisNow.textContent = t(order ? 'basis.nowOrder' : 'basis.nowPayment');
    el.basisToggle.textContent = t(order ? 'basis.toPayment' : 'basis.toOrder');
  }

  function toggleBasis() {
    const request = readForm();
    request.basis = request.basis === 'order' ? 'payment' : 'order';
    writeForm(request);
    loadSales();
  }

  // ---- wiring -----------------------------------------------------------------

  function start() {
    const request = initialRequest();
    writeForm(request);

    el.form.addEventListener('submit', (event) => {
      event.preventDefault();
      loadSales();
    });
    el.form.addEventListener('change', () => loadSales());
    for (const button of el.presets) {
      button.addEventListener('click', () => {
        const range = hlog.presetRange(button.dataset.preset, hlog.todayIn(timeZone));
        el.start.value = range.start;
        el.end.value = range.end;
        loadSales();
      });
    }
    el.byOption.addEventListener('change', () => {
      writeExports(hooks.request);
      loadProducts(hooks.request, () => true);
    });
    el.linesFilters.addEventListener('submit', (event) => event.preventDefault());
    let typing = null;
    el.linesQuery.addEventListener('input', () => {
      clearTimeout(typing);
      typing = setTimeout(() => { linesPages = ['']; writeExports(hooks.request); loadLines(); }, 250);
    });
    el.linesFilters.addEventListener('change', (event) => {
      if (event.target === el.linesQuery) return;
      linesPages = [''];
      writeExports(hooks.request);
      loadLines();
    });
    el.linesNext.addEventListener('click', () => {
      if (!el.linesNext.dataset.token) return;
      linesPages.push(el.linesNext.dataset.token);
      loadLines();
    });
    el.linesPrev.addEventListener('click', () => {
      if (linesPages.length <= 1) return;
      linesPages.pop();
      loadLines();
    });
    el.basisToggle.addEventListener('click', toggleBasis);
    el.bannerDismiss.addEventListener('click', () => { el.banner.hidden = true; });

    hlog.accounts.start({ onSynced: () => loadSales() });
    loadSales();
  }

  el.langSwitch.addEventListener('click', () => hlog.setLang(hlog.lang() === 'en' ? 'ko' : 'en'));
  hlog.onLangChange(() => {
    if (hooks.request) loadSales();
  });
  hlog.applyLang();
  hlog.auth.start(start);
})();
