package k8s

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The environments: each deploys the whole system, and each of its
// collector folders deploys that collector alone.
var environments = []string{"overlays/dev", "overlays/prod"}

// externalSecrets are the Secrets the platform team creates in production;
// docs/operations.md must say how to make each.
var externalSecrets = []string{
	"hlog-mysql", "hlog-ingest-keys", "hlog-service-token", "hlog-mysql-backup", "hlog-tls",
	"hlog-alert-webhook", "hlog-cafe24-app", // optional
}

// TestServiceContainersMatchBinaries checks every H-log container, in every
// kustomization that renders one, against the binary it runs.
func TestServiceContainersMatchBinaries(t *testing.T) {
	for _, dir := range kustomizations(t) {
		t.Run(dir, func(t *testing.T) {
			objs := mustRender(t, dir)
			for _, w := range workloads(objs) {
				s, isService := serviceNamed(w.Name)
				if !isService {
					// MySQL and the backup job: not ours to build, still
					// locked down and bounded.
					for i := range w.Pod.Containers {
						c := &w.Pod.Containers[i]
						where := fmt.Sprintf("%s %s container %s", w.Kind, w.Name, c.Name)
						checkSecurity(t, where, w, c)
						checkResources(t, where, c)
					}
					continue
				}
				if w.Kind != "Deployment" {
					t.Errorf("%s runs as a %s; services are Deployments", w.Name, w.Kind)
				}
				checkServiceContainer(t, objs, w, s, buildBinary(t, s))
			}
		})
	}
}

// TestEachCollectorDeploysAlone renders every environment's collector folder
// and checks it holds that collector, whole, and nothing else.
func TestEachCollectorDeploysAlone(t *testing.T) {
	for _, env := range environments {
		for _, name := range collectors {
			dir := filepath.Join(env, name)
			t.Run(dir, func(t *testing.T) {
				objs := mustRender(t, dir)
				kinds := map[string]int{}
				for _, o := range objs {
					kinds[o.Kind]++
					if o.Kind != "ConfigMap" && o.Name != name {
						t.Errorf("%s renders %s, which is not part of %s", dir, o, name)
					}
					if o.Namespace == "" {
						t.Errorf("%s: %s has no namespace: `kubectl apply -k` would put it wherever the context points", dir, o)
					}
				}
				for _, kind := range []string{"Deployment", "Service", "ServiceAccount", "ConfigMap", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"} {
					if kinds[kind] != 1 {
						t.Errorf("%s renders %d %s, want exactly one", dir, kinds[kind], kind)
					}
				}
			})
		}
	}
}

// TestSystemWiring checks, per environment, what ties the services together:
// addresses that resolve to the right Service and port, selectors that
// select, HPAs and PDBs that target, Secrets that exist or are documented,
// scraping, alerts, and the network paths the policies leave open.
func TestSystemWiring(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "operations.md"))
	if err != nil {
		t.Fatalf("the platform engineers' guide: %v", err)
	}
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			objs := mustRender(t, env)
			ws := workloads(objs)
			checked := map[string]checkedContainer{}
			for _, w := range ws {
				if s, ok := serviceNamed(w.Name); ok {
					checked[s.Name] = checkServiceContainer(t, objs, w, s, buildBinary(t, s))
				}
			}
			for _, s := range services {
				if _, ok := checked[s.Name]; !ok {
					t.Errorf("%s does not deploy %s", env, s.Name)
				}
			}
			checkAddresses(t, objs, ws, checked)
			checkSelectors(t, objs, ws)
			checkScaling(t, objs, ws)
			checkSecrets(t, env, objs, ws, string(doc))
			checkMonitoring(t, objs)
			checkNetwork(t, env, objs, ws)
		})
	}
}

// checkAddresses: every address a service dials by name is a Service of the
// system whose port leads to the listening port of the service it means.
func checkAddresses(t *testing.T, objs []object, ws []workload, checked map[string]checkedContainer) {
	t.Helper()
	calls := map[string]string{} // caller -> callee, found
	for caller, cc := range checked {
		for flag, v := range cc.Flags {
			host, port, ok := dialAddr(v)
			if !ok {
				continue
			}
			svc, ok := find[*corev1.Service](objs, host)
			if !ok {
				t.Errorf("%s: -%s=%s, but the system has no Service %q", caller, flag, v, host)
				continue
			}
			var sp *corev1.ServicePort
			for i := range svc.Spec.Ports {
				if svc.Spec.Ports[i].Port == port {
					sp = &svc.Spec.Ports[i]
				}
			}
			if sp == nil {
				t.Errorf("%s: -%s=%s, but Service %s has no port %d", caller, flag, v, host, port)
				continue
			}
			targets := 0
			for _, w := range ws {
				if !selects(svc.Spec.Selector, w.Labels) {
					continue
				}
				callee, ok := checked[w.Name]
				if !ok {
					continue
				}
				targets++
				// The Service port must reach the callee's gRPC/HTTP
				// listener, as the callee's own flags set it.
				var want int32
				var wantName string
				for name, p := range callee.Ports {
					if name != "metrics" {
						want, wantName = p, name
					}
				}
				got, ok := targetPort(w, sp)
				if !ok || got != want {
					t.Errorf("%s: -%s=%s reaches port %d of %s, which listens on %d (-%s-addr)", caller, flag, v, got, w.Name, want, wantName)
				}
				calls[caller+"->"+w.Name] = flag
			}
			if targets == 0 {
				t.Errorf("%s: -%s=%s: Service %s selects no H-log service", caller, flag, v, host)
			}
		}
	}
	// The calls the architecture needs: gateway -> ingest -> each collector.
	want := []string{"gateway->ingest-svc"}
	for _, c := range collectors {
		want = append(want, "ingest-svc->"+c)
	}
	for _, w := range want {
		if _, ok := calls[w]; !ok {
			t.Errorf("no flag of the caller wires %s (calls found: %v)", w, calls)
		}
	}
}

func targetPort(w workload, sp *corev1.ServicePort) (int32, bool) {
	tp := sp.TargetPort
	if tp.IntVal == 0 && tp.StrVal == "" {
		return sp.Port, true
	}
	for _, c := range w.Pod.Containers {
		for _, p := range c.Ports {
			if (tp.StrVal != "" && p.Name == tp.StrVal) || (tp.StrVal == "" && p.ContainerPort == tp.IntVal) {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}

func selects(selector, podLabels map[string]string) bool {
	return len(selector) > 0 && labels.SelectorFromSet(selector).Matches(labels.Set(podLabels))
}

// checkSelectors: every Service selects pods that have the ports it targets.
func checkSelectors(t *testing.T, objs []object, ws []workload) {
	t.Helper()
	for _, svc := range ofKind[*corev1.Service](objs) {
		var selected []workload
		for _, w := range ws {
			if selects(svc.Spec.Selector, w.Labels) {
				selected = append(selected, w)
			}
		}
		if len(selected) != 1 {
			t.Errorf("Service %s selects %d workloads, want one", svc.Name, len(selected))
			continue
		}
		for i := range svc.Spec.Ports {
			if _, ok := targetPort(selected[0], &svc.Spec.Ports[i]); !ok {
				t.Errorf("Service %s port %s targets %s, which %s does not declare", svc.Name, svc.Spec.Ports[i].Name, svc.Spec.Ports[i].TargetPort.String(), selected[0].Name)
			}
		}
	}
	for _, ing := range ofKind[*networkingv1.Ingress](objs) {
		for _, r := range ing.Spec.Rules {
			for _, p := range r.HTTP.Paths {
				b := p.Backend.Service
				svc, ok := find[*corev1.Service](objs, b.Name)
				if !ok {
					t.Errorf("Ingress %s routes to missing Service %s", ing.Name, b.Name)
					continue
				}
				found := false
				for _, sp := range svc.Spec.Ports {
					found = found || (b.Port.Name != "" && sp.Name == b.Port.Name) || (b.Port.Number != 0 && sp.Port == b.Port.Number)
				}
				if !found {
					t.Errorf("Ingress %s routes to port %+v, which Service %s lacks", ing.Name, b.Port, b.Name)
				}
				if b.Name != "gateway" {
					t.Errorf("Ingress %s exposes %s; only the gateway faces the internet", ing.Name, b.Name)
				}
			}
		}
	}
}

// checkScaling: collectors and the gateway scale with an HPA; every
// Deployment has a PDB that selects it and can be satisfied during a drain.
func checkScaling(t *testing.T, objs []object, ws []workload) {
	t.Helper()
	hpas := map[string]*autoscalingv2.HorizontalPodAutoscaler{}
	for _, h := range ofKind[*autoscalingv2.HorizontalPodAutoscaler](objs) {
		ref := h.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" {
			t.Errorf("HPA %s targets %s %s, want an apps/v1 Deployment", h.Name, ref.APIVersion, ref.Kind)
		}
		hpas[ref.Name] = h
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
			t.Errorf("HPA %s: min %v max %d; keep at least 2 so a drain never empties the service", h.Name, h.Spec.MinReplicas, h.Spec.MaxReplicas)
		}
		if len(h.Spec.Metrics) == 0 {
			t.Errorf("HPA %s has no metric to scale on", h.Name)
		}
	}
	for _, name := range append(slices.Clone(collectors), "gateway") {
		if _, ok := hpas[name]; !ok {
			t.Errorf("%s has no HorizontalPodAutoscaler", name)
		}
	}
	pdbs := ofKind[*policyv1.PodDisruptionBudget](objs)
	for _, w := range ws {
		if w.Kind != "Deployment" {
			continue
		}
		if _, ok := hpas[w.Name]; !ok {
			if _, ok := serviceNamed(w.Name); ok {
				t.Errorf("%s has no HPA", w.Name)
			}
		}
		n := 0
		for _, p := range pdbs {
			sel, err := metav1Selector(p)
			if err != nil {
				t.Errorf("PDB %s: %v", p.Name, err)
				continue
			}
			if sel.Matches(labels.Set(w.Labels)) {
				n++
				if p.Spec.MinAvailable != nil && p.Spec.MinAvailable.IntValue() >= 2 {
					t.Errorf("PDB %s: minAvailable %s blocks drains at the minimum of 2 replicas", p.Name, p.Spec.MinAvailable.String())
				}
			}
		}
		if n != 1 {
			t.Errorf("Deployment %s is covered by %d PodDisruptionBudgets, want one", w.Name, n)
		}
	}
}

// checkSecrets: a Secret a pod uses is in the render (dev) or is one the
// platform team makes (prod), and the guide tells how to make it.
func checkSecrets(t *testing.T, env string, objs []object, ws []workload, doc string) {
	t.Helper()
	used := map[string]string{}
	for _, w := range ws {
		for _, v := range w.Pod.Volumes {
			if v.Secret != nil {
				used[v.Secret.SecretName] = w.Name
			}
		}
		for _, c := range w.Pod.Containers {
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					used[e.ValueFrom.SecretKeyRef.Name] = w.Name
				}
			}
		}
	}
	for _, ing := range ofKind[*networkingv1.Ingress](objs) {
		for _, tls := range ing.Spec.TLS {
			used[tls.SecretName] = "Ingress " + ing.Name
		}
	}
	for name, by := range used {
		if _, ok := find[*corev1.Secret](objs, name); ok {
			continue
		}
		if !slices.Contains(externalSecrets, name) {
			t.Errorf("%s: %s uses Secret %s, which is neither in the render nor one the platform team makes", env, by, name)
		}
		if !strings.Contains(doc, name) {
			t.Errorf("%s: %s uses Secret %s, and docs/operations.md does not say how to make it", env, by, name)
		}
	}
	if env == "overlays/prod" {
		for _, s := range ofKind[*corev1.Secret](objs) {
			t.Errorf("prod renders Secret %s: production secrets never live in the repository", s.Name)
		}
	}
}

var metricName = regexp.MustCompile(`\b(hlog_[a-z0-9_]+|gateway_[a-z0-9_]+|grpc_server_[a-z0-9_]+|cafe24_[a-z0-9_]+|smartstore_[a-z0-9_]+|ably_[a-z0-9_]+)\b`)

var (
	labelMatcher = regexp.MustCompile(`([a-z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	plainValue   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	// Labels Prometheus adds from the scrape target.
	targetLabels = map[string]bool{"namespace": true, "service": true, "pod": true, "job": true, "instance": true, "container": true, "endpoint": true}
)

// checkMonitoring: the ServiceMonitor scrapes every Service with a metrics
// port, and every metric the alerts use is one a binary exports.
func checkMonitoring(t *testing.T, objs []object) {
	t.Helper()
	sms := ofKind[*monitoringv1.ServiceMonitor](objs)
	if len(sms) == 0 {
		return // the dev overlay leaves monitoring out
	}
	for _, svc := range ofKind[*corev1.Service](objs) {
		hasMetrics := slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == "metrics" })
		scraped := false
		for _, sm := range sms {
			sel, err := labelSelector(sm.Spec.Selector.MatchLabels)
			if err != nil {
				t.Fatal(err)
			}
			if sel.Matches(labels.Set(svc.Labels)) && slices.ContainsFunc(sm.Spec.Endpoints, func(e monitoringv1.Endpoint) bool { return e.Port == "metrics" }) {
				scraped = true
			}
		}
		if _, isService := serviceNamed(svc.Name); isService && !(hasMetrics && scraped) {
			t.Errorf("Service %s: metrics port %v, scraped %v; every service must be scraped", svc.Name, hasMetrics, scraped)
		}
	}
	var b strings.Builder
	for _, s := range services {
		b.Write(buildBinary(t, s).Bytes)
	}
	all := b.String()
	alerts := map[string]bool{}
	for _, r := range ofKind[*monitoringv1.PrometheusRule](objs) {
		for _, g := range r.Spec.Groups {
			for _, rule := range g.Rules {
				alerts[rule.Alert] = true
				expr := rule.Expr.String()
				for _, m := range metricName.FindAllString(expr, -1) {
					if !strings.Contains(all, m) {
						t.Errorf("alert %s uses metric %s, which no H-log binary exports", rule.Alert, m)
					}
				}
				// Label names and values the services set (not the target
				// labels Prometheus adds) must be ones a binary uses.
				for _, m := range labelMatcher.FindAllStringSubmatch(expr, -1) {
					if !targetLabels[m[1]] && !strings.Contains(all, m[1]) {
						t.Errorf("alert %s matches on label %s, which no H-log binary sets", rule.Alert, m[1])
					}
					for _, v := range strings.Split(m[3], "|") {
						if plainValue.MatchString(v) && !strings.Contains(all, v) {
							t.Errorf("alert %s matches %s=%q, a value no H-log binary uses", rule.Alert, m[1], v)
						}
					}
				}
				if rule.Labels["severity"] == "" || rule.Annotations["summary"] == "" || rule.Annotations["runbook"] == "" {
					t.Errorf("alert %s needs a severity, a summary and a runbook", rule.Alert)
				}
			}
		}
	}
	for _, want := range []string{"HlogSyncJobsDead", "HlogSyncFailureRateHigh"} {
		if !alerts[want] {
			t.Errorf("no %s alert (have %v)", want, keys(alerts))
		}
	}
}

// checkNetwork evaluates the NetworkPolicies between every pair of the
// system's pods and checks that exactly the paths the architecture needs
// are open.
func checkNetwork(t *testing.T, env string, objs []object, ws []workload) {
	t.Helper()
	pols := ofKind[*networkingv1.NetworkPolicy](objs)
	var ns string
	for _, o := range objs {
		if o.Namespace != "" {
			ns = o.Namespace
		}
	}
	for _, w := range ws {
		ingress, egress := false, false
		for _, p := range pols {
			if sel, _ := podSelector(p.Spec.PodSelector); sel.Matches(labels.Set(w.Labels)) {
				ingress = ingress || slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
				egress = egress || slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
			}
		}
		if !ingress || !egress {
			t.Errorf("%s %s: no NetworkPolicy restricts its ingress (%v) and egress (%v)", w.Kind, w.Name, ingress, egress)
		}
	}
	var open []string
	for _, src := range ws {
		for _, dst := range ws {
			for _, c := range dst.Pod.Containers {
				for _, port := range c.Ports {
					if allowed(pols, ns, src, dst, port) {
						open = append(open, fmt.Sprintf("%s->%s:%s", src.Name, dst.Name, port.Name))
					}
				}
			}
		}
	}
	want := []string{"gateway->ingest-svc:grpc"}
	for _, c := range collectors {
		want = append(want, "ingest-svc->"+c+":grpc")
	}
	if env == "overlays/dev" { // prod's MySQL is outside the cluster
		want = append(want, "ingest-svc->mysql:mysql", "mysql-backup->mysql:mysql")
	}
	sort.Strings(open)
	sort.Strings(want)
	if !slices.Equal(open, want) {
		t.Errorf("%s: the NetworkPolicies open these pod-to-pod paths:\n  %s\nwant exactly:\n  %s", env, strings.Join(open, "\n  "), strings.Join(want, "\n  "))
	}
	// From outside the namespace: the ingress controller reaches only the
	// gateway's HTTP port; Prometheus reaches every metrics port.
	outside := func(nsName string) workload {
		return workload{Name: nsName, Labels: map[string]string{"outside-namespace": nsName}}
	}
	for _, dst := range ws {
		for _, c := range dst.Pod.Containers {
			for _, port := range c.Ports {
				fromIngress := allowedFrom(pols, ns, outside("ingress-nginx"), "ingress-nginx", dst, port)
				fromPrometheus := allowedFrom(pols, ns, outside("monitoring"), "monitoring", dst, port)
				isGatewayHTTP := dst.Name == "gateway" && port.Name == "http"
				if fromIngress != isGatewayHTTP {
					t.Errorf("%s: ingress controller -> %s:%s open=%v", env, dst.Name, port.Name, fromIngress)
				}
				if fromPrometheus != (port.Name == "metrics") {
					t.Errorf("%s: Prometheus -> %s:%s open=%v", env, dst.Name, port.Name, fromPrometheus)
				}
			}
		}
	}
}
