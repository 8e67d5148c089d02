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

func TestCPUTimeGrowsWithWork(t *testing.T) {
	before, err := CPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the kernel has charged at least 50 ms more: the loop ends
	// on the measured figure, so it cannot pass without it rising.
	x := 0
	for {
		for i := 0; i < 1e6; i++ {
			x += i
		}
		now, err := CPUTime(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now < before {
			t.Fatalf("CPU time went back from %v to %v", before, now)
		}
		if now >= before+0.05 {
			break
		}
	}
	_ = x
	if _, err := CPUTime(1 << 30); err == nil {
		t.Fatal("CPUTime of a process that does not exist succeeded")
	}
}
