// H-log dashboard strings. Korean is the default and lives in index.html
// itself (so the first paint is Korean); English is switched on with the
// button in the top bar and remembered in localStorage.
//
// Static text: elements with data-i18n="key" take EN[key] in English and
// their original Korean markup otherwise. Dynamic text: hlog.t(key, vars).
// Every string here is ours, never data from the API, so markup in a
// static string (a <strong>) is safe to set as HTML.
'use strict';

(function () {
  const KO = {
    'app.failed': '요청을 처리하지 못했습니다: ',
    'app.noServer': '서버에 연결할 수 없습니다. 네트워크를 확인해 주세요.',
    'app.badAnswer': '서버 응답을 읽을 수 없습니다.',
    'app.serverError': '서버 오류',
    'app.badDates': '시작일과 종료일을 YYYY-MM-DD 형식으로 입력해 주세요.',
    'app.startAfterEnd': '시작일이 종료일보다 늦을 수 없습니다.',
    'app.noChart': '차트 라이브러리를 불러오지 못했습니다.',
    'app.chartLabel': '기간별 순매출과 결제금액 차트',
    'app.previous': '이전 기간 ',
    'app.compare': ' · 비교 기간 ',
    'change.none': '변동 없음',
    'change.new': '신규',
    'metric.net': '순매출',
    'metric.paid': '결제금액',
    'unit.orders': '건',
    'unit.units': '개',
    'unit.buyers': '명',
    'export.csv': 'CSV 내려받기',
    'export.xlsx': '엑셀 내려받기',
    'platform.PLATFORM_CAFE24': '카페24',
    'platform.PLATFORM_SMARTSTORE': '스마트스토어',
    'platform.PLATFORM_ABLY': '에이블리',
    'account.ACCOUNT_STATUS_ACTIVE': '정상',
    'account.ACCOUNT_STATUS_NEEDS_SELLER': '조치 필요',
    'account.unknown': '알 수 없음',
    'run.SYNC_RUN_STATE_QUEUED': '대기 중',
    'run.SYNC_RUN_STATE_RUNNING': '진행 중',
    'run.SYNC_RUN_STATE_SUCCEEDED': '완료',
    'run.SYNC_RUN_STATE_RETRYING': '재시도 예정',
    'run.SYNC_RUN_STATE_FAILED': '실패',
    'run.latest': '최근 동기화: ',
    'run.none': '최근 동기화: 없음',
    'run.records': '{n}건 불러옴',
    'run.recordsOf': '{n} / {total}건',
    'account.lastSuccess': '마지막 성공 ',
    'account.nextRun': '다음 동기화 ',
    'account.syncNow': '지금 동기화',
    'account.reconnect': '다시 연결',
    'account.remove': '연결 해제',
    'account.confirmRemove': '{name} 연결을 해제할까요? 이 계정에서 모은 매출 데이터도 함께 삭제됩니다.',
    'account.needsSeller': '판매자님의 조치가 필요합니다: ',
    'account.reconnectHint': '인증 정보를 다시 입력해 연결해 주세요.',
    'connect.done': '{platform} 계정을 연결했습니다. 첫 동기화를 시작합니다.',
    'connect.reconnected': '계정을 다시 연결했습니다. 동기화를 시작합니다.',
    'connect.failed': '연결하지 못했습니다: ',
    'connect.checking': '확인 중…',
    'lines.count': '{n}건',
    'lines.page': '{page}쪽',
    'lines.empty': '조건에 맞는 주문 상품이 없습니다.',
    'products.empty': '이 기간에 판매된 상품이 없습니다.',
    'split.empty': '이 기간에 매출이 없습니다.',
    'basis.nowPayment': '지금은 결제일 기준(현금 흐름)으로 보고 있습니다.',
    'basis.nowOrder': '지금은 주문일 기준으로 보고 있습니다.',
    'basis.toOrder': '주문일 기준으로 보기',
    'basis.toPayment': '결제일 기준으로 보기',
    'auth.failed': '로그인하지 못했습니다: ',
    'auth.passwordChanged': '비밀번호를 바꿨습니다. 다른 기기의 로그인은 모두 종료됐습니다.',
    'lang.switch': 'English',
    'status.ORDER_STATUS_AWAITING_PAYMENT': '입금 대기',
    'status.ORDER_STATUS_PAID': '결제 완료',
    'status.ORDER_STATUS_SHIPPING': '배송 중',
    'status.ORDER_STATUS_DELIVERED': '배송 완료',
    'status.ORDER_STATUS_CONFIRMED': '구매 확정',
    'status.ORDER_STATUS_CANCELLED': '취소',
    'status.ORDER_STATUS_RETURNED': '반품',
    'status.ORDER_STATUS_EXCHANGED': '교환',
    'status.ORDER_STATUS_CLAIM_IN_PROGRESS': '클레임 진행 중',
  };

  const EN = {
    'app.subtitle': 'Sales dashboard',
    'app.timeZone': 'Time zone',
    'app.dismiss': 'Dismiss',
    'app.cancel': 'Cancel',
    'app.asTable': 'Show as a table',
    'app.failed': 'The request failed: ',
    'app.noServer': 'Cannot reach the server. Check your network.',
    'app.badAnswer': 'The server answer could not be read.',
    'app.serverError': 'Server error',
    'app.badDates': 'Enter the start and end dates as YYYY-MM-DD.',
    'app.startAfterEnd': 'The start date cannot be after the end date.',
    'app.noChart': 'The chart library did not load.',
    'app.chartLabel': 'Chart of net sales and payments per period',
    'app.previous': 'Previous period ',
    'app.compare': ' · compared with ',
    'auth.title': 'Sign in to H-log',
    'auth.signIn': 'Sign in',
    'auth.signUp': 'Sign up',
    'auth.signOut': 'Sign out',
    'auth.email': 'E-mail',
    'auth.password': 'Password',
    'auth.shopName': 'Shop name',
    'auth.newPassword': 'Password (10+ characters)',
    'auth.currentPassword': 'Current password',
    'auth.changePassword': 'Change password',
    'auth.save': 'Save',
    'auth.failed': 'Could not sign in: ',
    'auth.passwordChanged': 'Password changed. Every other session was signed out.',
    'filters.period': 'Period',
    'filters.start': 'Start',
    'filters.end': 'End',
    'filters.granularity': 'Granularity',
    'filters.platform': 'Platform',
    'filters.basis': 'Cancels and refunds count on',
    'preset.today': 'Today',
    'preset.thisWeek': 'This week',
    'preset.thisMonth': 'This month',
    'preset.last30': 'Last 30 days',
    'preset.thisYear': 'This year',
    'gran.DAY': 'Daily',
    'gran.WEEK': 'Weekly (Monday first)',
    'gran.MONTH': 'Monthly',
    'gran.YEAR': 'Yearly',
    'platform.all': 'All',
    'platform.cafe24Long': 'Cafe24',
    'platform.smartstoreLong': 'Naver Smartstore',
    'platform.ablyLong': 'Ably',
    'platform.PLATFORM_CAFE24': 'Cafe24',
    'platform.PLATFORM_SMARTSTORE': 'Smartstore',
    'platform.PLATFORM_ABLY': 'Ably',
    'basis.payment': 'completion day (payment-date view)',
    'basis.order': 'order day (order-date view)',
    'glance.title': 'At a glance (net sales)',
    'glance.note': 'Each compared with the period of the same length just before (today with yesterday, this week with last week up to the same weekday).',
    'summary.title': 'Period totals',
    'metric.net': 'Net sales',
    'metric.paid': 'Paid',
    'metric.gross': 'Gross',
    'metric.discount': 'Discounts',
    'metric.refunded': 'Refunded',
    'metric.orders': 'Orders',
    'metric.units': 'Units',
    'metric.buyers': 'Buyers',
    'trend.title': 'Sales over time',
    'col.bucket': 'Period',
    'col.product': 'Product',
    'col.paymentDate': 'Paid on',
    'col.order': 'Order',
    'col.qty': 'Qty',
    'split.title': 'Sales by platform',
    'split.share': 'Share',
    'split.empty': 'No sales in this period.',
    'products.title': 'Top products',
    'products.byOption': 'Rank options',
    'products.empty': 'Nothing sold in this period.',
    'claims.title': 'Cancels · returns · refunds',
    'claims.cancelled': 'Cancelled units',
    'claims.returned': 'Returned units',
    'claims.exchanged': 'Exchanged units',
    'claims.note': 'Completed claims only, on the basis chosen above.',
    'lines.title': 'Order lines',
    'lines.search': 'Search (product, option, order id)',
    'lines.claim': 'Claims',
    'lines.anyClaim': 'Any claim',
    'lines.cancel': 'Cancel',
    'lines.return': 'Return',
    'lines.exchange': 'Exchange',
    'lines.refunded': 'Refunded',
    'lines.noClaim': 'No claim',
    'lines.status': 'Status',
    'lines.prev': 'Previous',
    'lines.next': 'Next',
    'lines.count': '{n} lines',
    'lines.page': 'page {page}',
    'lines.empty': 'No order line matches.',
    'accounts.title': 'Connected accounts · sync',
    'accounts.empty': 'No account connected yet. Connect a sales channel below.',
    'connect.title': 'Connect a sales channel',
    'connect.note': 'Credentials are stored encrypted and never shown again.',
    'connect.mallId': 'Mall id (mall_id.cafe24.com)',
    'connect.cafe24Go': 'Approve on Cafe24',
    'connect.clientId': 'Application id',
    'connect.clientSecret': 'Application secret',
    'connect.ablyEmail': 'Ably seller e-mail',
    'connect.ablyPassword': 'Ably password',
    'connect.connect': 'Connect',
    'connect.done': '{platform} account connected. The first sync is starting.',
    'connect.reconnected': 'Account reconnected. A sync is starting.',
    'connect.failed': 'Could not connect: ',
    'connect.checking': 'Checking…',
    'defs.title': 'Metric definitions',
    'defs.sale': '<strong>Sales</strong> count when paid: an order line enters sales at its payment time. Orders awaiting bank transfer are not sales yet.',
    'defs.day': '<strong>A day</strong> is a calendar day in the seller\'s time zone (Asia/Seoul). Weeks start on Monday (ISO weeks).',
    'defs.gross': '<strong>Gross</strong> = unit price × quantity + option price. <strong>Discounts</strong> = product, coupon and platform discounts. <strong>Paid</strong> = what the buyer paid for the line (shipping excluded).',
    'defs.refund': '<strong>Cancels, returns and refunds</strong> count once completed: on the day they complete in the <em>payment-date view</em> (default, cash flow), or on the day of the original sale in the <em>order-date view</em>.',
    'defs.net': '<strong>Net sales</strong> = paid − refunded.',
    'defs.counts': '<strong>Orders</strong> are distinct orders in the period, <strong>buyers</strong> distinct buyers (over the whole period, not a sum of days).',
    'defs.change': 'Changes compare with the period of the same length just before.',
    'basis.nowPayment': 'You are looking at the payment-date view (cash flow).',
    'basis.nowOrder': 'You are looking at the order-date view.',
    'basis.toOrder': 'Switch to the order-date view',
    'basis.toPayment': 'Switch to the payment-date view',
    'change.none': 'No change',
    'change.new': 'New',
    'unit.orders': ' orders',
    'unit.units': ' units',
    'unit.buyers': ' buyers',
    'export.csv': 'CSV',
    'export.xlsx': 'Excel',
    'account.ACCOUNT_STATUS_ACTIVE': 'OK',
    'account.ACCOUNT_STATUS_NEEDS_SELLER': 'Needs you',
    'account.unknown': 'Unknown',
    'run.SYNC_RUN_STATE_QUEUED': 'queued',
    'run.SYNC_RUN_STATE_RUNNING': 'running',
    'run.SYNC_RUN_STATE_SUCCEEDED': 'done',
    'run.SYNC_RUN_STATE_RETRYING': 'will retry',
    'run.SYNC_RUN_STATE_FAILED': 'failed',
    'run.latest': 'Latest sync: ',
    'run.none': 'Latest sync: none',
    'run.records': '{n} records loaded',
    'run.recordsOf': '{n} / {total} records',
    'account.lastSuccess': 'Last success ',
    'account.nextRun': 'Next sync ',
    'account.syncNow': 'Sync now',
    'account.reconnect': 'Reconnect',
    'account.remove': 'Remove',
    'account.confirmRemove': 'Remove {name}? The sales data collected from this account is deleted with it.',
    'account.needsSeller': 'Needs you: ',
    'account.reconnectHint': 'Enter the credentials again to reconnect.',
    'lang.switch': '한국어',
    'status.ORDER_STATUS_AWAITING_PAYMENT': 'Awaiting payment',
    'status.ORDER_STATUS_PAID': 'Paid',
    'status.ORDER_STATUS_SHIPPING': 'Shipping',
    'status.ORDER_STATUS_DELIVERED': 'Delivered',
    'status.ORDER_STATUS_CONFIRMED': 'Confirmed',
    'status.ORDER_STATUS_CANCELLED': 'Cancelled',
    'status.ORDER_STATUS_RETURNED': 'Returned',
    'status.ORDER_STATUS_EXCHANGED': 'Exchanged',
    'status.ORDER_STATUS_CLAIM_IN_PROGRESS': 'Claim in progress',
  };

  const STORAGE_KEY = 'hlog.lang';
  const original = new Map(); // element -> its Korean markup
  const listeners = [];

  function stored() {
    try {
      return window.localStorage.getItem(STORAGE_KEY);
    } catch (_) {
      return null;
    }
  }

  let lang = new URLSearchParams(window.location.search).get('lang') || stored() || 'ko';
  if (lang !== 'en') lang = 'ko';

  function t(key, vars) {
    let text = lang === 'en' && key in EN ? EN[key] : (key in KO ? KO[key] : (EN[key] || key));
    if (vars) {
      for (const [k, v] of Object.entries(vars)) text = text.split('{' + k + '}').join(String(v));
    }
    return text;
  }

  function apply() {
    document.documentElement.lang = lang;
    for (const node of document.querySelectorAll('[data-i18n]')) {
      if (!original.has(node)) original.set(node, node.innerHTML);
      const key = node.dataset.i18n;
      node.innerHTML = lang === 'en' && key in EN ? EN[key] : original.get(node);
    }
    const button = document.getElementById('lang-switch');
    if (button) {
      button.textContent = t('lang.switch');
      button.lang = lang === 'en' ? 'ko' : 'en';
    }
    for (const fn of listeners) fn(lang);
  }

  function setLang(next) {
    lang = next === 'en' ? 'en' : 'ko';
    try {
      window.localStorage.setItem(STORAGE_KEY, lang);
    } catch (_) { /* private mode: the choice lasts for this page only */ }
    apply();
  }

  window.hlog = window.hlog || {};
  window.hlog.t = t;
  window.hlog.lang = () => lang;
  window.hlog.locale = () => (lang === 'en' ? 'en-US' : 'ko-KR');
  window.hlog.setLang = setLang;
  window.hlog.onLangChange = (fn) => listeners.push(fn);
  window.hlog.applyLang = apply;
})();
