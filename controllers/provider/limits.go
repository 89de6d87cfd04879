package provider

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/index"
)

// syncLimits declares p's limits on its account (withdraws them when p
// names none) and sets LimitsApplied: whether the account is held to them.
// It says when to look again: while a provider's limits differ, it is not
// said to be held to its own before every provider has declared its own
// since the start.
func (r *Reconciler) syncLimits(ctx context.Context, p v1.Provider, account string) (time.Duration, error) {
	var own budget.Limits
	if vendor, err := r.Registry.Get(string(p.ProviderSpec().Vendor)); err == nil {
		own = budget.LimitsOf(p, vendor)
	}
	limits := r.Clients.Declare(p, account, own)
	st := p.ProviderStatus()
	if account == "" {
		meta.RemoveStatusCondition(&st.Conditions, v1.ConditionLimitsApplied)
		return 0, nil
	}
	next := limitsApplied(limits, p.GetGeneration())
	if prev := meta.FindStatusCondition(st.Conditions, v1.ConditionLimitsApplied); prev != nil &&
		prev.Status == metav1.ConditionFalse && next.Status == metav1.ConditionTrue {
		if settled, err := r.settled(ctx); err != nil || !settled {
			return budgetReportDelay, err
		}
	}
	meta.SetStatusCondition(&st.Conditions, next)
	return 0, nil
}

// settled says every provider served has declared its limits, or been
// found to name no account, since the start. Until then an account may
// lack a stricter provider's limits: at a restart, a provider whose
// limits differ would otherwise be said to be held to its own until the
// stricter one is reconciled again, and warned about again after.
func (r *Reconciler) settled(ctx context.Context) (bool, error) {
	return r.Clients.DeclaredSinceStart(ctx, index.Lister(r.Client), r.BudgetReports.Kinds())
}

// warnLimits emits AccountLimitsDiffer when p's LimitsApplied turns False.
func (r *Reconciler) warnLimits(p v1.Provider, before *v1.VerificationProviderStatus) {
	now := meta.FindStatusCondition(p.ProviderStatus().Conditions, v1.ConditionLimitsApplied)
	if now == nil || now.Status != metav1.ConditionFalse ||
		meta.IsStatusConditionFalse(before.Conditions, v1.ConditionLimitsApplied) {
		return
	}
	r.Recorder.Eventf(p, nil, corev1.EventTypeWarning, string(v1.ReasonAccountLimitsDiffer), "Check", "%s", now.Message)
}

// limitsApplied is the LimitsApplied condition of a provider whose account
// is held to a.InForce.
func limitsApplied(a connection.AccountLimits, generation int64) metav1.Condition {
	c := metav1.Condition{Type: v1.ConditionLimitsApplied, ObservedGeneration: generation}
	own, inForce := terms(a.Own), terms(a.InForce)
	if !a.Differ() {
		c.Status, c.Reason = metav1.ConditionTrue, string(v1.ReasonOwnLimits)
		c.Message = fmt.Sprintf("Its vendor account is held to the limits this provider declares: %s.", strings.Join(own, ", "))
		return c
	}
	differ := differing(own, inForce)
	c.Status, c.Reason = metav1.ConditionFalse, string(v1.ReasonAccountLimitsDiffer)
	c.Message = fmt.Sprintf("This provider declares %s; its vendor account is also reached by %s; the account is held to %s. "+
		"Set the same limits on every provider of the account.",
		pick(own, differ), holders(a.Others, differ, inForce), pick(inForce, slices.Concat(alwaysShown, differ)))
	return c
}

// namedHolders is how many of the providers that hold an account below a
// provider's limits its message names.
const namedHolders = 3

// holders names the providers that hold the account to the stricter terms
// in differ, and what each declares in them.
func holders(others []connection.Declared, differ []int, inForce []string) string {
	var named []string
	for _, o := range others {
		t := terms(o.Limits)
		if !slices.ContainsFunc(differ, func(i int) bool { return t[i] == inForce[i] }) {
			continue // not among those the account is held to
		}
		named = append(named, fmt.Sprintf("%s, which declares %s", describe(o), pick(t, differ)))
	}
	if len(named) > namedHolders {
		named = append(named[:namedHolders], fmt.Sprintf("%d more providers", len(named)-namedHolders))
	}
	return strings.Join(named, ", and by ")
}

// describe names a provider as a person finds it: kind namespace/name.
func describe(d connection.Declared) string {
	key := d.Provider
	if key.Namespace == "" {
		return fmt.Sprintf("%s %s", connection.KeyKind(key), key.Name)
	}
	return fmt.Sprintf("%s %s/%s", connection.KeyKind(key), key.Namespace, key.Name)
}

// terms are a person's words for each of l's limits, in one order, so that
// two limits' terms compare field by field.
func terms(l budget.Limits) []string {
	quota := "no daily quota"
	if l.RequestsPerDay > 0 {
		quota = fmt.Sprintf("%d requests/day", l.RequestsPerDay)
	}
	return []string{
		strconv.FormatFloat(l.RequestsPerSecond, 'f', -1, 64) + " requests/s",
		fmt.Sprintf("burst %d", l.Burst),
		quota,
		fmt.Sprintf("%d calls in flight", l.MaxInFlight),
		fmt.Sprintf("%d%% of the rate for polls", int(math.Round(l.PollShare*100))),
	}
}

// alwaysShown are the terms (the rate and the burst) that say what an
// account is held to even where they are not what differs.
var alwaysShown = []int{0, 1}

// differing are the indexes of the terms in which a and b differ.
func differing(a, b []string) []int {
	var idx []int
	for i := range a {
		if a[i] != b[i] {
			idx = append(idx, i)
		}
	}
	return idx
}

// pick joins the terms at idx, each once, in terms' order.
func pick(t []string, idx []int) string {
	idx = slices.Compact(slices.Sorted(slices.Values(idx)))
	picked := make([]string, 0, len(idx))
	for _, i := range idx {
		picked = append(picked, t[i])
	}
	return strings.Join(picked, ", ")
}
