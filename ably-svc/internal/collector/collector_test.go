package collector_test

import (
	"testing"

	"hlog.dev/proto/conformance"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// TestConformance runs the shared collector conformance suite against the
// sandbox site with a real headless Chromium.
func TestConformance(t *testing.T) {
	h := newHarness(t, options{})
	conformance.Run(t, conformance.Target{
		Platform:     commercev1.Platform_PLATFORM_ABLY,
		Client:       h.client,
		Credentials:  h.credentials(password),
		Streams:      []string{"orders", "products"},
		Truth:        h.truth,
		Advance:      h.advance,
		BackfillFrom: h.backfillFrom(),
	})
	st := h.state()
	t.Logf("sign-ins %d, login attempts %d, data calls %d", st.SignIns, st.LoginAttempts, st.DataCalls)
}
