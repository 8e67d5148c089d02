package api

import (
	"context"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"

	"hlog.dev/ingest-svc/internal/credentials"
	"hlog.dev/ingest-svc/internal/store"
	"hlog.dev/ingest-svc/internal/syncrun"
)

// Accounts serves AccountService.
type Accounts struct {
	ingestv1.UnimplementedAccountServiceServer
	Store       *store.Store
	Credentials *credentials.Box
	Collectors  syncrun.Collectors
	Runner      *syncrun.Runner
	// DefaultTimeZone is given to sellers created by their first account.
	DefaultTimeZone string
	// Schedule, when set, gives each account's next scheduled sync.
	Schedule interface {
		NextSync(tz string, after time.Time) *time.Time
	}
}

// AddAccount checks the credentials with the platform's collector, stores
// them sealed and queues the account's backfill run.
func (s *Accounts) AddAccount(ctx context.Context, req *ingestv1.AddAccountRequest) (*ingestv1.AddAccountResponse, error) {
	seller, err := sellerOf(ctx)
	if err != nil {
		return nil, err
	}
	p := req.GetPlatform()
	if _, known := commercev1.Platform_name[int32(p)]; !known || p == commercev1.Platform_PLATFORM_UNSPECIFIED {
		return nil, status.Error(codes.InvalidArgument, "platform must be one of PLATFORM_CAFE24, PLATFORM_SMARTSTORE, PLATFORM_ABLY")
	}
	if err := credentials.CheckPlatform(p, req.GetCredentials()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if len(req.GetDisplayName()) > 255 {
		return nil, status.Error(codes.InvalidArgument, "display_name is longer than 255 bytes")
	}
	collector := s.Collectors[p]
	if collector == nil {
		return nil, status.Errorf(codes.Unavailable, "no collector is configured for %s", platformWord(p))
	}
	checked, err := collector.CheckCredentials(ctx, &collectorv1.CheckCredentialsRequest{Credentials: req.GetCredentials()})
	if err != nil {
		// The collector's code and message are meant for the seller
		// ("wrong password", "reconnect the mall"): pass them through.
		st := status.Convert(err)
		return nil, status.Error(st.Code(), st.Message())
	}
	ext := strings.TrimSpace(checked.GetExternalAccountId())
	if ext == "" || len(ext) > 191 {
		return nil, status.Errorf(codes.Internal, "the %s collector returned an unusable account id", platformWord(p))
	}
	creds := req.GetCredentials()
	if rotated := checked.GetRotatedCredentials(); rotated != nil {
		if err := credentials.CheckPlatform(p, rotated); err != nil {
			return nil, status.Errorf(codes.Internal, "the %s collector returned unusable rotated credentials: %v", platformWord(p), err)
		}
		creds = rotated // what we sent may already be dead
	}
	name := strings.TrimSpace(req.GetDisplayName())
	if name == "" {
		name = truncateBytes(checked.GetDisplayName(), 255)
	}
	if name == "" {
		name = ext
	}
	acct, _, err := s.Store.AddAccount(ctx, store.NewAccount{
		SellerID:          seller,
		Platform:          p,
		ExternalAccountID: ext,
		DisplayName:       name,
		DefaultTimeZone:   s.DefaultTimeZone,
		SealCredentials: func(accountID uint64) (store.Sealed, error) {
			return s.Credentials.Seal(seller, accountID, creds)
		},
	})
	if err != nil {
		return nil, storeError(err, "")
	}
	s.Runner.Notify() // the backfill run queued with the account
	return &ingestv1.AddAccountResponse{Account: s.withNext(ctx, seller, accountProto(acct))}, nil
}

// ListAccounts lists the seller's accounts.
func (s *Accounts) ListAccounts(ctx context.Context, _ *ingestv1.ListAccountsRequest) (*ingestv1.ListAccountsResponse, error) {
	seller, err := sellerOf(ctx)
	if err != nil {
		return nil, err
	}
	accts, err := s.Store.ListAccounts(ctx, seller)
	if err != nil {
		return nil, storeError(err, "")
	}
	resp := &ingestv1.ListAccountsResponse{}
	for _, a := range accts {
		resp.Accounts = append(resp.Accounts, s.withNext(ctx, seller, accountProto(a)))
	}
	return resp, nil
}

// RemoveAccount deletes an account with its credentials, runs and data.
func (s *Accounts) RemoveAccount(ctx context.Context, req *ingestv1.RemoveAccountRequest) (*ingestv1.RemoveAccountResponse, error) {
	seller, err := sellerOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseID("account_id", "account", req.GetAccountId())
	if err != nil {
		return nil, err
	}
	if err := s.Store.RemoveAccount(ctx, seller, id); err != nil {
		return nil, storeError(err, "account \""+req.GetAccountId()+"\" not found")
	}
	s.Runner.CancelAccount(seller, id)
	s.Runner.Notify()
	return &ingestv1.RemoveAccountResponse{}, nil
}

// withNext sets when the account's next scheduled sync starts: in the
// seller's time zone, for accounts that collection can run for.
func (s *Accounts) withNext(ctx context.Context, seller uint64, a *ingestv1.Account) *ingestv1.Account {
	if s.Schedule == nil || a.Status != ingestv1.AccountStatus_ACCOUNT_STATUS_ACTIVE {
		return a
	}
	tz, err := s.Store.SellerTimeZone(ctx, seller)
	if err != nil || tz == "" {
		tz = s.DefaultTimeZone
	}
	if next := s.Schedule.NextSync(tz, s.Store.Now()); next != nil {
		a.NextSyncAt = timestamppb.New(*next)
	}
	return a
}

// ReconnectAccount replaces an account's credentials once the collector
// accepts them for the same platform account, makes the account active
// again and queues a sync.
func (s *Accounts) ReconnectAccount(ctx context.Context, req *ingestv1.ReconnectAccountRequest) (*ingestv1.ReconnectAccountResponse, error) {
	seller, err := sellerOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseID("account_id", "account", req.GetAccountId())
	if err != nil {
		return nil, err
	}
	acct, err := s.Store.GetAccount(ctx, seller, id)
	if err != nil {
		return nil, storeError(err, "account \""+req.GetAccountId()+"\" not found")
	}
	p := acct.Platform
	if err := credentials.CheckPlatform(p, req.GetCredentials()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	collector := s.Collectors[p]
	if collector == nil {
		return nil, status.Errorf(codes.Unavailable, "no collector is configured for %s", platformWord(p))
	}
	checked, err := collector.CheckCredentials(ctx, &collectorv1.CheckCredentialsRequest{Credentials: req.GetCredentials()})
	if err != nil {
		st := status.Convert(err)
		return nil, status.Error(st.Code(), st.Message())
	}
	if ext := strings.TrimSpace(checked.GetExternalAccountId()); ext != acct.ExternalAccountID {
		return nil, status.Errorf(codes.FailedPrecondition,
			"these credentials are for %s account %q, not %q; add it as a new account instead", platformWord(p), ext, acct.ExternalAccountID)
	}
	creds := req.GetCredentials()
	if rotated := checked.GetRotatedCredentials(); rotated != nil {
		if err := credentials.CheckPlatform(p, rotated); err != nil {
			return nil, status.Errorf(codes.Internal, "the %s collector returned unusable rotated credentials: %v", platformWord(p), err)
		}
		creds = rotated
	}
	sealed, err := s.Credentials.Seal(seller, id, creds)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "sealing credentials: %v", err)
	}
	if err := s.Store.ReconnectAccount(ctx, seller, id, sealed); err != nil {
		return nil, storeError(err, "account \""+req.GetAccountId()+"\" not found")
	}
	if _, err := s.Runner.Enqueue(ctx, seller, id, store.TriggerManual, nil); err != nil {
		return nil, storeError(err, "account \""+req.GetAccountId()+"\" not found")
	}
	acct, err = s.Store.GetAccount(ctx, seller, id)
	if err != nil {
		return nil, storeError(err, "account \""+req.GetAccountId()+"\" not found")
	}
	return &ingestv1.ReconnectAccountResponse{Account: s.withNext(ctx, seller, accountProto(acct))}, nil
}

func accountProto(a store.Account) *ingestv1.Account {
	out := &ingestv1.Account{
		AccountId:         formatID(a.AccountID),
		Platform:          a.Platform,
		ExternalAccountId: a.ExternalAccountID,
		DisplayName:       a.DisplayName,
		Status:            ingestv1.AccountStatus_ACCOUNT_STATUS_ACTIVE,
		CreatedAt:         timestamppb.New(a.CreatedAt),
	}
	if a.Status == store.AccountNeedsSeller {
		out.Status = ingestv1.AccountStatus_ACCOUNT_STATUS_NEEDS_SELLER
		out.StatusMessage = a.StatusMessage
	}
	if a.LastSuccessAt != nil {
		out.LastSuccessAt = timestamppb.New(*a.LastSuccessAt)
	}
	return out
}

func platformWord(p commercev1.Platform) string { return strings.ToLower(store.PlatformName(p)) }

func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 { // do not cut a UTF-8 sequence
		n--
	}
	return s[:n]
}
