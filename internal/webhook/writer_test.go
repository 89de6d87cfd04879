package webhook

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// TestTheWritersBudgetIsItsOwnAndSharedByEveryKind writes through NewWriter
// with a budget of one request: the manager's generous rate limit does not
// carry over, and a write of another kind finds the budget spent (a client
// per kind would have a bucket per kind). Its writes say they are the
// receiver's.
func TestTheWritersBudgetIsItsOwnAndSharedByEveryKind(t *testing.T) {
	var mu sync.Mutex
	var agents []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.UserAgent())
		mu.Unlock()
		kind := "VerificationProvider"
		if strings.Contains(r.URL.Path, "/verificationorders/") {
			kind = "VerificationOrder"
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"apiVersion": %q, "kind": %q}`, v1.GroupVersion.String(), kind)
	}))
	defer srv.Close()
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	mapper := meta.NewDefaultRESTMapper([]schema.GroupVersion{v1.GroupVersion})
	for _, kind := range []string{"VerificationOrder", "VerificationProvider"} {
		mapper.Add(v1.GroupVersion.WithKind(kind), meta.RESTScopeNamespace)
	}
	manager := &rest.Config{Host: srv.URL, QPS: 1000, Burst: 1000, UserAgent: "manager/v1"}
	w, err := NewWriter(manager, scheme, mapper, 0.001, 1)
	if err != nil {
		t.Fatal(err)
	}
	patch := client.RawPatch(types.MergePatchType, []byte(`{}`))
	ctx := context.Background()
	if err := w.Patch(ctx, &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "o"}}, patch); err != nil {
		t.Fatal(err)
	}
	// The rate limiter refuses at once a wait longer than the deadline.
	soon, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := w.Status().Patch(soon, &v1.VerificationProvider{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "p"}}, patch); err == nil {
		t.Error("a second write, of another kind, went through on a budget of one")
	}
	if manager.QPS != 1000 || manager.RateLimiter != nil {
		t.Error("NewWriter changed the manager's config")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(agents) != 1 || agents[0] != "manager/v1"+WriterUserAgentSuffix {
		t.Errorf("requests from %q, want one from %q", agents, "manager/v1"+WriterUserAgentSuffix)
	}
}
