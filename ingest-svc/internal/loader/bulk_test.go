package loader_test

import (
	"context"
	"testing"

	"hlog.dev/ingest-svc/internal/dbdump"
	"hlog.dev/ingest-svc/internal/replay"
)

// The bulk path (LOAD DATA) and the upsert path must write identical rows,
// and the bulk path must also be a no-op on replay.
func TestBulkAndUpsertPathsWriteTheSameRows(t *testing.T) {
	ctx := context.Background()
	s := generate(t, 11)
	dumps := map[string]map[string][]string{}
	for name, threshold := range map[string]int{"bulk": 1, "upsert": -1} {
		st, ld := openStore(t), newLoader(t)
		ld.BulkThreshold = threshold
		if err := replay.Load(ctx, st.DB(), ld, scope, s, 300); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if threshold > 0 && ld.BulkRefused() {
			t.Fatal("the server refused LOAD DATA LOCAL; the bulk path was not tested")
		}
		dumps[name] = dbdump.Tables(t, st.DB(), dbdump.DataTables...)
		if err := replay.Load(ctx, st.DB(), ld, scope, s, 41); err != nil {
			t.Fatalf("%s again: %v", name, err)
		}
		if diff := dbdump.Diff(dumps[name], dbdump.Tables(t, st.DB(), dbdump.DataTables...)); diff != "" {
			t.Fatalf("%s: reloading changed rows:\n%s", name, diff)
		}
	}
	if len(dumps["bulk"]["order_lines"]) == 0 {
		t.Fatal("nothing loaded")
	}
	if diff := dbdump.Diff(dumps["upsert"], dumps["bulk"]); diff != "" {
		t.Fatalf("bulk rows differ from upserted rows:\n%s", diff)
	}
}
