// Package api serves ingest-svc's gRPC APIs: AccountService, SyncService and
// SalesService. Every call acts for the seller named by the trusted
// kit.SellerHeader metadata, and every query is filtered by that seller.
package api

import (
	"context"
	"errors"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"hlog.dev/proto/kit"

	"hlog.dev/ingest-svc/internal/store"
)

// sellerOf returns the seller the call acts for, or UNAUTHENTICATED.
func sellerOf(ctx context.Context) (uint64, error) {
	v := kit.SellerFromIncoming(ctx)
	if v == "" {
		return 0, status.Errorf(codes.Unauthenticated, "no seller: calls must carry %s (set by the gateway after sign-in)", kit.SellerHeader)
	}
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil || id == 0 {
		return 0, status.Errorf(codes.Unauthenticated, "%s must be a positive decimal seller id", kit.SellerHeader)
	}
	return id, nil
}

// parseID reads an account or run id from a request. An id that cannot be
// one of ours is simply not found, like another seller's id.
func parseID(field, kind, v string) (uint64, error) {
	if v == "" {
		return 0, status.Errorf(codes.InvalidArgument, "%s is required", field)
	}
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil || id == 0 {
		return 0, status.Errorf(codes.NotFound, "%s %q not found", kind, v)
	}
	return id, nil
}

func formatID(id uint64) string { return strconv.FormatUint(id, 10) }

// storeError maps store errors to statuses; anything unexpected is INTERNAL,
// which the server harness logs.
func storeError(err error, notFound string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return status.Error(codes.NotFound, notFound)
	case errors.Is(err, store.ErrAlreadyExists):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "request timed out")
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Errorf(codes.Internal, "database error: %v", err)
}
