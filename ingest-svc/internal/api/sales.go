package api

import (
	"context"
	"errors"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	salesv1 "hlog.dev/proto/gen/hlog/sales/v1"

	"hlog.dev/ingest-svc/internal/sales"
	"hlog.dev/ingest-svc/internal/store"
)

// Sales serves SalesService.
type Sales struct {
	salesv1.UnimplementedSalesServiceServer
	Store   *store.Store
	Querier *sales.Querier
	// DefaultTimeZone is reported for sellers without a row yet.
	DefaultTimeZone string
}

// request is what every sales call shares, checked.
type request struct {
	filter   sales.Filter
	period   sales.Period
	timeZone string
}

func (s *Sales) parse(ctx context.Context, start, end string, platforms []commercev1.Platform, basis salesv1.Basis) (request, error) {
	seller, err := sellerOf(ctx)
	if err != nil {
		return request{}, err
	}
	p, err := sales.ParsePeriod(start, end)
	if err != nil {
		return request{}, status.Error(codes.InvalidArgument, err.Error())
	}
	f := sales.Filter{SellerID: seller}
	switch basis {
	case salesv1.Basis_BASIS_UNSPECIFIED, salesv1.Basis_BASIS_PAYMENT_DATE:
		f.Basis = sales.PaymentDate
	case salesv1.Basis_BASIS_ORDER_DATE:
		f.Basis = sales.OrderDate
	default:
		return request{}, status.Error(codes.InvalidArgument, "basis must be BASIS_PAYMENT_DATE or BASIS_ORDER_DATE")
	}
	seen := map[commercev1.Platform]bool{}
	for _, pl := range platforms {
		if _, known := commercev1.Platform_name[int32(pl)]; !known || pl == commercev1.Platform_PLATFORM_UNSPECIFIED {
			return request{}, status.Errorf(codes.InvalidArgument, "platforms: %v is not a platform; use PLATFORM_CAFE24, PLATFORM_SMARTSTORE or PLATFORM_ABLY", pl)
		}
		if !seen[pl] {
			seen[pl] = true
			f.Platforms = append(f.Platforms, store.PlatformName(pl))
		}
	}
	tz, err := s.Store.SellerTimeZone(ctx, seller)
	if err != nil {
		return request{}, storeError(err, "")
	}
	if tz == "" {
		tz = s.DefaultTimeZone
	}
	return request{filter: f, period: p, timeZone: tz}, nil
}

func salesError(err error) error {
	if errors.Is(err, sales.ErrMixedCurrencies) {
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	return storeError(err, "")
}

// GetSummary returns the totals of a period and of the one before it.
func (s *Sales) GetSummary(ctx context.Context, req *salesv1.GetSummaryRequest) (*salesv1.GetSummaryResponse, error) {
	r, err := s.parse(ctx, req.GetStartDate(), req.GetEndDate(), req.GetPlatforms(), req.GetBasis())
	if err != nil {
		return nil, err
	}
	cur, prev, currency, err := s.Querier.Summary(ctx, r.filter, r.period)
	if err != nil {
		return nil, salesError(err)
	}
	pp := r.period.Previous()
	return &salesv1.GetSummaryResponse{
		StartDate:         r.period.StartDate(),
		EndDate:           r.period.EndDate(),
		Totals:            totalsProto(cur, currency),
		PreviousStartDate: pp.StartDate(),
		PreviousEndDate:   pp.EndDate(),
		PreviousTotals:    totalsProto(prev, currency),
		TimeZone:          r.timeZone,
		CurrencyCode:      currency,
	}, nil
}

var granularities = map[salesv1.Granularity]sales.Granularity{
	salesv1.Granularity_GRANULARITY_DAY:   sales.Day,
	salesv1.Granularity_GRANULARITY_WEEK:  sales.Week,
	salesv1.Granularity_GRANULARITY_MONTH: sales.Month,
	salesv1.Granularity_GRANULARITY_YEAR:  sales.Year,
}

// GetTimeSeries returns totals per bucket of a period.
func (s *Sales) GetTimeSeries(ctx context.Context, req *salesv1.GetTimeSeriesRequest) (*salesv1.GetTimeSeriesResponse, error) {
	r, err := s.parse(ctx, req.GetStartDate(), req.GetEndDate(), req.GetPlatforms(), req.GetBasis())
	if err != nil {
		return nil, err
	}
	g, ok := granularities[req.GetGranularity()]
	if !ok {
		return nil, status.Error(codes.InvalidArgument, "granularity must be one of DAY, WEEK, MONTH, YEAR")
	}
	points, currency, err := s.Querier.TimeSeries(ctx, r.filter, r.period, g)
	if err != nil {
		return nil, salesError(err)
	}
	resp := &salesv1.GetTimeSeriesResponse{Granularity: req.GetGranularity(), TimeZone: r.timeZone, CurrencyCode: currency}
	for _, p := range points {
		resp.Points = append(resp.Points, &salesv1.TimeSeriesPoint{
			StartDate: p.StartDate(),
			EndDate:   p.EndDate(),
			Label:     p.Label,
			Totals:    totalsProto(p.Totals, currency),
		})
	}
	return resp, nil
}

// ListTopProducts ranks products (or options) by net sales.
func (s *Sales) ListTopProducts(ctx context.Context, req *salesv1.ListTopProductsRequest) (*salesv1.ListTopProductsResponse, error) {
	r, err := s.parse(ctx, req.GetStartDate(), req.GetEndDate(), req.GetPlatforms(), req.GetBasis())
	if err != nil {
		return nil, err
	}
	limit := int(req.GetLimit())
	switch {
	case limit < 0 || limit > 100:
		return nil, status.Error(codes.InvalidArgument, "limit must be 1 to 100 (0 means 10)")
	case limit == 0:
		limit = 10
	}
	rows, currency, err := s.Querier.TopProducts(ctx, r.filter, r.period, limit, req.GetByOption())
	if err != nil {
		return nil, salesError(err)
	}
	resp := &salesv1.ListTopProductsResponse{}
	for _, p := range rows {
		resp.Products = append(resp.Products, &salesv1.ProductSales{
			Platform:        store.ParsePlatform(p.Platform),
			AccountId:       formatID(p.AccountID),
			ProductSourceId: p.ProductSourceID,
			ProductName:     p.ProductName,
			OptionSourceId:  p.OptionSourceID,
			OptionName:      p.OptionName,
			Totals:          totalsProto(p.Totals, currency),
		})
	}
	return resp, nil
}

func totalsProto(t sales.Totals, currency string) *salesv1.Totals {
	m := func(v int64) *commercev1.Money { return &commercev1.Money{CurrencyCode: currency, MinorUnits: v} }
	return &salesv1.Totals{
		Gross:          m(t.Gross),
		Discount:       m(t.Discount),
		Paid:           m(t.Paid),
		Refunded:       m(t.Refunded),
		Net:            m(t.Net()),
		Orders:         t.Orders,
		Units:          t.Units,
		Buyers:         t.Buyers,
		CancelledUnits: t.CancelledUnits,
		ReturnedUnits:  t.ReturnedUnits,
		ExchangedUnits: t.ExchangedUnits,
	}
}

// GetPlatformSplit returns a period's totals per platform, or per account.
func (s *Sales) GetPlatformSplit(ctx context.Context, req *salesv1.GetPlatformSplitRequest) (*salesv1.GetPlatformSplitResponse, error) {
	r, err := s.parse(ctx, req.GetStartDate(), req.GetEndDate(), nil, req.GetBasis())
	if err != nil {
		return nil, err
	}
	rows, currency, err := s.Querier.PlatformSplit(ctx, r.filter, r.period, req.GetByAccount())
	if err != nil {
		return nil, salesError(err)
	}
	names := map[uint64]string{}
	if req.GetByAccount() {
		accts, err := s.Store.ListAccounts(ctx, r.filter.SellerID)
		if err != nil {
			return nil, storeError(err, "")
		}
		for _, a := range accts {
			names[a.AccountID] = a.DisplayName
		}
	}
	resp := &salesv1.GetPlatformSplitResponse{TimeZone: r.timeZone, CurrencyCode: currency}
	for _, row := range rows {
		ps := &salesv1.PlatformSales{Platform: store.ParsePlatform(row.Platform), Totals: totalsProto(row.Totals, currency)}
		if req.GetByAccount() {
			ps.AccountId, ps.AccountDisplayName = formatID(row.AccountID), names[row.AccountID]
		}
		resp.Rows = append(resp.Rows, ps)
	}
	return resp, nil
}

var claimFilters = map[salesv1.LineClaimFilter]sales.ClaimFilter{
	salesv1.LineClaimFilter_LINE_CLAIM_FILTER_UNSPECIFIED: sales.AnyLine,
	salesv1.LineClaimFilter_LINE_CLAIM_FILTER_ANY_CLAIM:   sales.AnyClaim,
	salesv1.LineClaimFilter_LINE_CLAIM_FILTER_CANCEL:      sales.CancelClaims,
	salesv1.LineClaimFilter_LINE_CLAIM_FILTER_RETURN:      sales.ReturnClaims,
	salesv1.LineClaimFilter_LINE_CLAIM_FILTER_EXCHANGE:    sales.ExchangeClaims,
	salesv1.LineClaimFilter_LINE_CLAIM_FILTER_REFUNDED:    sales.Refunded,
	salesv1.LineClaimFilter_LINE_CLAIM_FILTER_NONE:        sales.NoClaim,
}

// ListOrderLines pages through order lines, newest first.
func (s *Sales) ListOrderLines(ctx context.Context, req *salesv1.ListOrderLinesRequest) (*salesv1.ListOrderLinesResponse, error) {
	r, err := s.parse(ctx, req.GetStartDate(), req.GetEndDate(), req.GetPlatforms(), req.GetBasis())
	if err != nil {
		return nil, err
	}
	size := int(req.GetPageSize())
	switch {
	case size < 0 || size > 500:
		return nil, status.Error(codes.InvalidArgument, "page_size must be 1 to 500 (0 means 50)")
	case size == 0:
		size = 50
	}
	claims, ok := claimFilters[req.GetClaimFilter()]
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "claim_filter %v is not a filter", req.GetClaimFilter())
	}
	if len(req.GetQuery()) > 200 {
		return nil, status.Error(codes.InvalidArgument, "query is longer than 200 bytes")
	}
	loc, err := time.LoadLocation(r.timeZone)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "seller time zone %q: %v", r.timeZone, err)
	}
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc).UTC() }
	f := sales.LineFilter{
		Filter: r.filter, Query: strings.TrimSpace(req.GetQuery()), Claims: claims,
		From: day(r.period.Start), To: day(r.period.End.AddDate(0, 0, 1)),
	}
	if req.GetAccountId() != "" {
		id, err := parseID("account_id", "account", req.GetAccountId())
		if err != nil {
			return nil, err
		}
		// Another seller's account is simply not found.
		if _, err := s.Store.GetAccount(ctx, r.filter.SellerID, id); err != nil {
			return nil, storeError(err, "account \""+req.GetAccountId()+"\" not found")
		}
		f.AccountID = id
	}
	for _, st := range req.GetStatuses() {
		name, known := commercev1.OrderStatus_name[int32(st)]
		if !known || st == commercev1.OrderStatus_ORDER_STATUS_UNSPECIFIED {
			return nil, status.Errorf(codes.InvalidArgument, "statuses: %v is not an order status", st)
		}
		f.Statuses = append(f.Statuses, strings.TrimPrefix(name, "ORDER_STATUS_"))
	}
	rows, next, total, err := s.Querier.OrderLines(ctx, f, size, req.GetPageToken())
	var inputErr *sales.InputError
	if errors.As(err, &inputErr) {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if err != nil {
		return nil, salesError(err)
	}
	resp := &salesv1.ListOrderLinesResponse{NextPageToken: next, TotalCount: total, TimeZone: r.timeZone, CurrencyCode: "KRW"}
	for i, l := range rows {
		if i == 0 {
			resp.CurrencyCode = l.Currency
		}
		m := func(v int64) *commercev1.Money { return &commercev1.Money{CurrencyCode: l.Currency, MinorUnits: v} }
		row := &salesv1.OrderLineRow{
			Platform: store.ParsePlatform(l.Platform), AccountId: formatID(l.AccountID),
			OrderSourceId: l.OrderSourceID, LineSourceId: l.SourceID,
			ProductSourceId: l.ProductSourceID, ProductName: l.ProductName,
			OptionSourceId: l.OptionSourceID, OptionName: l.OptionName,
			Quantity:  l.Quantity,
			Status:    commercev1.OrderStatus(commercev1.OrderStatus_value["ORDER_STATUS_"+l.Status]),
			RawStatus: l.RawStatus, PaymentDate: l.PaymentDate,
			Gross: m(l.Gross), Discount: m(l.Discount), Paid: m(l.Paid), Refunded: m(l.Refunded),
			CancelledUnits: l.CancelledUnits, ReturnedUnits: l.ReturnedUnits, ExchangedUnits: l.ExchangedUnits,
			ClaimOpen: l.ClaimOpen,
		}
		if l.OrderedAt != nil {
			row.OrderedAt = timestamppb.New(*l.OrderedAt)
			row.OrderDate = l.OrderedAt.In(loc).Format(time.DateOnly)
		}
		if l.PaidAt != nil {
			row.PaidAt = timestamppb.New(*l.PaidAt)
		}
		resp.Lines = append(resp.Lines, row)
	}
	return resp, nil
}
