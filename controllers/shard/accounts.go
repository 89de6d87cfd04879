package shard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/controllers/connection"
)

// The timing of the account Leases. A holder that has not renewed within
// Validity stops starting calls; its calls end within
// connection.VendorTimeout after that; and no one takes the Lease over
// until LeaseDuration has passed without it changing, which is longer
// than both together: a dead or cut-off shard's calls have all ended
// before another shard makes its first.
const (
	DefaultLeaseDuration = 50 * time.Second
	DefaultValidity      = 15 * time.Second
	DefaultRenewEvery    = 5 * time.Second
	// lookEvery: an account held elsewhere is read at most this often, however
	// many of its orders ask.
	lookEvery = time.Second
)

// Lease labels and annotations.
const (
	leasePrefix      = "verification-account-"
	labelVendor      = "verification.ordersync.dev/vendor"
	labelAccountHash = "verification.ordersync.dev/account-hash"
	// annotationReleasedBy is the holder that released the Lease last.
	annotationReleasedBy = "verification.ordersync.dev/released-by"
)

// Accounts holds, for this instance, the Lease of each vendor account it
// spends (coordination.k8s.io, one per account, in Namespace): a shard
// spends an account only while it holds its Lease, renews it while it
// serves a provider on the account, and releases it once it serves none
// and its calls to the account have ended. Another shard's Claim is
// refused until then, or until the Lease has not changed for
// LeaseDuration. The shard that takes an account over waits until the
// vendor's bucket has refilled from what the other spent (settle) before
// its first call: its own bucket starts as if empty.
type Accounts struct {
	Leases    coordinationclient.LeasesGetter
	Namespace string
	Shard     Shard
	// Identity is this process's, unique among every replica of every shard.
	Identity string
	// Providers reads providers from the cache; Clients names the
	// providers on each account, Budgets its calls in flight.
	Providers client.Reader
	Clients   *connection.ClientCache
	// Clock is the real one when nil.
	Clock clock.WithTicker
	// LeaseDuration, Validity and RenewEvery: zero means the defaults.
	LeaseDuration, Validity, RenewEvery time.Duration

	// acquiring serializes acquisitions: many orders of one account ask at
	// once, and one reads and writes the Lease for all.
	acquiring sync.Mutex
	mu        sync.Mutex
	held      map[string]*heldAccount
	// others are the Leases held elsewhere, as last read.
	others  map[string]*otherLease
	elected bool
	// stopping: the manager is shutting down; no account is claimed again.
	stopping bool
	// nudges ask Start to renew or release at once (Nudge).
	nudges chan struct{}
}

// Nudge asks for the Leases to be looked at now rather than at the next
// tick: an order just moved to another shard, and the account it leaves
// may be free.
func (a *Accounts) Nudge() {
	a.mu.Lock()
	if a.nudges == nil {
		a.nudges = make(chan struct{}, 1)
	}
	ch := a.nudges
	a.mu.Unlock()
	select {
	case ch <- struct{}{}:
	default:
	}
}

type heldAccount struct {
	lease     *coordinationv1.Lease
	renewed   time.Time // on this process's clock
	notBefore time.Time // settle: the first call may go then
	vendor    string
}

// versionOf tells one write of a Lease from another: its resourceVersion,
// and what a holder writes.
func versionOf(l *coordinationv1.Lease) string {
	renewed := ""
	if l.Spec.RenewTime != nil {
		renewed = l.Spec.RenewTime.UTC().Format(time.RFC3339Nano)
	}
	return l.ResourceVersion + "/" + ptr.Deref(l.Spec.HolderIdentity, "") + "/" + renewed
}

type otherLease struct {
	version  string    // versionOf
	since    time.Time // when this process first saw that version
	read     time.Time // when it was last read
	holder   string    // "" when released
	released string    // its released-by annotation
}

// LeaseName is the name of account's Lease: a hash of the account, which
// names no credential and no vendor URL.
func LeaseName(account string) string { return leasePrefix + AccountHash(account) }

// AccountHash identifies an account in Lease names and metrics.
func AccountHash(account string) string {
	sum := sha256.Sum256([]byte(account))
	return hex.EncodeToString(sum[:])[:16]
}

func (a *Accounts) clock() clock.WithTicker {
	if a.Clock == nil {
		return clock.RealClock{}
	}
	return a.Clock
}

func (a *Accounts) leaseDuration() time.Duration {
	if a.LeaseDuration > 0 {
		return a.LeaseDuration
	}
	return DefaultLeaseDuration
}

func (a *Accounts) validity() time.Duration {
	if a.Validity > 0 {
		return a.Validity
	}
	return DefaultValidity
}

func (a *Accounts) renewEvery() time.Duration {
	if a.RenewEvery > 0 {
		return a.RenewEvery
	}
	return DefaultRenewEvery
}

// holder is what this process writes as the Lease's holder: the shard's
// name, then the process.
func (a *Accounts) holder() string { return a.Shard.Name + "/" + a.Identity }

// shardOf is the shard of a holder identity.
func shardOf(holder string) string {
	name, _, _ := strings.Cut(holder, "/")
	return name
}

// settle is how long the vendor's bucket takes to refill a burst of
// ours: what a new holder waits, after the other's last call, before its
// first. The bucket's size and rate are budget's (half the vendor's burst,
// 97% of its rate).
func settle(l budget.Limits) time.Duration {
	l = l.Normalized()
	if l.RequestsPerSecond <= 0 {
		return 0
	}
	burst := max(1, (l.Burst+1)/2)
	return time.Duration(float64(burst) / (l.RequestsPerSecond * 0.97) * float64(time.Second))
}

// Claim is connection.Claim: nil when this instance may call account now.
func (a *Accounts) Claim(ctx context.Context, account string, p v1.Provider, limits budget.Limits) error {
	if !a.Shard.Serves(p) {
		// Relabeled: this shard stops calling at once, before its orders
		// have moved, and may release the account now.
		a.Nudge()
		return connection.ServedElsewhere(Of(p), 5*lookEvery)
	}
	now := a.clock().Now()
	a.mu.Lock()
	if a.stopping {
		a.mu.Unlock()
		return &connection.AccountHeld{RetryAfter: lookEvery, Message: "This shard's manager is stopping: it starts no vendor call, and its standby or next leader takes over."}
	}
	held, err := a.holding(account, now)
	a.mu.Unlock()
	if held {
		return err
	}
	a.acquiring.Lock()
	defer a.acquiring.Unlock()
	a.mu.Lock()
	if held, err := a.holding(account, now); held { // another worker took it meanwhile
		a.mu.Unlock()
		return err
	}
	if o := a.others[account]; o != nil && now.Sub(o.read) < lookEvery && o.holder != "" && o.holder != a.holder() {
		retry := a.retryAfter(o, now)
		a.mu.Unlock()
		return connection.HeldBy(shardOf(o.holder), retry)
	}
	a.mu.Unlock()
	return a.acquire(ctx, account, limits)
}

// Sending is connection.ClientCache's Gate: nil while this instance holds
// account and may call it. Checked as each request leaves, it closes the
// gap between a reconcile's Claim and its call: an account released in
// between (its provider moved) is called no more.
func (a *Accounts) Sending(account string) error {
	now := a.clock().Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	// Stopping, the accounts stay held (and their calls go) until their
	// calls in flight have ended: a reconcile's calls and the writes of
	// their results run past shutdown.
	held, err := a.holding(account, now)
	if !held {
		return errNotHeld
	}
	return err
}

var errNotHeld = errors.New("not sent: this shard does not hold the vendor account (another shard spends it)")

// holding says whether this instance holds account now, and if so whether
// it may call it yet (nil) or settles first. a.mu is held.
func (a *Accounts) holding(account string, now time.Time) (bool, error) {
	h := a.held[account]
	if h == nil || now.Sub(h.renewed) >= a.validity() {
		return false, nil
	}
	if now.Before(h.notBefore) {
		return true, connection.Settling(h.notBefore.Sub(now))
	}
	return true, nil
}

// retryAfter is when to look at a Lease held elsewhere again: when it
// would expire, and at most 2·lookEvery from now, to notice a release
// soon (the Lease is read at most once per lookEvery however many orders
// ask).
func (a *Accounts) retryAfter(o *otherLease, now time.Time) time.Duration {
	return max(lookEvery, min(2*lookEvery, o.since.Add(a.leaseDuration()).Sub(now)))
}

// acquire reads account's Lease and takes it if it is free, released, this
// process's own, or expired.
func (a *Accounts) acquire(ctx context.Context, account string, limits budget.Limits) error {
	leases := a.Leases.Leases(a.Namespace)
	name := LeaseName(account)
	now := a.clock().Now()
	lease, err := leases.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		lease = a.newLease(account, now)
		created, err := leases.Create(ctx, lease, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return connection.HeldBy("", lookEvery) // another took it at this very moment; look again
		}
		if err != nil {
			return err
		}
		// No one ever held it: nothing to settle.
		a.keep(ctx, account, created, now, now)
		return nil
	case err != nil:
		return err
	}
	me := a.holder()
	holder := ptr.Deref(lease.Spec.HolderIdentity, "")
	a.mu.Lock()
	o := a.others[account]
	if version := versionOf(lease); o == nil || o.version != version {
		o = &otherLease{version: version, since: now}
		if a.others == nil {
			a.others = map[string]*otherLease{}
		}
		a.others[account] = o
	}
	o.read, o.holder, o.released = now, holder, lease.Annotations[annotationReleasedBy]
	a.mu.Unlock()

	notBefore := now
	switch {
	case holder == me:
		// Ours already (renewed late, or a worker raced us): spend at once.
	case holder == "":
		if o.released != me {
			notBefore = o.since.Add(settle(limits)) // released after its last call ended
		}
	case now.Sub(o.since) >= a.leaseDuration():
		// Not renewed for a whole LeaseDuration: its holder stopped starting
		// calls long ago, and its last calls have ended.
		notBefore = now.Add(settle(limits))
		log.FromContext(ctx).Info("taking over an expired vendor account Lease", "lease", lease.Name, "from", holder)
	default:
		return connection.HeldBy(shardOf(holder), a.retryAfter(o, now))
	}
	taken := lease.DeepCopy()
	taken.Spec.HolderIdentity = ptr.To(me)
	taken.Spec.LeaseDurationSeconds = ptr.To(int32(a.leaseDuration().Seconds()))
	taken.Spec.AcquireTime = &metav1.MicroTime{Time: now}
	taken.Spec.RenewTime = &metav1.MicroTime{Time: now}
	if holder != me {
		taken.Spec.LeaseTransitions = ptr.To(ptr.Deref(taken.Spec.LeaseTransitions, 0) + 1)
	}
	updated, err := leases.Update(ctx, taken, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return connection.HeldBy(shardOf(holder), lookEvery) // someone wrote it first; look again
	}
	if err != nil {
		return err
	}
	a.keep(ctx, account, updated, now, notBefore)
	if now.Before(notBefore) {
		return connection.Settling(notBefore.Sub(now))
	}
	return nil
}

func (a *Accounts) newLease(account string, now time.Time) *coordinationv1.Lease {
	vendor, _, _ := strings.Cut(account, "|")
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: LeaseName(account), Namespace: a.Namespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "verification-operator", labelVendor: vendor, labelAccountHash: AccountHash(account)}},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(a.holder()),
			LeaseDurationSeconds: ptr.To(int32(a.leaseDuration().Seconds())),
			AcquireTime:          &metav1.MicroTime{Time: now},
			RenewTime:            &metav1.MicroTime{Time: now},
		},
	}
}

func (a *Accounts) keep(ctx context.Context, account string, lease *coordinationv1.Lease, now, notBefore time.Time) {
	vendor, _, _ := strings.Cut(account, "|")
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.held == nil {
		a.held = map[string]*heldAccount{}
	}
	if a.held[account] == nil {
		log.FromContext(ctx).Info("holding a vendor account", "lease", lease.Name, "vendor", vendor, "shard", a.Shard.Name)
	}
	a.held[account] = &heldAccount{lease: lease, renewed: now, notBefore: notBefore, vendor: vendor}
	delete(a.others, account)
}

// NeedLeaderElection is true: only the shard's leader spends accounts.
func (a *Accounts) NeedLeaderElection() bool { return true }

// Start renews the Leases this instance holds while it serves a provider
// on their accounts, and releases the others once their calls have ended.
// It runs on the shard's leader only. When the manager stops, no account
// is claimed again, and each is released once its calls in flight have
// ended (within shutdownWait; past it, the Lease expires instead), so the
// shard's next leader, or another shard, need not wait for it to expire.
func (a *Accounts) Start(ctx context.Context) error {
	a.mu.Lock()
	a.elected = true
	if a.nudges == nil {
		a.nudges = make(chan struct{}, 1)
	}
	nudges := a.nudges
	a.mu.Unlock()
	t := a.clock().NewTicker(a.renewEvery())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			a.mu.Lock()
			a.stopping, a.elected = true, false
			a.mu.Unlock()
			a.releaseWhenIdle(context.WithoutCancel(ctx))
			return nil
		case <-t.C():
			a.Renew(ctx)
		case <-nudges:
			a.Renew(ctx)
		}
	}
}

// shutdownWait bounds how long a stopping manager waits for its calls in
// flight before it releases their accounts: the order reconciler's own
// bound on a call and its result write.
const shutdownWait = 45 * time.Second

func (a *Accounts) releaseWhenIdle(ctx context.Context) {
	deadline := a.clock().Now().Add(shutdownWait)
	for {
		busy := false
		for account := range a.Held() {
			if a.idle(account) {
				if err := a.release(ctx, account); err != nil {
					log.FromContext(ctx).Error(err, "releasing a vendor account's Lease; it expires instead", "lease", LeaseName(account))
				}
			} else {
				busy = true
			}
		}
		if !busy || !a.clock().Now().Before(deadline) {
			return
		}
		a.clock().Sleep(100 * time.Millisecond)
	}
}

// Renew renews or releases each Lease held, once.
func (a *Accounts) Renew(ctx context.Context) {
	a.mu.Lock()
	accounts := make([]string, 0, len(a.held))
	for account := range a.held {
		accounts = append(accounts, account)
	}
	a.mu.Unlock()
	for _, account := range accounts {
		var err error
		if a.serves(ctx, account) {
			err = a.renew(ctx, account)
		} else if a.idle(account) {
			err = a.release(ctx, account)
		}
		if err != nil {
			log.FromContext(ctx).Error(err, "keeping a vendor account's Lease", "lease", LeaseName(account))
		}
	}
}

// serves says whether this instance serves a provider on account.
func (a *Accounts) serves(ctx context.Context, account string) bool {
	for _, key := range a.Clients.Sharing(account) {
		p := connection.EmptyProvider(connection.KeyKind(key))
		if err := a.Providers.Get(ctx, key, p); err != nil {
			if !apierrors.IsNotFound(err) {
				return true // cannot tell: keep it
			}
			continue
		}
		if a.Shard.Serves(p) && p.GetDeletionTimestamp().IsZero() {
			return true
		}
	}
	return false
}

// idle says no call of account is in flight here.
func (a *Accounts) idle(account string) bool {
	b, ok := a.Clients.Budgets.Get(account)
	if !ok {
		return true
	}
	calls, _ := b.InFlight()
	return calls == 0
}

func (a *Accounts) renew(ctx context.Context, account string) error {
	a.mu.Lock()
	h := a.held[account]
	a.mu.Unlock()
	if h == nil {
		return nil
	}
	now := a.clock().Now()
	lease := h.lease.DeepCopy()
	lease.Spec.RenewTime = &metav1.MicroTime{Time: now}
	updated, err := a.Leases.Leases(a.Namespace).Update(ctx, lease, metav1.UpdateOptions{})
	if err != nil {
		return a.recheck(ctx, account, err)
	}
	a.mu.Lock()
	if h := a.held[account]; h != nil {
		h.lease, h.renewed = updated, now
	}
	a.mu.Unlock()
	return nil
}

// recheck reads a Lease whose write failed: still ours, it is kept (and
// renewed at the next tick); otherwise it is no longer held here.
func (a *Accounts) recheck(ctx context.Context, account string, cause error) error {
	lease, err := a.Leases.Leases(a.Namespace).Get(ctx, LeaseName(account), metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return errors.Join(cause, err) // the holder stops calling once Validity passes
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err == nil && ptr.Deref(lease.Spec.HolderIdentity, "") == a.holder() {
		if h := a.held[account]; h != nil {
			h.lease = lease
		}
		return nil
	}
	log.FromContext(ctx).Info("lost a vendor account's Lease", "lease", LeaseName(account))
	delete(a.held, account)
	return nil
}

// release gives account's Lease up: its next holder may call at once
// (after settling), rather than wait for it to expire.
func (a *Accounts) release(ctx context.Context, account string) error {
	a.mu.Lock()
	h := a.held[account]
	delete(a.held, account) // no call starts from now on
	a.mu.Unlock()
	if h == nil {
		return nil
	}
	lease := h.lease.DeepCopy()
	lease.Spec.HolderIdentity = nil
	lease.Spec.AcquireTime, lease.Spec.RenewTime = nil, nil
	if lease.Annotations == nil {
		lease.Annotations = map[string]string{}
	}
	lease.Annotations[annotationReleasedBy] = a.holder()
	if _, err := a.Leases.Leases(a.Namespace).Update(ctx, lease, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return err // it expires instead
	}
	log.FromContext(ctx).Info("released a vendor account", "lease", lease.Name, "vendor", h.vendor, "shard", a.Shard.Name)
	return nil
}

// Held are the accounts this instance may spend now, with their vendors.
func (a *Accounts) Held() map[string]string {
	now := a.clock().Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]string{}
	for account, h := range a.held {
		if now.Sub(h.renewed) < a.validity() {
			out[account] = h.vendor
		}
	}
	return out
}

// Elected says whether this instance leads its shard.
func (a *Accounts) Elected() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.elected
}
