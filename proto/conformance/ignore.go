package conformance

import (
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ignorePath ignores one field named by its full name, e.g.
// "hlog.commerce.v1.Order.updated_at". An unknown name panics the test
// binary early: a typo must not silently compare less.
func ignorePath(path string) cmp.Option {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(path))
	if err != nil {
		panic("conformance: unknown field to ignore " + path + ": " + err.Error())
	}
	return protocmp.IgnoreDescriptors(d)
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
