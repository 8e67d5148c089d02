package e2e

import (
	"testing"

	"hlog.dev/proto/kit/proctest"
)

// commands are the services the stacks run, built from the Go workspace so
// the tests run the programs `make run` runs.
var commands = map[string]string{
	"cafe24-sandbox":     "hlog.dev/cafe24-svc/cmd/cafe24-sandbox",
	"cafe24-svc":         "hlog.dev/cafe24-svc/cmd/cafe24-svc",
	"smartstore-sandbox": "hlog.dev/smartstore-svc/cmd/smartstore-sandbox",
	"smartstore-svc":     "hlog.dev/smartstore-svc/cmd/smartstore-svc",
	"ably-sandbox":       "hlog.dev/ably-svc/cmd/ably-sandbox",
	"ably-svc":           "hlog.dev/ably-svc/cmd/ably-svc",
	"ingest-svc":         "hlog.dev/ingest-svc/cmd/ingest-svc",
	"gateway":            "hlog.dev/gateway/cmd/gateway",
}

// binary builds a service's command on first use and returns its path.
func binary(t testing.TB, name string) string {
	t.Helper()
	pkg, ok := commands[name]
	if !ok {
		t.Fatalf("no command %q", name)
	}
	return proctest.Build(t, pkg)
}

// start runs a service as its own process and waits until it serves; the
// test's cleanup stops it with SIGTERM and expects a clean exit.
func start(t testing.TB, name string, env []string, args ...string) *proctest.Proc {
	t.Helper()
	return proctest.Start(t, binary(t, name), env, args...)
}

// freeAddr returns a loopback address with a port free at the time of the call.
func freeAddr(t testing.TB) string {
	t.Helper()
	return proctest.FreeAddr(t)
}
