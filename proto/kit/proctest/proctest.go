// Package proctest runs H-log services as real processes for end-to-end
// tests, crash tests and benchmarks: each command is built once per test
// binary, started with its flags and environment, watched for the
// "serving" log line every H-log binary writes once it accepts
// connections, stopped with SIGTERM as Kubernetes does (or killed with
// SIGKILL), and measured through /proc.
package proctest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hlog.dev/proto/kit/procstat"
)

// Waits a process gets: to log "serving", and to exit after SIGTERM.
const (
	startTimeout = 60 * time.Second
	stopTimeout  = 60 * time.Second
)

var (
	buildMu sync.Mutex
	binDir  string
	built   = map[string]error{}
)

// Build builds a command package of the Go workspace (for example
// hlog.dev/gateway/cmd/gateway) on first use and returns the binary's path,
// so tests run the programs `make run` runs. Each command builds on its
// own: a test needing one service neither waits for nor fails on another's
// build.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if binDir == "" {
		dir, err := os.MkdirTemp("", "hlog-test-bin-")
		if err != nil {
			t.Fatal(err)
		}
		binDir = dir
	}
	bin := filepath.Join(binDir, path.Base(pkg))
	err, done := built[pkg]
	if !done {
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		// No VCS stamping, as in the Makefile: tests do not need it, and it
		// fails in a checkout git does not trust (CI clones).
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
		if out, berr := cmd.CombinedOutput(); berr != nil {
			err = fmt.Errorf("go build %s: %w\n%s", pkg, berr, out)
		}
		built[pkg] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return bin
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

// Proc is a service running as its own process. Its log is kept for
// failure reports.
type Proc struct {
	name    string
	cmd     *exec.Cmd
	mu      sync.Mutex
	log     bytes.Buffer
	serving chan struct{}
	exited  chan struct{}
}

// Start runs the binary with env (KEY=value, added to this process's) and
// args, and waits until it serves. The test's cleanup stops it with SIGTERM
// if it still runs.
func Start(t testing.TB, bin string, env []string, args ...string) *Proc {
	t.Helper()
	p := &Proc{name: filepath.Base(bin), serving: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	out, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = p.cmd.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", p.name, err)
	}
	go p.watch(out)
	t.Cleanup(func() { p.Stop(t) })
	select {
	case <-p.serving:
	case <-p.exited:
		t.Fatalf("%s exited before serving:\n%s", p.name, p.Logs())
	case <-time.After(startTimeout):
		p.Kill()
		t.Fatalf("%s not serving after %s:\n%s", p.name, startTimeout, p.Logs())
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

// Logs returns what the process logged so far.
func (p *Proc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Kill sends SIGKILL (kill -9: no shutdown code runs) and waits for the
// exit.
func (p *Proc) Kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// Stop sends SIGTERM, as Kubernetes and Ctrl-C do, and expects a clean
// exit (status 0) within a minute. When the test failed, the end of the
// log is reported.
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
		if code := p.cmd.ProcessState.ExitCode(); code != 0 && !t.Failed() {
			t.Errorf("%s exited with %d after SIGTERM:\n%s", p.name, code, p.Logs())
		}
	case <-time.After(stopTimeout):
		p.Kill()
		t.Errorf("%s ignored SIGTERM for %s", p.name, stopTimeout)
	}
	if t.Failed() {
		t.Logf("%s log:\n%s", p.name, lastLines(p.Logs(), 40))
	}
}

// PeakRSS is the process's high-water resident set (VmHWM), in bytes.
func (p *Proc) PeakRSS() (int64, error) { return procstat.PeakRSS(p.cmd.Process.Pid) }

// CPUTime is the CPU time the process has used so far, in seconds.
func (p *Proc) CPUTime() (float64, error) { return procstat.CPUTime(p.cmd.Process.Pid) }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
