package api

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"

	"hlog.dev/ingest-svc/internal/store"
	"hlog.dev/ingest-svc/internal/syncrun"
)

// Sync serves SyncService.
type Sync struct {
	ingestv1.UnimplementedSyncServiceServer
	Store  *store.Store
	Runner *syncrun.Runner
	// WatchPoll is how often WatchSyncRun re-reads a run besides this
	// process's change notifications (runs executed by another replica);
	// 0 means 1 second.
	WatchPoll time.Duration
	// Stopping is closed when the server shuts down: watches end then, so
	// graceful shutdown does not wait for runs that will not finish here.
	Stopping <-chan struct{}
}

// TriggerSync queues a run of one account, or returns its active run.
func (s *Sync) TriggerSync(ctx context.Context, req *ingestv1.TriggerSyncRequest) (*ingestv1.TriggerSyncResponse, error) {
	seller, err := sellerOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseID("account_id", "account", req.GetAccountId())
	if err != nil {
		return nil, err
	}
	if err := syncrun.CheckStreams(req.GetStreams()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	run, err := s.Runner.Enqueue(ctx, seller, id, store.TriggerManual, dedupe(req.GetStreams()))
	if err != nil {
		return nil, storeError(err, "account \""+req.GetAccountId()+"\" not found")
	}
	return &ingestv1.TriggerSyncResponse{Run: runProto(run)}, nil
}

// GetSyncRun returns one run.
func (s *Sync) GetSyncRun(ctx context.Context, req *ingestv1.GetSyncRunRequest) (*ingestv1.GetSyncRunResponse, error) {
	seller, err := sellerOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseID("run_id", "sync run", req.GetRunId())
	if err != nil {
		return nil, err
	}
	run, err := s.Store.GetRun(ctx, seller, id)
	if err != nil {
		return nil, storeError(err, "sync run \""+req.GetRunId()+"\" not found")
	}
	return &ingestv1.GetSyncRunResponse{Run: runProto(run)}, nil
}

// ListSyncRuns lists runs newest first, a page at a time.
func (s *Sync) ListSyncRuns(ctx context.Context, req *ingestv1.ListSyncRunsRequest) (*ingestv1.ListSyncRunsResponse, error) {
	seller, err := sellerOf(ctx)
	if err != nil {
		return nil, err
	}
	var accountID uint64
	if req.GetAccountId() != "" {
		if accountID, err = parseID("account_id", "account", req.GetAccountId()); err != nil {
			return nil, err
		}
		if _, err := s.Store.GetAccount(ctx, seller, accountID); err != nil {
			return nil, storeError(err, "account \""+req.GetAccountId()+"\" not found")
		}
	}
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, status.Error(codes.InvalidArgument, "page_size must be 0 (default 20) to 100")
	case size == 0:
		size = 20
	case size > 100:
		size = 100
	}
	before, err := decodePageToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	runs, err := s.Store.ListRuns(ctx, seller, accountID, before, size+1)
	if err != nil {
		return nil, storeError(err, "")
	}
	resp := &ingestv1.ListSyncRunsResponse{}
	if len(runs) > size {
		runs = runs[:size]
		resp.NextPageToken = encodePageToken(runs[size-1].RunID)
	}
	for _, r := range runs {
		resp.Runs = append(resp.Runs, runProto(r))
	}
	return resp, nil
}

// WatchSyncRun streams the run each time it changes until it is final.
func (s *Sync) WatchSyncRun(req *ingestv1.WatchSyncRunRequest, stream ingestv1.SyncService_WatchSyncRunServer) error {
	ctx := stream.Context()
	seller, err := sellerOf(ctx)
	if err != nil {
		return err
	}
	id, err := parseID("run_id", "sync run", req.GetRunId())
	if err != nil {
		return err
	}
	poll := s.WatchPoll
	if poll <= 0 {
		poll = time.Second
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	var last *ingestv1.SyncRun
	for {
		// Take the notification channel before reading, so a change between
		// the read and the wait is not missed.
		changed := s.Runner.Changes()
		run, err := s.Store.GetRun(ctx, seller, id)
		if err != nil {
			if last != nil && errors.Is(err, store.ErrNotFound) {
				return status.Errorf(codes.NotFound, "sync run %q was removed with its account", req.GetRunId())
			}
			return storeError(err, "sync run \""+req.GetRunId()+"\" not found")
		}
		p := runProto(run)
		if !proto.Equal(p, last) {
			if err := stream.Send(&ingestv1.WatchSyncRunResponse{Run: p}); err != nil {
				return err
			}
			last = p
		}
		if run.Final() {
			return nil
		}
		select {
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-s.Stopping:
			return status.Error(codes.Unavailable, "server shutting down; watch the run again")
		case <-changed:
		case <-ticker.C:
		}
	}
}

const pageTokenPrefix = "runs-before:"

func encodePageToken(runID uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(pageTokenPrefix + strconv.FormatUint(runID, 10)))
}

func decodePageToken(tok string) (uint64, error) {
	if tok == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(b), pageTokenPrefix); ok {
			if id, err := strconv.ParseUint(rest, 10, 64); err == nil && id > 0 {
				return id, nil
			}
		}
	}
	return 0, status.Error(codes.InvalidArgument, "page_token is not one this service returned")
}

func dedupe(names []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

var runStates = map[string]ingestv1.SyncRunState{
	store.RunQueued:    ingestv1.SyncRunState_SYNC_RUN_STATE_QUEUED,
	store.RunRunning:   ingestv1.SyncRunState_SYNC_RUN_STATE_RUNNING,
	store.RunSucceeded: ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED,
	store.RunRetrying:  ingestv1.SyncRunState_SYNC_RUN_STATE_RETRYING,
	store.RunFailed:    ingestv1.SyncRunState_SYNC_RUN_STATE_FAILED,
}

var runTriggers = map[string]ingestv1.SyncTrigger{
	store.TriggerManual:    ingestv1.SyncTrigger_SYNC_TRIGGER_MANUAL,
	store.TriggerScheduled: ingestv1.SyncTrigger_SYNC_TRIGGER_SCHEDULED,
	store.TriggerBackfill:  ingestv1.SyncTrigger_SYNC_TRIGGER_BACKFILL,
}

func runProto(r store.Run) *ingestv1.SyncRun {
	out := &ingestv1.SyncRun{
		RunId:     formatID(r.RunID),
		AccountId: formatID(r.AccountID),
		Platform:  r.Platform,
		State:     runStates[r.State],
		Trigger:   runTriggers[r.Trigger],
		QueuedAt:  timestamppb.New(r.QueuedAt),
		Attempt:   int32(r.Attempt),
	}
	if r.StartedAt != nil {
		out.StartedAt = timestamppb.New(*r.StartedAt)
	}
	if r.FinishedAt != nil {
		out.FinishedAt = timestamppb.New(*r.FinishedAt)
	}
	if r.NextAttemptAt != nil {
		out.NextAttemptAt = timestamppb.New(*r.NextAttemptAt)
	}
	for _, p := range r.Progress {
		out.Streams = append(out.Streams, &ingestv1.StreamProgress{
			Stream: p.Stream, RecordsLoaded: p.Loaded, RecordsEstimated: p.Estimated, Message: p.Message,
		})
	}
	if r.ErrorCode != "" {
		out.Error = &ingestv1.SyncError{Code: r.ErrorCode, Message: r.ErrorMessage, NeedsSeller: r.NeedsSeller}
	}
	return out
}
