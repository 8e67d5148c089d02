package k8s

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"

	"hlog.dev/proto/kit/mysqltest"
)

// TestBinariesStartWithTheManifestsAndAnswerTheirProbes runs every service's
// binary with the environment and mounted files the dev overlay gives its
// container (listen addresses moved to free loopback ports, mounts to
// temporary folders, MySQL to a private MariaDB), and asks it exactly what
// the kubelet and Prometheus will ask: the probes and /metrics. A variable
// the binary rejects, a probe on a service or path it does not serve, or a
// file it cannot read fails here as it would fail in the cluster.
func TestBinariesStartWithTheManifestsAndAnswerTheirProbes(t *testing.T) {
	objs := mustRender(t, "overlays/dev")
	for _, s := range services {
		t.Run(s.Name, func(t *testing.T) {
			var w *workload
			for _, wl := range workloads(objs) {
				if wl.Name == s.Name {
					w = &wl
				}
			}
			if w == nil {
				t.Fatalf("overlays/dev has no %s", s.Name)
			}
			b := buildBinary(t, s)
			c := &w.Pod.Containers[0]
			p := startLikeThePod(t, objs, w, c, b)
			checkLiveProbes(t, c, p, b)
			p.stop(t, w.Pod.TerminationGracePeriodSeconds)
		})
	}
}

type process struct {
	cmd   *exec.Cmd
	addrs map[string]string // "grpc", "http", "metrics" -> host:port
	done  chan error
	log   *logBuffer
}

// logBuffer keeps a process's stderr for failure messages; the reader
// goroutine writes while a failing test may read.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startLikeThePod(t *testing.T, objs []object, w *workload, c *corev1.Container, b *binary) *process {
	t.Helper()
	env, err := containerEnv(objs, c)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	mounts := map[string]string{} // mount path -> local folder
	for _, m := range c.VolumeMounts {
		dir := filepath.Join(root, m.Name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		mounts[m.MountPath] = dir
		for _, v := range w.Pod.Volumes {
			if v.Name == m.Name {
				materialize(t, objs, v, dir)
			}
		}
	}
	local := func(v string) string {
		for mp, dir := range mounts {
			if rest, ok := strings.CutPrefix(v, strings.TrimSuffix(mp, "/")+"/"); ok {
				return filepath.Join(dir, rest)
			}
		}
		return v
	}
	vars := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + root}
	for name, v := range env {
		f, isFlag := b.FlagForEnv(name)
		switch {
		case isFlag && strings.HasSuffix(f.Name, "-addr") && v.Known:
			if _, ok := listenPort(v.Value); ok {
				vars = append(vars, name+"=127.0.0.1:0")
				continue
			}
			vars = append(vars, name+"="+v.Value)
		case v.Known:
			vars = append(vars, name+"="+local(v.Value))
		case v.Source == "secret":
			if val, ok := secretValue(objs, c, name); ok {
				vars = append(vars, name+"="+val)
			}
		}
	}
	// The dev overlay's MySQL is a StatefulSet; here, a private MariaDB
	// stands in for it, behind the same DSN file.
	if dsnFile, ok := env["HLOG_MYSQL_DSN_FILE"]; ok && dsnFile.Known {
		db := mysqltest.Start(t)
		if err := os.WriteFile(local(dsnFile.Value), []byte(db.DSN), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, b.Path, c.Args...)
	cmd.Env = vars
	cmd.Dir = root
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGKILL) }
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan error, 1), log: &logBuffer{}}
	serving := make(chan map[string]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.log.WriteString(line + "\n")
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) == nil && entry["msg"] == "serving" {
				addrs := map[string]string{}
				for k, v := range entry {
					if name, ok := strings.CutSuffix(k, "_addr"); ok {
						if s, ok := v.(string); ok && s != "" {
							addrs[name] = s
						}
					}
				}
				serving <- addrs
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	select {
	case p.addrs = <-serving:
		return p
	case err := <-p.done:
		t.Fatalf("%s exited before serving (%v) with the manifest's environment %q:\n%s", b.KitName, err, vars, p.log)
	case <-ctx.Done():
		t.Fatalf("%s did not log \"serving\" within the startup budget:\n%s", b.KitName, p.log)
	}
	return nil
}

// materialize writes the files a Secret or ConfigMap volume presents, when
// the render holds the object.
func materialize(t *testing.T, objs []object, v corev1.Volume, dir string) {
	t.Helper()
	data := map[string][]byte{}
	var items []corev1.KeyToPath
	switch {
	case v.Secret != nil:
		s, ok := find[*corev1.Secret](objs, v.Secret.SecretName)
		if !ok {
			t.Fatalf("volume %s: Secret %s is not in the dev render", v.Name, v.Secret.SecretName)
		}
		for k, val := range s.Data {
			data[k] = val
		}
		for k, val := range s.StringData {
			data[k] = []byte(val)
		}
		items = v.Secret.Items
	case v.ConfigMap != nil:
		cm, ok := find[*corev1.ConfigMap](objs, v.ConfigMap.Name)
		if !ok {
			t.Fatalf("volume %s: ConfigMap %s is not in the dev render", v.Name, v.ConfigMap.Name)
		}
		for k, val := range cm.Data {
			data[k] = []byte(val)
		}
		items = v.ConfigMap.Items
	default:
		return
	}
	if len(items) == 0 {
		for k := range data {
			items = append(items, corev1.KeyToPath{Key: k, Path: k})
		}
	}
	for _, it := range items {
		val, ok := data[it.Key]
		if !ok {
			t.Fatalf("volume %s: no key %s", v.Name, it.Key)
		}
		if err := os.WriteFile(filepath.Join(dir, it.Path), val, 0o400); err != nil {
			t.Fatal(err)
		}
	}
}

func secretValue(objs []object, c *corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name != name || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		s, ok := find[*corev1.Secret](objs, ref.Name)
		if !ok {
			return "", false
		}
		if v, ok := s.Data[ref.Key]; ok {
			return string(v), true
		}
		if v, ok := s.StringData[ref.Key]; ok {
			return v, true
		}
	}
	return "", false
}

func checkLiveProbes(t *testing.T, c *corev1.Container, p *process, b *binary) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if addr, ok := p.addrs["grpc"]; ok {
		cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		hc := healthpb.NewHealthClient(cc)
		for kind, probe := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			if probe == nil || probe.GRPC == nil {
				continue
			}
			svc := ""
			if probe.GRPC.Service != nil {
				svc = *probe.GRPC.Service
			}
			resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
			if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("%s probe: health of %q is %v, %v; want SERVING", kind, svc, resp.GetStatus(), err)
			}
		}
	}
	if addr, ok := p.addrs["http"]; ok {
		for kind, probe := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			if probe == nil || probe.HTTPGet == nil {
				continue
			}
			code := httpGet(t, ctx, "http://"+addr+probe.HTTPGet.Path)
			switch {
			case kind == "liveness" && code != http.StatusOK:
				t.Errorf("liveness probe GET %s answered %d, want 200", probe.HTTPGet.Path, code)
			case code == http.StatusNotFound:
				// Readiness may say 503 here (ingest is not running), but
				// the path must exist.
				t.Errorf("%s probe GET %s: the binary serves no such path", kind, probe.HTTPGet.Path)
			}
		}
	}
	maddr, ok := p.addrs["metrics"]
	if !ok {
		t.Fatalf("the binary logged no metrics address: %v", p.addrs)
	}
	code, body := httpGetBody(t, ctx, "http://"+maddr+"/metrics")
	if code != http.StatusOK {
		t.Errorf("GET /metrics (the ServiceMonitor's path) answered %d", code)
	}
	// kit's services say which build they run; the stamps given at build
	// time must show, as the guide tells operators to read them.
	if _, isKit := p.addrs["grpc"]; isKit {
		want := fmt.Sprintf(`hlog_build_info{commit=%q,service=%q,version=%q} 1`, stampCommit, b.KitName, stampVersion)
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func httpGet(t *testing.T, ctx context.Context, url string) int {
	t.Helper()
	code, _ := httpGetBody(t, ctx, url)
	return code
}

func httpGetBody(t *testing.T, ctx context.Context, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return 0, ""
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// stop sends SIGTERM, as the kubelet does, and expects a clean exit within
// the pod's termination grace period.
func (p *process) stop(t *testing.T, grace *int64) {
	t.Helper()
	limit := 30 * time.Second
	if grace != nil {
		limit = time.Duration(*grace) * time.Second
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, p.log)
		}
	case <-time.After(limit):
		t.Errorf("still running %s after SIGTERM: the kubelet would kill it\n%s", limit, p.log)
		_ = p.cmd.Process.Kill()
	}
}

// TestCredentialKeyRotationSettingsStart runs ingest-svc with the Secret
// contents each step of the guide's key rotation produces ("Rotating the
// credential key"): it must accept them and serve.
func TestCredentialKeyRotationSettingsStart(t *testing.T) {
	s, _ := serviceNamed("ingest-svc")
	b := buildBinary(t, s)
	objs := mustRender(t, "overlays/dev")
	keys, ok := find[*corev1.Secret](objs, "hlog-ingest-keys")
	if !ok {
		t.Fatal("overlays/dev has no Secret hlog-ingest-keys")
	}
	cur := strings.TrimSpace(string(keys.StringData["credential.key"]) + string(keys.Data["credential.key"]))
	curID, curKey, ok := strings.Cut(cur, " ")
	if !ok {
		t.Fatalf("dev credential.key %q is not \"<id> <base64>\"", cur)
	}
	const newID, newKey = "credentials-202612", "q2Kx0Yk9b0t6rj3mIM8jTQ2b7oJ2gYB1xwQm0Cq7pWs="
	steps := []struct{ name, credentialKey, oldKeys string }{
		{"teach", cur, newID + ":" + newKey},
		{"switch", newID + " " + newKey, curID + ":" + curKey},
		{"switch again, two old keys", "credentials-202701 " + curKey, newID + ":" + newKey + "," + curID + ":" + curKey},
	}
	var w *workload
	for _, wl := range workloads(objs) {
		if wl.Name == s.Name {
			w = &wl
		}
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			secret := keys.DeepCopy()
			secret.StringData = nil
			secret.Data = map[string][]byte{
				"credential.key":      []byte(step.credentialKey),
				"credential-old-keys": []byte(step.oldKeys),
				"buyer-hash.key":      keys.Data["buyer-hash.key"],
			}
			rotated := append([]object{{Kind: "Secret", Name: secret.Name, Namespace: secret.Namespace, Value: secret}}, objs...)
			p := startLikeThePod(t, rotated, w, &w.Pod.Containers[0], b)
			p.stop(t, w.Pod.TerminationGracePeriodSeconds)
			// The guide's last step: the re-encrypt command, run in the pod
			// (kubectl exec) with the pod's own environment and files.
			cmd := exec.Command(b.Path, "rotate-credential-key")
			cmd.Env, cmd.Dir = p.cmd.Env, p.cmd.Dir
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "re-encrypted") {
				t.Errorf("ingest-svc rotate-credential-key in the pod's environment: %v\n%s", err, out)
			}
		})
	}
}
