package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary builds a service's command on first use, from the Go workspace, so
// the end-to-end tests run the same programs `make run` runs. Each command
// builds on its own: a test needing only Cafe24 does not wait for (or fail
// on) another platform's build.
var (
	buildMu sync.Mutex
	binDir  string
	built   = map[string]error{}
)

var commands = map[string]string{
	"cafe24-sandbox":     "hlog.dev/cafe24-svc/cmd/cafe24-sandbox",
	"cafe24-svc":         "hlog.dev/cafe24-svc/cmd/cafe24-svc",
	"smartstore-sandbox": "hlog.dev/smartstore-svc/cmd/smartstore-sandbox",
	"smartstore-svc":     "hlog.dev/smartstore-svc/cmd/smartstore-svc",
	"ably-sandbox":       "hlog.dev/ably-svc/cmd/ably-sandbox",
	"ably-svc":           "hlog.dev/ably-svc/cmd/ably-svc",
	"ingest-svc":         "hlog.dev/ingest-svc/cmd/ingest-svc",
	"gateway":            "hlog.dev/gateway/cmd/gateway",
}

func binary(t testing.TB, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if binDir == "" {
		dir, err := os.MkdirTemp("", "hlog-e2e-bin-")
		if err != nil {
			t.Fatal(err)
		}
		binDir = dir
	}
	err, done := built[name]
	if !done {
		cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, name), commands[name])
		// Like the Makefile: no VCS stamping, which fails in a checkout git
		// does not trust (CI clones) and is not needed for tests.
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
		if out, berr := cmd.CombinedOutput(); berr != nil {
			err = fmt.Errorf("go build %s: %w\n%s", name, berr, out)
		}
		built[name] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(binDir, name)
}

// proc is a service running as its own process. Its JSON log lines are kept
// for failure reports and watched for the "serving" line that every H-log
// binary logs once it accepts connections.
type proc struct {
	name    string
	cmd     *exec.Cmd
	mu      sync.Mutex
	log     bytes.Buffer
	serving chan struct{}
	exited  chan struct{}
}

func start(t testing.TB, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, serving: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(binary(t, name), args...)
	p.cmd.Env = append(os.Environ(), env...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = p.cmd.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go p.watch(stderr)
	t.Cleanup(func() { p.stop(t) })
	select {
	case <-p.serving:
	case <-p.exited:
		t.Fatalf("%s exited before serving:\n%s", name, p.logs())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s not serving after 60s:\n%s", name, p.logs())
	}
	return p
}

func (p *proc) watch(r interface{ Read([]byte) (int, error) }) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	once := sync.Once{}
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
	p.cmd.Wait()
	close(p.exited)
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// stop sends SIGTERM, as Kubernetes and Ctrl-C do, and expects a clean exit.
func (p *proc) stop(t testing.TB) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if code := p.cmd.ProcessState.ExitCode(); code != 0 && !t.Failed() {
			t.Errorf("%s exited with %d after SIGTERM:\n%s", p.name, code, p.logs())
		}
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Errorf("%s ignored SIGTERM for 30s", p.name)
	}
	if t.Failed() {
		t.Logf("%s log:\n%s", p.name, lastLines(p.logs(), 40))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freeAddr returns a loopback address with a port free at the time of the call.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
