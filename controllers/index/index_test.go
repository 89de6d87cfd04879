package index

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

type fakeIndexer struct{ *fake.ClientBuilder }

func (f fakeIndexer) IndexField(_ context.Context, obj client.Object, field string, extract client.IndexerFunc) error {
	f.WithIndex(obj, field, extract)
	return nil
}

func TestProviderLookups(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	builder := fake.NewClientBuilder().WithScheme(scheme)
	kinds := []v1.ProviderKind{v1.KindVerificationProvider, v1.KindClusterVerificationProvider}
	if err := Setup(t.Context(), fakeIndexer{builder}, kinds, "ops"); err != nil {
		t.Fatal(err)
	}
	secret := func(name string) v1.SecretReference { return v1.SecretReference{Name: name} }
	kube := builder.WithObjects(
		&v1.VerificationProvider{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "tw"}, Spec: v1.VerificationProviderSpec{CredentialsSecretRef: secret("creds")}},
		&v1.VerificationProvider{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "tw"}, Spec: v1.VerificationProviderSpec{CredentialsSecretRef: secret("creds")}},
		&v1.ClusterVerificationProvider{ObjectMeta: metav1.ObjectMeta{Name: "shared"},
			Spec: v1.ClusterVerificationProviderSpec{VerificationProviderSpec: v1.VerificationProviderSpec{CredentialsSecretRef: secret("creds")}}},
	).Build()

	for _, tc := range []struct {
		kind v1.ProviderKind
		want []types.NamespacedName
	}{
		{v1.KindVerificationProvider, []types.NamespacedName{{Namespace: "a", Name: "tw"}, {Namespace: "b", Name: "tw"}}},
		{v1.KindClusterVerificationProvider, []types.NamespacedName{{Name: "shared"}}},
	} {
		got, err := Providers(t.Context(), kube, tc.kind)
		if diff := cmp.Diff(tc.want, got); err != nil || diff != "" {
			t.Errorf("Providers(%s): %v (-want +got):\n%s", tc.kind, err, diff)
		}
	}
	if diff := cmp.Diff([]types.NamespacedName{{Namespace: "a", Name: "tw"}},
		ProvidersUsingSecret(t.Context(), kube, v1.KindVerificationProvider, types.NamespacedName{Namespace: "a", Name: "creds"})); diff != "" {
		t.Errorf("the namespaced providers of Secret a/creds (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]types.NamespacedName{{Name: "shared"}},
		ProvidersUsingSecret(t.Context(), kube, v1.KindClusterVerificationProvider, types.NamespacedName{Namespace: "ops", Name: "creds"})); diff != "" {
		t.Errorf("the cluster providers of Secret ops/creds (-want +got):\n%s", diff)
	}
	if got := ProvidersUsingSecret(t.Context(), kube, v1.KindClusterVerificationProvider, types.NamespacedName{Namespace: "a", Name: "creds"}); got != nil {
		t.Errorf("cluster providers of Secret a/creds: %v, want none", got)
	}
}
