package sandbox

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/synth"
)

// SellerConfig is one seller (Smartstore account) of the sandbox.
type SellerConfig struct {
	// ID is the account_id an application of type SELLER names.
	ID   string
	Seed uint64
	// OrdersPerDay and Products size the store; zero means synth's defaults.
	OrdersPerDay float64
	Products     int
}

// ParseSellerSpec reads "id[:key=value...]", e.g. "demo:seed=42" or
// "shop2:seed=7:orders_per_day=50:products=40". Without a seed, the seed is
// derived from the id.
func ParseSellerSpec(spec string) (SellerConfig, error) {
	parts := strings.Split(strings.TrimSpace(spec), ":")
	sc := SellerConfig{ID: parts[0]}
	if !sellerIDPattern.MatchString(sc.ID) {
		return sc, fmt.Errorf("seller %q: id must be lower-case letters, digits, dashes and underscores", spec)
	}
	h := fnv.New64a()
	h.Write([]byte(sc.ID))
	sc.Seed = h.Sum64()
	for _, kv := range parts[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return sc, fmt.Errorf("seller %q: %q is not key=value", spec, kv)
		}
		var err error
		switch k {
		case "seed":
			sc.Seed, err = strconv.ParseUint(v, 10, 64)
		case "orders_per_day":
			sc.OrdersPerDay, err = strconv.ParseFloat(v, 64)
			if err == nil && (sc.OrdersPerDay <= 0 || sc.OrdersPerDay > 5000) {
				err = fmt.Errorf("want 0 < orders_per_day <= 5000")
			}
		case "products":
			sc.Products, err = strconv.Atoi(v)
			if err == nil && (sc.Products <= 0 || sc.Products > 10000) {
				err = fmt.Errorf("want 0 < products <= 10000")
			}
		default:
			err = fmt.Errorf("unknown option")
		}
		if err != nil {
			return sc, fmt.Errorf("seller %q: %s: %w", spec, k, err)
		}
	}
	return sc, nil
}

// seller is one configured seller: the store and indexes over it.
type seller struct {
	cfg     SellerConfig
	store   *synth.Store
	orders  map[string]*commercev1.Order
	lines   map[string]*commercev1.OrderLine
	byOrder map[string][]*commercev1.OrderLine
	events  map[string][]synth.StatusChange
	// placed holds lines ordered by their order's placement time, for
	// ORDERED_DATETIME searches.
	placed []*commercev1.OrderLine
}

func newSeller(cfg SellerConfig, store *synth.Store) *seller {
	sl := &seller{
		cfg: cfg, store: store,
		orders: map[string]*commercev1.Order{}, lines: map[string]*commercev1.OrderLine{},
		byOrder: map[string][]*commercev1.OrderLine{}, events: map[string][]synth.StatusChange{},
	}
	for _, o := range store.Orders {
		sl.orders[o.SourceId] = o
	}
	for _, l := range store.Lines {
		sl.lines[l.SourceId] = l
		sl.byOrder[l.OrderSourceId] = append(sl.byOrder[l.OrderSourceId], l)
		sl.events[l.SourceId] = store.LineEvents(l.SourceId)
		sl.placed = append(sl.placed, l)
	}
	sort.SliceStable(sl.placed, func(i, j int) bool {
		return sl.placed[i].OrderedAt.AsTime().Before(sl.placed[j].OrderedAt.AsTime())
	})
	return sl
}

// lineState is a product order as it stands at an instant.
type lineState struct {
	line  *commercev1.OrderLine
	order *commercev1.Order
	at    time.Time
	// status is synth's status at the instant, and before the status before
	// the latest change (for a claim in progress).
	status, before commercev1.OrderStatus
	shipped        time.Time
	delivered      time.Time
	confirmed      time.Time
	paid           time.Time
	claim          *commercev1.Claim // the visible claim, if any
	claimDone      bool
	// lastChanged is the latest change the last-changed-statuses API reports:
	// its time and lastChangedType.
	lastChanged     time.Time
	lastChangedType string
}

// stateAt returns the product order's state at t, or false if its order was
// not placed yet.
func (sl *seller) stateAt(l *commercev1.OrderLine, t time.Time) (*lineState, bool) {
	o := sl.orders[l.OrderSourceId]
	placed := o.OrderedAt.AsTime()
	if placed.After(t) {
		return nil, false
	}
	st := &lineState{line: l, order: o, at: t}
	change := func(at time.Time, kind string) {
		if !at.Before(st.lastChanged) {
			st.lastChanged, st.lastChangedType = at, kind
		}
	}
	for _, e := range sl.events[l.SourceId] {
		if e.At.After(t) {
			break
		}
		st.before, st.status = st.status, e.Status
		switch e.Status {
		case commercev1.OrderStatus_ORDER_STATUS_AWAITING_PAYMENT:
			change(e.At, "PAY_WAITING")
		case commercev1.OrderStatus_ORDER_STATUS_PAID:
			st.paid = e.At
			change(e.At, "PAYED")
		case commercev1.OrderStatus_ORDER_STATUS_SHIPPING:
			st.shipped = e.At
			change(e.At, "DISPATCHED")
		case commercev1.OrderStatus_ORDER_STATUS_DELIVERED:
			// DELIVERED is a productOrderStatus, not a lastChangedType
			// (smartstore.md §3): delivery does not move lastChangedDate.
			st.delivered = e.At
		case commercev1.OrderStatus_ORDER_STATUS_CONFIRMED:
			st.confirmed = e.At
			change(e.At, "PURCHASE_DECIDED")
		}
	}
	for _, c := range l.Claims {
		if c.RequestedAt.AsTime().After(t) {
			continue
		}
		st.claim = c
		change(c.RequestedAt.AsTime(), "CLAIM_REQUESTED")
		if !c.CompletedAt.AsTime().After(t) {
			st.claimDone = true
			change(c.CompletedAt.AsTime(), "CLAIM_COMPLETED")
		}
	}
	return st, true
}

// visibleLines returns the product orders placed by t, in placement order.
func (sl *seller) visibleLines(t time.Time) []*commercev1.OrderLine {
	n := sort.Search(len(sl.placed), func(i int) bool { return sl.placed[i].OrderedAt.AsTime().After(t) })
	return sl.placed[:n]
}
