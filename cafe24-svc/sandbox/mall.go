package sandbox

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	"hlog.dev/proto/synth"
)

// MallConfig is one mall of the sandbox.
type MallConfig struct {
	ID   string
	Seed uint64
	// OrdersPerDay and Products size the store; zero means synth's defaults.
	OrdersPerDay float64
	Products     int
	// ItemPaymentAmountNull renders items' payment_amount as null, as Cafe24
	// does for malls without automatic discount calculation (cafe24.md §4).
	ItemPaymentAmountNull bool
}

// ParseMallSpec reads "id[:key=value...]", e.g. "demo:seed=42" or
// "shop2:seed=7:orders_per_day=50:products=40:item_payment_amount=null".
// Without a seed, the seed is derived from the id.
func ParseMallSpec(spec string) (MallConfig, error) {
	parts := strings.Split(strings.TrimSpace(spec), ":")
	mc := MallConfig{ID: parts[0]}
	if !mallIDPattern.MatchString(mc.ID) {
		return mc, fmt.Errorf("mall %q: id must be lower-case letters, digits and dashes", spec)
	}
	h := fnv.New64a()
	h.Write([]byte(mc.ID))
	mc.Seed = h.Sum64()
	for _, kv := range parts[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return mc, fmt.Errorf("mall %q: %q is not key=value", spec, kv)
		}
		var err error
		switch k {
		case "seed":
			mc.Seed, err = strconv.ParseUint(v, 10, 64)
		case "orders_per_day":
			mc.OrdersPerDay, err = strconv.ParseFloat(v, 64)
			if err == nil && (mc.OrdersPerDay <= 0 || mc.OrdersPerDay > 5000) {
				err = fmt.Errorf("want 0 < orders_per_day <= 5000")
			}
		case "products":
			mc.Products, err = strconv.Atoi(v)
			if err == nil && (mc.Products <= 0 || mc.Products > 10000) {
				err = fmt.Errorf("want 0 < products <= 10000")
			}
		case "item_payment_amount":
			switch v {
			case "null":
				mc.ItemPaymentAmountNull = true
			case "set":
			default:
				err = fmt.Errorf("want null or set")
			}
		default:
			err = fmt.Errorf("unknown option")
		}
		if err != nil {
			return mc, fmt.Errorf("mall %q: %s: %w", spec, k, err)
		}
	}
	return mc, nil
}

// mall is one configured mall: its store and its per-mall platform state.
type mall struct {
	cfg    MallConfig
	store  *synth.Store
	events []time.Time // every instant at which what the mall shows changes, ascending
	codes  map[string]string
	bucket *leakyBucket
	faults *faultQueue
	quota  *usageQuota

	mu       sync.Mutex
	cached   *view
	cacheKey int
}

func newMall(cfg MallConfig, store *synth.Store, real func() time.Time) *mall {
	m := &mall{
		cfg:    cfg,
		store:  store,
		bucket: newLeakyBucket(real),
		faults: &faultQueue{},
		quota:  newUsageQuota(real),
		codes:  map[string]string{},
	}
	for _, p := range store.Products {
		m.codes[p.SourceId] = p.Code
	}
	seen := map[time.Time]bool{}
	add := func(ts *timestamppb.Timestamp) {
		if ts != nil {
			seen[ts.AsTime()] = true
		}
	}
	for _, o := range store.Orders {
		add(o.OrderedAt)
		add(o.PaidAt)
	}
	for _, l := range store.Lines {
		for _, e := range store.LineEvents(l.SourceId) {
			seen[e.At.UTC()] = true
		}
		for _, c := range l.Claims {
			add(c.RequestedAt)
			add(c.CompletedAt)
		}
	}
	for t := range seen {
		m.events = append(m.events, t)
	}
	sort.Slice(m.events, func(i, j int) bool { return m.events[i].Before(m.events[j]) })
	return m
}

// viewAt returns what the mall shows at t. Views only change at event
// instants, so one view serves every t between two events.
func (m *mall) viewAt(t time.Time) *view {
	key := sort.Search(len(m.events), func(i int) bool { return m.events[i].After(t) })
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cached == nil || m.cacheKey != key {
		m.cached = newView(m, t)
		m.cacheKey = key
	}
	return m.cached
}

// Cafe24's leaky bucket (cafe24.md §2): 40 calls per mall, draining 2 a
// second by real elapsed time.
const (
	bucketCapacity = 40
	bucketDrain    = 2.0 // calls per second
)

type leakyBucket struct {
	mu    sync.Mutex
	level float64
	at    time.Time
	now   func() time.Time
}

func newLeakyBucket(now func() time.Time) *leakyBucket {
	return &leakyBucket{now: now, at: now()}
}

func (b *leakyBucket) drainLocked() {
	now := b.now()
	if el := now.Sub(b.at).Seconds(); el > 0 {
		b.level = max(0, b.level-el*bucketDrain)
	}
	b.at = now
}

// take counts one call. It reports the calls in the bucket afterwards and
// whether the call fits; a call that does not fit is not counted.
func (b *leakyBucket) take() (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drainLocked()
	if b.level+1 > bucketCapacity {
		return bucketCapacity, false
	}
	b.level++
	return ceil(b.level), true
}

// fill sets the bucket's level, as if other apps had called.
func (b *leakyBucket) fill(level float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drainLocked()
	b.level = min(max(level, 0), bucketCapacity)
}

func (b *leakyBucket) used() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drainLocked()
	return ceil(b.level)
}

func ceil(f float64) int {
	n := int(f)
	if float64(n) < f {
		n++
	}
	return n
}
