// H-log seller dashboard. Plain JavaScript without a bundler: the gateway
// serves this file as is, next to Chart.js from npm (see scripts/build-web.sh).
//
// The REST API is grpc-gateway over the protos. Its JSON uses the proto field
// names (snake_case, like the OpenAPI document at /openapi.json), writes every
// field even when empty, and writes int64 values (money minor units, counts)
// as strings. Amounts are therefore parsed to BigInt and stay exact until they
// are formatted or drawn.
//
// Tests wait on document.body.dataset.state ('loading' | 'ready' | 'error')
// and read window.hlogDashboard, which holds the data the page last drew.
'use strict';

(function () {
  const API = {
    summary: '/v1/sales/summary',
    timeSeries: '/v1/sales/timeseries',
    accounts: '/v1/accounts',
    syncRuns: '/v1/sync-runs',
  };
  const LOCALE = 'ko-KR';
  const DEFAULT_TIME_ZONE = 'Asia/Seoul';
  const DEFAULT_CURRENCY = 'KRW';

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

  const PLATFORM_NAMES = {
    PLATFORM_CAFE24: '카페24',
    PLATFORM_SMARTSTORE: '스마트스토어',
    PLATFORM_ABLY: '에이블리',
  };
  const ACCOUNT_STATUS_NAMES = {
    ACCOUNT_STATUS_ACTIVE: '정상',
    ACCOUNT_STATUS_NEEDS_SELLER: '조치 필요',
  };
  const RUN_STATE_NAMES = {
    SYNC_RUN_STATE_QUEUED: '대기 중',
    SYNC_RUN_STATE_RUNNING: '진행 중',
    SYNC_RUN_STATE_SUCCEEDED: '완료',
    SYNC_RUN_STATE_RETRYING: '재시도 예정',
    SYNC_RUN_STATE_FAILED: '실패',
  };
  const ACTIVE_RUN_STATES = new Set(['SYNC_RUN_STATE_QUEUED', 'SYNC_RUN_STATE_RUNNING']);
  // Codes with which a watch stream ends when the connection, not the run, is lost.
  const WATCH_LOST_CODES = new Set(['CANCELLED', 'UNAVAILABLE']);

  // google.rpc.Code numbers, as the gateway's error bodies carry them.
  const GRPC_CODE_NAMES = [
    'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED',
    'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED',
    'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED',
    'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
  ];

  const MONEY_METRICS = ['gross', 'discount', 'paid', 'refunded', 'net'];
  const COUNT_METRICS = { orders: '건', units: '개', buyers: '명' };

  const hooks = {
    state: 'loading',
    ready: false,
    error: null,
    request: null,
    summary: null,
    series: null,
    chartLabels: [],
    chartData: { net: [], paid: [] },
    renderCount: 0,
    accountsState: 'loading',
    accounts: [],
    latestRuns: {},
  };
  window.hlogDashboard = hooks;

  const el = {
    banner: document.getElementById('error-banner'),
    bannerMessage: document.getElementById('error-message'),
    bannerDismiss: document.getElementById('error-dismiss'),
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
    accountsPanel: document.getElementById('accounts-panel'),
    accountList: document.getElementById('account-list'),
    accountsEmpty: document.getElementById('accounts-empty'),
  };

  let timeZone = DEFAULT_TIME_ZONE;
  let currency = DEFAULT_CURRENCY;
  let chart = null;
  let salesLoad = { seq: 0, abort: null };

  // ---- errors -------------------------------------------------------------

  class ApiError extends Error {
    constructor(message, httpStatus, code) {
      super(message);
      this.name = 'ApiError';
      this.httpStatus = httpStatus;
      this.code = code;
    }
  }

  function describeError(err) {
    if (err instanceof ApiError) {
      const detail = [err.code, err.httpStatus ? 'HTTP ' + err.httpStatus : ''].filter(Boolean).join(', ');
      return detail ? err.message + ' (' + detail + ')' : err.message;
    }
    return err && err.message ? err.message : String(err);
  }

  function showError(err) {
    hooks.error = {
      message: err && err.message ? err.message : String(err),
      code: err instanceof ApiError ? err.code : '',
      httpStatus: err instanceof ApiError ? err.httpStatus : 0,
    };
    el.bannerMessage.textContent = '요청을 처리하지 못했습니다: ' + describeError(err);
    el.banner.hidden = false;
  }

  function clearError() {
    hooks.error = null;
    el.banner.hidden = true;
    el.bannerMessage.textContent = '';
  }

  function setState(state) {
    hooks.state = state;
    hooks.ready = state === 'ready';
    document.body.dataset.state = state;
  }

  // ---- API ----------------------------------------------------------------

  async function requestJSON(method, url, options) {
    const opts = options || {};
    const init = {
      method: method,
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
      cache: 'no-store',
      signal: opts.signal,
    };
    if (opts.body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    let resp;
    try {
      resp = await fetch(url, init);
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      throw new ApiError('서버에 연결할 수 없습니다. 네트워크를 확인해 주세요.', 0, '');
    }
    const text = await resp.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        data = null;
      }
    }
    if (!resp.ok) throw errorFromBody(data, resp.status);
    if (data === null || typeof data !== 'object') {
      throw new ApiError('서버 응답을 읽을 수 없습니다.', resp.status, '');
    }
    return data;
  }

  // errorFromBody reads the gateway's error JSON {code, message, details}.
  function errorFromBody(body, httpStatus) {
    const hasCode = body && typeof body.code === 'number';
    const code = hasCode ? (GRPC_CODE_NAMES[body.code] || String(body.code)) : '';
    const message = body && body.message ? body.message : '서버 오류';
    return new ApiError(message, httpStatus, code);
  }

  function salesQuery(request) {
    const q = new URLSearchParams();
    q.set('start_date', request.start);
    q.set('end_date', request.end);
    q.set('basis', BASES[request.basis]);
    if (request.platform !== 'all') q.append('platforms', PLATFORMS[request.platform]);
    return q;
  }

  // ---- values -------------------------------------------------------------

  const formatters = new Map();
  function numberFormat(key, options) {
    if (!formatters.has(key)) formatters.set(key, new Intl.NumberFormat(LOCALE, options));
    return formatters.get(key);
  }
  function moneyFormat(code) {
    return numberFormat('money:' + code, { style: 'currency', currency: code });
  }
  function compactMoneyFormat(code) {
    return numberFormat('compact:' + code, {
      style: 'currency', currency: code, notation: 'compact', maximumFractionDigits: 1,
    });
  }
  function countFormat() {
    return numberFormat('count', { maximumFractionDigits: 0 });
  }
  function fractionDigits(code) {
    return moneyFormat(code).resolvedOptions().maximumFractionDigits;
  }

  // int64 parses an int64 field as protojson writes it (a decimal string).
  function int64(value) {
    if (value === undefined || value === null) return 0n;
    if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
    throw new Error('invalid int64 value from the API: ' + JSON.stringify(value));
  }

  function moneyCurrency(money) {
    return (money && money.currency_code) || currency;
  }

  function minorUnits(money) {
    return money ? int64(money.minor_units) : 0n;
  }

  // decimalString renders minor units as an exact decimal string, e.g.
  // 12345 with 2 digits -> "123.45". Intl.NumberFormat formats such strings
  // exactly, without passing through a float.
  function decimalString(minor, digits) {
    if (digits === 0) return minor.toString();
    const negative = minor < 0n;
    const abs = (negative ? -minor : minor).toString().padStart(digits + 1, '0');
    const text = abs.slice(0, abs.length - digits) + '.' + abs.slice(abs.length - digits);
    return negative ? '-' + text : text;
  }

  function formatMoney(money) {
    const code = moneyCurrency(money);
    const digits = fractionDigits(code);
    const minor = minorUnits(money);
    return digits === 0 ? moneyFormat(code).format(minor) : moneyFormat(code).format(decimalString(minor, digits));
  }

  // chartAmount is the number a chart draws: major units (won for KRW).
  // Exact for any amount below 2^53 minor units.
  function chartAmount(money) {
    const digits = fractionDigits(moneyCurrency(money));
    const minor = minorUnits(money);
    return digits === 0 ? Number(minor) : Number(decimalString(minor, digits));
  }

  function formatCount(value, unit) {
    return countFormat().format(int64(value)) + unit;
  }

  function change(current, previous) {
    if (previous === 0n) {
      if (current === 0n) return { text: '변동 없음', direction: 'flat' };
      return { text: '신규', direction: current > 0n ? 'up' : 'down' };
    }
    const diff = current - previous;
    const base = previous < 0n ? -previous : previous;
    // Percent with one decimal, computed in integers and rounded half away from zero.
    const scaled = (diff * 2000n) / base;
    const tenths = scaled >= 0n ? (scaled + 1n) / 2n : (scaled - 1n) / 2n;
    const pct = Number(tenths) / 10;
    if (diff === 0n) return { text: '변동 없음', direction: 'flat' };
    const arrow = diff > 0n ? '▲' : '▼';
    return {
      text: arrow + ' ' + Math.abs(pct).toLocaleString(LOCALE, { maximumFractionDigits: 1 }) + '%',
      direction: diff > 0n ? 'up' : 'down',
    };
  }

  // ---- dates --------------------------------------------------------------

  const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

  function validDate(text) {
    if (!ISO_DATE.test(text)) return false;
    const [y, m, d] = text.split('-').map(Number);
    const t = new Date(Date.UTC(y, m - 1, d));
    return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
  }

  // todayIn is today's calendar date in the seller's time zone, since a day
  // on the dashboard is a day in that zone, not in the browser's.
  function todayIn(zone) {
    const parts = {};
    for (const p of new Intl.DateTimeFormat('en-CA', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit',
    }).formatToParts(new Date())) {
      parts[p.type] = p.value;
    }
    return parts.year + '-' + parts.month + '-' + parts.day;
  }

  function addDays(date, days) {
    const [y, m, d] = date.split('-').map(Number);
    return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
  }

  function presetRange(preset, today) {
    switch (preset) {
      case 'this-month': return { start: today.slice(0, 8) + '01', end: today };
      case 'last-30-days': return { start: addDays(today, -29), end: today };
      case 'this-year': return { start: today.slice(0, 5) + '01-01', end: today };
    }
    throw new Error('unknown preset ' + preset);
  }

  function formatTime(timestamp) {
    if (!timestamp) return '';
    const t = new Date(timestamp);
    if (Number.isNaN(t.getTime())) return '';
    return new Intl.DateTimeFormat(LOCALE, { timeZone: timeZone, dateStyle: 'short', timeStyle: 'short' }).format(t);
  }

  // ---- request state (kept in the URL so a view can be shared) -------------

  function initialRequest() {
    const params = new URLSearchParams(window.location.search);
    const range = presetRange('this-month', todayIn(timeZone));
    const start = params.get('start');
    const end = params.get('end');
    const granularity = (params.get('granularity') || '').toUpperCase();
    const platform = (params.get('platform') || '').toLowerCase();
    const basis = (params.get('basis') || '').toLowerCase();
    return {
      start: start && validDate(start) ? start : range.start,
      end: end && validDate(end) ? end : range.end,
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
    const today = todayIn(timeZone);
    for (const button of el.presets) {
      const range = presetRange(button.dataset.preset, today);
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
    window.history.replaceState(null, '', window.location.pathname + '?' + params.toString());
  }

  // ---- sales --------------------------------------------------------------

  async function loadSales() {
    const request = readForm();
    markPreset(request);
    writeURL(request);
    hooks.request = request;

    if (salesLoad.abort) salesLoad.abort.abort();
    const seq = ++salesLoad.seq;
    const abort = new AbortController();
    salesLoad.abort = abort;
    setState('loading');

    try {
      if (!validDate(request.start) || !validDate(request.end)) {
        throw new Error('시작일과 종료일을 YYYY-MM-DD 형식으로 입력해 주세요.');
      }
      if (request.start > request.end) {
        throw new Error('시작일이 종료일보다 늦을 수 없습니다.');
      }
      const q = salesQuery(request);
      const seriesQuery = new URLSearchParams(q);
      seriesQuery.set('granularity', GRANULARITIES[request.granularity]);
      const [summary, series] = await Promise.all([
        requestJSON('GET', API.summary + '?' + q.toString(), { signal: abort.signal }),
        requestJSON('GET', API.timeSeries + '?' + seriesQuery.toString(), { signal: abort.signal }),
      ]);
      if (seq !== salesLoad.seq) return;
      renderSummary(summary);
      const drawn = renderSeries(series);
      clearError();
      hooks.summary = summary;
      hooks.series = series;
      hooks.chartLabels = drawn.labels;
      hooks.chartData = { net: drawn.net, paid: drawn.paid };
      hooks.renderCount += 1;
      setState('ready');
    } catch (err) {
      if (seq !== salesLoad.seq || (err && err.name === 'AbortError')) return;
      showError(err);
      hooks.renderCount += 1;
      setState('error');
    }
  }

  function renderSummary(summary) {
    currency = summary.currency_code || currency;
    if (summary.time_zone && summary.time_zone !== timeZone) {
      timeZone = summary.time_zone;
      markPreset(readForm());
    }
    el.timeZone.textContent = timeZone;
    for (const node of document.querySelectorAll('.tz-name')) node.textContent = timeZone;

    const totals = summary.totals || {};
    const previous = summary.previous_totals || {};
    for (const card of el.cards.querySelectorAll('[data-metric]')) {
      const metric = card.dataset.metric;
      let valueText;
      let current;
      let before;
      let previousText;
      if (MONEY_METRICS.includes(metric)) {
        valueText = formatMoney(totals[metric]);
        previousText = formatMoney(previous[metric]);
        current = minorUnits(totals[metric]);
        before = minorUnits(previous[metric]);
      } else {
        valueText = formatCount(totals[metric], COUNT_METRICS[metric]);
        previousText = formatCount(previous[metric], COUNT_METRICS[metric]);
        current = int64(totals[metric]);
        before = int64(previous[metric]);
      }
      const delta = change(current, before);
      card.querySelector('.value').textContent = valueText;
      const changeNode = card.querySelector('.change');
      changeNode.textContent = delta.text;
      changeNode.dataset.direction = delta.direction;
      changeNode.title = '이전 기간 ' + previousText;
    }
    el.periodNote.textContent = summary.start_date + ' ~ ' + summary.end_date +
      ' · 비교 기간 ' + summary.previous_start_date + ' ~ ' + summary.previous_end_date;
  }

  function renderSeries(series) {
    const points = series.points || [];
    const labels = points.map((p) => p.label);
    const net = points.map((p) => chartAmount((p.totals || {}).net));
    const paid = points.map((p) => chartAmount((p.totals || {}).paid));
    drawChart(labels, net, paid);

    const rows = document.createDocumentFragment();
    for (const p of points) {
      const totals = p.totals || {};
      const tr = document.createElement('tr');
      const cells = [p.label, formatMoney(totals.net), formatMoney(totals.paid), formatCount(totals.orders, '건')];
      cells.forEach((text, i) => {
        const cell = document.createElement(i === 0 ? 'th' : 'td');
        if (i === 0) cell.scope = 'row';
        cell.textContent = text;
        tr.appendChild(cell);
      });
      rows.appendChild(tr);
    }
    el.seriesRows.replaceChildren(rows);
    return { labels: labels, net: net, paid: paid };
  }

  function drawChart(labels, net, paid) {
    if (typeof window.Chart !== 'function') {
      throw new Error('차트 라이브러리를 불러오지 못했습니다.');
    }
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets[0].data = net;
      chart.data.datasets[1].data = paid;
      chart.update();
      return;
    }
    chart = new window.Chart(el.canvas, {
      type: 'bar',
      data: {
        labels: labels,
        datasets: [
          { key: 'net', type: 'bar', label: '순매출', data: net, backgroundColor: '#2f6fde', order: 2 },
          {
            key: 'paid', type: 'line', label: '결제금액', data: paid,
            borderColor: '#e0862d', backgroundColor: '#e0862d', pointRadius: 2, cubicInterpolationMode: 'monotone', order: 1,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        scales: {
          y: {
            beginAtZero: true,
            ticks: { callback: (value) => compactMoneyFormat(currency).format(value) },
          },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: (ctx) => ctx.dataset.label + ': ' + moneyFormat(currency).format(ctx.raw),
            },
          },
        },
      },
    });
  }

  // ---- accounts and sync --------------------------------------------------

  async function loadAccounts() {
    el.accountsPanel.dataset.state = 'loading';
    hooks.accountsState = 'loading';
    try {
      const data = await requestJSON('GET', API.accounts);
      const accounts = data.accounts || [];
      const runs = await Promise.all(accounts.map((a) => latestRun(a.account_id)));
      hooks.accounts = accounts;
      hooks.latestRuns = {};
      accounts.forEach((a, i) => { hooks.latestRuns[a.account_id] = runs[i]; });
      renderAccounts();
      el.accountsPanel.dataset.state = 'ready';
      hooks.accountsState = 'ready';
    } catch (err) {
      showError(err);
      el.accountsPanel.dataset.state = 'error';
      hooks.accountsState = 'error';
    }
  }

  async function latestRun(accountId) {
    const q = new URLSearchParams({ account_id: accountId, page_size: '1' });
    const data = await requestJSON('GET', API.syncRuns + '?' + q.toString());
    return (data.runs || [])[0] || null;
  }

  function renderAccounts() {
    el.accountsEmpty.hidden = hooks.accounts.length > 0;
    const items = hooks.accounts.map((account) => renderAccount(account, hooks.latestRuns[account.account_id]));
    el.accountList.replaceChildren(...items);
  }

  function textNode(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    node.textContent = text;
    return node;
  }

  function renderAccount(account, run) {
    const li = document.createElement('li');
    li.className = 'account';
    li.dataset.accountId = account.account_id;

    const head = document.createElement('div');
    head.className = 'account-head';
    head.appendChild(textNode('span', 'platform-badge', PLATFORM_NAMES[account.platform] || account.platform));
    head.appendChild(textNode('strong', 'account-name', account.display_name || account.external_account_id));
    const status = textNode('span', 'account-status', ACCOUNT_STATUS_NAMES[account.status] || '알 수 없음');
    status.dataset.status = account.status;
    head.appendChild(status);
    li.appendChild(head);

    if (account.status_message) li.appendChild(textNode('p', 'account-message', account.status_message));
    if (account.last_success_at) {
      li.appendChild(textNode('p', 'account-meta', '마지막 성공 ' + formatTime(account.last_success_at)));
    }

    const runLine = textNode('p', 'run-state', '최근 동기화: 없음');
    li.appendChild(runLine);
    if (run) {
      runLine.dataset.state = run.state;
      let text = '최근 동기화: ' + (RUN_STATE_NAMES[run.state] || run.state);
      const when = formatTime(run.finished_at || run.started_at || run.queued_at);
      if (when) text += ' · ' + when;
      runLine.textContent = text;
      if (run.error && run.error.message) li.appendChild(textNode('p', 'run-error', run.error.message));
    }

    const button = textNode('button', 'sync-button', '지금 동기화');
    button.type = 'button';
    button.dataset.accountId = account.account_id;
    button.disabled = Boolean(run && ACTIVE_RUN_STATES.has(run.state));
    button.addEventListener('click', () => syncNow(account.account_id));
    li.appendChild(button);
    return li;
  }

  function updateRun(accountId, run) {
    hooks.latestRuns[accountId] = run;
    renderAccounts();
  }

  async function syncNow(accountId) {
    const path = API.accounts + '/' + encodeURIComponent(accountId) + ':sync';
    try {
      const started = await requestJSON('POST', path, { body: {} });
      updateRun(accountId, started.run);
      let last = null;
      try {
        last = await watchRun(started.run.run_id, (run) => updateRun(accountId, run));
      } catch (err) {
        // A watch ends early when the gateway restarts; the run itself goes
        // on. Read its state again rather than alarm the seller.
        if (!(err instanceof ApiError) || !WATCH_LOST_CODES.has(err.code)) throw err;
      }
      if (last && last.state === 'SYNC_RUN_STATE_SUCCEEDED') {
        loadSales();
      } else if (!last || ACTIVE_RUN_STATES.has(last.state)) {
        loadAccounts();
      }
    } catch (err) {
      showError(err);
    }
  }

  // watchRun follows WatchSyncRun, which the gateway streams as one JSON
  // object per line: {"result": {"run": ...}} or {"error": {...}}.
  async function watchRun(runId, onRun) {
    const url = API.syncRuns + '/' + encodeURIComponent(runId) + ':watch';
    let resp;
    try {
      resp = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
    } catch (_) {
      throw new ApiError('서버에 연결할 수 없습니다. 네트워크를 확인해 주세요.', 0, '');
    }
    if (!resp.ok) {
      let body = null;
      try { body = JSON.parse(await resp.text()); } catch (_) { body = null; }
      throw errorFromBody(body, resp.status);
    }
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    let last = null;
    const handleLine = (line) => {
      if (!line.trim()) return;
      const message = JSON.parse(line);
      if (message.error) throw errorFromBody(message.error, resp.status);
      if (message.result && message.result.run) {
        last = message.result.run;
        onRun(last);
      }
    };
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (_) {
        throw new ApiError('동기화 상태 연결이 끊겼습니다.', 0, 'UNAVAILABLE');
      }
      const { value, done } = chunk;
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        handleLine(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
      }
    }
    handleLine(buffered + decoder.decode());
    return last;
  }

  // ---- wiring -------------------------------------------------------------

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
        const range = presetRange(button.dataset.preset, todayIn(timeZone));
        el.start.value = range.start;
        el.end.value = range.end;
        loadSales();
      });
    }
    el.bannerDismiss.addEventListener('click', () => { el.banner.hidden = true; });

    loadSales();
    loadAccounts();
  }

  start();
})();
