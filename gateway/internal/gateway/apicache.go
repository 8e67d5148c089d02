package gateway

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"time"
)

// salesCache keeps the sales answers (GET /v1/sales/...) of each signed-in
// seller for a few seconds, and lets identical requests arriving together
// share one call to ingest. A dashboard view asks a dozen aggregate
// questions, the same ones every open tab asks; sales figures move only
// when a sync loads records.
//
// Freshness: a seller's entries are dropped at once when that seller writes
// anything (a manual sync, connecting or removing an account) or when a
// watched sync run ends, so the dashboard's reload after "sync now" never
// sees old figures. A scheduled sync nobody watches shows up within the TTL.
// Answers for API keys are never cached.
type salesCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*cachedAnswer
	gen     map[string]uint64 // per seller, bumped by invalidate
}

type cachedAnswer struct {
	ready  chan struct{}
	status int
	header http.Header
	body   []byte
	at     time.Time
	gen    uint64
}

func newSalesCache(ttl time.Duration) *salesCache {
	return &salesCache{ttl: ttl, now: time.Now, entries: map[string]*cachedAnswer{}, gen: map[string]uint64{}}
}

func (c *salesCache) invalidate(seller string) {
	c.mu.Lock()
	c.gen[seller]++
	c.mu.Unlock()
}

// wrap serves cacheable requests from the cache and invalidates on writes.
func (c *salesCache) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := callerFrom(r.Context())
		if !ok || who.sellerID == "" || c.ttl <= 0 {
			next.ServeHTTP(w, r)
			return
		}
		if isWrite(r.Method) || strings.HasSuffix(r.URL.Path, ":watch") {
			// The figures may change once this is done.
			defer c.invalidate(who.sellerID)
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/v1/sales/") {
			next.ServeHTTP(w, r)
			return
		}
		key := who.sellerID + "\x00" + r.URL.RequestURI()
		now := c.now()
		c.mu.Lock()
		gen := c.gen[who.sellerID]
		e, found := c.entries[key]
		if found && (e.gen != gen || (e.status != 0 && now.Sub(e.at) >= c.ttl)) {
			found = false
		}
		if !found {
			if len(c.entries) > 50_000 { // bound memory; entries are cheap to refetch
				clear(c.entries)
			}
			e = &cachedAnswer{ready: make(chan struct{}), gen: gen, at: now}
			c.entries[key] = e
		}
		c.mu.Unlock()

		if found {
			select {
			case <-e.ready:
			case <-r.Context().Done():
				return
			}
			if e.status == http.StatusOK {
				for k, v := range e.header {
					w.Header()[k] = v
				}
				w.WriteHeader(e.status)
				_, _ = w.Write(e.body)
				return
			}
			// The shared call failed: ask on our own.
			next.ServeHTTP(w, r)
			return
		}

		rec := &recorder{header: http.Header{}}
		next.ServeHTTP(rec, r)
		e.status, e.header, e.body, e.at = rec.code(), rec.header, rec.buf.Bytes(), c.now()
		if e.status != http.StatusOK {
			c.mu.Lock()
			if c.entries[key] == e {
				delete(c.entries, key)
			}
			c.mu.Unlock()
		}
		close(e.ready)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(e.status)
		_, _ = w.Write(e.body)
	})
}

// recorder buffers one answer.
type recorder struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.buf.Write(b) }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
