package collector

import (
	"context"
	"encoding/json"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"hlog.dev/cafe24-svc/internal/cafe24api"
	"hlog.dev/cafe24-svc/internal/translate"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
)

// Catalogue streams are full refreshes: Cafe24 catalogues are small next to
// orders (a call reads 100 products with their variants), and a full read is
// the only way to see deletions.
const (
	streamProducts   = "products"
	streamCategories = "categories"
	streamCoupons    = "coupons"
)

// mallCurrency is the currency of shop_no 1, the only shop H-log reads:
// Cafe24 catalogue amounts carry no currency, and a Korean mall's default
// shop sells in won (other currencies live in other shop_no, cafe24.md §4).
const mallCurrency = "KRW"

// catalogueCursor is the products stream's cursor:
//
//	{"v":1,"since_product_no":1234}
//
// since_product_no > 0 is where an interrupted run stopped; the next run
// resumes after it. 0 means the last run read the whole catalogue, so the
// next one starts over. Categories and coupons checkpoint {"v":1} at the end.
type catalogueCursor struct {
	V              int   `json:"v"`
	SinceProductNo int64 `json:"since_product_no,omitempty"`
}

func decodeCatalogueCursor(stream string, b []byte) (catalogueCursor, error) {
	var c catalogueCursor
	if len(b) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(b, &c); err != nil || c.V != cursorVersion || c.SinceProductNo < 0 {
		return c, status.Errorf(codes.InvalidArgument, "%s cursor %q is not this collector's", stream, b)
	}
	return c, nil
}

func (r *run) catalogueCheckpoint(stream string, c catalogueCursor) error {
	c.V = cursorVersion
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encoding the %s cursor: %w", stream, err)
	}
	return r.stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Checkpoint{
		Checkpoint: &collectorv1.Checkpoint{Stream: stream, Cursor: b},
	}})
}

// collectProducts pages the catalogue by since_product_no (cafe24.md §5:
// offset stops at 5000), one batch and one checkpoint per page.
func (r *run) collectProducts(ctx context.Context, sr *collectorv1.StreamRequest) error {
	cur, err := decodeCatalogueCursor(streamProducts, sr.Cursor)
	if err != nil {
		return err
	}
	r.begin(streamProducts)
	since := cur.SinceProductNo
	for {
		var page []cafe24api.Product
		err := r.sess.call(ctx, func(tok string) error {
			var err error
			page, err = r.mall.ListProducts(ctx, tok, since, cafe24api.MaxProductsLimit)
			return err
		})
		if err != nil {
			return err
		}
		batch := &collectorv1.RecordBatch{Stream: streamProducts}
		for i := range page {
			p, opts, err := translate.Product(&page[i], mallCurrency)
			if err != nil {
				return status.Error(codes.Internal, err.Error())
			}
			batch.Products = append(batch.Products, p)
			batch.ProductOptions = append(batch.ProductOptions, opts...)
			if page[i].ProductNo <= since {
				return status.Errorf(codes.Internal, "Cafe24 returned product %d after since_product_no %d", page[i].ProductNo, since)
			}
			since = page[i].ProductNo
		}
		if len(page) > 0 {
			if err := r.send(batch, int64(len(page))); err != nil {
				return err
			}
		}
		if len(page) < cafe24api.MaxProductsLimit {
			return r.catalogueCheckpoint(streamProducts, catalogueCursor{})
		}
		if err := r.catalogueCheckpoint(streamProducts, catalogueCursor{SinceProductNo: since}); err != nil {
			return err
		}
		if err := r.progress(fmt.Sprintf("products up to product_no %d", since), 0); err != nil {
			return err
		}
	}
}

// collectCategories reads the whole category tree.
func (r *run) collectCategories(ctx context.Context, sr *collectorv1.StreamRequest) error {
	if _, err := decodeCatalogueCursor(streamCategories, sr.Cursor); err != nil {
		return err
	}
	r.begin(streamCategories)
	limit := cafe24api.MaxCategoriesLimit
	for offset := 0; ; offset += limit {
		if offset > cafe24api.MaxCategoryOffset {
			return status.Errorf(codes.Internal, "more than %d categories: too many to page through", cafe24api.MaxCategoryOffset)
		}
		var page []cafe24api.Category
		err := r.sess.call(ctx, func(tok string) error {
			var err error
			page, err = r.mall.ListCategories(ctx, tok, limit, offset)
			return err
		})
		if err != nil {
			return err
		}
		batch := &collectorv1.RecordBatch{Stream: streamCategories}
		for i := range page {
			c, err := translate.Category(&page[i])
			if err != nil {
				return status.Error(codes.Internal, err.Error())
			}
			batch.Categories = append(batch.Categories, c)
		}
		if len(page) > 0 {
			if err := r.send(batch, int64(len(page))); err != nil {
				return err
			}
		}
		if len(page) < limit {
			return r.catalogueCheckpoint(streamCategories, catalogueCursor{})
		}
	}
}

// collectCoupons reads every coupon, deleted ones included.
func (r *run) collectCoupons(ctx context.Context, sr *collectorv1.StreamRequest) error {
	if _, err := decodeCatalogueCursor(streamCoupons, sr.Cursor); err != nil {
		return err
	}
	r.begin(streamCoupons)
	limit := cafe24api.MaxCouponsLimit
	for offset := 0; ; offset += limit {
		if offset > cafe24api.MaxCouponOffset {
			return status.Errorf(codes.Internal, "more than %d coupons: too many to page through", cafe24api.MaxCouponOffset)
		}
		var page []cafe24api.Coupon
		err := r.sess.call(ctx, func(tok string) error {
			var err error
			page, err = r.mall.ListCoupons(ctx, tok, limit, offset)
			return err
		})
		if err != nil {
			return err
		}
		batch := &collectorv1.RecordBatch{Stream: streamCoupons}
		for i := range page {
			c, err := translate.Coupon(&page[i], mallCurrency)
			if err != nil {
				return status.Error(codes.Internal, err.Error())
			}
			batch.Coupons = append(batch.Coupons, c)
		}
		if len(page) > 0 {
			if err := r.send(batch, int64(len(page))); err != nil {
				return err
			}
		}
		if len(page) < limit {
			return r.catalogueCheckpoint(streamCoupons, catalogueCursor{})
		}
	}
}
