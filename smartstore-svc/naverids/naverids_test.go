package naverids

import (
	"regexp"
	"testing"
	"time"
)

func TestIDsHaveNaverShapesAndNeverCollide(t *testing.T) {
	kst := time.FixedZone("KST", 9*60*60)
	f := Format{}
	sixteen := regexp.MustCompile(`^\d{16}$`)
	seen := map[string]bool{}
	for _, day := range []time.Time{time.Date(2026, 3, 1, 10, 0, 0, 0, kst), time.Date(2026, 3, 2, 0, 0, 1, 0, kst)} {
		for seq := 1; seq <= 5000; seq += 7 {
			o := f.OrderID(day, seq)
			ids := []string{o, f.ClaimID(day, seq)}
			for n := 1; n <= 3; n++ {
				ids = append(ids, f.LineID(o, n))
			}
			for _, id := range ids {
				if !sixteen.MatchString(id) || id[:8] != day.Format("20060102") {
					t.Fatalf("id %q: want 16 digits starting with the day", id)
				}
				if seen[id] {
					t.Fatalf("id %q twice", id)
				}
				seen[id] = true
			}
		}
	}
	if p, c, o := f.ProductID(7), f.ProductCode(7), f.OptionID(f.ProductID(7), f.ProductCode(7), 2); p != "8100000007" || c != "8200000007" || o != "90000000702" {
		t.Errorf("product %s, channel product %s, option %s", p, c, o)
	}
	if f.CategoryID(3) != "50000003" {
		t.Errorf("category %s", f.CategoryID(3))
	}
}
