package e2e

import (
	"net/http"
	"testing"

	"hlog.dev/proto/synth"
)

// TestEveryPlatformSyncsItsGroundTruth connects Smartstore and Ably the way
// `make run` does and checks each platform's totals over REST.
func TestEveryPlatformSyncsItsGroundTruth(t *testing.T) {
	s := startStack(t, sandboxClock, "smartstore", "ably")
	s.seedDemo(t)
	for p, truth := range s.truth {
		t.Run(p, func(t *testing.T) {
			want, err := synth.SalesTotals(truth.Orders, truth.Lines, truth.Location, synth.PaymentBasis, s.start, s.end)
			if err != nil {
				t.Fatal(err)
			}
			if want.Paid == 0 {
				t.Fatalf("ground truth has no sales in %s..%s", s.start, s.end)
			}
			var got struct {
				Totals totalsJSON `json:"totals"`
			}
			s.get(t, "/v1/sales/summary?start_date="+s.start+"&end_date="+s.end+"&platforms=PLATFORM_"+map[string]string{"smartstore": "SMARTSTORE", "ably": "ABLY"}[p], http.StatusOK, &got)
			if g := got.Totals.totals(t); g != want {
				t.Errorf("summary over REST\n got %+v\nwant %+v", g, want)
			}
		})
	}
}
