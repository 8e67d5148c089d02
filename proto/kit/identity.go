package kit

import (
	"context"
	"strings"

	"google.golang.org/grpc/metadata"
)

// SellerHeader is the gRPC metadata key that carries the seller a call acts
// for. Only trusted callers set it: the gateway, after it has authenticated
// the seller's session, and (later) the API-key interceptor. A browser's own
// headers never reach ingest under this name, because the gateway drops them.
const SellerHeader = "x-hlog-seller-id"

// WithSeller returns an outgoing context that acts for seller.
func WithSeller(ctx context.Context, seller string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, SellerHeader, seller)
}

// SellerFromIncoming returns the seller an incoming call acts for, or "" when
// the call carries none.
func SellerFromIncoming(ctx context.Context) string {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return ""
	}
	v := md.Get(SellerHeader)
	if len(v) != 1 {
		return ""
	}
	return strings.TrimSpace(v[0])
}
