package loader

import (
	"bytes"
	"testing"
	"time"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/synth"
)

// A typed row's LOAD DATA text must be exactly the generic rendering of its
// statement arguments: the bulk and upsert paths then write the same values,
// whatever the row holds (NULLs, escapes, claims, unpaid lines).
func TestTypedRowsRenderTheirArguments(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	s, err := synth.Generate(synth.Config{Seed: 5, Start: time.Date(2024, 1, 1, 0, 0, 0, 0, seoul), End: time.Date(2024, 2, 1, 0, 0, 0, 0, seoul), OrdersPerDay: 40})
	if err != nil {
		t.Fatal(err)
	}
	odd := &commercev1.OrderLine{SourceId: "odd\tline\\1", OrderSourceId: "o\n1", ProductSourceId: "p\r", ProductName: "tab\there, back\\slash, nul\x00",
		Quantity: 2, Claims: []*commercev1.Claim{{Type: commercev1.ClaimType_CLAIM_TYPE_CANCEL}}}
	tr := newTranslator(7, 9, seoul, bytes.Repeat([]byte("k"), 32))
	var rows []row
	for _, o := range append(s.Orders, &commercev1.Order{SourceId: "no-buyer\\no-times"}) {
		_, r, err := tr.orderRow(o)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	claims := 0
	for _, l := range append(s.Lines, odd) {
		_, r, cs, err := tr.lineRows(l)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
		for _, c := range cs {
			rows = append(rows, c)
			claims++
		}
	}
	if claims == 0 || len(rows) < 1000 {
		t.Fatalf("only %d rows and %d claims: the check would prove little", len(rows), claims)
	}
	nulls := 0
	for _, r := range rows {
		args := r.appendArgs(nil)
		var tbl table
		switch r.(type) {
		case *orderRow:
			tbl = ordersTable
		case *lineRow:
			tbl = linesTable
		case *claimRow:
			tbl = claimsTable
		}
		if len(args) != len(tbl.columns) {
			t.Fatalf("%T has %d values, table %s has %d columns", r, len(args), tbl.name, len(tbl.columns))
		}
		for _, a := range args {
			if a == nil {
				nulls++
			}
		}
		if got, want := string(r.appendText(nil)), string(values(args).appendText(nil)); got != want {
			t.Fatalf("%T renders\n%q\nbut its arguments render\n%q", r, got, want)
		}
	}
	if nulls == 0 {
		t.Fatal("no NULL among the rows: the check would miss NULL handling")
	}
}
