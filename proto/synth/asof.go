package synth

import (
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// AsOf returns the business as a platform shows it at instant t: orders placed
// by t, payments confirmed by t, each line's status at t, and the claims
// requested by t (open ones without completion time or refund). Catalogue
// records are returned as they are. The returned records are fresh copies.
func (s *Store) AsOf(t time.Time) *Store {
	out := &Store{
		Location:   s.Location,
		Currency:   s.Currency,
		Categories: s.Categories,
		Products:   s.Products,
		Options:    s.Options,
		Coupons:    s.Coupons,
		timelines:  s.timelines,
		buyers:     s.buyers,
	}
	visible := map[string]bool{}
	for _, o := range s.Orders {
		if o.OrderedAt.AsTime().After(t) {
			continue
		}
		visible[o.SourceId] = true
	}
	byOrder := map[string][]*commercev1.OrderLine{}
	for _, l := range s.Lines {
		if !visible[l.OrderSourceId] {
			continue
		}
		c := proto.Clone(l).(*commercev1.OrderLine)
		if c.PaidAt != nil && c.PaidAt.AsTime().After(t) {
			c.PaidAt = nil
		}
		c.Status = statusAt(s.timelines[l.SourceId], t)
		c.Claims = nil
		for _, cl := range l.Claims {
			if cl.RequestedAt.AsTime().After(t) {
				continue
			}
			cc := proto.Clone(cl).(*commercev1.Claim)
			if cc.CompletedAt.AsTime().After(t) {
				cc.State = commercev1.ClaimState_CLAIM_STATE_REQUESTED
				cc.CompletedAt = nil
				cc.RefundAmount = s.money(0)
			}
			c.Claims = append(c.Claims, cc)
		}
		out.Lines = append(out.Lines, c)
		byOrder[c.OrderSourceId] = append(byOrder[c.OrderSourceId], c)
	}
	for _, o := range s.Orders {
		if !visible[o.SourceId] {
			continue
		}
		c := proto.Clone(o).(*commercev1.Order)
		if c.PaidAt != nil && c.PaidAt.AsTime().After(t) {
			c.PaidAt = nil
		}
		lines := byOrder[o.SourceId]
		c.Status = orderStatus(lines)
		c.UpdatedAt = timestamppb.New(lastEventTimeAt(s, lines, t))
		out.Orders = append(out.Orders, c)
	}
	return out
}

// LineEvents returns when a line's status changed, oldest first, for
// sandboxes that render per-status dates (shipped, delivered, ...).
func (s *Store) LineEvents(lineID string) []StatusChange {
	var out []StatusChange
	for _, e := range s.timelines[lineID] {
		out = append(out, StatusChange{At: e.at, Status: e.status})
	}
	return out
}

// StatusChange is a line's move to a new status.
type StatusChange struct {
	At     time.Time
	Status commercev1.OrderStatus
}

func statusAt(events []statusEvent, t time.Time) commercev1.OrderStatus {
	st := commercev1.OrderStatus_ORDER_STATUS_UNSPECIFIED
	for _, e := range events {
		if e.at.After(t) {
			break
		}
		st = e.status
	}
	return st
}

// orderStatus summarises lines: the status of the first line that is not
// wholly cancelled, returned or exchanged, else the first line's status.
func orderStatus(lines []*commercev1.OrderLine) commercev1.OrderStatus {
	if len(lines) == 0 {
		return commercev1.OrderStatus_ORDER_STATUS_UNSPECIFIED
	}
	for _, l := range lines {
		switch l.Status {
		case commercev1.OrderStatus_ORDER_STATUS_CANCELLED, commercev1.OrderStatus_ORDER_STATUS_RETURNED, commercev1.OrderStatus_ORDER_STATUS_EXCHANGED:
			continue
		}
		return l.Status
	}
	return lines[0].Status
}

func lastEventTime(s *Store, lines []*commercev1.OrderLine) time.Time {
	return lastEventTimeAt(s, lines, time.Unix(1<<62, 0))
}

func lastEventTimeAt(s *Store, lines []*commercev1.OrderLine, t time.Time) time.Time {
	var last time.Time
	for _, l := range lines {
		for _, e := range s.timelines[l.SourceId] {
			if !e.at.After(t) && e.at.After(last) {
				last = e.at
			}
		}
		for _, c := range l.Claims {
			for _, ts := range []*timestamppb.Timestamp{c.RequestedAt, c.CompletedAt} {
				if ts != nil && !ts.AsTime().After(t) && ts.AsTime().After(last) {
					last = ts.AsTime()
				}
			}
		}
	}
	return last
}
