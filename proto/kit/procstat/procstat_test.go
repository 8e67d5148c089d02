package procstat

import (
	"os"
	"testing"
)

func TestPeakRSSGrowsWithMemoryTouched(t *testing.T) {
	before, err := PeakRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if before <= 0 {
		t.Fatalf("PeakRSS = %d, want > 0", before)
	}
	// Touch 64 MiB so the high-water mark must rise past it.
	buf := make([]byte, 64<<20)
	for i := range buf {
		if i%4096 == 0 {
			buf[i] = 1
		}
	}
	after, err := PeakRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after < 64<<20 || after < before {
		t.Fatalf("PeakRSS after touching 64 MiB = %d (before %d)", after, before)
	}
	if buf[4096] != 1 {
		t.Fatal("unreachable")
	}
	if _, err := PeakRSS(-1); err == nil {
		t.Fatal("PeakRSS of a missing process returned no error")
	}
}
