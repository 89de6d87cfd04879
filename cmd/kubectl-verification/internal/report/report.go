// Package report is the shape of `plan -o json|yaml` and `status -o
// json|yaml`: versioned types for scripts and CI, printed by
// k8s.io/cli-runtime's printers. The tables are for people and may change;
// these change only by adding fields, or under a new version.
package report

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the apiVersion of every report. It is not a group the
// API server serves: a report is printed, never applied.
var GroupVersion = schema.GroupVersion{Group: "kubectl.verification.ordersync.dev", Version: "v1alpha1"}

// Scheme knows the reports' kinds; cli-runtime's type setter reads
// apiVersion and kind from it, as kubectl's printers do for API objects.
var Scheme = newScheme()

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	s.AddKnownTypes(GroupVersion, &Plan{}, &Overview{})
	return s
}
