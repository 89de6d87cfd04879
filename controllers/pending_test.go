package controllers

import (
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

func newOrder(resourceVersion string) *v1.VerificationOrder {
	return &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "o", ResourceVersion: resourceVersion, Generation: 1}}
}

// writeAs is a status write that lands as resourceVersion (or fails with
// err) and reports what it wrote on wrote.
func writeAs(resourceVersion string, err error, wrote chan<- *v1.VerificationOrder) func(*v1.VerificationOrder) error {
	return func(o *v1.VerificationOrder) error {
		if err == nil {
			o.ResourceVersion = resourceVersion
		}
		wrote <- o.DeepCopy()
		return err
	}
}

func TestPendingWriteSettledBeforeItIsDueIsNeverMade(t *testing.T) {
	s := pendingWrites{delay: time.Hour}
	wrote := make(chan *v1.VerificationOrder, 1)
	o := newOrder("1")
	s.arm(o, writeAs("2", nil, wrote))
	s.settle(o)
	if o.ResourceVersion != "1" {
		t.Errorf("resourceVersion %s, want 1: nothing was written", o.ResourceVersion)
	}
	if len(s.m) != 0 {
		t.Errorf("%d writes left after settle", len(s.m))
	}
	select {
	case <-wrote:
		t.Error("the Pending write was made after it was settled")
	default:
	}
}

func TestPendingWriteThatLandedIsFollowed(t *testing.T) {
	for _, c := range []struct {
		name          string
		holds         string // the version o holds when it is settled
		err           error
		wantFollowing string
	}{
		{"landed on the version held", "1", nil, "2"},
		{"landed, but o was read since", "3", nil, "3"},
		{"failed", "1", errors.New("conflict"), "1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := pendingWrites{delay: time.Nanosecond}
			wrote := make(chan *v1.VerificationOrder, 1)
			s.arm(newOrder("1"), writeAs("2", c.err, wrote))
			w := <-wrote
			if ready := meta.FindStatusCondition(w.Status.Conditions, v1.ConditionReady); ready == nil ||
				ready.Status != metav1.ConditionFalse || ready.Reason != string(v1.ReasonPending) || ready.ObservedGeneration != 1 {
				t.Errorf("the Pending write says Ready %+v, want False/Pending at generation 1", ready)
			}
			if !meta.IsStatusConditionTrue(w.Status.Conditions, v1.ConditionReconciling) {
				t.Errorf("the Pending write does not say Reconciling=True: %+v", w.Status.Conditions)
			}
			o := newOrder(c.holds)
			s.settle(o)
			if o.ResourceVersion != c.wantFollowing {
				t.Errorf("resourceVersion %s after settle, want %s", o.ResourceVersion, c.wantFollowing)
			}
		})
	}
}

func TestPendingWriteIsArmedOncePerOrder(t *testing.T) {
	s := pendingWrites{delay: time.Hour}
	first := newOrder("1")
	s.arm(first, writeAs("2", nil, make(chan *v1.VerificationOrder, 1)))
	armed := s.m[objectKey(first)]
	s.arm(newOrder("5"), writeAs("6", nil, make(chan *v1.VerificationOrder, 1)))
	if s.m[objectKey(first)] != armed {
		t.Error("a second look replaced the first look's write: the delay would count from the last look")
	}
	s.forget(objectKey(first))
	if len(s.m) != 0 {
		t.Error("forget left the write")
	}
}
