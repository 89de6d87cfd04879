package controllers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

func TestTrimForCache(t *testing.T) {
	o := &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{
		Name:          "o",
		Annotations:   map[string]string{lastApplied: `{"big":"manifest"}`, v1.PausedAnnotation: "true"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
	}}
	got, err := TrimForCache(o)
	if err != nil {
		t.Fatal(err)
	}
	trimmed := got.(*v1.VerificationOrder)
	if trimmed.ManagedFields != nil {
		t.Error("managed fields kept")
	}
	if diff := cmp.Diff(map[string]string{v1.PausedAnnotation: "true"}, trimmed.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
}
