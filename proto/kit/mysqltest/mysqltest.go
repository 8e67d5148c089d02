// Package mysqltest gives each test a fresh, empty MySQL database on a real
// server, never a mock.
//
// When HLOG_TEST_MYSQL_DSN is set, databases are created on that server.
// Otherwise the first call starts a private mariadbd (Debian's mariadb-server,
// see scripts/install-deps.sh) on a free loopback port with a temporary data
// directory, shared by every test of the test binary; it never touches a
// MariaDB already running on the machine. Each call gets its own database,
// dropped when the test ends, so tests stay isolated and fast.
//
// Use Main from TestMain so the private server is stopped and its data
// directory removed when the tests finish:
//
//	func TestMain(m *testing.M) { mysqltest.Main(m) }
//
// Without it the server still dies with the test binary (parent-death signal)
// and the next run removes the orphaned directory.
package mysqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// EnvDSN names the environment variable that points tests at an existing
// server instead of a private mariadbd. Its user must be allowed to create
// and drop databases.
const EnvDSN = "HLOG_TEST_MYSQL_DSN"

// Database is a fresh database for one test.
type Database struct {
	// Name of the database on the server.
	Name string
	// DSN for github.com/go-sql-driver/mysql, selecting the database, with
	// parseTime=true, loc=UTC and multiStatements=true.
	DSN string
}

// Start returns a new empty database, dropped when t ends. It fails t with a
// message saying what to install when no server can be had.
func Start(t testing.TB) *Database {
	t.Helper()
	srv, err := sharedServer()
	if err != nil {
		t.Fatalf("mysqltest: %v", err)
	}
	name := databaseName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := srv.admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("mysqltest: creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := srv.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("mysqltest: dropping database %s: %v", name, err)
		}
	})
	cfg := srv.base.Clone()
	cfg.DBName = name
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.MultiStatements = true
	return &Database{Name: name, DSN: cfg.FormatDSN()}
}

// Open opens a connection pool on the database, closed when t ends.
func (d *Database) Open(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", d.DSN)
	if err != nil {
		t.Fatalf("mysqltest: opening %s: %v", d.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Main runs the tests, then stops the private server (if one was started) and
// removes its data directory. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "mysqltest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Stop stops the private server, if one is running. Later calls to Start
// fail; Main calls Stop once every test has finished.
func Stop() error {
	mu.Lock()
	defer mu.Unlock()
	stopped = true
	if shared == nil {
		return nil
	}
	srv := shared
	shared = nil
	return srv.close()
}

// server is where test databases are created.
type server struct {
	base  *mysql.Config // connection to the server, no database selected
	admin *sql.DB
	proc  *process // nil when using EnvDSN
	dir   string   // the private server's directory, removed at close
}

var (
	mu        sync.Mutex
	shared    *server
	sharedErr error
	stopped   bool
)

// sharedServer starts (once per test binary) or returns the server. A failed
// start is remembered so every test fails fast with the same reason.
func sharedServer() (*server, error) {
	mu.Lock()
	defer mu.Unlock()
	if stopped {
		return nil, fmt.Errorf("the test server was already stopped by mysqltest.Stop")
	}
	if shared != nil || sharedErr != nil {
		return shared, sharedErr
	}
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		shared, sharedErr = connectExternal(dsn)
	} else {
		shared, sharedErr = startPrivate()
	}
	return shared, sharedErr
}

func connectExternal(dsn string) (*server, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", EnvDSN, err)
	}
	cfg.DBName = ""
	admin, err := openReady(cfg, 30*time.Second, nil)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s (%s): %w", EnvDSN, cfg.Addr, err)
	}
	return &server{base: cfg, admin: admin}, nil
}

func (s *server) close() error {
	s.admin.Close()
	if s.proc == nil {
		return nil
	}
	s.proc.stop()
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("removing %s: %w", s.dir, err)
	}
	return nil
}

// openReady opens a pool and pings it until the server answers, the deadline
// passes, or exited is closed (the server process died).
func openReady(cfg *mysql.Config, wait time.Duration, exited <-chan struct{}) (*sql.DB, error) {
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return db, nil
		}
		if time.Now().After(deadline) {
			db.Close()
			return nil, fmt.Errorf("server not ready after %s: %w", wait, err)
		}
		select {
		case <-exited:
			db.Close()
			return nil, fmt.Errorf("server exited before accepting connections: %w", err)
		case <-tick.C:
		}
	}
}

// databaseName makes a valid, unique database name that still says which
// test it belongs to, for whoever looks at a shared server.
func databaseName(testName string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 40 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	return b.String() + "_" + hex.EncodeToString(suffix[:])
}
