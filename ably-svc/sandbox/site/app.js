// A small imitation of Ably's seller site (파트너센터): pages render first,
// then check the session and bounce to /login?redirect=… (ably.md).
(function () {
  'use strict';
  var COOKIE = 'ably-seller-admin-jwt-token';
  var root = document.getElementById('root');
  var layout = document.body.getAttribute('data-layout') || '1';

  function token() {
    var m = document.cookie.match(/(?:^|; )ably-seller-admin-jwt-token=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : '';
  }
  function api(path, opts) {
    opts = opts || {};
    var headers = { 'Content-Type': 'application/json' };
    var t = token();
    if (t) headers.Authorization = 'JWT ' + t;
    return fetch(path, { method: opts.method || 'GET', headers: headers, body: opts.body, credentials: 'include' });
  }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'on') Object.keys(attrs.on).forEach(function (ev) { e.addEventListener(ev, attrs.on[ev]); });
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function bounce() {
    location.replace('/login?redirect=' + encodeURIComponent(location.pathname + location.search));
  }
  function fmt(n) { return Number(n).toLocaleString('ko-KR'); }

  // An Ant-Design-like notice modal; its mask covers the page until closed.
  function notice(title, body) {
    var wrap;
    function close() { wrap.remove(); mask.remove(); }
    var mask = el('div', { 'class': 'ant-modal-mask' });
    wrap = el('div', { 'class': 'ant-modal-wrap', role: 'dialog' }, [
      el('div', { 'class': 'ant-modal' }, [el('div', { 'class': 'ant-modal-content' }, [
        el('button', { 'class': 'ant-modal-close', 'aria-label': 'Close', text: '×', on: { click: close } }),
        el('div', { 'class': 'ant-modal-header' }, [el('div', { 'class': 'ant-modal-title', text: title })]),
        el('div', { 'class': 'ant-modal-body', text: body }),
        el('div', { 'class': 'ant-modal-footer' }, [
          el('button', { 'class': 'ant-btn', text: '오늘 하루 보지 않기', on: { click: close } }),
          el('button', { 'class': 'ant-btn ant-btn-primary', text: '닫기', on: { click: close } })
        ])
      ])])
    ]);
    document.body.appendChild(mask);
    document.body.appendChild(wrap);
  }
  function maybeNotice() {
    if (document.body.getAttribute('data-notice') === 'true') {
      notice('공지사항', '파트너센터 정기 점검 안내: 매주 화요일 02:00~04:00 일부 기능이 제한됩니다.');
    }
  }

  function renderLogin() {
        var msg = el('div', { 'class': 'login-error', role: 'alert' });
    var email = el('input', { name: 'email', type: 'email', placeholder: '이메일', autocomplete: 'username' });
    var password = el('input', { name: 'password', type: 'password', placeholder: '비밀번호', autocomplete: 'current-password' });
    var button = el('button', { type: 'submit', 'class': 'ant-btn ant-btn-primary', text: '로그인' });
    var form = el('form', { 'class': 'login-form' }, [email, password, button, msg]);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      msg.textContent = '';
      button.disabled = true;
      api('/seller/login/', { method: 'POST', body: JSON.stringify({ email: email.value, password: password.value }) })
        .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
        .then(function (res) {
          button.disabled = false;
          if (!res.ok) { msg.textContent = res.body.detail || '로그인에 실패했습니다.'; return; }
          document.cookie = COOKIE + '=' + encodeURIComponent(res.body.token) + '; path=/; SameSite=Lax';
          // The site lands on /dashboard after every sign-in, whatever the redirect.
          location.href = '/dashboard';
        })
        .catch(function () { button.disabled = false; msg.textContent = '네트워크 오류가 발생했습니다.'; });
    });
    root.replaceChildren(el('div', { 'class': 'login-box' }, [el('h2', { text: '에이블리 파트너센터 로그인' }), form]));
    maybeNotice();
  }

  function shell(active) {
    var nav = el('nav', {}, [
      el('a', { href: '/dashboard', text: '대시보드' }), el('a', { href: '/sales/order', text: '주문 관리' }),
      el('a', { href: '/goods', text: '상품 목록' }), el('a', { href: '/sales/cancels', text: '취소/반품' })
    ]);
    var main = el('main', {}, [el('div', { 'class': 'ant-spin', text: '불러오는 중…' })]);
    root.replaceChildren(el('header', { 'class': 'gnb' }, [el('span', { 'class': 'logo', text: 'ABLY PARTNERS' }), nav, el('span', { 'class': 'seller-name' })]), main);
    return main;
  }

  function today(now) { return now.slice(0, 10); }
  function daysBefore(day, n) {
    var d = new Date(day + 'T00:00:00Z'); d.setUTCDate(d.getUTCDate() - n); return d.toISOString().slice(0, 10);
  }

  function listPage(main, opts, me) {
    var state = { page: 1, perPage: 100, start: daysBefore(today(me.now), 7), end: today(me.now) };
    var start = el('input', { type: 'date', name: 'start_date', value: state.start });
    var end = el('input', { type: 'date', name: 'end_date', value: state.end });
    var per = el('select', { name: 'per_page' }, [20, 50, 100].map(function (n) {
      var o = el('option', { value: String(n), text: n + '개씩 보기' }); if (n === 100) o.selected = true; return o;
    }));
    var presets = el('span', { 'class': 'presets' }, [['오늘', 0], ['1주일', 7], ['1개월', 30], ['3개월', 90], ['1년', 365]].map(function (p) {
      return el('button', { 'class': 'ant-btn', type: 'button', text: p[0], on: { click: function () { start.value = daysBefore(today(me.now), p[1]); end.value = today(me.now); } } });
    }));
    var total = el('span', { 'class': layout === '2' ? 'summary-total' : 'total-count', text: '총 0건' });
    var table = el('table', {}, []);
    var pager = el('ul', { 'class': 'ant-pagination' });
    var search = el('button', { 'class': 'ant-btn ant-btn-primary', type: 'button', text: '조회' });
    var tools = [start, el('span', { text: '~' }), end, presets, per, search];
    if (opts.excel) tools.push(el('button', { 'class': 'ant-btn excel', type: 'button', text: layout === '2' ? '전체 주문 엑셀 받기' : '전체 주문 엑셀 다운로드', on: { click: function () {
      fetch('/seller/order_items/excel/?start_date=' + start.value + '&end_date=' + end.value, { headers: { Authorization: 'JWT ' + token() } })
        .then(function (r) { return r.blob(); })
        .then(function (b) { var a = el('a', { href: URL.createObjectURL(b), download: 'orders.xlsx' }); a.click(); });
    } } }));
    function load() {
      state.start = start.value; state.end = end.value; state.perPage = Number(per.value);
      var q = '?page=' + state.page + '&per_page=' + state.perPage + (opts.dated ? '&start_date=' + state.start + '&end_date=' + state.end : '');
      api(opts.path + q).then(function (r) {
        if (r.status === 401) { bounce(); return null; }
        return r.json();
      }).then(function (body) {
        if (!body) return;
        var rows = body[opts.key] || (body.data && body.data.results) || [];
        var count = body.total_count !== undefined ? body.total_count : (body.data ? body.data.count : 0);
        var pages = body.max_page_number !== undefined ? body.max_page_number : (body.data ? body.data.num_pages : 0);
        total.textContent = '총 ' + fmt(count) + '건';
        table.replaceChildren(el('tr', {}, opts.columns.map(function (c) { return el('th', { text: c[0] }); })));
        rows.forEach(function (row) {
          table.appendChild(el('tr', {}, opts.columns.map(function (c) { var v = row[c[1]]; return el('td', { text: v === null || v === undefined ? '' : String(v) }); })));
        });
        pager.replaceChildren();
        for (var p = 1; p <= pages; p++) {
          (function (p) {
            pager.appendChild(el('li', { 'class': 'ant-pagination-item' + (p === state.page ? ' ant-pagination-item-active' : '') }, [
              el('a', { text: String(p), on: { click: function () { state.page = p; load(); } } })]));
          })(p);
        }
      });
    }
    search.addEventListener('click', function () { state.page = 1; load(); });
    main.replaceChildren(el('div', { 'class': 'card' }, [el('h2', { text: opts.title })]),
      el('div', { 'class': 'card filters' }, opts.dated ? tools : [per, search]),
      el('div', { 'class': 'card' }, [total, table, pager]));
    load();
  }

  var pages = {
    '/dashboard': function (main, me) {
      main.replaceChildren(el('div', { 'class': 'card' }, [el('h2', { text: '대시보드' }),
        el('p', { text: me.market_name + '님, 환영합니다. 기준 시각 ' + me.now })]));
    },
    '/sales/order': function (main, me) {
      listPage(main, { title: '주문 관리', path: '/seller/order_items/', key: 'order_items', dated: true, excel: true,
        columns: [['결제일', 'checked_at'], ['상품주문번호', 'sno'], ['주문번호', 'order_sno'], ['상품명', 'goods_name'], ['옵션', 'option_info'],
          ['수량', 'ea'], ['금액', 'payment_price'], ['주문자명', 'buyer_name'], ['연락처', 'buyer_tel'], ['주문상태', 'processing_status_name']] }, me);
    },
    '/goods': function (main, me) {
      listPage(main, { title: '상품 목록', path: '/seller/goods/', key: 'goods',
        columns: [['상품번호', 'sno'], ['상품명', 'name'], ['가격', 'price'], ['등록일', 'created_at'], ['진열상태', 'is_display']] }, me);
    },
    '/sales/cancels': function (main, me) {
      listPage(main, { title: '취소/반품 관리', path: '/seller/order_cancels/', key: 'order_cancels', dated: true,
        columns: [['요청일', 'requested_at'], ['상품주문번호', 'order_item_sno'], ['유형', 'cancel_type'], ['수량', 'ea'], ['환불금액', 'refund_price'], ['완료일', 'completed_at']] }, me);
    }
  };

  function boot() {
    var path = location.pathname;
    if (path === '/login') { renderLogin(); return; }
    var main = shell(path);
    if (!token()) { setTimeout(bounce, 150); return; }
    api('/seller/me/').then(function (r) {
      if (r.status === 401) { bounce(); return null; }
      if (!r.ok) { main.replaceChildren(el('div', { 'class': 'card error', text: '일시적인 오류가 발생했습니다 (' + r.status + ')' })); return null; }
      return r.json();
    }).then(function (me) {
      if (!me) return;
      document.querySelector('.seller-name').textContent = me.market_name + ' (' + me.email + ')';
      // The notification stream stays open as long as the page does.
      try { new EventSource('/seller/events/'); } catch (e) { /* older browsers */ }
      if (path === '/dashboard' && me.notice) notice('공지사항', '새로운 정산 정책이 적용됩니다. 자세한 내용은 공지사항을 확인해 주세요.');
      maybeNotice();
      (pages[path] || pages['/dashboard'])(main, me);
    });
  }
  boot();
})();
