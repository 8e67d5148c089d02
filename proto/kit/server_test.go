package kit

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
)

func TestServerServesHealthReflectionAndMetricsThenStops(t *testing.T) {
	srv, err := New(Config{Name: "kit-test", GRPCAddr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0", Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()

	cc, err := Dial(srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	// Watch delivers the status as soon as Run has turned it on: no polling.
	w, err := grpc_health_v1.NewHealthClient(cc).Watch(ctx, &grpc_health_v1.HealthCheckRequest{Service: "kit-test"})
	if err != nil {
		t.Fatal(err)
	}
	for {
		r, err := w.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == grpc_health_v1.HealthCheckResponse_SERVING {
			break
		}
	}

	rc, err := reflectionpb.NewServerReflectionClient(cc).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := rc.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.Name)
	}
	if !strings.Contains(strings.Join(names, ","), "grpc.health.v1.Health") {
		t.Fatalf("reflection lists %v", names)
	}

	if _, err := grpc_health_v1.NewHealthClient(cc).Check(ctx, &grpc_health_v1.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get("http://" + srv.MetricsAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `grpc_server_handled_total{grpc_code="OK",grpc_method="/grpc.health.v1.Health/Check"} 1`) {
		t.Fatalf("metrics lack grpc_server_handled_total:\n%.400s", body)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := grpc_health_v1.NewHealthClient(cc).Check(context.Background(), &grpc_health_v1.HealthCheckRequest{}); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}

func TestFlagsFallBackToEnvironment(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	addr := fs.String("grpc-addr", ":1", "")
	dsn := fs.String("mysql-dsn", "", "")
	if err := fs.Parse([]string{"-grpc-addr", ":2"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HLOG_GRPC_ADDR": ":3", "HLOG_MYSQL_DSN": "root@tcp(db)/hlog"}
	if err := ApplyEnv(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if *addr != ":2" || *dsn != "root@tcp(db)/hlog" {
		t.Fatalf("command line must win over env, env must fill the rest: addr %q dsn %q", *addr, *dsn)
	}
	if EnvName("credential-key-file") != "HLOG_CREDENTIAL_KEY_FILE" {
		t.Fatal(EnvName("credential-key-file"))
	}
}
