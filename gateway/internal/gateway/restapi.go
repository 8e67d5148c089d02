package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	identityv1 "hlog.dev/proto/gen/hlog/identity/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
	salesv1 "hlog.dev/proto/gen/hlog/sales/v1"
)

// jsonMarshaler is the REST API's JSON. Field names are the proto names
// (snake_case), as in the OpenAPI document the gateway serves, which is
// generated with json_names_for_fields=false. Every field is written, even
// when empty, so the dashboard never has to guess a missing zero. int64
// values (money minor units, counts) are JSON strings, as protojson writes
// them. Unknown fields in a request body are an error, not silently dropped.
var jsonMarshaler = &runtime.JSONPb{
	MarshalOptions: protojson.MarshalOptions{
		UseProtoNames:   true,
		EmitUnpopulated: true,
	},
	UnmarshalOptions: protojson.UnmarshalOptions{
		DiscardUnknown: false,
	},
}

// forwardedHeader is the allow-list of request headers that reach ingest as
// gRPC metadata. Everything else stays at the gateway. Above all, no client
// header can become kit.SellerHeader through here: which seller a call acts
// for is decided by sessions.authenticate alone (grpc-gateway's default matcher would turn
// "Grpc-Metadata-X-Hlog-Seller-Id" into exactly that key).
func forwardedHeader(key string) (string, bool) {
	switch textproto.CanonicalMIMEHeaderKey(key) {
	case "X-Request-Id":
		return "x-request-id", true
	}
	return "", false
}

// dropMetadata keeps ingest's response metadata (headers and trailers) off
// the HTTP response: it is internal and of no use to a browser.
func dropMetadata(string) (string, bool) { return "", false }

// newRESTMux builds the grpc-gateway mux for the Sales, Account, Sync and
// API-key APIs, calling ingest over conn as the caller that
// sessions.authenticate put in each request's context.
func newRESTMux(conn grpc.ClientConnInterface, sess *sessions, log *slog.Logger, routeMetrics runtime.Middleware) (*runtime.ServeMux, error) {
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, jsonMarshaler),
		runtime.WithIncomingHeaderMatcher(forwardedHeader),
		runtime.WithOutgoingHeaderMatcher(dropMetadata),
		runtime.WithOutgoingTrailerMatcher(dropMetadata),
		runtime.WithMetadata(func(_ context.Context, r *http.Request) metadata.MD {
			c, ok := callerFrom(r.Context())
			if !ok {
				// Unreachable behind sessions.authenticate; without a
				// caller, ingest refuses the call.
				return nil
			}
			return sess.outgoing(c)
		}),
		runtime.WithErrorHandler(errorHandler(log)),
		runtime.WithRoutingErrorHandler(routingErrorHandler),
		runtime.WithMiddlewares(routeMetrics),
	)
	// HandlerClient registrations do not use this context: every request
	// carries its own.
	ctx := context.Background()
	if err := salesv1.RegisterSalesServiceHandlerClient(ctx, mux, salesv1.NewSalesServiceClient(conn)); err != nil {
		return nil, fmt.Errorf("registering sales api: %w", err)
	}
	if err := ingestv1.RegisterAccountServiceHandlerClient(ctx, mux, ingestv1.NewAccountServiceClient(conn)); err != nil {
		return nil, fmt.Errorf("registering account api: %w", err)
	}
	if err := ingestv1.RegisterSyncServiceHandlerClient(ctx, mux, ingestv1.NewSyncServiceClient(conn)); err != nil {
		return nil, fmt.Errorf("registering sync api: %w", err)
	}
	if err := identityv1.RegisterApiKeyServiceHandlerClient(ctx, mux, identityv1.NewApiKeyServiceClient(conn)); err != nil {
		return nil, fmt.Errorf("registering api key api: %w", err)
	}
	return mux, nil
}

// apiHandler wraps the REST mux with what every API response needs.
// Streams (WatchSyncRun) end when streamsDone does, which the gateway
// cancels as shutdown begins: http.Server.Shutdown waits for idle
// connections, and a watch is never idle, so it would hold every shutdown
// for the whole grace period. The client watches again elsewhere.
func apiHandler(mux http.Handler, streamsDone context.Context) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ":watch") {
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			stop := context.AfterFunc(streamsDone, cancel)
			defer stop()
			r = r.WithContext(ctx)
		}
		// grpc-gateway forwards Authorization to the backend whatever the
		// header matcher says. Identity is the gateway's decision, so a
		// client's credentials for ingest never pass through.
		if r.Header.Get("Authorization") != "" {
			r = r.Clone(r.Context())
			r.Header.Del("Authorization")
		}
		// Seller data: never stored by a shared cache or the browser.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(w, r)
	})
}

// errorHandler writes grpc-gateway's JSON error body {code, message,
// details} with the HTTP status of the gRPC code. A caller's mistake keeps
// ingest's message, which says what to fix. A fault on our side is logged in
// full and answered with a generic message, since its text can name internal
// addresses or queries.
func errorHandler(log *slog.Logger) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		// Routing errors (unknown path, wrong method) carry their own HTTP
		// status and a status error the default handler renders as is.
		var routing *runtime.HTTPStatusError
		if errors.As(err, &routing) {
			runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
			return
		}
		st := status.Convert(err)
		if public, fault := faultMessage(st.Code()); fault {
			method, _ := runtime.RPCMethod(ctx)
			log.Error("api call failed", "method", method, "path", r.URL.Path, "code", st.Code().String(), "err", st.Message())
			err = status.Error(st.Code(), public)
		}
		runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
	}
}

// routingErrorHandler answers a known path with the wrong method with 405,
// where grpc-gateway's default would say 501 (its UNIMPLEMENTED code).
func routingErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	if httpStatus == http.StatusMethodNotAllowed {
		runtime.HTTPError(ctx, mux, m, w, r, &runtime.HTTPStatusError{
			HTTPStatus: http.StatusMethodNotAllowed,
			Err:        status.Errorf(codes.Unimplemented, "method %s is not allowed on %s", r.Method, r.URL.Path),
		})
		return
	}
	runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, httpStatus)
}

// faultMessage returns the message shown for a server-side fault, and
// whether the code is one.
func faultMessage(code codes.Code) (string, bool) {
	switch code {
	case codes.Unavailable:
		return "the sales service is unavailable right now; try again shortly", true
	case codes.DeadlineExceeded:
		return "the sales service took too long to answer; try again shortly", true
	case codes.Internal, codes.Unknown, codes.DataLoss:
		return "internal error; it has been logged", true
	}
	return "", false
}
