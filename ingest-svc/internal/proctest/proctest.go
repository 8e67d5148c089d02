// Package proctest runs ingest-svc and a private MariaDB as real processes
// for crash tests and benchmarks, on top of the shared harness
// (hlog.dev/proto/kit/proctest).
package proctest

import (
	"testing"

	"hlog.dev/proto/kit/proctest"
)

// Proc is a running ingest-svc and its gRPC address.
type Proc struct {
	*proctest.Proc
	Addr string
}

// Start runs ingest-svc with env (KEY=value) and args, on a free gRPC port
// (--grpc-addr is added) without metrics, and waits until it serves.
func Start(t testing.TB, env []string, args ...string) *Proc {
	t.Helper()
	addr := proctest.FreeAddr(t)
	args = append([]string{"--grpc-addr", addr, "--metrics-addr", ""}, args...)
	bin := proctest.Build(t, "hlog.dev/ingest-svc/cmd/ingest-svc")
	return &Proc{Proc: proctest.Start(t, bin, env, args...), Addr: addr}
}
