package sandbox

import (
	"sync"
	"time"

	"hlog.dev/proto/synth"
)

// seller is one account: its store, sign-in state and pending faults.
type seller struct {
	cfg   SellerConfig
	store *synth.Store

	mu            sync.Mutex
	failures      int // consecutive wrong passwords
	locked        bool
	loginAttempts int // every POST /seller/login/ for this e-mail
	signIns       int // successful ones
	dataCalls     int // authorised /seller/ data calls
	faults        faults
	cached        *view
}

func newSeller(cfg SellerConfig, store *synth.Store) *seller {
	return &seller{cfg: cfg, store: store}
}

// viewAt returns the store as shown at t, cached while the clock stands still
// (a frozen test clock, or within one second of a running one).
func (s *seller) viewAt(t time.Time) *view {
	t = t.Truncate(time.Second)
	s.mu.Lock()
	v := s.cached
	s.mu.Unlock()
	if v != nil && v.at.Equal(t) {
		return v
	}
	v = newView(s.store, t)
	s.mu.Lock()
	s.cached = v
	s.mu.Unlock()
	return v
}

// Fault kinds the control API injects (architecture.md "Sandboxes").
const (
	FaultServerError   = "server_error"   // the next n data API calls answer 500
	FaultSlow          = "slow"           // the next n requests (pages and API) wait delay first
	FaultExpireSession = "expire_session" // the next n data calls each end every session of the seller (use After to strike mid-run)
	FaultModal         = "modal"          // the next n page loads open a notice modal over the page
	FaultLayout        = "layout"         // the next n order pages and order_items calls use a changed layout
)

// Fault is one pending fault.
type Fault struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
	// After lets this many matching requests through first, so a fault can
	// strike mid-run.
	After int           `json:"after,omitempty"`
	Delay time.Duration `json:"-"`
}

type faults struct{ pending []Fault }

// take consumes one of kind, if pending, and returns it.
func (f *faults) take(kind string) (Fault, bool) {
	for i := range f.pending {
		if f.pending[i].Kind == kind && f.pending[i].Count > 0 {
			if f.pending[i].After > 0 {
				f.pending[i].After--
				return Fault{}, false
			}
			got := f.pending[i]
			f.pending[i].Count--
			if f.pending[i].Count == 0 {
				f.pending = append(f.pending[:i], f.pending[i+1:]...)
			}
			return got, true
		}
	}
	return Fault{}, false
}

func (s *seller) takeFault(kind string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.take(kind)
}

func (s *seller) hasFault(kind string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults.pending {
		if f.Kind == kind {
			return true
		}
	}
	return false
}
