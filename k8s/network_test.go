package k8s

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// A small NetworkPolicy evaluator, enough for the policies under k8s/: pod
// and namespace selectors, named and numbered ports. ipBlock peers never
// match a pod: the blocks used exclude the private ranges pods live in.

func podSelector(s metav1.LabelSelector) (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(&s)
}

func metav1Selector(p *policyv1.PodDisruptionBudget) (labels.Selector, error) {
	if p.Spec.Selector == nil {
		return labels.Nothing(), nil
	}
	return metav1.LabelSelectorAsSelector(p.Spec.Selector)
}

func labelSelector(m map[string]string) (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchLabels: m})
}

// nsLabels are the labels Kubernetes puts on every namespace.
func nsLabels(ns string) labels.Set {
	return labels.Set{"kubernetes.io/metadata.name": ns}
}

func peerMatches(peer networkingv1.NetworkPolicyPeer, policyNS, podNS string, podLabels map[string]string) bool {
	if peer.IPBlock != nil {
		return false
	}
	if peer.NamespaceSelector == nil {
		if podNS != policyNS {
			return false
		}
	} else {
		sel, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector)
		if err != nil || !sel.Matches(nsLabels(podNS)) {
			return false
		}
	}
	if peer.PodSelector == nil {
		return true
	}
	sel, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
	return err == nil && sel.Matches(labels.Set(podLabels))
}

func portMatches(ports []networkingv1.NetworkPolicyPort, port corev1.ContainerPort) bool {
	if len(ports) == 0 {
		return true
	}
	proto := port.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	for _, p := range ports {
		pp := corev1.ProtocolTCP
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if pp != proto {
			continue
		}
		switch {
		case p.Port == nil:
			return true
		case p.Port.Type == intstr.String && p.Port.StrVal == port.Name:
			return true
		case p.Port.Type == intstr.Int && p.Port.IntVal == port.ContainerPort:
			return true
		case p.Port.Type == intstr.Int && p.EndPort != nil && port.ContainerPort >= p.Port.IntVal && port.ContainerPort <= *p.EndPort:
			return true
		}
	}
	return false
}

func policiesFor(pols []*networkingv1.NetworkPolicy, w workload, typ networkingv1.PolicyType) []*networkingv1.NetworkPolicy {
	var out []*networkingv1.NetworkPolicy
	for _, p := range pols {
		sel, err := podSelector(p.Spec.PodSelector)
		if err != nil || !sel.Matches(labels.Set(w.Labels)) {
			continue
		}
		for _, pt := range p.Spec.PolicyTypes {
			if pt == typ {
				out = append(out, p)
			}
		}
	}
	return out
}

// allowed reports whether a pod of src may open a connection to port on a
// pod of dst, both in namespace ns.
func allowed(pols []*networkingv1.NetworkPolicy, ns string, src, dst workload, port corev1.ContainerPort) bool {
	return allowedFrom(pols, ns, src, ns, dst, port)
}

// allowedFrom is allowed for a source pod in namespace srcNS; the policies
// (all in ns) restrict its egress only when it lives in ns too.
func allowedFrom(pols []*networkingv1.NetworkPolicy, ns string, src workload, srcNS string, dst workload, port corev1.ContainerPort) bool {
	if srcNS == ns {
		if egress := policiesFor(pols, src, networkingv1.PolicyTypeEgress); len(egress) > 0 {
			ok := false
			for _, p := range egress {
				for _, r := range p.Spec.Egress {
					if !portMatches(r.Ports, port) {
						continue
					}
					if len(r.To) == 0 {
						ok = true
					}
					for _, peer := range r.To {
						ok = ok || peerMatches(peer, ns, ns, dst.Labels)
					}
				}
			}
			if !ok {
				return false
			}
		}
	}
	ingress := policiesFor(pols, dst, networkingv1.PolicyTypeIngress)
	if len(ingress) == 0 {
		return true
	}
	for _, p := range ingress {
		for _, r := range p.Spec.Ingress {
			if !portMatches(r.Ports, port) {
				continue
			}
			if len(r.From) == 0 {
				return true
			}
			for _, peer := range r.From {
				if peerMatches(peer, ns, srcNS, src.Labels) {
					return true
				}
			}
		}
	}
	return false
}

// TestNetworkEvaluator keeps the evaluator honest on the cases the policies
// rely on, so a wrong evaluator cannot bless wrong policies.
func TestNetworkEvaluator(t *testing.T) {
	tcp := corev1.ProtocolTCP
	grpc := corev1.ContainerPort{Name: "grpc", ContainerPort: 9090}
	metrics := corev1.ContainerPort{Name: "metrics", ContainerPort: 9190}
	gw := workload{Name: "gateway", Labels: map[string]string{"app.kubernetes.io/name": "gateway"}}
	ingest := workload{Name: "ingest-svc", Labels: map[string]string{"app.kubernetes.io/name": "ingest-svc"}}
	other := workload{Name: "other", Labels: map[string]string{"app.kubernetes.io/name": "other"}}
	named := intstr.FromString("grpc")
	pols := []*networkingv1.NetworkPolicy{{
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: ingest.Labels},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: gw.Labels}}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &named}},
			}},
		},
	}, {
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: other.Labels},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
		},
	}}
	cases := []struct {
		name  string
		got   bool
		allow bool
	}{
		{"gateway to ingest grpc", allowed(pols, "hlog", gw, ingest, grpc), true},
		{"gateway to ingest metrics", allowed(pols, "hlog", gw, ingest, metrics), false},
		{"other (egress denied) to ingest", allowed(pols, "hlog", other, ingest, grpc), false},
		{"gateway-labelled pod of another namespace", allowedFrom(pols, "hlog", gw, "elsewhere", ingest, grpc), false},
		{"ingest to gateway (no policy on gateway)", allowed(pols, "hlog", ingest, gw, grpc), true},
	}
	for _, c := range cases {
		if c.got != c.allow {
			t.Errorf("%s: allowed=%v, want %v", c.name, c.got, c.allow)
		}
	}
}
