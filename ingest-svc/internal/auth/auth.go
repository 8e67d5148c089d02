// Package auth is ingest-svc's gRPC auth interceptor. Every call presents
// "authorization: Bearer <token>":
//
//   - the service token (shared with the gateway through a secret): the
//     caller is trusted, and x-hlog-seller-id, when set, names the seller it
//     acts for (the gateway sets it from the signed-in session);
//   - an API key (identity.KeyPrefix): internal teams, who may call
//     SalesService and the read-only SyncService methods only. A
//     seller-scoped key pins the seller (a different x-hlog-seller-id is
//     refused); an all-sellers key must name the seller in x-hlog-seller-id.
//
// Health and reflection stay open, so probes and grpcurl's listing work.
// Anything else is UNAUTHENTICATED or PERMISSION_DENIED.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"hlog.dev/proto/kit"

	"hlog.dev/ingest-svc/internal/identity"
)

// KeyChecker checks API keys; *identity.Service is one.
type KeyChecker interface {
	Authenticate(ctx context.Context, secret string) (identity.Key, error)
}

// Interceptor authenticates and authorises every call.
type Interceptor struct {
	serviceHash [32]byte
	keys        KeyChecker
}

// New returns an Interceptor. The service token must be long enough not to
// be guessed.
func New(serviceToken string, keys KeyChecker) (*Interceptor, error) {
	if len(serviceToken) < 32 {
		return nil, errors.New("the service token must be at least 32 characters")
	}
	return &Interceptor{serviceHash: sha256.Sum256([]byte(serviceToken)), keys: keys}, nil
}

// open methods need no credentials.
func open(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(method, "/grpc.reflection.v1.ServerReflection/") ||
		strings.HasPrefix(method, "/grpc.reflection.v1alpha.ServerReflection/")
}

// keyMethod says whether an API key may call method: the Sales API and the
// read-only Sync API.
func keyMethod(method string) bool {
	if strings.HasPrefix(method, "/hlog.sales.v1.SalesService/") {
		return true
	}
	switch method {
	case "/hlog.ingest.v1.SyncService/ListSyncRuns", "/hlog.ingest.v1.SyncService/GetSyncRun", "/hlog.ingest.v1.SyncService/WatchSyncRun":
		return true
	}
	return false
}

// authorize returns the context the call runs with, or why it may not run.
func (a *Interceptor) authorize(ctx context.Context, method string) (context.Context, error) {
	if open(method) {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	token, err := bearer(md)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(token, identity.KeyPrefix) {
		return a.apiKey(ctx, md, token, method)
	}
	// Hashing both sides gives equal lengths, so the comparison takes the
	// same time whatever was sent.
	sent := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(sent[:], a.serviceHash[:]) != 1 {
		return nil, status.Error(codes.Unauthenticated, "invalid credentials: send an API key as \"authorization: Bearer hlk_...\"")
	}
	return ctx, nil
}

func bearer(md metadata.MD) (string, error) {
	v := md.Get("authorization")
	if len(v) == 0 {
		return "", status.Error(codes.Unauthenticated, "no credentials: send an API key as \"authorization: Bearer hlk_...\"")
	}
	if len(v) > 1 {
		return "", status.Error(codes.Unauthenticated, "send one authorization header")
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(v[0]), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "bearer") || token == "" {
		return "", status.Error(codes.Unauthenticated, "authorization must be \"Bearer <API key>\"")
	}
	return token, nil
}

func (a *Interceptor) apiKey(ctx context.Context, md metadata.MD, token, method string) (context.Context, error) {
	key, err := a.keys.Authenticate(ctx, token)
	if err != nil {
		return nil, err
	}
	if !keyMethod(method) {
		return nil, status.Errorf(codes.PermissionDenied, "API keys may call SalesService and SyncService's List/Get/Watch only, not %s", method)
	}
	sent := md.Get(kit.SellerHeader)
	if len(sent) > 1 {
		return nil, status.Errorf(codes.PermissionDenied, "send one %s", kit.SellerHeader)
	}
	var seller string
	switch key.Scope {
	case identity.ScopeSeller:
		seller = strconv.FormatUint(key.SellerID, 10)
		if len(sent) == 1 && strings.TrimSpace(sent[0]) != seller {
			return nil, status.Errorf(codes.PermissionDenied, "this API key reaches one seller only; %s names another", kit.SellerHeader)
		}
	case identity.ScopeAll:
		if len(sent) == 0 || strings.TrimSpace(sent[0]) == "" {
			return nil, status.Errorf(codes.PermissionDenied, "an all-sellers API key must name the seller in %s", kit.SellerHeader)
		}
		seller = strings.TrimSpace(sent[0])
	default:
		return nil, status.Error(codes.PermissionDenied, "API key has an unknown scope")
	}
	md = md.Copy()
	md.Set(kit.SellerHeader, seller)
	return metadata.NewIncomingContext(ctx, md), nil
}

// Unary is the unary server interceptor.
func (a *Interceptor) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := a.authorize(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// Stream is the stream server interceptor.
func (a *Interceptor) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := a.authorize(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return handler(srv, &stream{ServerStream: ss, ctx: ctx})
}

type stream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *stream) Context() context.Context { return s.ctx }
