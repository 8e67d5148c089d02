package sandbox

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Cafe24's paging limits (cafe24.md §4, §8).
const (
	maxOffset         = 15000
	maxOrdersLimit    = 1000
	maxRefundsLimit   = 500
	defaultLimit      = 10
	maxSearchMonths   = 3
	maxListParamItems = 100
)

// period is a searched range of instants, [from, until).
type period struct {
	from, until time.Time
}

func (p period) contains(t time.Time) bool { return !t.Before(p.from) && t.Before(p.until) }

// parsePeriod reads start_date and end_date: both are required, each a KST
// date or date and time, the end inclusive, at most 3 months apart (cafe24.md §4).
func parsePeriod(q url.Values) (period, error) {
	rawStart, rawEnd := q.Get("start_date"), q.Get("end_date")
	if rawStart == "" || rawEnd == "" {
		return period{}, fmt.Errorf("start_date and end_date are required together.")
	}
	start, _, err := parseParamTime("start_date", rawStart)
	if err != nil {
		return period{}, err
	}
	end, dateOnly, err := parseParamTime("end_date", rawEnd)
	if err != nil {
		return period{}, err
	}
	if end.Before(start) {
		return period{}, fmt.Errorf("end_date must not be earlier than start_date.")
	}
	if end.After(start.AddDate(0, maxSearchMonths, 0)) {
		return period{}, fmt.Errorf("The search period cannot exceed %d months.", maxSearchMonths)
	}
	until := end.Add(time.Second)
	if dateOnly {
		until = end.AddDate(0, 0, 1)
	}
	return period{from: start, until: until}, nil
}

func parseParamTime(name, v string) (time.Time, bool, error) {
	if t, err := time.ParseInLocation(paramDateTimeLayout, v, kst); err == nil {
		return t, false, nil
	}
	if t, err := time.ParseInLocation(paramDateLayout, v, kst); err == nil {
		return t, true, nil
	}
	return time.Time{}, false, fmt.Errorf("%s must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS: %q.", name, v)
}

// parsePaging reads limit (1..maxLimit, default 10) and offset (0..15000).
func parsePaging(q url.Values, maxLimit int) (limit, offset int, err error) {
	if limit, err = parseLimit(q, maxLimit, defaultLimit); err != nil {
		return 0, 0, err
	}
	if offset, err = parseOffset(q, maxOffset); err != nil {
		return 0, 0, err
	}
	return limit, offset, nil
}

// parseLimit reads limit: 1..maxLimit, def when absent.
func parseLimit(q url.Values, maxLimit, def int) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, fmt.Errorf("limit must be an integer from 1 to %d.", maxLimit)
	}
	return n, nil
}

// parseOffset reads offset: 0..maxOff, 0 when absent.
func parseOffset(q url.Values, maxOff int) (int, error) {
	v := q.Get("offset")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxOff {
		return 0, fmt.Errorf("offset must be an integer from 0 to %d.", maxOff)
	}
	return n, nil
}

// parseList reads a comma list filter of at most 100 values (cafe24.md §4).
func parseList(q url.Values, name string) (map[string]bool, error) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) > maxListParamItems {
		return nil, fmt.Errorf("%s accepts at most %d values.", name, maxListParamItems)
	}
	set := map[string]bool{}
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			set[p] = true
		}
	}
	return set, nil
}

// nextLink is the href of the next page: the request with offset moved on.
func nextLink(base *url.URL, host string, tls bool, q url.Values, offset int) string {
	next := url.Values{}
	for k, v := range q {
		next[k] = v
	}
	next.Set("offset", strconv.Itoa(offset))
	scheme := "http"
	if tls {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: host, Path: base.Path, RawQuery: next.Encode()}
	return u.String()
}

type link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}
