package synth

import (
	"math"
	"math/rand/v2"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

type generator struct {
	cfg      Config
	rng      *rand.Rand
	store    *Store
	claimSeq map[string]int // local day -> claims requested that day
}

const day = 24 * time.Hour

// Weekday factors, Sunday first: Korean online fashion sells most early in
// the week and least on Saturday.
var weekdayFactor = [7]float64{0.95, 1.15, 1.05, 1.0, 1.0, 0.95, 0.8}

// Share of orders by local hour: a lunch bump and an evening peak.
var hourWeight = [24]float64{3, 1.5, 1, 0.5, 0.3, 0.3, 0.8, 1.5, 2.5, 3, 3.5, 4, 5, 4.5, 4, 4, 4, 4.5, 5, 5.5, 6.5, 7.5, 7, 5}

func (g *generator) orders() {
	cfg := g.cfg
	loc := cfg.Location
	buyers := int(math.Max(50, cfg.OrdersPerDay*cfg.End.Sub(cfg.Start).Hours()/24/3))
	start := cfg.Start.In(loc)
	for d := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc); d.Before(cfg.End); d = d.AddDate(0, 0, 1) {
		mean := cfg.OrdersPerDay * weekdayFactor[d.Weekday()] * yearlyFactor(d)
		n := g.poisson(mean)
		// Times of day first, sorted, so order ids of a day follow placement order.
		var times []time.Time
		for range n {
			t := d.Add(time.Duration(g.weightedHour())*time.Hour + time.Duration(g.rng.IntN(3600))*time.Second)
			if t.Before(cfg.Start) || !t.Before(cfg.End) {
				continue
			}
			times = append(times, t)
		}
		sortTimes(times)
		for i, t := range times {
			g.order(t.UTC(), i+1, cfg.IDs.BuyerID(1+g.rng.IntN(buyers)))
		}
	}
}

// yearlyFactor peaks in December (year-end sales) and dips in midsummer.
func yearlyFactor(d time.Time) float64 {
	return 1 + 0.25*math.Cos(2*math.Pi*float64(d.YearDay()-350)/365.25)
}

func (g *generator) poisson(mean float64) int {
	// Knuth's method is fine for the small means of one seller's day.
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= g.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func (g *generator) weightedHour() int {
	total := 0.0
	for _, w := range hourWeight {
		total += w
	}
	x := g.rng.Float64() * total
	for h, w := range hourWeight {
		if x < w {
			return h
		}
		x -= w
	}
	return 23
}

func (g *generator) order(placed time.Time, seq int, buyer string) {
	s := g.store
	ids := g.cfg.IDs
	orderID := ids.OrderID(placed.In(g.cfg.Location), seq)

	// Card payments confirm within minutes; a sixth of buyers pay by bank
	// transfer, some days later, and some never (auto-cancelled after 3 days).
	var paid time.Time
	neverPaid := false
	switch r := g.rng.IntN(100); {
	case r < 84:
		paid = placed.Add(time.Duration(30+g.rng.IntN(600)) * time.Second)
	case r < 96:
		paid = placed.Add(time.Duration(3600+g.rng.IntN(2*86400)) * time.Second)
	default:
		neverPaid = true
	}

	nLines := 1
	if r := g.rng.IntN(100); r >= 92 {
		nLines = 3
	} else if r >= 70 {
		nLines = 2
	}
	coupon := g.rng.IntN(4) == 0
	used := map[int]bool{}
	var orderGross int64
	var lines []*commercev1.OrderLine
	for n := 1; n <= nLines; n++ {
		pi := g.rng.IntN(len(s.Products))
		if used[pi] {
			continue
		}
		used[pi] = true
		p := s.Products[pi]
		opts := optionsOf(s, p.SourceId)
		opt := opts[g.rng.IntN(len(opts))]
		qty := int32(1)
		if r := g.rng.IntN(100); r >= 95 {
			qty = 3
		} else if r >= 75 {
			qty = 2
		}
		unit := p.Price.MinorUnits
		optionPrice := opt.AdditionalPrice.MinorUnits * int64(qty)
		gross := unit*int64(qty) + optionPrice
		var discount int64
		if coupon {
			// 10% coupon, floored to 10 won, capped at 10,000 won per line.
			discount = min(gross/100*10, 10000)
		}
		line := &commercev1.OrderLine{
			SourceId:        ids.LineID(orderID, len(lines)+1),
			OrderSourceId:   orderID,
			ProductSourceId: p.SourceId,
			OptionSourceId:  opt.SourceId,
			ProductName:     p.Name,
			OptionName:      opt.Name,
			Quantity:        qty,
			UnitPrice:       s.money(unit),
			OptionPrice:     s.money(optionPrice),
			Discount:        s.money(discount),
			PaidAmount:      s.money(gross - discount),
			OrderedAt:       timestamppb.New(placed),
		}
		if !paid.IsZero() {
			line.PaidAt = timestamppb.New(paid)
		}
		orderGross += gross - discount
		lines = append(lines, line)
	}

	var shipping int64
	if orderGross < 50000 {
		shipping = 3000
	}
	o := &commercev1.Order{
		SourceId:     orderID,
		OrderedAt:    timestamppb.New(placed),
		CurrencyCode: s.Currency,
		ShippingFee:  s.money(shipping),
		PaidAmount:   s.money(orderGross + shipping),
		BuyerId:      buyer,
	}
	if !paid.IsZero() {
		o.PaidAt = timestamppb.New(paid)
	}
	s.Orders = append(s.Orders, o)
	s.buyers[orderID] = buyer

	for _, line := range lines {
		events := []statusEvent{{placed, commercev1.OrderStatus_ORDER_STATUS_AWAITING_PAYMENT}}
		if neverPaid {
			cancelled := placed.Add(3 * day)
			events = append(events, statusEvent{cancelled, commercev1.OrderStatus_ORDER_STATUS_CANCELLED})
			line.Claims = []*commercev1.Claim{g.claim(commercev1.ClaimType_CLAIM_TYPE_CANCEL, line.Quantity, 0, cancelled, cancelled)}
		} else {
			events = append(events, g.fulfil(line, paid)...)
		}
		s.timelines[line.SourceId] = events
		line.Status = events[len(events)-1].status
		s.Lines = append(s.Lines, line)
	}
	o.Status = orderStatus(lines)
	o.UpdatedAt = timestamppb.New(lastEventTime(s, lines))
}

// fulfil plays a paid line forward: shipping, delivery, purchase
// confirmation, and perhaps a cancel, return or exchange of some units.
func (g *generator) fulfil(line *commercev1.OrderLine, paid time.Time) []statusEvent {
	events := []statusEvent{{paid, commercev1.OrderStatus_ORDER_STATUS_PAID}}
	shipped := paid.Add(day + time.Duration(g.rng.IntN(6*3600))*time.Second)
	delivered := shipped.Add(2*day + time.Duration(g.rng.IntN(12*3600))*time.Second)
	confirmed := delivered.Add(7 * day)
	claimQty := line.Quantity
	if line.Quantity > 1 && g.rng.IntN(2) == 0 {
		claimQty = 1 // partial claim
	}
	full := claimQty == line.Quantity
	refund := line.PaidAmount.MinorUnits * int64(claimQty) / int64(line.Quantity)

	switch r := g.rng.IntN(1000); {
	case r < 45: // cancel before shipping
		req := paid.Add(time.Duration(60+g.rng.IntN(int(shipped.Sub(paid).Seconds())-60)) * time.Second)
		done := req.Add(time.Duration(600+g.rng.IntN(20*3600)) * time.Second)
		line.Claims = append(line.Claims, g.claim(commercev1.ClaimType_CLAIM_TYPE_CANCEL, claimQty, refund, req, done))
		if full {
			return append(events,
				statusEvent{req, commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS},
				statusEvent{done, commercev1.OrderStatus_ORDER_STATUS_CANCELLED})
		}
	case r < 75: // return after delivery
		req := delivered.Add(time.Duration(86400+g.rng.IntN(4*86400)) * time.Second)
		done := req.Add(time.Duration(3*86400+g.rng.IntN(4*86400)) * time.Second)
		line.Claims = append(line.Claims, g.claim(commercev1.ClaimType_CLAIM_TYPE_RETURN, claimQty, refund, req, done))
		events = append(events,
			statusEvent{shipped, commercev1.OrderStatus_ORDER_STATUS_SHIPPING},
			statusEvent{delivered, commercev1.OrderStatus_ORDER_STATUS_DELIVERED})
		if full {
			return append(events,
				statusEvent{req, commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS},
				statusEvent{done, commercev1.OrderStatus_ORDER_STATUS_RETURNED})
		}
		return append(events, statusEvent{confirmed.Add(7 * day), commercev1.OrderStatus_ORDER_STATUS_CONFIRMED})
	case r < 85: // exchange after delivery: no money moves
		req := delivered.Add(time.Duration(86400+g.rng.IntN(3*86400)) * time.Second)
		done := req.Add(5 * day)
		line.Claims = append(line.Claims, g.claim(commercev1.ClaimType_CLAIM_TYPE_EXCHANGE, claimQty, 0, req, done))
		events = append(events,
			statusEvent{shipped, commercev1.OrderStatus_ORDER_STATUS_SHIPPING},
			statusEvent{delivered, commercev1.OrderStatus_ORDER_STATUS_DELIVERED})
		if full {
			return append(events,
				statusEvent{req, commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS},
				statusEvent{done, commercev1.OrderStatus_ORDER_STATUS_EXCHANGED})
		}
		return append(events, statusEvent{confirmed.Add(7 * day), commercev1.OrderStatus_ORDER_STATUS_CONFIRMED})
	}
	return append(events,
		statusEvent{shipped, commercev1.OrderStatus_ORDER_STATUS_SHIPPING},
		statusEvent{delivered, commercev1.OrderStatus_ORDER_STATUS_DELIVERED},
		statusEvent{confirmed, commercev1.OrderStatus_ORDER_STATUS_CONFIRMED})
}

func (g *generator) claim(kind commercev1.ClaimType, qty int32, refund int64, requested, completed time.Time) *commercev1.Claim {
	key := requested.In(g.cfg.Location).Format(time.DateOnly)
	g.claimSeq[key]++
	return &commercev1.Claim{
		SourceId:     g.cfg.IDs.ClaimID(requested.In(g.cfg.Location), g.claimSeq[key]),
		Type:         kind,
		State:        commercev1.ClaimState_CLAIM_STATE_COMPLETED,
		Quantity:     qty,
		RefundAmount: g.store.money(refund),
		RequestedAt:  timestamppb.New(requested),
		CompletedAt:  timestamppb.New(completed),
	}
}

func optionsOf(s *Store, productID string) []*commercev1.ProductOption {
	var out []*commercev1.ProductOption
	for _, o := range s.Options {
		if o.ProductSourceId == productID {
			out = append(out, o)
		}
	}
	return out
}

func sortTimes(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}
