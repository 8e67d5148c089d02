package collector

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"hlog.dev/ably-svc/internal/sellersite"
)

// Messages a seller can act on.
const (
	msgWrongPassword = "Ably did not accept the e-mail or password (%s). Fix the password in H-log; the collector will not try again with this one, so that Ably does not lock the account after %d failures"
	msgLocked        = "Ably locked the seller account after repeated wrong passwords (%s). Unlock it on the Ably seller site (비밀번호 찾기), then reconnect Ably in H-log"
	lockoutAfter     = 5 // Ably sandbox; the real threshold is not public
)

// signInError turns the site's rejection into the status a seller acts on.
func signInError(e *sellersite.SignInError) error {
	if e.Locked {
		return status.Errorf(codes.FailedPrecondition, msgLocked, e.Message)
	}
	return status.Errorf(codes.FailedPrecondition, msgWrongPassword, e.Message, lockoutAfter)
}

// unavailable is a transient failure of the site.
type unavailable struct{ msg string }

func (u *unavailable) Error() string { return u.msg }

// toStatus turns an error into a gRPC status (collector.proto).
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var u *unavailable
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "collect cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.Unavailable, "the Ably seller site did not answer in time: "+err.Error())
	case errors.As(err, &u):
		return status.Error(codes.Unavailable, u.msg)
	}
	return status.Error(codes.Unavailable, fmt.Sprintf("driving the Ably seller site: %v", err))
}
