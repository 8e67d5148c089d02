package collector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"hlog.dev/smartstore-svc/internal/naverapi"
)

// Messages a seller can act on.
const (
	msgIPNotAllowed = "Naver refused H-log's server address (GW.IP_NOT_ALLOWED): add H-log's outbound IP addresses to your application's allowed IPs in the Naver Commerce API Center, then sync again"
	msgAppRevoked   = "Naver no longer accepts this application (it was deleted, suspended or its secret reissued): check the application in the Naver Commerce API Center and reconnect Smartstore in H-log with its current client id and secret"
	msgBadSecret    = "Naver rejected the application's credentials: check the client id and client secret of your application in the Naver Commerce API Center and reconnect Smartstore in H-log"
	msgBadAccount   = "Naver does not know this seller account for the application, or the seller has not authorised it: check the Smartstore account id and reconnect Smartstore in H-log"
	msgTokenRefused = "Naver refused a freshly issued access token: reconnect Smartstore in H-log"
)

// toStatus turns an error into the gRPC status the caller can act on
// (collector.proto: FAILED_PRECONDITION/UNAUTHENTICATED when the seller must
// act, RESOURCE_EXHAUSTED with a delay for limits, UNAVAILABLE for transient
// platform failures).
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "collect cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "collect ran out of time: "+err.Error())
	case naverapi.IsIPNotAllowed(err):
		return status.Error(codes.FailedPrecondition, msgIPNotAllowed)
	}
	var tokErr *naverapi.TokenError
	if errors.As(err, &tokErr) {
		switch {
		case tokErr.Err.Status == http.StatusForbidden:
			return status.Error(codes.FailedPrecondition, msgAppRevoked)
		case hasInput(tokErr.Err, "account_id"):
			return status.Error(codes.FailedPrecondition, msgBadAccount)
		case hasInput(tokErr.Err, "timestamp"):
			return status.Error(codes.Unavailable, "Naver refused the token request's timestamp: the collector's clock is off by more than 5 minutes: "+tokErr.Err.Error())
		}
		return status.Error(codes.FailedPrecondition, msgBadSecret)
	}
	var exhausted *naverapi.RetriesExhaustedError
	if errors.As(err, &exhausted) {
		if exhausted.RateLimited {
			what := "Naver rate limit"
			if exhausted.Quota {
				what = "Naver API quota"
			}
			st := status.New(codes.ResourceExhausted, fmt.Sprintf("%s kept refusing calls: %v", what, err))
			delay := exhausted.RetryAfter
			if delay <= 0 {
				delay = time.Minute
			}
			if d, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)}); derr == nil {
				st = d
			}
			return st.Err()
		}
		return status.Error(codes.Unavailable, "Naver Commerce API unavailable: "+err.Error())
	}
	if naverapi.IsUnauthorized(err) {
		return status.Error(codes.Unauthenticated, msgTokenRefused)
	}
	var api *naverapi.APIError
	if errors.As(err, &api) {
		if api.Status == http.StatusForbidden {
			return status.Error(codes.FailedPrecondition, "Naver refused access ("+api.Error()+"): grant the application the order and product API groups in the Naver Commerce API Center")
		}
		if api.Status >= 500 {
			return status.Error(codes.Unavailable, "Naver Commerce API unavailable: "+err.Error())
		}
		return status.Error(codes.Internal, "Naver rejected a request from the collector: "+err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

func hasInput(e *naverapi.APIError, name string) bool {
	for _, in := range e.Inputs {
		if len(in) >= len(name) && in[:len(name)] == name {
			return true
		}
	}
	return false
}
