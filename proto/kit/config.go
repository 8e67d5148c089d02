package kit

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Version and Commit are stamped at build time with
// -ldflags "-X hlog.dev/proto/kit.Version=... -X hlog.dev/proto/kit.Commit=...".
var (
	Version = "dev"
	Commit  = "unknown"
)

// EnvName is the environment variable that backs a flag: HLOG_ plus the flag
// name in upper case with dashes as underscores ("grpc-addr" -> HLOG_GRPC_ADDR).
func EnvName(flagName string) string {
	return "HLOG_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// ApplyEnv sets every flag of fs that was not given on the command line from
// its environment variable, if that is set. Call it after fs.Parse.
func ApplyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		if v := getenv(EnvName(f.Name)); v != "" {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s=%q: %w", EnvName(f.Name), v, serr)
			}
		}
	})
	return err
}

// ParseFlags parses args into fs, then fills unset flags from the environment.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	return ApplyEnv(fs, os.Getenv)
}

// NewLogger returns a JSON logger that tags every line with the service name.
func NewLogger(w io.Writer, service string, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})).With("service", service)
}

// SignalContext is cancelled on SIGTERM or SIGINT (Kubernetes stop, Ctrl-C).
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
}

// Dial opens a client connection to another H-log service. Traffic between
// services stays inside the cluster network (or loopback locally).
func Dial(addr string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	cc, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", addr, err)
	}
	return cc, nil
}

// Main runs a service's run function with a signal-cancelled context and
// exits non-zero with a logged error when it fails. It keeps every main thin.
func Main(service string, run func(ctx context.Context, args []string, log *slog.Logger) error) {
	log := NewLogger(os.Stderr, service, slog.LevelInfo)
	slog.SetDefault(log)
	ctx, cancel := SignalContext()
	defer cancel()
	start := time.Now()
	if err := run(ctx, os.Args[1:], log); err != nil {
		log.Error("exiting", "err", err.Error(), "uptime", time.Since(start).String())
		cancel()
		os.Exit(1)
	}
}
