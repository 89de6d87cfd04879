package cluster

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

func TestProviderOfReadsTheKind(t *testing.T) {
	order := func(ref v1.ProviderReference) *v1.VerificationOrder {
		return &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "lending"}, Spec: v1.VerificationOrderSpec{ProviderRef: ref}}
	}
	for _, c := range []struct {
		ref  v1.ProviderReference
		want ProviderKey
	}{
		{v1.ProviderReference{Name: "truework"}, ProviderKey{Kind: "VerificationProvider", Namespace: "lending", Name: "truework"}},
		{v1.ProviderReference{Kind: v1.KindVerificationProvider, Name: "truework"}, ProviderKey{Kind: "VerificationProvider", Namespace: "lending", Name: "truework"}},
		{v1.ProviderReference{Kind: v1.KindClusterVerificationProvider, Name: "shared"}, ProviderKey{Kind: "ClusterVerificationProvider", Name: "shared"}},
	} {
		if got := ProviderOf(order(c.ref)); got != c.want {
			t.Errorf("%+v: %+v, want %+v", c.ref, got, c.want)
		}
	}
}
