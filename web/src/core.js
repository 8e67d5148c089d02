// Shared parts of the dashboard: calling the API, errors, money, counts and
// dates. Loaded before auth.js, accounts.js and app.js, which use it
// through window.hlog.
//
// The REST API is grpc-gateway over the protos. Its JSON uses the proto field
// names (snake_case, like the OpenAPI document at /openapi.json), writes every
// field even when empty, and writes int64 values (money minor units, counts)
// as strings. Amounts are therefore parsed to BigInt and stay exact until they
// are formatted or drawn.
'use strict';

(function () {
  const hlog = window.hlog;
  const t = hlog.t;

  // google.rpc.Code numbers, as the gateway's error bodies carry them.
  const GRPC_CODE_NAMES = [
    'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED',
    'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED',
    'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED',
    'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
  ];

  class ApiError extends Error {
    constructor(message, httpStatus, code) {
      super(message);
      this.name = 'ApiError';
      this.httpStatus = httpStatus;
      this.code = code;
    }
  }

  // errorFromBody reads the gateway's error JSON {code, message, details}.
  function errorFromBody(body, httpStatus) {
    const hasCode = body && typeof body.code === 'number';
    const code = hasCode ? (GRPC_CODE_NAMES[body.code] || String(body.code)) : '';
    const message = body && body.message ? body.message : t('app.serverError');
    return new ApiError(message, httpStatus, code);
  }

  function describeError(err) {
    if (err instanceof ApiError) {
      const detail = [err.code, err.httpStatus ? 'HTTP ' + err.httpStatus : ''].filter(Boolean).join(', ');
      return detail ? err.message + ' (' + detail + ')' : err.message;
    }
    return err && err.message ? err.message : String(err);
  }

  // The session's CSRF token, sent on every write; set by auth.js.
  let csrfToken = '';
  // Called when the session has ended (401), so the page can ask to sign in.
  let onSignedOut = () => {};

  async function requestJSON(method, url, options) {
    const opts = options || {};
    const init = {
      method: method,
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
      cache: 'no-store',
      signal: opts.signal,
    };
    if (method !== 'GET' && method !== 'HEAD' && csrfToken) init.headers['X-CSRF-Token'] = csrfToken;
    if (opts.body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    let resp;
    try {
      resp = await fetch(url, init);
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      throw new ApiError(t('app.noServer'), 0, '');
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
    if (!resp.ok) {
      const err = errorFromBody(data, resp.status);
      if (resp.status === 401 && !opts.quiet401) onSignedOut(err);
      throw err;
    }
    if (data === null || typeof data !== 'object') {
      throw new ApiError(t('app.badAnswer'), resp.status, '');
    }
    return data;
  }

  // ---- values -------------------------------------------------------------

  const formatters = new Map();
  function numberFormat(key, options) {
    const full = hlog.locale() + ':' + key;
    if (!formatters.has(full)) formatters.set(full, new Intl.NumberFormat(hlog.locale(), options));
    return formatters.get(full);
  }
  function moneyFormat(code) {
    return numberFormat('money:' + code, { style: 'currency', currency: code });
  }
  function compactMoneyFormat(code) {
    return numberFormat('compact:' + code, {
      style: 'currency', currency: code, notation: 'compact', maximumFractionDigits: 1,
    });
  }
  function fractionDigits(code) {
    return moneyFormat(code).resolvedOptions().maximumFractionDigits;
  }

  // int64 parses an int64 field as protojson writes it (a decimal string).
  function int64(value) {
    if (value === undefined || value === null || value === '') return 0n;
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
    throw new Error('invalid int64 value from the API: ' + JSON.stringify(value));
  }

  let defaultCurrency = 'KRW';
  function moneyCurrency(money) {
    return (money && money.currency_code) || defaultCurrency;
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

  function formatCount(value, unitKey) {
    return numberFormat('count', { maximumFractionDigits: 0 }).format(int64(value)) + (unitKey ? t(unitKey) : '');
  }

  // change compares a figure with the previous period's, in integers.
  function change(current, previous) {
    if (previous === 0n) {
      if (current === 0n) return { text: t('change.none'), direction: 'flat' };
      return { text: t('change.new'), direction: current > 0n ? 'up' : 'down' };
    }
    const diff = current - previous;
    const base = previous < 0n ? -previous : previous;
    // Percent with one decimal, rounded half away from zero.
    const scaled = (diff * 2000n) / base;
    const tenths = scaled >= 0n ? (scaled + 1n) / 2n : (scaled - 1n) / 2n;
    const pct = Number(tenths) / 10;
    if (diff === 0n) return { text: t('change.none'), direction: 'flat' };
    const arrow = diff > 0n ? '▲' : '▼';
    return {
      text: arrow + ' ' + Math.abs(pct).toLocaleString(hlog.locale(), { maximumFractionDigits: 1 }) + '%',
      direction: diff > 0n ? 'up' : 'down',
    };
  }

  // ---- dates --------------------------------------------------------------

  const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

  function validDate(text) {
    if (!ISO_DATE.test(text)) return false;
    const [y, m, d] = text.split('-').map(Number);
    const u = new Date(Date.UTC(y, m - 1, d));
    return u.getUTCFullYear() === y && u.getUTCMonth() === m - 1 && u.getUTCDate() === d;
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

  // mondayOf is the Monday starting date's ISO week.
  function mondayOf(date) {
    const [y, m, d] = date.split('-').map(Number);
    const weekday = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7; // Monday 0
    return addDays(date, -weekday);
  }

  function presetRange(preset, today) {
    switch (preset) {
      case 'today': return { start: today, end: today };
      case 'this-week': return { start: mondayOf(today), end: today };
      case 'this-month': return { start: today.slice(0, 8) + '01', end: today };
      case 'last-30-days': return { start: addDays(today, -29), end: today };
      case 'this-year': return { start: today.slice(0, 5) + '01-01', end: today };
    }
    throw new Error('unknown preset ' + preset);
  }

  function formatTime(timestamp, zone) {
    if (!timestamp) return '';
    const u = new Date(timestamp);
    if (Number.isNaN(u.getTime()) || u.getTime() <= 0) return '';
    return new Intl.DateTimeFormat(hlog.locale(), { timeZone: zone, dateStyle: 'short', timeStyle: 'short' }).format(u);
  }

  function textNode(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    node.textContent = text;
    return node;
  }

  // ---- page-wide state and messages ----------------------------------------

  // Tests wait on document.body.dataset.state ('loading' | 'ready' |
  // 'error') and read window.hlogDashboard, which holds what the page last
  // drew.
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
    progressSeen: [],
    finishedRuns: [],
    connected: [],
    glance: {},
    split: null,
    products: null,
    lines: null,
  };
  window.hlogDashboard = hooks;

  const banner = {
    box: document.getElementById('error-banner'),
    message: document.getElementById('error-message'),
    notice: document.getElementById('notice-banner'),
    noticeMessage: document.getElementById('notice-message'),
  };

  function showError(err) {
    hooks.error = {
      message: err && err.message ? err.message : String(err),
      code: err instanceof ApiError ? err.code : '',
      httpStatus: err instanceof ApiError ? err.httpStatus : 0,
    };
    banner.message.textContent = t('app.failed') + describeError(err);
    banner.box.hidden = false;
  }

  function clearError() {
    hooks.error = null;
    banner.box.hidden = true;
    banner.message.textContent = '';
  }

  function notice(text) {
    banner.noticeMessage.textContent = text;
    banner.notice.hidden = false;
  }

  Object.assign(hlog, {
    hooks, showError, clearError, notice,
    ApiError, errorFromBody, describeError, requestJSON,
    setCsrfToken: (token) => { csrfToken = token || ''; },
    csrfToken: () => csrfToken,
    onSignedOut: (fn) => { onSignedOut = fn; },
    moneyFormat, compactMoneyFormat, int64, minorUnits, formatMoney, chartAmount, formatCount, change,
    setCurrency: (code) => { defaultCurrency = code || defaultCurrency; },
    currency: () => defaultCurrency,
    validDate, todayIn, addDays, presetRange, formatTime, textNode,
  });
})();
