package k8s

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// object is one rendered Kubernetes object, decoded into its API type.
type object struct {
	Kind, Name, Namespace string
	Value                 any // *appsv1.Deployment, *corev1.Service, ...
	YAML                  []byte
}

func (o object) String() string { return o.Kind + "/" + o.Name }

// apiTypes maps apiVersion and kind to the Go type every rendered object is
// decoded into. A kind missing here fails the test: nothing is rendered
// without being checked against its schema.
var apiTypes = map[string]func() any{
	"v1/ConfigMap":                            func() any { return &corev1.ConfigMap{} },
	"v1/Namespace":                            func() any { return &corev1.Namespace{} },
	"v1/PersistentVolumeClaim":                func() any { return &corev1.PersistentVolumeClaim{} },
	"v1/Pod":                                  func() any { return &corev1.Pod{} },
	"v1/Secret":                               func() any { return &corev1.Secret{} },
	"v1/Service":                              func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"apps/v1/Deployment":                      func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                     func() any { return &appsv1.StatefulSet{} },
	"batch/v1/CronJob":                        func() any { return &batchv1.CronJob{} },
	"autoscaling/v2/HorizontalPodAutoscaler":  func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1/PodDisruptionBudget":           func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/Ingress":            func() any { return &networkingv1.Ingress{} },
	"networking.k8s.io/v1/NetworkPolicy":      func() any { return &networkingv1.NetworkPolicy{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() any { return &monitoringv1.PrometheusRule{} },
}

// kustomizations lists every folder under k8s/ that holds a
// kustomization.yaml, relative to k8s/.
func kustomizations(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (d.Name() == "kustomization.yaml" || d.Name() == "kustomization.yml" || d.Name() == "Kustomization") {
			dirs = append(dirs, filepath.Dir(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(dirs)
	if len(dirs) == 0 {
		t.Fatal("no kustomization found under k8s/")
	}
	return dirs
}

// render builds one kustomization with the kustomize library kubectl embeds
// and decodes every object strictly: an unknown or misspelled field, a
// duplicate key or an unknown kind is an error.
func render(dir string) ([]object, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	var objs []object
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", dir, r.CurId(), err)
		}
		key := r.GetApiVersion() + "/" + r.GetKind()
		newType, ok := apiTypes[key]
		if !ok {
			return nil, fmt.Errorf("%s: %s/%s has a kind this test does not know (%s): add its API type", dir, r.GetKind(), r.GetName(), key)
		}
		v := newType()
		if err := yaml.UnmarshalStrict(y, v); err != nil {
			return nil, fmt.Errorf("%s: %s/%s does not decode strictly as %s: %w", dir, r.GetKind(), r.GetName(), key, err)
		}
		objs = append(objs, object{Kind: r.GetKind(), Name: r.GetName(), Namespace: r.GetNamespace(), Value: v, YAML: y})
	}
	return objs, nil
}

// rendered caches renders: several tests look at the same kustomizations.
var rendered = map[string][]object{}

func mustRender(t *testing.T, dir string) []object {
	t.Helper()
	if objs, ok := rendered[dir]; ok {
		return objs
	}
	objs, err := render(dir)
	if err != nil {
		t.Fatal(err)
	}
	rendered[dir] = objs
	return objs
}

func TestEveryKustomizationRendersAndDecodesStrictly(t *testing.T) {
	for _, dir := range kustomizations(t) {
		t.Run(dir, func(t *testing.T) {
			objs := mustRender(t, dir)
			if len(objs) == 0 {
				t.Fatalf("%s renders no objects", dir)
			}
			seen := map[string]bool{}
			for _, o := range objs {
				id := o.Namespace + "/" + o.String()
				if seen[id] {
					t.Errorf("%s renders %s twice", dir, id)
				}
				seen[id] = true
			}
		})
	}
}

// TestStrictDecodingRejectsUnknownFields proves the decoder above is strict:
// a misspelt field must fail, or the test proves nothing.
func TestStrictDecodingRejectsUnknownFields(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("kustomization.yaml", "resources: [svc.yaml]\n")
	write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  ports: [{port: 80, targetPrt: 8080}]\n")
	if _, err := render(dir); err == nil || !strings.Contains(err.Error(), "targetPrt") {
		t.Fatalf("a Service with the unknown field targetPrt rendered with error %v; want an unknown-field error", err)
	}
	write("svc.yaml", "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\nspec:\n  endpoints: [{port: metrics, intervall: 30s}]\n")
	if _, err := render(dir); err == nil || !strings.Contains(err.Error(), "intervall") {
		t.Fatalf("a ServiceMonitor with the unknown field intervall rendered with error %v; want an unknown-field error", err)
	}
}

// Typed views of a render.

func ofKind[T any](objs []object) []T {
	var out []T
	for _, o := range objs {
		if v, ok := o.Value.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// workload is anything that runs pods: a Deployment, StatefulSet, CronJob
// or bare Pod.
type workload struct {
	Kind, Name string
	Labels     map[string]string // of the pod template
	Pod        *corev1.PodSpec
}

func workloads(objs []object) []workload {
	var out []workload
	for _, o := range objs {
		switch v := o.Value.(type) {
		case *appsv1.Deployment:
			out = append(out, workload{"Deployment", v.Name, v.Spec.Template.Labels, &v.Spec.Template.Spec})
		case *appsv1.StatefulSet:
			out = append(out, workload{"StatefulSet", v.Name, v.Spec.Template.Labels, &v.Spec.Template.Spec})
		case *corev1.Pod:
			out = append(out, workload{"Pod", v.Name, v.Labels, &v.Spec})
		case *batchv1.CronJob:
			out = append(out, workload{"CronJob", v.Name, v.Spec.JobTemplate.Spec.Template.Labels, &v.Spec.JobTemplate.Spec.Template.Spec})
		}
	}
	return out
}

func find[T interface{ GetName() string }](objs []object, name string) (T, bool) {
	for _, v := range ofKind[T](objs) {
		if v.GetName() == name {
			return v, true
		}
	}
	var zero T
	return zero, false
}
