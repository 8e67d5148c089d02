package mysqltest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// dirPrefix names the private servers' directories under os.TempDir. The
// owning test binary's pid follows it, so orphans can be recognised.
const dirPrefix = "hlogdb-"

// systemPort is the port of the machine's own MariaDB, which tests must never
// touch; a free-port pick never returns it while that server runs, but we
// refuse it anyway.
const systemPort = 3306

// mysql8SQLMode is MySQL 8.0's default sql_mode. The private MariaDB runs with
// it so that SQL MySQL would reject (ONLY_FULL_GROUP_BY, zero dates) fails in
// tests too.
const mysql8SQLMode = "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"

const installHint = "install MariaDB with scripts/install-deps.sh (Debian package mariadb-server), or set " + EnvDSN + " to a server where tests may create databases"

// process is a running private mariadbd.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
}

func startPrivate() (*server, error) {
	mariadbd, err := findBinary("mariadbd")
	if err != nil {
		return nil, err
	}
	installDB, err := findBinary("mariadb-install-db")
	if err != nil {
		return nil, err
	}
	removeOrphans()
	// A short path: the unix socket lives here and socket paths are limited
	// to about 100 bytes.
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", dirPrefix, os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	datadir := filepath.Join(dir, "data")
	// --force: skip the installer's host-name lookup, which fails on machines
	// without an /etc/hosts entry for their name (minimal containers); the
	// server is reached by socket or 127.0.0.1 only.
	args := []string{"--no-defaults", "--force", "--auth-root-authentication-method=normal", "--skip-test-db", "--datadir=" + datadir}
	args = append(args, userArgs()...)
	if out, err := exec.Command(installDB, args...).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%s: %w\n%s", installDB, err, tail(out))
	}

	// Another process may take the free port between our pick and mariadbd's
	// bind; then mariadbd exits at once and we try another port.
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		srv, err := startOnPort(mariadbd, dir, port)
		if err == nil {
			return srv, nil
		}
		lastErr = err
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

func startOnPort(mariadbd, dir string, port int) (*server, error) {
	logPath := filepath.Join(dir, "error.log")
	args := []string{
		"--no-defaults",
		"--datadir=" + filepath.Join(dir, "data"),
		// A private tmpdir: every mariadbd deletes the #sql* temporary
		// files in its tmpdir when it starts, so a shared /tmp lets one
		// test's server break another's queries.
		"--tmpdir=" + dir,
		"--port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--socket=" + filepath.Join(dir, "s.sock"),
		"--pid-file=" + filepath.Join(dir, "mariadbd.pid"),
		"--log-error=" + logPath,
		"--skip-name-resolve",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_unicode_ci",
		"--sql-mode=" + mysql8SQLMode,
		"--max-connections=500",
		"--innodb-buffer-pool-size=128M",
		// Durability is worthless for throwaway test data; speed is not.
		"--innodb-flush-log-at-trx-commit=0",
		"--innodb-doublewrite=0",
	}
	args = append(args, userArgs()...)
	p, err := spawn(exec.Command(mariadbd, args...))
	if err != nil {
		return nil, err
	}
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	admin, err := openReady(cfg, 60*time.Second, p.exited)
	if err != nil {
		p.stop()
		log, _ := os.ReadFile(logPath)
		// Truncate the log so the next attempt's reads start clean.
		_ = os.Truncate(logPath, 0)
		return nil, fmt.Errorf("starting %s on port %d: %w\n%s", mariadbd, port, err, tail(log))
	}
	return &server{base: cfg, admin: admin, proc: p, dir: dir}, nil
}

// spawn starts cmd so that it dies with the test binary where the OS allows
// (see dieWithParent). The parent-death signal is tied to the OS thread that
// forked, so that thread stays locked and alive, waiting for the child, until
// the child exits.
func spawn(cmd *exec.Cmd) (*process, error) {
	dieWithParent(cmd)
	p := &process{cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	return p, nil
}

// stop shuts mariadbd down: SIGTERM, then SIGKILL after a grace period.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// findBinary looks on PATH, then in the Debian locations (sbin is often not
// on a non-root user's PATH).
func findBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in /usr/sbin, /usr/bin: %s", name, installHint)
}

// userArgs lets mariadbd run as root, which it refuses unless told to (CI
// containers often run as root).
func userArgs() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}

func freePort() (int, error) {
	for range 10 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("finding a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port != systemPort {
			return port, nil
		}
	}
	return 0, errors.New("finding a free port: only got the system server's port")
}

// removeOrphans deletes directories of private servers whose test binary is
// gone (killed before Main could clean up); their mariadbd died with it.
func removeOrphans() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), dirPrefix)
		pidText, _, ok := strings.Cut(rest, "-")
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(m)
		}
	}
}

func tail(b []byte) string {
	const max = 3000
	b = bytes.TrimSpace(b)
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}
