// Package synth generates a seller's business deterministically from a seed:
// a catalogue with options, categories and coupons, and orders with weekly and
// yearly seasonality whose cancels, returns and exchanges happen days after
// the order. It emits canonical records, which are the ground truth that
// sandboxes render in their platform's shapes and that tests compare with.
//
// The business unfolds over time: Store.AsOf(t) is what a platform would show
// at instant t, so a sandbox's controllable clock makes new orders and late
// claims appear as tests move it forward.
package synth

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// Config chooses the business to generate. The same Config always yields the
// same Store.
type Config struct {
	Seed uint64
	// Orders are placed in [Start, End). Claims may complete after End.
	Start, End time.Time
	// Seller's time zone; nil means Asia/Seoul.
	Location *time.Location
	// ISO 4217 code; empty means KRW. Amounts are generated in whole won,
	// so a currency with minor units gets whole-unit prices.
	Currency string
	// Catalogue size; 0 means 24.
	Products int
	// Mean orders on an ordinary day before seasonality; 0 means 30.
	OrdersPerDay float64
	// How source ids look; nil means CanonicalIDs.
	IDs IDFormat
}

// IDFormat renders source ids in a platform's own formats, so that a
// sandbox's ids and the ground truth's ids are the same strings.
type IDFormat interface {
	// OrderID is the id of the seq-th order (1-based) placed on the local day of placed.
	OrderID(placed time.Time, seq int) string
	// LineID is the id of the n-th line (1-based) of an order.
	LineID(orderID string, n int) string
	// ProductID and ProductCode identify the n-th product (1-based).
	ProductID(n int) string
	ProductCode(n int) string
	// OptionID identifies the n-th option (1-based) of a product.
	OptionID(productID, productCode string, n int) string
	CategoryID(n int) string
	CouponID(n int) string
	// ClaimID is the id of the seq-th claim (1-based) requested on the local day of requested.
	ClaimID(requested time.Time, seq int) string
	BuyerID(n int) string
}

// Store is a generated business. Slices are ordered by source id order of
// creation (orders by placement time); records must not be modified.
type Store struct {
	Location   *time.Location
	Currency   string
	Categories []*commercev1.Category
	Products   []*commercev1.Product
	Options    []*commercev1.ProductOption
	Coupons    []*commercev1.Coupon
	// Orders and Lines hold the complete history: every claim that will ever
	// happen, with final statuses. Use AsOf for what is visible at a time.
	Orders []*commercev1.Order
	Lines  []*commercev1.OrderLine

	timelines map[string][]statusEvent // line source id -> status changes, oldest first
	buyers    map[string]string        // order source id -> buyer id
}

type statusEvent struct {
	at     time.Time
	status commercev1.OrderStatus
}

// Generate builds the business described by cfg.
func Generate(cfg Config) (*Store, error) {
	if !cfg.Start.Before(cfg.End) {
		return nil, fmt.Errorf("synth: start %s must be before end %s", cfg.Start, cfg.End)
	}
	if cfg.End.Sub(cfg.Start) > 11*366*24*time.Hour {
		return nil, errors.New("synth: at most 11 years of history")
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Asia/Seoul")
		if err != nil {
			return nil, fmt.Errorf("synth: loading Asia/Seoul: %w", err)
		}
		cfg.Location = loc
	}
	if cfg.Currency == "" {
		cfg.Currency = "KRW"
	}
	if cfg.Products == 0 {
		cfg.Products = 24
	}
	if cfg.OrdersPerDay == 0 {
		cfg.OrdersPerDay = 30
	}
	if cfg.IDs == nil {
		cfg.IDs = CanonicalIDs{}
	}
	g := &generator{
		cfg: cfg,
		rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		store: &Store{
			Location:  cfg.Location,
			Currency:  cfg.Currency,
			timelines: map[string][]statusEvent{},
			buyers:    map[string]string{},
		},
		claimSeq: map[string]int{},
	}
	g.catalogue()
	g.orders()
	return g.store, nil
}

// OrderedLines returns lines sorted by source id, for stable comparisons.
func OrderedLines(lines []*commercev1.OrderLine) []*commercev1.OrderLine {
	out := append([]*commercev1.OrderLine(nil), lines...)
	sort.Slice(out, func(i, j int) bool { return out[i].GetSourceId() < out[j].GetSourceId() })
	return out
}

func (s *Store) money(minor int64) *commercev1.Money {
	return &commercev1.Money{CurrencyCode: s.Currency, MinorUnits: minor}
}
