// Package k8s holds no code: it is the home of the test that renders every
// kustomization under k8s/ and checks it against the service binaries.
package k8s
