package conflict

import (
	"context"
	"errors"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
)

func TestQuiet(t *testing.T) {
	conflict := apierrors.NewConflict(schema.GroupResource{Resource: "verificationorders"}, "o", errors.New("the object has been modified"))
	other := errors.New("connection refused")
	for _, c := range []struct {
		name    string
		res     ctrl.Result
		err     error
		wantRes ctrl.Result
		wantErr error
	}{
		{"a conflict is a quiet requeue", ctrl.Result{}, conflict, ctrl.Result{RequeueAfter: Retry}, nil},
		{"a wrapped conflict too", ctrl.Result{}, errors.Join(errors.New("writing status"), conflict), ctrl.Result{RequeueAfter: Retry}, nil},
		{"another error stays", ctrl.Result{}, other, ctrl.Result{}, other},
		{"success stays", ctrl.Result{RequeueAfter: time.Minute}, nil, ctrl.Result{RequeueAfter: time.Minute}, nil},
	} {
		res, err := Quiet(context.Background(), c.res, c.err)
		if res != c.wantRes || !errors.Is(err, c.wantErr) || (err == nil) != (c.wantErr == nil) {
			t.Errorf("%s: got %+v, %v; want %+v, %v", c.name, res, err, c.wantRes, c.wantErr)
		}
	}
}
