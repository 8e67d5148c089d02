package collector

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
	"hlog.dev/ably-svc/internal/translate"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

const streamProducts = "products"

// productsCursor marks a full refresh: the goods list has no change filter
// (ably.md lists none), and a seller's catalogue is a few pages.
var productsCursor = []byte(`{"v":1,"full_refresh":true}`)

// collectProducts reads every goods page and sends products with their
// options, then a checkpoint.
func (r *run) collectProducts(ctx context.Context) error {
	q := url.Values{"per_page": {strconv.Itoa(r.svc.cfg.PerPage)}}
	var products []*commercev1.Product
	var options []*commercev1.ProductOption
	add := func(g translate.Goods) error {
		p, opts, err := translate.Product(g)
		if err != nil {
			return err
		}
		products = append(products, p)
		options = append(options, opts...)
		return nil
	}
	if err := pages(ctx, r, "/seller/goods/", "goods", q, add); err != nil {
		return err
	}
	size := r.svc.cfg.BatchSize
	byProduct := map[string][]*commercev1.ProductOption{}
	for _, o := range options {
		byProduct[o.ProductSourceId] = append(byProduct[o.ProductSourceId], o)
	}
	for i := 0; i < len(products); i += size {
		batch := products[i:min(i+size, len(products))]
		var opts []*commercev1.ProductOption
		for _, p := range batch {
			opts = append(opts, byProduct[p.SourceId]...)
		}
		if err := r.stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Records{Records: &collectorv1.RecordBatch{
			Stream: streamProducts, Products: batch, ProductOptions: opts,
		}}}); err != nil {
			return err
		}
	}
	if err := r.stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Checkpoint{
		Checkpoint: &collectorv1.Checkpoint{Stream: streamProducts, Cursor: productsCursor},
	}}); err != nil {
		return err
	}
	return r.stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Progress{Progress: &collectorv1.Progress{
		Stream: streamProducts, RecordsDone: int64(len(products)), RecordsEstimated: int64(len(products)),
		Message: fmt.Sprintf("%d products, %d options", len(products), len(options)), ObservedAt: timestamppb.New(r.svc.cfg.Clock.Now()),
	}}})
}

func checkProductsCursor(b []byte) error {
	if len(b) == 0 || string(b) == string(productsCursor) {
		return nil
	}
	return status.Errorf(codes.InvalidArgument, "products cursor %q is not this collector's", b)
}
