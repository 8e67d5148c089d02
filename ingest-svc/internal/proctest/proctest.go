// Package proctest runs ingest-svc as a real process for crash tests and
// benchmarks: built once per test binary, started with its flags and
// environment, watched for its "serving" log line, stopped with SIGTERM or
// killed with SIGKILL, and measured through /proc.
package proctest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"hlog.dev/proto/kit/procstat"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/ingest-svc once and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hlog-ingest-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ingest-svc")
		cmd := exec.Command("go", "build", "-o", binPath, "hlog.dev/ingest-svc/cmd/ingest-svc")
		// No VCS stamping, as the Makefile: not needed, and it fails in
		// checkouts git does not trust.
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ingest-svc: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// FreeAddr returns a loopback address with a port free right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Proc is a running ingest-svc.
type Proc struct {
	Addr    string
	cmd     *exec.Cmd
	mu      sync.Mutex
	log     bytes.Buffer
	serving chan struct{}
	exited  chan struct{}
}

// Start runs ingest-svc with env (KEY=value) and args, on a free gRPC port
// (--grpc-addr is added) without metrics, and waits until it serves.
func Start(t testing.TB, env []string, args ...string) *Proc {
	t.Helper()
	p := &Proc{Addr: FreeAddr(t), serving: make(chan struct{}), exited: make(chan struct{})}
	args = append([]string{"--grpc-addr", p.Addr, "--metrics-addr", ""}, args...)
	p.cmd = exec.Command(Binary(t), args...)
	p.cmd.Env = append(os.Environ(), env...)
	out, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = p.cmd.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting ingest-svc: %v", err)
	}
	go p.watch(out)
	t.Cleanup(func() { p.Kill() })
	select {
	case <-p.serving:
	case <-p.exited:
		t.Fatalf("ingest-svc exited before serving:\n%s", p.Logs())
	case <-time.After(60 * time.Second):
		t.Fatalf("ingest-svc not serving after 60s:\n%s", p.Logs())
	}
	return p
}

func (p *Proc) watch(r interface{ Read([]byte) (int, error) }) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var once sync.Once
	for sc.Scan() {
		line := sc.Bytes()
		p.mu.Lock()
		p.log.Write(line)
		p.log.WriteByte('\n')
		p.mu.Unlock()
		var entry struct{ Msg string }
		if json.Unmarshal(line, &entry) == nil && entry.Msg == "serving" {
			once.Do(func() { close(p.serving) })
		}
	}
	_ = p.cmd.Wait()
	close(p.exited)
}

// Logs returns what the process logged.
func (p *Proc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Kill sends SIGKILL (kill -9: no shutdown code runs) and waits for the exit.
func (p *Proc) Kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// Stop sends SIGTERM and waits for a clean exit.
func (p *Proc) Stop(t testing.TB) {
	t.Helper()
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		p.Kill()
		t.Errorf("ingest-svc ignored SIGTERM for 60s")
	}
}

// PeakRSS is the process's high-water resident set (VmHWM), in bytes.
func (p *Proc) PeakRSS() (int64, error) {
	return procstat.PeakRSS(p.cmd.Process.Pid)
}

// CPUTime is the CPU time the process has used so far, in seconds.
func (p *Proc) CPUTime() (float64, error) {
	return procstat.CPUTime(p.cmd.Process.Pid)
}
