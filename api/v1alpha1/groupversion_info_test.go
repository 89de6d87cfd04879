package v1alpha1

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
)

func TestAddToScheme(t *testing.T) {
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"VerificationOrder", "VerificationOrderList", "VerificationProvider", "VerificationProviderList"} {
		if !s.Recognizes(GroupVersion.WithKind(kind)) {
			t.Errorf("%s is not registered", kind)
		}
	}
	// The meta types a client sends with a list or watch.
	if !s.Recognizes(GroupVersion.WithKind("ListOptions")) {
		t.Error("ListOptions is not registered")
	}
	gvks, _, err := s.ObjectKinds(&VerificationOrder{})
	if err != nil || len(gvks) != 1 || gvks[0] != GroupVersion.WithKind("VerificationOrder") {
		t.Errorf("ObjectKinds(VerificationOrder) = %v, %v", gvks, err)
	}
}
