package collector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"hlog.dev/cafe24-svc/internal/cafe24api"
)

// Messages a seller can act on.
const (
	msgReconnect     = "Cafe24 refresh token is no longer valid: reconnect Cafe24 in H-log"
	msgTokenRejected = "Cafe24 rejected the access token: reconnect Cafe24 in H-log"
)

// errReconnect ends a run whose tokens cannot be renewed.
var errReconnect = status.Error(codes.FailedPrecondition, msgReconnect)

// defaultRetryDelay is suggested when Cafe24 rate-limits without saying for
// how long.
const defaultRetryDelay = time.Minute

// toStatus turns an error into the gRPC status the caller can act on
// (collector.proto: UNAUTHENTICATED/FAILED_PRECONDITION to reconnect,
// RESOURCE_EXHAUSTED with a delay, UNAVAILABLE for transient failures).
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	// A call that timed out on every attempt is the platform's failure, not
	// the run's: check for it before the run's own cancellation.
	var exhausted *cafe24api.RetriesExhaustedError
	if !errors.As(err, &exhausted) {
		switch {
		case errors.Is(err, context.Canceled):
			return status.Error(codes.Canceled, "collect cancelled")
		case errors.Is(err, context.DeadlineExceeded):
			return status.Error(codes.DeadlineExceeded, "collect ran out of time: "+err.Error())
		}
	}
	if exhausted != nil {
		if exhausted.RateLimited {
			delay := exhausted.RetryAfter
			if delay <= 0 {
				delay = defaultRetryDelay
			}
			st := status.New(codes.ResourceExhausted, "Cafe24 rate limit: "+err.Error())
			if withDelay, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)}); derr == nil {
				st = withDelay
			}
			return st.Err()
		}
		return status.Error(codes.Unavailable, "Cafe24 API unavailable: "+err.Error())
	}
	var api *cafe24api.APIError
	if errors.As(err, &api) {
		switch {
		case api.Status == http.StatusUnauthorized:
			return status.Error(codes.Unauthenticated, msgTokenRejected)
		case api.Status == http.StatusForbidden:
			// cafe24.md §3: a missing scope, a non-HTTPS call or an uninstalled app.
			return status.Error(codes.FailedPrecondition, fmt.Sprintf("Cafe24 refused access (%s): reconnect Cafe24 in H-log and grant every permission it asks for", api.Message))
		case api.Status == http.StatusBadRequest && strings.Contains(api.Message, "version"):
			return status.Error(codes.FailedPrecondition, "Cafe24 API version unavailable: update cafe24-svc --api-version to a version Cafe24 serves ("+api.Message+")")
		case api.Status >= 500:
			return status.Error(codes.Unavailable, "Cafe24 API unavailable: "+err.Error())
		}
		return status.Error(codes.Internal, "Cafe24 rejected a request from the collector: "+err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}
