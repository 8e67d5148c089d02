// Package benchkit is what ingest-svc's process-level benchmarks and crash
// tests share: ingest-svc runs as its own process (internal/proctest)
// against a private MariaDB, fed by replay collectors served over loopback
// gRPC. Each benchmark has its own package under internal/benchmarks, so
// each gets the whole of go test's default timeout.
package benchkit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/synth"

	"hlog.dev/ingest-svc/internal/proctest"
	"hlog.dev/ingest-svc/internal/replay"
)

var Seoul = MustLoc("Asia/Seoul")

// MustLoc loads a time zone or panics.
func MustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// Secrets the ingest processes share: the buyer hash key must be the same
// for every process that loads the same data.
var (
	BuyerKey     = bytes.Repeat([]byte{9}, 32)
	ServiceToken = "bench-service-token-0123456789abcdef"
)

// IngestEnv is the environment of an ingest-svc process on dsn.
func IngestEnv(dsn string) []string {
	return []string{
		"HLOG_MYSQL_DSN=" + dsn,
		"HLOG_CREDENTIAL_KEY=" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)),
		"HLOG_CREDENTIAL_KEY_ID=bench-1",
		"HLOG_BUYER_HASH_KEY=" + base64.StdEncoding.EncodeToString(BuyerKey),
		"HLOG_SERVICE_TOKEN=" + ServiceToken,
	}
}

// StartIngest runs ingest-svc with only a Cafe24 collector, no cron.
func StartIngest(t testing.TB, dsn, collector string, args ...string) *proctest.Proc {
	t.Helper()
	return StartIngestEnv(t, dsn, collector, nil, args...)
}

// StartIngestEnv is StartIngest with extra environment (KEY=value).
func StartIngestEnv(t testing.TB, dsn, collector string, env []string, args ...string) *proctest.Proc {
	t.Helper()
	base := []string{"--collector-cafe24", collector, "--collector-smartstore", "", "--collector-ably", "",
		"--daily-schedule", "", "--intraday-schedule", ""}
	return proctest.Start(t, append(IngestEnv(dsn), env...), append(base, args...)...)
}

// ServeCollector serves c over loopback gRPC and returns its address.
func ServeCollector(t testing.TB, c collectorv1.CollectorServiceServer) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.MaxSendMsgSize(64 << 20))
	collectorv1.RegisterCollectorServiceServer(srv, c)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// Client calls ingest as the gateway does: service token and seller header.
type Client struct {
	Accounts ingestv1.AccountServiceClient
	Sync     ingestv1.SyncServiceClient
}

// DialIngest connects to an ingest-svc process.
func DialIngest(t testing.TB, addr string) Client {
	t.Helper()
	cc, err := kit.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return Client{Accounts: ingestv1.NewAccountServiceClient(cc), Sync: ingestv1.NewSyncServiceClient(cc)}
}

// As is a call context acting for seller, as the gateway calls.
func As(seller string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+ServiceToken, kit.SellerHeader, seller)
}

// Cafe24Creds are credentials of a (replayed) Cafe24 mall.
func Cafe24Creds(mall string) *collectorv1.Credentials {
	return &collectorv1.Credentials{Platform: &collectorv1.Credentials_Cafe24{Cafe24: &collectorv1.Cafe24Credentials{
		MallId: mall, AccessToken: "a", RefreshToken: "r",
	}}}
}

// Generate makes a synthetic store.
func Generate(t testing.TB, seed uint64, ordersPerDay float64, from, to time.Time) *synth.Store {
	t.Helper()
	s, err := synth.Generate(synth.Config{Seed: seed, OrdersPerDay: ordersPerDay, Start: from, End: to, Products: 120})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Scalar runs a one-number query.
func Scalar(t testing.TB, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n sql.NullInt64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n.Int64
}

// ReplayOf is a Cafe24 replay collector of s.
func ReplayOf(s *synth.Store, mall string, batch int) *replay.Collector {
	c := &replay.Collector{Platform: commercev1.Platform_PLATFORM_CAFE24, ExternalAccountID: mall, BatchSize: batch}
	c.SetStore(s)
	return c
}

// WaitRun polls the run until it is final (or the deadline passes) and
// calls each, if set, at every poll with the run.
func WaitRun(t testing.TB, c Client, seller, runID string, limit time.Duration, each func(*ingestv1.SyncRun)) *ingestv1.SyncRun {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		resp, err := c.Sync.GetSyncRun(As(seller), &ingestv1.GetSyncRunRequest{RunId: runID})
		if err == nil {
			if each != nil {
				each(resp.Run)
			}
			switch resp.Run.State {
			case ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED, ingestv1.SyncRunState_SYNC_RUN_STATE_FAILED:
				return resp.Run
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s not final after %s (last error %v)", runID, limit, err)
		}
		time.Sleep(50 * time.Millisecond) // polling a process, not synchronising goroutines
	}
}

// Bench prints one figure: BENCH ingest.<figure> <value> <unit> target <target>.
func Bench(figure string, value float64, unit, target string) {
	fmt.Printf("BENCH ingest.%s %s %s target %s\n", figure, Trim(value), unit, target)
}

// Trim formats a figure with sensible precision.
func Trim(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
