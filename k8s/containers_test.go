package k8s

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// runtimeEnv are the variables a container may set that no H-log flag
// backs: the Go runtime's own.
var runtimeEnv = map[string]bool{"GOMEMLIMIT": true, "GOMAXPROCS": true, "GOGC": true}

// envValue is one environment variable of a container, resolved as far as
// the render allows.
type envValue struct {
	Value  string
	Known  bool   // Value is what the pod will see
	Source string // "value", "configmap", "secret", "resource", "field"
}

// containerEnv resolves a container's environment: literal values and
// ConfigMaps from the render, Secrets and downward-API fields by reference.
func containerEnv(objs []object, c *corev1.Container) (map[string]envValue, error) {
	env := map[string]envValue{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, ok := find[*corev1.ConfigMap](objs, from.ConfigMapRef.Name)
			if !ok {
				if from.ConfigMapRef.Optional != nil && *from.ConfigMapRef.Optional {
					continue
				}
				return nil, fmt.Errorf("envFrom ConfigMap %q is not in the render", from.ConfigMapRef.Name)
			}
			for k, v := range cm.Data {
				env[from.Prefix+k] = envValue{Value: v, Known: true, Source: "configmap"}
			}
		case from.SecretRef != nil:
			return nil, fmt.Errorf("envFrom Secret %q: name each secret variable with secretKeyRef so this test can check it", from.SecretRef.Name)
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = envValue{Value: e.Value, Known: true, Source: "value"}
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm, ok := find[*corev1.ConfigMap](objs, ref.Name)
			if !ok {
				return nil, fmt.Errorf("env %s: ConfigMap %q is not in the render", e.Name, ref.Name)
			}
			v, ok := cm.Data[ref.Key]
			if !ok {
				return nil, fmt.Errorf("env %s: ConfigMap %q has no key %q", e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = envValue{Value: v, Known: true, Source: "configmap"}
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = envValue{Source: "secret"}
		case e.ValueFrom.ResourceFieldRef != nil:
			env[e.Name] = envValue{Source: "resource"}
		case e.ValueFrom.FieldRef != nil:
			env[e.Name] = envValue{Source: "field"}
		}
	}
	return env, nil
}

// effectiveFlags is every flag's value in the pod: its default, unless the
// environment (kit.ApplyEnv) or the container's args set it. Flags set from
// a Secret are left out: their value is not in the render.
func effectiveFlags(b *binary, env map[string]envValue, args []string) (map[string]string, error) {
	vals := map[string]string{}
	for name, f := range b.Flags {
		vals[name] = f.Default
	}
	for name, v := range env {
		if f, ok := b.FlagForEnv(name); ok {
			if v.Known {
				vals[f.Name] = v.Value
			} else {
				delete(vals, f.Name)
			}
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return nil, fmt.Errorf("arg %q is not a flag", a)
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f, ok := b.Flags[name]
		if !ok {
			return nil, fmt.Errorf("arg %q: the binary has no flag -%s", a, name)
		}
		if !hasVal && f.Type != "bool" {
			if i+1 == len(args) {
				return nil, fmt.Errorf("arg %q has no value", a)
			}
			i++
			val = args[i]
		} else if !hasVal {
			val = "true"
		}
		vals[name] = val
	}
	return vals, nil
}

// listenPort reports the port of a listen address (":9101", "0.0.0.0:9101").
// Dial addresses ("ingest-svc:9090") and empty values are not listen
// addresses.
func listenPort(v string) (int32, bool) {
	host, port, err := net.SplitHostPort(v)
	if err != nil || (host != "" && host != "0.0.0.0" && host != "::") {
		return 0, false
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return 0, false
	}
	return int32(p), true
}

var dnsName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// dialAddr reports the host and port of an address a service calls by a
// cluster DNS name.
func dialAddr(v string) (host string, port int32, ok bool) {
	v = strings.TrimPrefix(v, "dns:///")
	h, p, err := net.SplitHostPort(v)
	if err != nil || h == "" || net.ParseIP(h) != nil || !dnsName.MatchString(h) {
		return "", 0, false
	}
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 || n > 65535 {
		return "", 0, false
	}
	return h, int32(n), true
}

// listenFlags maps a container port name to the flag that opens it: the
// port named "grpc" is opened by -grpc-addr, "metrics" by -metrics-addr.
func listenFlags(flags map[string]string) map[string]int32 {
	out := map[string]int32{}
	for name, v := range flags {
		prefix, ok := strings.CutSuffix(name, "-addr")
		if !ok {
			continue
		}
		if p, ok := listenPort(v); ok {
			out[prefix] = p
		}
	}
	return out
}

// checkedContainer is what checkServiceContainer learnt about a container,
// for the whole-system checks.
type checkedContainer struct {
	Service service
	Binary  *binary
	Flags   map[string]string // effective values
	Env     map[string]envValue
	Ports   map[string]int32 // listen ports by name
}

// checkServiceContainer checks one H-log container against its binary:
// image, environment, flags, ports, probes, mounted files, security and
// resources.
func checkServiceContainer(t *testing.T, objs []object, w workload, s service, b *binary) checkedContainer {
	t.Helper()
	var c *corev1.Container
	for i := range w.Pod.Containers {
		if w.Pod.Containers[i].Name == s.Name {
			c = &w.Pod.Containers[i]
		}
	}
	if c == nil {
		t.Fatalf("%s %s has no container named %s", w.Kind, w.Name, s.Name)
	}
	where := fmt.Sprintf("%s %s container %s", w.Kind, w.Name, c.Name)

	checkImage(t, where, c.Image, s.Name)
	if len(c.Command) > 0 {
		t.Errorf("%s: command %q overrides the image's entrypoint (the binary)", where, c.Command)
	}

	env, err := containerEnv(objs, c)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	for name, v := range env {
		switch {
		case runtimeEnv[name]:
		case strings.HasPrefix(name, "HLOG_"):
			f, isFlag := b.FlagForEnv(name)
			if !isFlag && !b.Env[name] {
				t.Errorf("%s: sets %s, but %s has no flag -%s and reads no such variable", where, name, s.Name, strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, "HLOG_")), "_", "-"))
			}
			if isFlag && v.Source == "secret" {
				t.Errorf("%s: %s (flag -%s) comes from a Secret; secrets go in files or in the variables the binary reads directly", where, name, f.Name)
			}
		default:
			t.Errorf("%s: sets %s, which neither %s nor the Go runtime reads", where, name, s.Name)
		}
	}
	flags, err := effectiveFlags(b, env, c.Args)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	for name, v := range flags {
		if loopback(v) {
			t.Errorf("%s: -%s is %q in the pod: loopback means the pod itself; set %s", where, name, v, envOrFlag(name))
		}
	}

	// Ports: each listen flag opens the container port of its prefix's name,
	// and every container port is opened by one.
	listen := listenFlags(flags)
	declared := map[string]int32{}
	for _, p := range c.Ports {
		declared[p.Name] = p.ContainerPort
		if p.Protocol != "" && p.Protocol != corev1.ProtocolTCP {
			t.Errorf("%s: port %s is %s, the services speak TCP", where, p.Name, p.Protocol)
		}
	}
	for name, port := range listen {
		if got, ok := declared[name]; !ok || got != port {
			t.Errorf("%s: -%s-addr listens on %d, but container port %q is %d (declared: %v)", where, name, port, name, got, declared)
		}
	}
	for name, port := range declared {
		if _, ok := listen[name]; !ok {
			t.Errorf("%s: container port %s (%d) is opened by no -%s-addr flag of %s (listen flags: %v)", where, name, port, name, s.Name, listen)
		}
	}
	if _, ok := listen["metrics"]; !ok {
		t.Errorf("%s: metrics are off (-metrics-addr is %q); the ServiceMonitor scrapes every service", where, flags["metrics-addr"])
	}

	// What the binary reads from files: flags, and the variables it reads
	// directly (secrets' *_FILE).
	settings := map[string]string{}
	for name, v := range flags {
		settings["-"+name] = v
	}
	for name, v := range env {
		if _, isFlag := b.FlagForEnv(name); !isFlag && v.Known && b.Env[name] {
			settings[name] = v.Value
		}
	}
	checkProbes(t, where, c, listen, b)
	checkMounts(t, where, objs, w, c, settings)
	checkSecurity(t, where, w, c)
	checkResources(t, where, c)
	return checkedContainer{Service: s, Binary: b, Flags: flags, Env: env, Ports: listen}
}

// loopback reports whether an address or URL names the host it runs on.
func loopback(v string) bool {
	host := v
	if u, err := url.Parse(v); err == nil && u.Host != "" {
		host = u.Hostname()
	} else if h, _, err := net.SplitHostPort(v); err == nil {
		host = h
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return host == "localhost"
}

func envOrFlag(flag string) string {
	return fmt.Sprintf("-%s (env %s)", flag, strings.ToUpper("HLOG_"+strings.ReplaceAll(flag, "-", "_")))
}

var imageRef = regexp.MustCompile(`^(?:([a-z0-9.-]+(?::[0-9]+)?)/)?((?:[a-z0-9._-]+/)*[a-z0-9._-]+)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@sha256:[0-9a-f]{64})?$`)

// checkImage: the container runs the image `make images` builds for the
// service (hlog/<service>, any registry), pinned to a tag or digest.
func checkImage(t *testing.T, where, image, name string) {
	t.Helper()
	m := imageRef.FindStringSubmatch(image)
	if m == nil {
		t.Errorf("%s: image %q is not an image reference", where, image)
		return
	}
	repo := m[2]
	if m[1] != "" && !strings.Contains(m[1], ".") && !strings.Contains(m[1], ":") && m[1] != "localhost" {
		repo = m[1] + "/" + repo // "hlog/x": the first part is a path, not a registry
	}
	if repo != "hlog/"+name && !strings.HasSuffix(repo, "/hlog/"+name) {
		t.Errorf("%s: image %q is not hlog/%s, the image `make images` builds from %s/Dockerfile", where, image, name, name)
	}
	if m[3] == "" && !strings.Contains(image, "@sha256:") || m[3] == "latest" {
		t.Errorf("%s: image %q is not pinned to a version tag or digest", where, image)
	}
}

func checkProbes(t *testing.T, where string, c *corev1.Container, listen map[string]int32, b *binary) {
	t.Helper()
	if c.ReadinessProbe == nil || c.LivenessProbe == nil {
		t.Errorf("%s: needs a readiness and a liveness probe", where)
		return
	}
	if grpcPort, ok := listen["grpc"]; ok {
		// kit registers the standard health service: "" for the process,
		// and the service's own name.
		for kind, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			if p == nil {
				if kind != "startup" {
					t.Errorf("%s: no %s probe", where, kind)
				}
				continue
			}
			if p.GRPC == nil {
				t.Errorf("%s: %s probe is not a native gRPC probe on the health service", where, kind)
				continue
			}
			if p.GRPC.Port != grpcPort {
				t.Errorf("%s: %s probe asks port %d, the binary serves gRPC on %d", where, kind, p.GRPC.Port, grpcPort)
			}
			if p.GRPC.Service != nil && *p.GRPC.Service != "" && *p.GRPC.Service != b.KitName {
				t.Errorf("%s: %s probe asks the health of %q; the binary registers %q", where, kind, *p.GRPC.Service, b.KitName)
			}
		}
		return
	}
	httpPort, ok := listen["http"]
	if !ok {
		t.Errorf("%s: the binary listens on neither gRPC nor HTTP (%v): nothing to probe", where, listen)
		return
	}
	for kind, want := range map[string]struct {
		p    *corev1.Probe
		path string
	}{"readiness": {c.ReadinessProbe, "/readyz"}, "liveness": {c.LivenessProbe, "/healthz"}} {
		g := want.p.HTTPGet
		if g == nil {
			t.Errorf("%s: %s probe is not an HTTP GET", where, kind)
			continue
		}
		if g.Path != want.path {
			t.Errorf("%s: %s probe GETs %q, want %q", where, kind, g.Path, want.path)
		}
		if !portIs(g.Port, "http", httpPort) {
			t.Errorf("%s: %s probe port %s is not the HTTP port %d", where, kind, g.Port.String(), httpPort)
		}
	}
}

func portIs(p intstr.IntOrString, name string, number int32) bool {
	if p.Type == intstr.String {
		return p.StrVal == name
	}
	return p.IntVal == number
}

// checkMounts: every file a setting (flag or variable) names lies in a
// mounted volume that holds it, and every mounted volume is read through a
// setting or is scratch space.
func checkMounts(t *testing.T, where string, objs []object, w workload, c *corev1.Container, settings map[string]string) {
	t.Helper()
	volumes := map[string]corev1.Volume{}
	for _, v := range w.Pod.Volumes {
		volumes[v.Name] = v
	}
	used := map[string]bool{}
	for name, v := range settings {
		if !strings.HasPrefix(v, "/") {
			continue
		}
		var mount *corev1.VolumeMount
		for i, m := range c.VolumeMounts {
			if strings.HasPrefix(v, strings.TrimSuffix(m.MountPath, "/")+"/") {
				mount = &c.VolumeMounts[i]
			}
		}
		if mount == nil {
			t.Errorf("%s: %s=%s lies in no mounted volume (root filesystem is read-only and empty of config)", where, name, v)
			continue
		}
		used[mount.Name] = true
		rel := strings.TrimPrefix(v, strings.TrimSuffix(mount.MountPath, "/")+"/")
		if mount.SubPath != "" {
			rel = path.Join(mount.SubPath, rel)
		}
		vol, ok := volumes[mount.Name]
		if !ok {
			t.Errorf("%s: mount %s names no volume of the pod", where, mount.Name)
			continue
		}
		if strings.HasSuffix(strings.ToLower(name), "file") && !mount.ReadOnly {
			t.Errorf("%s: %s reads %s from a writable mount; mount %s readOnly", where, name, v, mount.Name)
		}
		if files, known := volumeFiles(objs, vol); known && !files[rel] {
			t.Errorf("%s: %s=%s, but volume %s holds no %q (it holds %v)", where, name, v, vol.Name, rel, keys(files))
		}
	}
	for _, m := range c.VolumeMounts {
		if used[m.Name] {
			continue
		}
		vol := volumes[m.Name]
		if vol.EmptyDir == nil {
			t.Errorf("%s: volume %s is mounted at %s, but nothing the binary reads points there", where, m.Name, m.MountPath)
		}
	}
}

// volumeFiles lists the files a Secret or ConfigMap volume presents. Known
// is false when the render cannot tell (an external Secret without items).
func volumeFiles(objs []object, v corev1.Volume) (files map[string]bool, known bool) {
	files = map[string]bool{}
	var items []corev1.KeyToPath
	var data []string
	switch {
	case v.Secret != nil:
		items = v.Secret.Items
		if s, ok := find[*corev1.Secret](objs, v.Secret.SecretName); ok {
			data, known = append(keys(s.Data), keys(s.StringData)...), true
		}
	case v.ConfigMap != nil:
		items = v.ConfigMap.Items
		if cm, ok := find[*corev1.ConfigMap](objs, v.ConfigMap.Name); ok {
			data, known = keys(cm.Data), true
		}
	default:
		return nil, false
	}
	if len(items) > 0 {
		for _, it := range items {
			files[it.Path] = true
		}
		return files, true
	}
	for _, k := range data {
		files[k] = true
	}
	return files, known
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// checkSecurity: non-root, read-only root filesystem, no capabilities, no
// privilege escalation, the runtime's seccomp profile; the user is the
// image's (USER in the Dockerfile).
func checkSecurity(t *testing.T, where string, w workload, c *corev1.Container) {
	t.Helper()
	pod, sc := w.Pod.SecurityContext, c.SecurityContext
	runAsNonRoot := (sc != nil && sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (pod != nil && pod.RunAsNonRoot != nil && *pod.RunAsNonRoot)
	if !runAsNonRoot {
		t.Errorf("%s: runAsNonRoot is not set", where)
	}
	var uid *int64
	if pod != nil && pod.RunAsUser != nil {
		uid = pod.RunAsUser
	}
	if sc != nil && sc.RunAsUser != nil {
		uid = sc.RunAsUser
	}
	if uid == nil || *uid == 0 {
		t.Errorf("%s: runAsUser must name the image's non-root user", where)
	}
	if sc == nil {
		t.Errorf("%s: no container securityContext", where)
		return
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: root filesystem is not read-only", where)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation is not false", where)
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Errorf("%s: privileged", where)
	}
	if sc.Capabilities == nil || len(sc.Capabilities.Add) > 0 || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("%s: capabilities must be drop [ALL], add none; got %+v", where, sc.Capabilities)
	}
	seccomp := (sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault) ||
		(pod != nil && pod.SeccompProfile != nil && pod.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault)
	if !seccomp {
		t.Errorf("%s: seccompProfile RuntimeDefault is not set", where)
	}
	if w.Pod.AutomountServiceAccountToken == nil || *w.Pod.AutomountServiceAccountToken {
		t.Errorf("%s: mounts a service account token it never uses", where)
	}
	if w.Pod.HostNetwork || w.Pod.HostPID || w.Pod.HostIPC {
		t.Errorf("%s: shares a host namespace", where)
	}
}

func checkResources(t *testing.T, where string, c *corev1.Container) {
	t.Helper()
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := c.Resources.Requests[r]
		lim, hasLim := c.Resources.Limits[r]
		if !hasReq || !hasLim {
			t.Errorf("%s: %s needs a request and a limit (requests %v, limits %v)", where, r, c.Resources.Requests, c.Resources.Limits)
			continue
		}
		if req.Cmp(lim) > 0 {
			t.Errorf("%s: %s request %s exceeds its limit %s", where, r, req.String(), lim.String())
		}
	}
}
