package store

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// idGenerator makes ids for accounts and runs: milliseconds since the Unix
// epoch in the high bits, so newer ids sort later (runs list newest first by
// id), and 20 random bits below, so replicas minting ids in the same
// millisecond rarely collide (and the primary key catches it when they do).
// Within one process ids strictly increase even if the clock stalls.
type idGenerator struct {
	mu   sync.Mutex
	last uint64
}

func newIDGenerator() *idGenerator { return &idGenerator{} }

func (g *idGenerator) next(now time.Time) uint64 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	id := uint64(now.UnixMilli())<<20 | uint64(binary.BigEndian.Uint32(b[:])&(1<<20-1))
	g.mu.Lock()
	defer g.mu.Unlock()
	if id <= g.last {
		id = g.last + 1
	}
	g.last = id
	return id
}
