package collector_test

import (
	"testing"

	"hlog.dev/proto/conformance"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// TestConformance runs the shared collector conformance suite: a first run
// backfills 121 days, then the sandbox clock moves 3 and 9 days and the
// collector follows the changes, late claims and deliveries included.
func TestConformance(t *testing.T) {
	h := newHarness(t, options{})
	conformance.Run(t, conformance.Target{
		Platform:     commercev1.Platform_PLATFORM_SMARTSTORE,
		Client:       h.client,
		Credentials:  h.credentials(),
		Streams:      []string{"orders", "products", "categories"},
		Truth:        h.truth,
		Advance:      h.advance,
		BackfillFrom: h.backfillFrom(),
	})
}
