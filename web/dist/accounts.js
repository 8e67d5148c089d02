// Connected accounts: connecting Cafe24 (OAuth redirect through the
// gateway), Smartstore (application id and secret) and Ably (seller e-mail
// and password); sync status per account with a progress bar while a run
// goes, last success, next run and a plain message when the seller must
// act; reconnecting and removing. Credentials go in and never come back.
'use strict';

(function () {
  const hlog = window.hlog;
  const t = hlog.t;
  const hooks = hlog.hooks;

  const API = { accounts: '/v1/accounts', syncRuns: '/v1/sync-runs' };
  const ACTIVE_RUN_STATES = new Set(['SYNC_RUN_STATE_QUEUED', 'SYNC_RUN_STATE_RUNNING']);
  // Codes with which a watch stream ends when the connection, not the run, is lost.
  const WATCH_LOST_CODES = new Set(['CANCELLED', 'UNAVAILABLE']);

  const el = {
    panel: document.getElementById('accounts-panel'),
    list: document.getElementById('account-list'),
    empty: document.getElementById('accounts-empty'),
    smartstore: document.getElementById('connect-smartstore'),
    ably: document.getElementById('connect-ably'),
  };

  // The outcome of a Cafe24 consent round trip, read before app.js rewrites
  // the URL.
  const arrival = new URLSearchParams(window.location.search);

  let onSynced = () => {};
  const watching = new Set(); // run ids followed right now
  let timeZone = 'Asia/Seoul';

  async function load() {
    el.panel.dataset.state = 'loading';
    hooks.accountsState = 'loading';
    try {
      const data = await hlog.requestJSON('GET', API.accounts);
      const accounts = data.accounts || [];
      const runs = await Promise.all(accounts.map((a) => latestRun(a.account_id)));
      hooks.accounts = accounts;
      hooks.latestRuns = {};
      accounts.forEach((a, i) => { hooks.latestRuns[a.account_id] = runs[i]; });
      render();
      el.panel.dataset.state = 'ready';
      hooks.accountsState = 'ready';
      // A run already going (the first sync after connecting, a scheduled
      // one) is followed at once, so its progress bar moves.
      accounts.forEach((a, i) => {
        if (runs[i] && ACTIVE_RUN_STATES.has(runs[i].state)) follow(a.account_id, runs[i].run_id);
      });
    } catch (err) {
      hlog.showError(err);
      el.panel.dataset.state = 'error';
      hooks.accountsState = 'error';
    }
  }

  async function latestRun(accountId) {
    const q = new URLSearchParams({ account_id: accountId, page_size: '1' });
    const data = await hlog.requestJSON('GET', API.syncRuns + '?' + q.toString());
    return (data.runs || [])[0] || null;
  }

  function render() {
    el.empty.hidden = hooks.accounts.length > 0;
    el.list.replaceChildren(...hooks.accounts.map((a) => renderAccount(a, hooks.latestRuns[a.account_id])));
  }

  // progress sums a run's streams: loaded records, and the estimate when
  // every stream has one.
  function progress(run) {
    let loaded = 0n;
    let estimated = 0n;
    let known = (run.streams || []).length > 0;
    for (const s of run.streams || []) {
      loaded += hlog.int64(s.records_loaded);
      const e = hlog.int64(s.records_estimated);
      if (e === 0n) known = false;
      estimated += e;
    }
    return { loaded, estimated: known ? estimated : 0n };
  }

  function renderProgress(run) {
    const box = document.createElement('div');
    box.className = 'run-progress';
    const bar = document.createElement('progress');
    const p = progress(run);
    let label;
    if (p.estimated > 0n) {
      bar.max = 1000;
      const done = p.loaded > p.estimated ? p.estimated : p.loaded;
      bar.value = Number((done * 1000n) / p.estimated);
      label = t('run.recordsOf', { n: hlog.formatCount(p.loaded), total: hlog.formatCount(p.estimated) });
    } else {
      label = t('run.records', { n: hlog.formatCount(p.loaded) });
    }
    bar.setAttribute('aria-label', label);
    box.appendChild(bar);
    box.appendChild(hlog.textNode('span', 'run-progress-label', label));
    return box;
  }

  function renderAccount(account, run) {
    const li = document.createElement('li');
    li.className = 'account';
    li.dataset.accountId = account.account_id;
    li.dataset.platform = account.platform;

    const head = document.createElement('div');
    head.className = 'account-head';
    head.appendChild(hlog.textNode('span', 'platform-badge', t('platform.' + account.platform)));
    head.appendChild(hlog.textNode('strong', 'account-name', account.display_name || account.external_account_id));
    const status = hlog.textNode('span', 'account-status', t('account.' + account.status) || t('account.unknown'));
    status.dataset.status = account.status;
    head.appendChild(status);
    li.appendChild(head);

    const needsSeller = account.status === 'ACCOUNT_STATUS_NEEDS_SELLER';
    if (needsSeller || account.status_message) {
      const msg = hlog.textNode('p', 'account-message', (needsSeller ? t('account.needsSeller') : '') + (account.status_message || t('account.reconnectHint')));
      li.appendChild(msg);
    }
    if (account.last_success_at && hlog.formatTime(account.last_success_at, timeZone)) {
      li.appendChild(hlog.textNode('p', 'account-meta last-success', t('account.lastSuccess') + hlog.formatTime(account.last_success_at, timeZone)));
    }
    if (account.next_sync_at && hlog.formatTime(account.next_sync_at, timeZone)) {
      li.appendChild(hlog.textNode('p', 'account-meta next-run', t('account.nextRun') + hlog.formatTime(account.next_sync_at, timeZone)));
    }

    const runLine = hlog.textNode('p', 'run-state', t('run.none'));
    li.appendChild(runLine);
    if (run) {
      runLine.dataset.state = run.state;
      let text = t('run.latest') + t('run.' + run.state);
      const when = hlog.formatTime(run.finished_at || run.started_at || run.queued_at, timeZone);
      if (when) text += ' · ' + when;
      runLine.textContent = text;
      if (ACTIVE_RUN_STATES.has(run.state)) li.appendChild(renderProgress(run));
      if (run.error && run.error.message && !ACTIVE_RUN_STATES.has(run.state) && run.state !== 'SYNC_RUN_STATE_SUCCEEDED') {
        li.appendChild(hlog.textNode('p', 'run-error', run.error.message));
      }
    }

    const tools = document.createElement('div');
    tools.className = 'account-tools';
    const sync = hlog.textNode('button', 'sync-button', t('account.syncNow'));
    sync.type = 'button';
    sync.dataset.accountId = account.account_id;
    sync.disabled = Boolean(run && ACTIVE_RUN_STATES.has(run.state)) || needsSeller;
    sync.addEventListener('click', () => syncNow(account.account_id));
    tools.appendChild(sync);
    const reconnect = hlog.textNode('button', 'reconnect-button' + (needsSeller ? ' primary' : ''), t('account.reconnect'));
    reconnect.type = 'button';
    reconnect.addEventListener('click', () => openReconnect(li, account));
    tools.appendChild(reconnect);
    const remove = hlog.textNode('button', 'remove-button', t('account.remove'));
    remove.type = 'button';
    remove.addEventListener('click', () => removeAccount(account));
    tools.appendChild(remove);
    li.appendChild(tools);
    return li;
  }

  function updateRun(accountId, run) {
    hooks.latestRuns[accountId] = run;
    render();
  }

  async function syncNow(accountId) {
    const path = API.accounts + '/' + encodeURIComponent(accountId) + ':sync';
    try {
      const started = await hlog.requestJSON('POST', path, { body: {} });
      updateRun(accountId, started.run);
      await follow(accountId, started.run.run_id);
    } catch (err) {
      hlog.showError(err);
    }
  }

  // follow watches a run to its end, redrawing its progress, then reloads
  // the sales figures (on success) and the accounts.
  async function follow(accountId, runId) {
    if (watching.has(runId)) return;
    watching.add(runId);
    try {
      let last = null;
      try {
        last = await watchRun(runId, (run) => updateRun(accountId, run));
      } catch (err) {
        // A watch ends early when the gateway restarts; the run itself goes
        // on. Read its state again rather than alarm the seller.
        if (!(err instanceof hlog.ApiError) || !WATCH_LOST_CODES.has(err.code)) throw err;
      }
      if (last && last.state === 'SYNC_RUN_STATE_SUCCEEDED') onSynced();
      if (!last || !ACTIVE_RUN_STATES.has(last.state)) hooks.finishedRuns.push(runId);
      await load();
    } catch (err) {
      hlog.showError(err);
    } finally {
      watching.delete(runId);
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
      throw new hlog.ApiError(t('app.noServer'), 0, '');
    }
    if (!resp.ok) {
      let body = null;
      try { body = JSON.parse(await resp.text()); } catch (_) { body = null; }
      throw hlog.errorFromBody(body, resp.status);
    }
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    let last = null;
    const handleLine = (line) => {
      if (!line.trim()) return;
      const message = JSON.parse(line);
      if (message.error) throw hlog.errorFromBody(message.error, resp.status);
      if (message.result && message.result.run) {
        last = message.result.run;
        hooks.progressSeen.push({ run: last.run_id, state: last.state, loaded: progress(last).loaded.toString() });
        onRun(last);
      }
    };
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (_) {
        throw new hlog.ApiError(t('app.noServer'), 0, 'UNAVAILABLE');
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

  // ---- connecting -----------------------------------------------------------

  function credentialsFrom(platform, body) {
    if (platform === 'PLATFORM_SMARTSTORE') return { smartstore: { client_id: body.client_id.trim(), client_secret: body.client_secret } };
    return { ably: { email: body.email.trim(), password: body.password } };
  }

  async function connect(form, platform) {
    const errorNode = form.querySelector('.form-error');
    errorNode.textContent = '';
    const button = form.querySelector('button[type="submit"]');
    const label = button.textContent;
    button.disabled = true;
    button.textContent = t('connect.checking');
    const body = {};
    for (const [k, v] of new FormData(form).entries()) body[k] = String(v);
    try {
      // The collector checks the credentials before anything is saved.
      const added = await hlog.requestJSON('POST', API.accounts, { body: { platform, credentials: credentialsFrom(platform, body) } });
      form.reset();
      hlog.notice(t('connect.done', { platform: t('platform.' + platform) }));
      hooks.connected.push(added.account.account_id);
      await load();
    } catch (err) {
      errorNode.textContent = t('connect.failed') + hlog.describeError(err);
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }

  function openReconnect(li, account) {
    if (account.platform === 'PLATFORM_CAFE24') {
      // A new consent on Cafe24: the callback reconnects this account.
      const q = new URLSearchParams({ mall_id: account.external_account_id, account_id: account.account_id });
      window.location.assign('/connect/cafe24/start?' + q.toString());
      return;
    }
    if (li.querySelector('.reconnect-form')) return;
    const template = account.platform === 'PLATFORM_SMARTSTORE' ? el.smartstore : el.ably;
    const form = template.cloneNode(true);
    form.removeAttribute('id');
    form.className = 'connect-form reconnect-form';
    form.querySelector('h3').remove();
    form.reset();
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const errorNode = form.querySelector('.form-error');
      errorNode.textContent = '';
      const body = {};
      for (const [k, v] of new FormData(form).entries()) body[k] = String(v);
      try {
        await hlog.requestJSON('POST', API.accounts + '/' + encodeURIComponent(account.account_id) + ':reconnect', {
          body: { credentials: credentialsFrom(account.platform, body) },
        });
        hlog.notice(t('connect.reconnected'));
        await load();
      } catch (err) {
        errorNode.textContent = t('connect.failed') + hlog.describeError(err);
      }
    });
    li.appendChild(form);
  }

  async function removeAccount(account) {
    const name = account.display_name || account.external_account_id;
    if (!window.confirm(t('account.confirmRemove', { name }))) return;
    try {
      await hlog.requestJSON('DELETE', API.accounts + '/' + encodeURIComponent(account.account_id));
      await load();
      onSynced();
    } catch (err) {
      hlog.showError(err);
    }
  }

  function start(options) {
    onSynced = options.onSynced;
    el.smartstore.addEventListener('submit', (e) => { e.preventDefault(); connect(el.smartstore, 'PLATFORM_SMARTSTORE'); });
    el.ably.addEventListener('submit', (e) => { e.preventDefault(); connect(el.ably, 'PLATFORM_ABLY'); });
    if (arrival.get('connected') === 'cafe24') hlog.notice(t('connect.done', { platform: t('platform.PLATFORM_CAFE24') }));
    if (arrival.get('connect_error')) hlog.showError(new Error(t('connect.failed') + arrival.get('connect_error')));
    hlog.onLangChange(() => render());
    load();
  }

  hlog.accounts = {
    start,
    reload: load,
    setTimeZone: (zone) => { timeZone = zone; },
  };
})();
