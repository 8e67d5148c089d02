package cafe24ids

import (
	"regexp"
	"testing"
	"time"

	"hlog.dev/proto/synth"
)

var _ synth.IDFormat = Format{}

func TestFormatsMatchCafe24Shapes(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	f := Format{}
	placed := time.Date(2024, 1, 15, 0, 30, 0, 0, seoul)
	cases := []struct{ got, pattern string }{
		{f.OrderID(placed, 42), `^20240115-0000042$`},
		{f.LineID(f.OrderID(placed, 42), 1), `^20240115-0000042-01$`},
		{f.ProductID(123), `^123$`},
		{f.ProductCode(501), `^P00000DX$`},
		{f.ProductCode(78_364_164_095), `^P[A-Z0-9]{7}$`},
		{f.OptionID("501", "P00000DX", 11), `^P00000DX000B$`},
		{f.CategoryID(1), `^24$`},
		{f.CouponID(3), `^[0-9]{19}$`},
		{f.ClaimID(time.Date(2019, 6, 10, 9, 0, 0, 0, seoul), 1), `^C20190610-0000001$`},
		{f.BuyerID(7), `^member00007$`},
	}
	for _, c := range cases {
		if !regexp.MustCompile(c.pattern).MatchString(c.got) {
			t.Errorf("%q does not match %s", c.got, c.pattern)
		}
	}
}

func TestGeneratedStoreUsesCafe24IDs(t *testing.T) {
	s, err := synth.Generate(synth.Config{Seed: 1, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC), IDs: Format{}})
	if err != nil {
		t.Fatal(err)
	}
	order := regexp.MustCompile(`^\d{8}-\d{7}$`)
	line := regexp.MustCompile(`^\d{8}-\d{7}-\d{2}$`)
	variant := regexp.MustCompile(`^P[A-Z0-9]{7}[A-Z0-9]{4}$`)
	for _, o := range s.Orders {
		if !order.MatchString(o.SourceId) {
			t.Fatalf("order id %q", o.SourceId)
		}
	}
	for _, l := range s.Lines {
		if !line.MatchString(l.SourceId) || !variant.MatchString(l.OptionSourceId) {
			t.Fatalf("line %q option %q", l.SourceId, l.OptionSourceId)
		}
	}
}
