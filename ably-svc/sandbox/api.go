package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Paging limits of the JSON API. ably.md says only that lists page with
// page/per_page and max_page_number and that the screen offers 100 rows; the
// API's own cap is the sandbox's choice.
const (
	defaultPerPage = 20
	MaxPerPage     = 500
)

func (s *Sandbox) apiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /seller/login/", s.login)
	mux.HandleFunc("GET /seller/me/", s.data(s.me))
	mux.HandleFunc("GET /seller/order_items/", s.data(s.orderItems))
	mux.HandleFunc("GET /seller/order_items/excel/", s.data(s.orderExcel))
	mux.HandleFunc("GET /seller/order_cancels/", s.data(s.orderCancels))
	mux.HandleFunc("GET /seller/exchanges/", s.data(s.exchanges))
	mux.HandleFunc("GET /seller/goods/", s.data(s.goods))
	mux.HandleFunc("GET /seller/events/", s.events)
	mux.HandleFunc("/seller/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "찾을 수 없습니다.", "code": "not_found"})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, code, detail string) {
	writeJSON(w, status, map[string]string{"detail": detail, "code": code})
}

// login is POST /seller/login/ {email,password} -> {token} (ably.md). Five
// wrong passwords in a row lock the account.
func (s *Sandbox) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "invalid", "이메일과 비밀번호를 입력해 주세요.")
		return
	}
	sl, ok := s.sellers[strings.ToLower(strings.TrimSpace(req.Email))]
	if !ok {
		apiError(w, http.StatusBadRequest, "invalid_credentials", "이메일 또는 비밀번호가 일치하지 않습니다.")
		return
	}
	s.slow(sl)
	sl.mu.Lock()
	sl.loginAttempts++
	switch {
	case sl.locked:
		sl.mu.Unlock()
		apiError(w, http.StatusForbidden, "account_locked", fmt.Sprintf("비밀번호를 %d회 잘못 입력하여 계정이 잠겼습니다. 비밀번호 찾기로 잠금을 해제해 주세요.", LockoutAfter))
		return
	case !passwordOK(sl.cfg.Password, req.Password):
		sl.failures++
		left := LockoutAfter - sl.failures
		if left <= 0 {
			sl.locked = true
		}
		sl.mu.Unlock()
		if left <= 0 {
			apiError(w, http.StatusForbidden, "account_locked", fmt.Sprintf("비밀번호를 %d회 잘못 입력하여 계정이 잠겼습니다. 비밀번호 찾기로 잠금을 해제해 주세요.", LockoutAfter))
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{"detail": fmt.Sprintf("이메일 또는 비밀번호가 일치하지 않습니다. (%d회 남음)", left), "code": "invalid_credentials", "remaining_attempts": left})
		return
	}
	sl.failures = 0
	sl.signIns++
	sl.mu.Unlock()
	tok, exp := s.auth.issue(sl.cfg.Email, s.Now())
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "expires_at": exp.In(kst).Format(time.RFC3339)})
}

// data authorises a data call: session first, then the faults that hit
// data calls (expiry mid-run, 500s, slowness).
func (s *Sandbox) data(h func(http.ResponseWriter, *http.Request, *seller, *view)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sl := s.sellerOf(r)
		if sl == nil {
			apiError(w, http.StatusUnauthorized, "token_expired", "로그인이 만료되었습니다. 다시 로그인해 주세요.")
			return
		}
		s.slow(sl)
		sl.mu.Lock()
		sl.dataCalls++
		_, expire := sl.faults.take(FaultExpireSession)
		_, fail := sl.faults.take(FaultServerError)
		sl.mu.Unlock()
		if expire {
			s.auth.revokeAll(sl.cfg.Email)
			apiError(w, http.StatusUnauthorized, "token_expired", "로그인이 만료되었습니다. 다시 로그인해 주세요.")
			return
		}
		if fail {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("<html><body><h1>500 Internal Server Error</h1></body></html>"))
			return
		}
		h(w, r, sl, sl.viewAt(s.Now()))
	}
}

// sellerOf is the seller of the request's live session, or nil.
func (s *Sandbox) sellerOf(r *http.Request) *seller {
	cookie := ""
	if c, err := r.Cookie(CookieName); err == nil {
		cookie = c.Value
	}
	email, err := s.auth.check(tokenOf(r.Header.Get("Authorization"), cookie), s.Now())
	if err != nil {
		return nil
	}
	return s.sellers[email]
}

// slow waits out a pending slow fault: a slow platform, not test
// synchronisation, so it takes real time.
func (s *Sandbox) slow(sl *seller) {
	if f, ok := sl.takeFault(FaultSlow); ok && f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.done:
		}
	}
}

func (s *Sandbox) me(w http.ResponseWriter, _ *http.Request, sl *seller, _ *view) {
	writeJSON(w, http.StatusOK, map[string]any{
		"email": sl.cfg.Email, "market_name": sl.cfg.MarketName, "notice": sl.cfg.Notice,
		"now": s.Now().In(kst).Format(dateLayout),
	})
}

// dateRange reads start_date/end_date (KST days, inclusive).
func dateRange(r *http.Request) (time.Time, time.Time, error) {
	q := r.URL.Query()
	from, err := time.ParseInLocation(time.DateOnly, q.Get("start_date"), kst)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("start_date는 YYYY-MM-DD 형식이어야 합니다 (start_date must be YYYY-MM-DD)")
	}
	to, err := time.ParseInLocation(time.DateOnly, q.Get("end_date"), kst)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("end_date는 YYYY-MM-DD 형식이어야 합니다 (end_date must be YYYY-MM-DD)")
	}
	if to.Before(from) {
		return time.Time{}, time.Time{}, fmt.Errorf("end_date가 start_date보다 앞섭니다 (end_date is before start_date)")
	}
	if to.Sub(from) > 366*24*time.Hour {
		return time.Time{}, time.Time{}, fmt.Errorf("조회 기간은 최대 1년입니다 (at most one year per search)")
	}
	return from, to, nil
}

func paging(r *http.Request) (page, perPage int, err error) {
	q := r.URL.Query()
	page, perPage = 1, defaultPerPage
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			return 0, 0, fmt.Errorf("page must be a positive integer")
		}
	}
	if v := q.Get("per_page"); v != "" {
		if perPage, err = strconv.Atoi(v); err != nil || perPage < 1 || perPage > MaxPerPage {
			return 0, 0, fmt.Errorf("per_page must be from 1 to %d", MaxPerPage)
		}
	}
	return page, perPage, nil
}

func pageOf[T any](rows []T, page, perPage int) ([]T, int) {
	maxPage := (len(rows) + perPage - 1) / perPage
	start := (page - 1) * perPage
	if start >= len(rows) {
		return []T{}, maxPage
	}
	return rows[start:min(start+perPage, len(rows))], maxPage
}

// orderItems is GET /seller/order_items/ with date_type, start_date,
// end_date, page, per_page (ably.md "Fields").
func (s *Sandbox) orderItems(w http.ResponseWriter, r *http.Request, sl *seller, v *view) {
	from, to, err := dateRange(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	page, perPage, err := paging(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	kind := r.URL.Query().Get("date_type")
	switch kind {
	case "":
		kind = "ordered_at"
	case "ordered_at", "checked_at":
	default:
		apiError(w, http.StatusBadRequest, "invalid", "date_type must be ordered_at or checked_at")
		return
	}
	rows := v.itemsBetween(kind, from, to)
	if r.URL.Query().Get("order") == "-ordered_at" {
		rev := make([]orderItem, len(rows))
		for i, it := range rows {
			rev[len(rows)-1-i] = it
		}
		rows = rev
	}
	got, maxPage := pageOf(rows, page, perPage)
	if _, changed := sl.takeFault(FaultLayout); changed {
		// A redesigned API answer: the list moved and its fields were
		// renamed, which a collector must notice instead of reading zeros.
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"results": renamed(got), "count": len(rows), "num_pages": maxPage}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"order_items": got, "total_count": len(rows), "max_page_number": maxPage, "page": page, "per_page": perPage})
}

func renamed(rows []orderItem) []map[string]any {
	out := make([]map[string]any, 0, len(rows))
	for _, it := range rows {
		out = append(out, map[string]any{"productOrderId": strconv.FormatInt(it.Sno, 10), "orderId": strconv.FormatInt(it.OrderSno, 10),
			"goods": map[string]any{"id": it.GoodsSno, "title": it.GoodsName}, "quantity": it.Ea, "amount": it.PaymentPrice, "orderedAt": it.OrderedAt})
	}
	return out
}

// orderCancels is GET /seller/order_cancels/ by request day; cancel_type
// filters cancel or return.
func (s *Sandbox) orderCancels(w http.ResponseWriter, r *http.Request, _ *seller, v *view) {
	from, to, err := dateRange(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	page, perPage, err := paging(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	kind := r.URL.Query().Get("cancel_type")
	end := to.AddDate(0, 0, 1)
	rows := []orderCancel{}
	for _, c := range v.cancels {
		if !c.requestedAtKST.Before(from) && c.requestedAtKST.Before(end) && (kind == "" || kind == c.CancelType) {
			rows = append(rows, c)
		}
	}
	got, maxPage := pageOf(rows, page, perPage)
	writeJSON(w, http.StatusOK, map[string]any{"order_cancels": got, "total_count": len(rows), "max_page_number": maxPage, "page": page, "per_page": perPage})
}

func (s *Sandbox) exchanges(w http.ResponseWriter, r *http.Request, _ *seller, v *view) {
	from, to, err := dateRange(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	page, perPage, err := paging(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	end := to.AddDate(0, 0, 1)
	rows := []exchange{}
	for _, c := range v.exchanges {
		if !c.requestedAtKST.Before(from) && c.requestedAtKST.Before(end) {
			rows = append(rows, c)
		}
	}
	got, maxPage := pageOf(rows, page, perPage)
	writeJSON(w, http.StatusOK, map[string]any{"exchanges": got, "total_count": len(rows), "max_page_number": maxPage, "page": page, "per_page": perPage})
}

func (s *Sandbox) goods(w http.ResponseWriter, r *http.Request, _ *seller, v *view) {
	page, perPage, err := paging(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	got, maxPage := pageOf(v.goods, page, perPage)
	writeJSON(w, http.StatusOK, map[string]any{"goods": got, "total_count": len(v.goods), "max_page_number": maxPage, "page": page, "per_page": perPage})
}

// events is the site's notification stream: it stays open for as long as the
// page does, which is why "network idle" never comes (ably.md, ably-auto-send).
func (s *Sandbox) events(w http.ResponseWriter, r *http.Request) {
	if s.sellerOf(r) == nil {
		apiError(w, http.StatusUnauthorized, "token_expired", "로그인이 만료되었습니다. 다시 로그인해 주세요.")
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		apiError(w, http.StatusInternalServerError, "internal", "streaming unsupported")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write([]byte("event: hello\ndata: {}\n\n"))
	fl.Flush()
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-tick.C:
			_, _ = w.Write([]byte(": keep-alive\n\n"))
			fl.Flush()
		}
	}
}
