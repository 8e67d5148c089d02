package gateway

import (
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	salesv1 "hlog.dev/proto/gen/hlog/sales/v1"
)

// Exports: GET /export/{table}?format=csv|xlsx&lang=ko|en&<the REST
// query of that table>. The same request message as the REST route is
// filled from the same query parameters, so an export holds exactly the
// rows the dashboard shows, every page of them.
//
// Money is written as whole numbers of minor units (won for KRW), never
// formatted text, so a spreadsheet can sum it.

// maxExportRows bounds one export; a seller wanting more narrows the period.
const maxExportRows = 100_000

// cell is a string or a number.
type cell struct {
	text  string
	num   int64
	isNum bool
}

func txt(s string) cell { return cell{text: s} }
func num(n int64) cell  { return cell{num: n, isNum: true} }
func (c cell) String() string {
	if c.isNum {
		return strconv.FormatInt(c.num, 10)
	}
	return c.text
}

type column[T any] struct {
	ko, en string
	value  func(T) cell
}

func money(m *commercev1.Money) cell { return num(m.GetMinorUnits()) }

func platformName(p commercev1.Platform) string {
	return strings.ToLower(strings.TrimPrefix(p.String(), "PLATFORM_"))
}

func totalsColumns[T any](get func(T) *salesv1.Totals) []column[T] {
	return []column[T]{
		{"총매출", "gross", func(r T) cell { return money(get(r).GetGross()) }},
		{"할인", "discount", func(r T) cell { return money(get(r).GetDiscount()) }},
		{"결제금액", "paid", func(r T) cell { return money(get(r).GetPaid()) }},
		{"환불", "refunded", func(r T) cell { return money(get(r).GetRefunded()) }},
		{"순매출", "net", func(r T) cell { return money(get(r).GetNet()) }},
		{"주문수", "orders", func(r T) cell { return num(get(r).GetOrders()) }},
		{"수량", "units", func(r T) cell { return num(get(r).GetUnits()) }},
		{"구매자수", "buyers", func(r T) cell { return num(get(r).GetBuyers()) }},
		{"취소수량", "cancelled_units", func(r T) cell { return num(get(r).GetCancelledUnits()) }},
		{"반품수량", "returned_units", func(r T) cell { return num(get(r).GetReturnedUnits()) }},
		{"교환수량", "exchanged_units", func(r T) cell { return num(get(r).GetExchangedUnits()) }},
	}
}

var seriesColumns = append([]column[*salesv1.TimeSeriesPoint]{
	{"기간", "period", func(p *salesv1.TimeSeriesPoint) cell { return txt(p.GetLabel()) }},
	{"시작일", "start_date", func(p *salesv1.TimeSeriesPoint) cell { return txt(p.GetStartDate()) }},
	{"종료일", "end_date", func(p *salesv1.TimeSeriesPoint) cell { return txt(p.GetEndDate()) }},
}, totalsColumns(func(p *salesv1.TimeSeriesPoint) *salesv1.Totals { return p.GetTotals() })...)

var productColumns = append([]column[*salesv1.ProductSales]{
	{"플랫폼", "platform", func(p *salesv1.ProductSales) cell { return txt(platformName(p.GetPlatform())) }},
	{"계정", "account_id", func(p *salesv1.ProductSales) cell { return txt(p.GetAccountId()) }},
	{"상품코드", "product_id", func(p *salesv1.ProductSales) cell { return txt(p.GetProductSourceId()) }},
	{"상품명", "product_name", func(p *salesv1.ProductSales) cell { return txt(p.GetProductName()) }},
	{"옵션코드", "option_id", func(p *salesv1.ProductSales) cell { return txt(p.GetOptionSourceId()) }},
	{"옵션명", "option_name", func(p *salesv1.ProductSales) cell { return txt(p.GetOptionName()) }},
}, totalsColumns(func(p *salesv1.ProductSales) *salesv1.Totals { return p.GetTotals() })...)

var splitColumns = append([]column[*salesv1.PlatformSales]{
	{"플랫폼", "platform", func(p *salesv1.PlatformSales) cell { return txt(platformName(p.GetPlatform())) }},
	{"계정", "account_id", func(p *salesv1.PlatformSales) cell { return txt(p.GetAccountId()) }},
	{"계정명", "account_name", func(p *salesv1.PlatformSales) cell { return txt(p.GetAccountDisplayName()) }},
}, totalsColumns(func(p *salesv1.PlatformSales) *salesv1.Totals { return p.GetTotals() })...)

var lineColumns = []column[*salesv1.OrderLineRow]{
	{"플랫폼", "platform", func(l *salesv1.OrderLineRow) cell { return txt(platformName(l.GetPlatform())) }},
	{"계정", "account_id", func(l *salesv1.OrderLineRow) cell { return txt(l.GetAccountId()) }},
	{"주문번호", "order_id", func(l *salesv1.OrderLineRow) cell { return txt(l.GetOrderSourceId()) }},
	{"주문상품번호", "line_id", func(l *salesv1.OrderLineRow) cell { return txt(l.GetLineSourceId()) }},
	{"주문일", "order_date", func(l *salesv1.OrderLineRow) cell { return txt(l.GetOrderDate()) }},
	{"결제일", "payment_date", func(l *salesv1.OrderLineRow) cell { return txt(l.GetPaymentDate()) }},
	{"상품코드", "product_id", func(l *salesv1.OrderLineRow) cell { return txt(l.GetProductSourceId()) }},
	{"상품명", "product_name", func(l *salesv1.OrderLineRow) cell { return txt(l.GetProductName()) }},
	{"옵션명", "option_name", func(l *salesv1.OrderLineRow) cell { return txt(l.GetOptionName()) }},
	{"수량", "quantity", func(l *salesv1.OrderLineRow) cell { return num(int64(l.GetQuantity())) }},
	{"상태", "status", func(l *salesv1.OrderLineRow) cell {
		return txt(strings.ToLower(strings.TrimPrefix(l.GetStatus().String(), "ORDER_STATUS_")))
	}},
	{"플랫폼 상태", "raw_status", func(l *salesv1.OrderLineRow) cell { return txt(l.GetRawStatus()) }},
	{"총매출", "gross", func(l *salesv1.OrderLineRow) cell { return money(l.GetGross()) }},
	{"할인", "discount", func(l *salesv1.OrderLineRow) cell { return money(l.GetDiscount()) }},
	{"결제금액", "paid", func(l *salesv1.OrderLineRow) cell { return money(l.GetPaid()) }},
	{"환불", "refunded", func(l *salesv1.OrderLineRow) cell { return money(l.GetRefunded()) }},
	{"취소수량", "cancelled_units", func(l *salesv1.OrderLineRow) cell { return num(int64(l.GetCancelledUnits())) }},
	{"반품수량", "returned_units", func(l *salesv1.OrderLineRow) cell { return num(int64(l.GetReturnedUnits())) }},
	{"교환수량", "exchanged_units", func(l *salesv1.OrderLineRow) cell { return num(int64(l.GetExchangedUnits())) }},
}

func render[T any](cols []column[T], rows []T, lang string) [][]cell {
	out := make([][]cell, 0, len(rows)+1)
	head := make([]cell, len(cols))
	for i, c := range cols {
		head[i] = txt(c.ko)
		if lang == "en" {
			head[i] = txt(c.en)
		}
	}
	out = append(out, head)
	for _, r := range rows {
		line := make([]cell, len(cols))
		for i, c := range cols {
			line[i] = c.value(r)
		}
		out = append(out, line)
	}
	return out
}

type exporter struct {
	sales    salesv1.SalesServiceClient
	sessions *sessions
	log      *slog.Logger
}

// fill reads a request message from query parameters the way the REST
// routes do; format and lang are the export's own.
func fill(m proto.Message, q url.Values) error {
	q = cloneValues(q)
	q.Del("format")
	q.Del("lang")
	if err := runtime.PopulateQueryParameters(m, q, utilities.NewDoubleArray(nil)); err != nil {
		return status.Errorf(codes.InvalidArgument, "%v", err)
	}
	return nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func (e *exporter) rows(ctx context.Context, table string, q url.Values, lang string) ([][]cell, error) {
	switch table {
	case "timeseries":
		req := &salesv1.GetTimeSeriesRequest{}
		if err := fill(req, q); err != nil {
			return nil, err
		}
		resp, err := e.sales.GetTimeSeries(ctx, req)
		if err != nil {
			return nil, err
		}
		return render(seriesColumns, resp.GetPoints(), lang), nil
	case "top-products":
		req := &salesv1.ListTopProductsRequest{}
		if err := fill(req, q); err != nil {
			return nil, err
		}
		resp, err := e.sales.ListTopProducts(ctx, req)
		if err != nil {
			return nil, err
		}
		return render(productColumns, resp.GetProducts(), lang), nil
	case "platform-split":
		req := &salesv1.GetPlatformSplitRequest{}
		if err := fill(req, q); err != nil {
			return nil, err
		}
		resp, err := e.sales.GetPlatformSplit(ctx, req)
		if err != nil {
			return nil, err
		}
		return render(splitColumns, resp.GetRows(), lang), nil
	case "order-lines":
		req := &salesv1.ListOrderLinesRequest{}
		if err := fill(req, q); err != nil {
			return nil, err
		}
		req.PageSize, req.PageToken = 500, ""
		var lines []*salesv1.OrderLineRow
		for {
			resp, err := e.sales.ListOrderLines(ctx, req)
			if err != nil {
				return nil, err
			}
			lines = append(lines, resp.GetLines()...)
			if len(lines) > maxExportRows {
				return nil, status.Errorf(codes.FailedPrecondition, "more than %d order lines: export a shorter period", maxExportRows)
			}
			if resp.GetNextPageToken() == "" {
				break
			}
			req.PageToken = resp.GetNextPageToken()
		}
		return render(lineColumns, lines, lang), nil
	}
	return nil, status.Errorf(codes.NotFound, "no table %q to export (timeseries, top-products, platform-split, order-lines)", table)
}

func (e *exporter) serve(w http.ResponseWriter, r *http.Request) {
	c, ok := callerFrom(r.Context())
	if !ok {
		writeStatus(w, status.Error(codes.Unauthenticated, "not signed in"))
		return
	}
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "xlsx" {
		writeStatus(w, status.Errorf(codes.InvalidArgument, "format %q: want csv or xlsx", format))
		return
	}
	lang := q.Get("lang")
	table := r.PathValue("table")
	ctx := metadata.NewOutgoingContext(r.Context(), e.sessions.outgoing(c))
	rows, err := e.rows(ctx, table, q, lang)
	if err != nil {
		if _, fault := faultMessage(status.Code(err)); fault {
			e.log.Error("export failed", "table", table, "code", status.Code(err).String(), "err", status.Convert(err).Message())
		}
		writeStatus(w, err)
		return
	}
	name := "hlog-" + table
	if s, en := q.Get("start_date"), q.Get("end_date"); s != "" && en != "" {
		name += "-" + s + "_" + en
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, name))
		// A byte-order mark, so Excel reads the Korean as UTF-8.
		_, _ = w.Write([]byte("\uFEFF"))
		cw := csv.NewWriter(w)
		for _, row := range rows {
			rec := make([]string, len(row))
			for i, c := range row {
				rec[i] = csvSafe(c)
			}
			_ = cw.Write(rec)
		}
		cw.Flush()
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.xlsx"`, name))
	if err := writeXLSX(w, table, rows); err != nil {
		e.log.Warn("writing xlsx", "err", err.Error())
	}
}

// csvSafe keeps a text cell from being read as a formula by a spreadsheet
// (CSV injection): product names come from the platforms, not from us.
func csvSafe(c cell) string {
	s := c.String()
	if !c.isNum && s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
