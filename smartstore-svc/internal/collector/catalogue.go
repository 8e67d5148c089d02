package collector

import (
	"context"
	"encoding/json"
	"fmt"

	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	"hlog.dev/smartstore-svc/internal/naverapi"
	"hlog.dev/smartstore-svc/internal/translate"
)

func (r *run) catalogueCheckpoint(stream string) error {
	b, err := json.Marshal(catalogueCursor{V: cursorVersion, RefreshedAt: r.svc.cfg.Clock.Now().UTC()})
	if err != nil {
		return fmt.Errorf("encoding the %s cursor: %w", stream, err)
	}
	return r.checkpoint(stream, b)
}

// collectCategories sends the category tree: one call.
func (r *run) collectCategories(ctx context.Context) error {
	r.current = streamCategories
	list, err := r.sess.Categories(ctx)
	if err != nil {
		return err
	}
	cats, err := translate.Categories(list)
	if err != nil {
		return fmt.Errorf("translating categories: %w", err)
	}
	if len(cats) > 0 {
		if err := r.send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Records{Records: &collectorv1.RecordBatch{Stream: streamCategories, Categories: cats}}}); err != nil {
			return err
		}
		r.done += int64(len(cats))
	}
	return r.catalogueCheckpoint(streamCategories)
}

// collectProducts pages through the products search (500 a page) and reads
// each origin product's option combinations, which the search does not
// carry (smartstore.md §5).
func (r *run) collectProducts(ctx context.Context) error {
	r.current = streamProducts
	for page := 1; ; page++ {
		p, err := r.sess.SearchProducts(ctx, page, naverapi.MaxProductPageSize)
		if err != nil {
			return err
		}
		batch := &collectorv1.RecordBatch{Stream: streamProducts}
		for _, c := range p.Contents {
			// The Smartstore channel: the one channel product H-log reads.
			if len(c.ChannelProducts) == 0 {
				continue
			}
			cp := c.ChannelProducts[0]
			detail, err := r.sess.OriginProduct(ctx, cp.OriginProductNo.String())
			if err != nil {
				return err
			}
			prod, opts, err := translate.Product(cp, detail)
			if err != nil {
				return fmt.Errorf("translating product: %w", err)
			}
			batch.Products = append(batch.Products, prod)
			batch.ProductOptions = append(batch.ProductOptions, opts...)
		}
		if len(batch.Products) > 0 {
			if err := r.send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Records{Records: batch}}); err != nil {
				return err
			}
			r.done += int64(len(batch.Products) + len(batch.ProductOptions))
		}
		if p.Last || len(p.Contents) == 0 || page >= p.TotalPages {
			break
		}
	}
	return r.catalogueCheckpoint(streamProducts)
}
