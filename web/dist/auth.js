// Seller sign-in, sign-up, sign-out and password change. The session lives
// in an HttpOnly cookie the page never sees; the page only learns who is
// signed in and the CSRF token it must send on every write.
//
// body[data-view] is 'signed-out' while the sign-in form shows and
// 'dashboard' once signed in; tests wait on it.
'use strict';

(function () {
  const hlog = window.hlog;
  const t = hlog.t;

  const el = {
    view: document.getElementById('auth-view'),
    dashboard: document.getElementById('dashboard-view'),
    tabIn: document.getElementById('tab-sign-in'),
    tabUp: document.getElementById('tab-sign-up'),
    signIn: document.getElementById('sign-in-form'),
    signUp: document.getElementById('sign-up-form'),
    error: document.getElementById('auth-error'),
    menu: document.getElementById('seller-menu'),
    sellerName: document.getElementById('seller-name'),
    signOut: document.getElementById('sign-out'),
    openPassword: document.getElementById('open-password'),
    dialog: document.getElementById('password-dialog'),
    passwordForm: document.getElementById('password-form'),
    passwordError: document.getElementById('password-error'),
    passwordCancel: document.getElementById('password-cancel'),
  };

  let onSignedIn = () => {};
  let started = false;

  function showSignedOut() {
    hlog.setCsrfToken('');
    document.body.dataset.view = 'signed-out';
    el.view.hidden = false;
    el.dashboard.hidden = true;
    el.menu.hidden = true;
  }

  function showSignedIn(session) {
    hlog.setCsrfToken(session.csrf_token);
    hlog.seller = session.seller;
    el.sellerName.textContent = session.seller.display_name || session.seller.email;
    el.view.hidden = true;
    el.dashboard.hidden = false;
    el.menu.hidden = false;
    document.body.dataset.view = 'dashboard';
    if (!started) {
      started = true;
      onSignedIn(session);
    }
  }

  function selectTab(signUp) {
    el.tabIn.setAttribute('aria-selected', String(!signUp));
    el.tabUp.setAttribute('aria-selected', String(signUp));
    el.signIn.hidden = signUp;
    el.signUp.hidden = !signUp;
    el.error.textContent = '';
  }

  function formBody(form) {
    const body = {};
    for (const [k, v] of new FormData(form).entries()) body[k] = String(v);
    return body;
  }

  async function submit(form, path) {
    el.error.textContent = '';
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const session = await hlog.requestJSON('POST', path, { body: formBody(form), quiet401: true });
      form.reset();
      showSignedIn(session);
    } catch (err) {
      el.error.textContent = t('auth.failed') + hlog.describeError(err);
    } finally {
      button.disabled = false;
    }
  }

  async function signOut() {
    try {
      await hlog.requestJSON('POST', '/auth/sign-out', { body: {} });
    } catch (err) {
      // Signed out or not, the page forgets the session.
    }
    window.location.assign('/');
  }

  async function changePassword(event) {
    event.preventDefault();
    el.passwordError.textContent = '';
    try {
      const session = await hlog.requestJSON('POST', '/auth/password', { body: formBody(el.passwordForm) });
      hlog.setCsrfToken(session.csrf_token);
      el.passwordForm.reset();
      el.dialog.close();
      hlog.notice(t('auth.passwordChanged'));
    } catch (err) {
      el.passwordError.textContent = hlog.describeError(err);
    }
  }

  // start resolves the session; fn runs once the seller is signed in.
  async function start(fn) {
    onSignedIn = fn;
    el.tabIn.addEventListener('click', () => selectTab(false));
    el.tabUp.addEventListener('click', () => selectTab(true));
    el.signIn.addEventListener('submit', (e) => { e.preventDefault(); submit(el.signIn, '/auth/sign-in'); });
    el.signUp.addEventListener('submit', (e) => { e.preventDefault(); submit(el.signUp, '/auth/sign-up'); });
    el.signOut.addEventListener('click', signOut);
    el.openPassword.addEventListener('click', () => { el.passwordError.textContent = ''; el.dialog.showModal(); });
    el.passwordCancel.addEventListener('click', () => el.dialog.close());
    el.passwordForm.addEventListener('submit', changePassword);
    hlog.onSignedOut(() => showSignedOut());
    try {
      const session = await hlog.requestJSON('GET', '/auth/session', { quiet401: true });
      showSignedIn(session);
    } catch (err) {
      if (!(err instanceof hlog.ApiError) || err.httpStatus !== 401) {
        el.error.textContent = hlog.describeError(err);
      }
      showSignedOut();
    }
  }

  hlog.auth = { start };
})();
