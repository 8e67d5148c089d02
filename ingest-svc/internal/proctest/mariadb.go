package proctest

import (
	"database/sql"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"hlog.dev/proto/kit/procstat"
	"hlog.dev/proto/kit/proctest"
)

// MariaDB is a private mariadbd that a test may crash and restart on the
// same port and data directory (kit/mysqltest's shared server must not be
// restarted under other tests). Debian's mariadb-server provides it.
type MariaDB struct {
	DSN  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

// StartMariaDB initialises a data directory and starts mariadbd on it.
func StartMariaDB(t testing.TB) *MariaDB {
	t.Helper()
	dir, err := os.MkdirTemp("", "hlogcrash-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	install := exec.Command(binaryPath(t, "mariadb-install-db"), append([]string{"--no-defaults", "--force", // --force: no host-name lookup, see mysqltest
		"--auth-root-authentication-method=normal", "--skip-test-db", "--datadir=" + filepath.Join(dir, "data")}, userArgs()...)...)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	_, portText, _ := net.SplitHostPort(proctest.FreeAddr(t))
	m := &MariaDB{dir: dir}
	m.port, _ = strconv.Atoi(portText)
	m.Start(t)
	t.Cleanup(m.Crash)

	db := m.open(t, "")
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE hlog"); err != nil {
		t.Fatal(err)
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", "127.0.0.1:"+portText, "hlog"
	cfg.AllowNativePasswords = true
	m.DSN = cfg.FormatDSN()
	return m
}

// Start (re)starts mariadbd and waits until it answers.
func (m *MariaDB) Start(t testing.TB) {
	t.Helper()
	args := append([]string{"--no-defaults",
		"--datadir=" + filepath.Join(m.dir, "data"),
		// Private: mariadbd deletes #sql* files in its tmpdir at start.
		"--tmpdir=" + m.dir,
		"--port=" + strconv.Itoa(m.port),
		"--bind-address=127.0.0.1",
		"--socket=" + filepath.Join(m.dir, "s.sock"),
		"--pid-file=" + filepath.Join(m.dir, "mariadbd.pid"),
		"--log-error=" + filepath.Join(m.dir, "error.log"),
		"--skip-name-resolve",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_unicode_ci",
		"--sql-mode=ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION",
		"--innodb-buffer-pool-size=128M",
		// Durable commits: a crash must keep every committed batch.
		"--innodb-flush-log-at-trx-commit=1",
	}, userArgs()...)
	m.cmd = exec.Command(binaryPath(t, "mariadbd"), args...)
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("starting mariadbd: %v", err)
	}
	m.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(m.cmd, m.done)
	db := m.open(t, "")
	db.Close()
}

func (m *MariaDB) open(t testing.TB, name string) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", "127.0.0.1:"+strconv.Itoa(m.port), name
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := db.Ping()
		if err == nil {
			return db
		}
		select {
		case <-m.done:
			log, _ := os.ReadFile(filepath.Join(m.dir, "error.log"))
			t.Fatalf("mariadbd exited:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mariadbd not answering after 60s: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // waiting for a process to listen
	}
}

// Crash kills mariadbd with SIGKILL: no clean shutdown, InnoDB recovers on
// the next start.
func (m *MariaDB) Crash() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	select {
	case <-m.done:
		return
	default:
	}
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
}

// CPUTime is the CPU time mariadbd has used since it last started, in
// seconds.
func (m *MariaDB) CPUTime() (float64, error) {
	return procstat.CPUTime(m.cmd.Process.Pid)
}

func binaryPath(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("%s not installed (scripts/install-deps.sh installs mariadb-server)", name)
	return ""
}

func userArgs() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}
