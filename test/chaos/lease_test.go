package chaos

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The manager's leader election, as cmd/manager and controller-runtime's
// defaults set it up.
const (
	leaseName = "verification-operator.ordersync.dev"
	// leaseDuration is how long a Lease not renewed keeps others out;
	// retryPeriod how often a candidate tries for it and the leader renews.
	leaseDuration = 15 * time.Second
	retryPeriod   = 2 * time.Second
)

// takeoverBound is the longest a standby may take to lead after the leader
// dies without releasing the Lease: the leader's last renewal is at most
// retryPeriod before its death; the standby notices the record stopped
// changing at most retryPeriod after that renewal (it reads every
// retryPeriod), waits leaseDuration from then, and acts on its next try,
// at most retryPeriod later. client-go stretches each retryPeriod by up to
// 1.2 times more (wait.JitterUntil with JitterFactor 1.2). Plus 2s for a
// loaded machine.
const takeoverBound = leaseDuration + 2*retryPeriod*22/10 + 2*time.Second

// takeover is one process taking the Lease.
type takeover struct {
	process string
	// acquired is the Lease's acquireTime as the new holder wrote it.
	acquired time.Time
	// after is how long after the previous holder died or was cut off.
	after time.Duration
}

// awaitTakeover waits until m holds the Lease and returns when it took it.
func awaitTakeover(ctx context.Context, m *manager, since time.Time) takeover {
	GinkgoHelper()
	Eventually(func() bool { return m.leading() || m.exited() }).WithTimeout(2*takeoverBound).Should(BeTrue(),
		"%s did not take the Lease within %s:\n%s", m.name, 2*takeoverBound, m.lastLines(20))
	Expect(m.exited()).To(BeFalse(), "%s exited:\n%s", m.name, m.lastLines(20))
	return readTakeover(ctx, m, since)
}

// readTakeover reads when m, which logged that it leads, took the Lease.
func readTakeover(ctx context.Context, m *manager, since time.Time) takeover {
	GinkgoHelper()
	lease := &coordinationv1.Lease{}
	Expect(k8s.Get(ctx, types.NamespacedName{Namespace: leaseNamespace, Name: leaseName}, lease)).To(Succeed())
	Expect(lease.Spec.AcquireTime).NotTo(BeNil())
	acquired := lease.Spec.AcquireTime.Time
	return takeover{process: m.name, acquired: acquired, after: acquired.Sub(since)}
}
