package gateway

import (
	"context"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	identityv1 "hlog.dev/proto/gen/hlog/identity/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
	salesv1 "hlog.dev/proto/gen/hlog/sales/v1"
)

// cannedBackend is a real gRPC server on loopback that implements our own
// Sales, Account and Sync contracts with canned answers, and records what
// each call received. It tests the gateway against the contract, not ingest.
type cannedBackend struct {
	addr   string
	health *health.Server

	mu    sync.Mutex
	calls []backendCall
	// Answers; an error set for a method wins over its response.
	summary      *salesv1.GetSummaryResponse
	timeSeries   *salesv1.GetTimeSeriesResponse // when timeSeriesBy has no answer
	timeSeriesBy map[salesv1.Granularity]*salesv1.GetTimeSeriesResponse
	accounts     []*ingestv1.Account
	runs         map[string][]*ingestv1.SyncRun // by account id, newest first
	watchStates  []ingestv1.SyncRunState        // WatchSyncRun sends the triggered run in each state
	errs         map[string]error               // by method name, e.g. "GetSummary"
	// orderLines, when set, answers ListOrderLines.
	orderLines func(*salesv1.ListOrderLinesRequest) *salesv1.ListOrderLinesResponse
	// watchHeld, when set, makes WatchSyncRun hold the stream open after
	// its states until the caller goes away, and receive once it does.
	watchHeld chan struct{}
}

type backendCall struct {
	method string
	md     metadata.MD
	req    proto.Message
}

func startBackend(t *testing.T) *cannedBackend {
	t.Helper()
	b := &cannedBackend{
		health: health.NewServer(),
		runs:   map[string][]*ingestv1.SyncRun{},
		errs:   map[string]error{},
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening for the canned backend: %v", err)
	}
	b.addr = lis.Addr().String()
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, b.health)
	salesv1.RegisterSalesServiceServer(srv, cannedSales{b: b})
	ingestv1.RegisterAccountServiceServer(srv, cannedAccounts{b: b})
	ingestv1.RegisterSyncServiceServer(srv, cannedSync{b: b})
	identityv1.RegisterSellerServiceServer(srv, cannedSellers{b: b})
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-served
	})
	return b
}

// record notes a call and returns the canned error for its method, if any.
func (b *cannedBackend) record(ctx context.Context, method string, req proto.Message) error {
	md, _ := metadata.FromIncomingContext(ctx)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, backendCall{method: method, md: md.Copy(), req: proto.Clone(req)})
	return b.errs[method]
}

func (b *cannedBackend) setErr(method string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errs[method] = err
}

// callsTo returns the recorded calls of one method, oldest first.
func (b *cannedBackend) callsTo(method string) []backendCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []backendCall
	for _, c := range b.calls {
		if c.method == method {
			out = append(out, c)
		}
	}
	return out
}

// anyCall reports whether some call of method received want.
func (b *cannedBackend) anyCall(method string, want proto.Message) bool {
	for _, c := range b.callsTo(method) {
		if proto.Equal(c.req, want) {
			return true
		}
	}
	return false
}

func (b *cannedBackend) lastCall(t *testing.T, method string) backendCall {
	t.Helper()
	calls := b.callsTo(method)
	if len(calls) == 0 {
		t.Fatalf("backend got no %s call", method)
	}
	return calls[len(calls)-1]
}

type cannedSales struct {
	salesv1.UnimplementedSalesServiceServer
	b *cannedBackend
}

func (s cannedSales) GetSummary(ctx context.Context, req *salesv1.GetSummaryRequest) (*salesv1.GetSummaryResponse, error) {
	if err := s.b.record(ctx, "GetSummary", req); err != nil {
		return nil, err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.b.summary, nil
}

func (s cannedSales) GetTimeSeries(ctx context.Context, req *salesv1.GetTimeSeriesRequest) (*salesv1.GetTimeSeriesResponse, error) {
	if err := s.b.record(ctx, "GetTimeSeries", req); err != nil {
		return nil, err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if resp, ok := s.b.timeSeriesBy[req.GetGranularity()]; ok {
		return resp, nil
	}
	return s.b.timeSeries, nil
}

func (s cannedSales) ListTopProducts(ctx context.Context, req *salesv1.ListTopProductsRequest) (*salesv1.ListTopProductsResponse, error) {
	if err := s.b.record(ctx, "ListTopProducts", req); err != nil {
		return nil, err
	}
	return &salesv1.ListTopProductsResponse{}, nil
}

func (s cannedSales) GetPlatformSplit(ctx context.Context, req *salesv1.GetPlatformSplitRequest) (*salesv1.GetPlatformSplitResponse, error) {
	if err := s.b.record(ctx, "GetPlatformSplit", req); err != nil {
		return nil, err
	}
	return &salesv1.GetPlatformSplitResponse{}, nil
}

func (s cannedSales) ListOrderLines(ctx context.Context, req *salesv1.ListOrderLinesRequest) (*salesv1.ListOrderLinesResponse, error) {
	if err := s.b.record(ctx, "ListOrderLines", req); err != nil {
		return nil, err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if s.b.orderLines != nil {
		return s.b.orderLines(req), nil
	}
	return &salesv1.ListOrderLinesResponse{}, nil
}

type cannedAccounts struct {
	ingestv1.UnimplementedAccountServiceServer
	b *cannedBackend
}

func (a cannedAccounts) AddAccount(ctx context.Context, req *ingestv1.AddAccountRequest) (*ingestv1.AddAccountResponse, error) {
	if err := a.b.record(ctx, "AddAccount", req); err != nil {
		return nil, err
	}
	return &ingestv1.AddAccountResponse{Account: &ingestv1.Account{AccountId: "new", Platform: req.GetPlatform()}}, nil
}

func (a cannedAccounts) ListAccounts(ctx context.Context, req *ingestv1.ListAccountsRequest) (*ingestv1.ListAccountsResponse, error) {
	if err := a.b.record(ctx, "ListAccounts", req); err != nil {
		return nil, err
	}
	a.b.mu.Lock()
	defer a.b.mu.Unlock()
	return &ingestv1.ListAccountsResponse{Accounts: a.b.accounts}, nil
}

func (a cannedAccounts) RemoveAccount(ctx context.Context, req *ingestv1.RemoveAccountRequest) (*ingestv1.RemoveAccountResponse, error) {
	if err := a.b.record(ctx, "RemoveAccount", req); err != nil {
		return nil, err
	}
	return &ingestv1.RemoveAccountResponse{}, nil
}

type cannedSync struct {
	ingestv1.UnimplementedSyncServiceServer
	b *cannedBackend
}

func (s cannedSync) TriggerSync(ctx context.Context, req *ingestv1.TriggerSyncRequest) (*ingestv1.TriggerSyncResponse, error) {
	if err := s.b.record(ctx, "TriggerSync", req); err != nil {
		return nil, err
	}
	return &ingestv1.TriggerSyncResponse{Run: triggeredRun(req.GetAccountId(), ingestv1.SyncRunState_SYNC_RUN_STATE_QUEUED)}, nil
}

func (s cannedSync) ListSyncRuns(ctx context.Context, req *ingestv1.ListSyncRunsRequest) (*ingestv1.ListSyncRunsResponse, error) {
	if err := s.b.record(ctx, "ListSyncRuns", req); err != nil {
		return nil, err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	runs := s.b.runs[req.GetAccountId()]
	if n := int(req.GetPageSize()); n > 0 && len(runs) > n {
		runs = runs[:n]
	}
	return &ingestv1.ListSyncRunsResponse{Runs: runs}, nil
}

func (s cannedSync) GetSyncRun(ctx context.Context, req *ingestv1.GetSyncRunRequest) (*ingestv1.GetSyncRunResponse, error) {
	if err := s.b.record(ctx, "GetSyncRun", req); err != nil {
		return nil, err
	}
	return &ingestv1.GetSyncRunResponse{Run: triggeredRun("acc-1", ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED)}, nil
}

func (s cannedSync) WatchSyncRun(req *ingestv1.WatchSyncRunRequest, stream grpc.ServerStreamingServer[ingestv1.WatchSyncRunResponse]) error {
	if err := s.b.record(stream.Context(), "WatchSyncRun", req); err != nil {
		return err
	}
	s.b.mu.Lock()
	states := append([]ingestv1.SyncRunState(nil), s.b.watchStates...)
	s.b.mu.Unlock()
	for _, st := range states {
		run := triggeredRun("acc-1", st)
		run.RunId = req.GetRunId()
		if err := stream.Send(&ingestv1.WatchSyncRunResponse{Run: run}); err != nil {
			return err
		}
		// Like ingest, the newest run of the account is now this one.
		s.b.mu.Lock()
		s.b.runs["acc-1"] = []*ingestv1.SyncRun{run}
		s.b.mu.Unlock()
	}
	s.b.mu.Lock()
	held := s.b.watchHeld
	s.b.mu.Unlock()
	if held != nil {
		<-stream.Context().Done()
		held <- struct{}{}
		return stream.Context().Err()
	}
	return nil
}

// triggeredRun is the run the canned backend starts for a manual sync.
func triggeredRun(accountID string, state ingestv1.SyncRunState) *ingestv1.SyncRun {
	return &ingestv1.SyncRun{
		RunId:     "run-" + accountID,
		AccountId: accountID,
		Platform:  commercev1.Platform_PLATFORM_CAFE24,
		State:     state,
		Trigger:   ingestv1.SyncTrigger_SYNC_TRIGGER_MANUAL,
		QueuedAt:  timestamppb.New(fixedTime),
		Attempt:   1,
	}
}

// The canned backend's sessions: two sellers, each with a CSRF token.
const (
	testServiceToken = "canned-service-token-0123456789abcdef"
	sessionOf1       = "session-of-1"
	csrfOf1          = "csrf-of-1"
	sessionOf2       = "session-of-2"
	csrfOf2          = "csrf-of-2"
)

type cannedSellers struct {
	identityv1.UnimplementedSellerServiceServer
	b *cannedBackend
}

func (s cannedSellers) ResolveSession(ctx context.Context, req *identityv1.ResolveSessionRequest) (*identityv1.ResolveSessionResponse, error) {
	if err := s.b.record(ctx, "ResolveSession", req); err != nil {
		return nil, err
	}
	expires := timestamppb.New(fixedTime.AddDate(100, 0, 0))
	switch req.GetSessionToken() {
	case sessionOf1:
		return &identityv1.ResolveSessionResponse{Seller: &identityv1.Seller{SellerId: "1", Email: "one@example.com"}, CsrfToken: csrfOf1, ExpiresAt: expires}, nil
	case sessionOf2:
		return &identityv1.ResolveSessionResponse{Seller: &identityv1.Seller{SellerId: "2", Email: "two@example.com"}, CsrfToken: csrfOf2, ExpiresAt: expires}, nil
	}
	return nil, status.Error(codes.Unauthenticated, "not signed in")
}
