package commands

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// words folds each line's runs of spaces, so a table compares by its cells.
func words(s string) string {
	var out []string
	for line := range strings.Lines(s) {
		out = append(out, strings.Join(strings.Fields(line), " "))
	}
	return strings.Join(out, "\n")
}

// heldToStricter is the LimitsApplied message of fleet's truework
// provider, whose account another provider holds to stricter limits.
const heldToStricter = "This provider declares 20 requests/s, burst 40; its vendor account is also reached by VerificationProvider team-b/truework, " +
	"which declares 10 requests/s, burst 10; the account is held to 10 requests/s, burst 10. Set the same limits on every provider of the account."

// limitsApplied records the provider's LimitsApplied condition.
func limitsApplied(status metav1.ConditionStatus, reason v1.Reason, message string) func(*v1.VerificationProvider) {
	return func(p *v1.VerificationProvider) {
		meta.SetStatusCondition(&p.Status.Conditions, metav1.Condition{Type: v1.ConditionLimitsApplied, Status: status,
			Reason: string(reason), Message: message})
	}
}

// fleet creates, in a new namespace, three providers (one with its Secret
// missing, one whose polls are stretched and whose account is held to
// another provider's stricter limits; one keeping its finished orders, one
// pruning them at once, one a day after and GitOps-managed ones too) and
// orders in every state.
func fleet(t *testing.T) string {
	t.Helper()
	ns := newNamespace(t, "fleet")
	createProvider(t, ns, "truework", v1.VendorTruework, func(p *v1.VerificationProvider) {
		p.Spec.RateLimit = &v1.RateLimit{RequestsPerSecond: 20, Burst: 40}
		p.Status.Orders, p.Status.EffectivePollInterval = 3, &metav1.Duration{Duration: 12 * time.Minute}
		p.Status.FinishedOrders = 1
	}, limitsApplied(metav1.ConditionFalse, v1.ReasonAccountLimitsDiffer, heldToStricter))
	createProvider(t, ns, "accountchek", v1.VendorAccountChek, func(p *v1.VerificationProvider) {
		p.Spec.Retention = &v1.Retention{TTLSecondsAfterFinished: ptr.To[int32](0)}
		p.Status.Conditions[0].Status, p.Status.Conditions[0].Reason = metav1.ConditionFalse, string(v1.ReasonSecretNotFound)
		p.Status.Conditions[0].Message = `Secret "accountchek-credentials" with its credentials was not found.`
	})
	createProvider(t, ns, "txcloud", v1.VendorTxCloud, func(p *v1.VerificationProvider) {
		p.Spec.PollInterval, p.Spec.PollBudgetPercent = &metav1.Duration{Duration: time.Minute}, ptr.To[int32](20)
		p.Status.Orders, p.Status.EffectivePollInterval = 1, &metav1.Duration{Duration: time.Minute}
		p.Spec.Retention = &v1.Retention{TTLSecondsAfterFinished: ptr.To[int32](86400), PruneGitOpsManaged: true}
		p.Status.FinishedOrders = 2
	}, limitsApplied(metav1.ConditionTrue, v1.ReasonOwnLimits, "Its vendor account is held to the limits this provider declares: 1 requests/s, burst 5."))

	converged := ready(metav1.ConditionTrue, v1.ReasonConverged, "The order is active at truework (processing).")
	record(t, createOrder(t, ns, "a", "truework", "tw-a", v1.DesiredActive), observed("processing", "active"), converged)
	record(t, createOrder(t, ns, "b", "truework", "tw-b", v1.DesiredActive), observed("processing", "active"), converged)
	record(t, createOrder(t, ns, "c", "truework", "tw-c", v1.DesiredCanceled), observed("completed", "completed"), stalled(v1.ReasonAlreadyTerminal, "ended"))
	createOrder(t, ns, "d", "truework", "tw-d", v1.DesiredCanceled)
	record(t, createOrder(t, ns, "e", "accountchek", "ac-e", v1.DesiredCanceled), stalled(v1.ReasonProviderNotReady, "no Secret"))
	record(t, createOrder(t, ns, "f", "txcloud", "tx-f", v1.DesiredCanceled), observed("expired", "canceled"),
		ready(metav1.ConditionTrue, v1.ReasonConverged, "The order is canceled at txcloud."))
	record(t, createOrder(t, ns, "g", "txcloud", "tx-g", v1.DesiredCanceled), observed("expired", "expired"), stalled(v1.ReasonAlreadyTerminal, "ended"))
	return ns
}

func TestStatusSummarizesProvidersAndOrders(t *testing.T) {
	ns := fleet(t)
	r := plugin("status", "-n", ns)
	t.Logf("status:\n%s", r.stdout)
	want := strings.ReplaceAll(`PROVIDERS
NAMESPACE NAME VENDOR READY REASON RATE ACCOUNT LIMITS POLL BUDGET ORDERS POLL EFFECTIVE POLL RETENTION FINISHED
NS accountchek accountchek False SecretNotFound 10/s burst 10 - 50% 0 5m0s - 0s 0
NS truework truework True CredentialsValid 20/s burst 40 stricter 50% 3 5m0s 12m0s (stretched) keep 1
NS txcloud txcloud True CredentialsValid 1/s burst 5 own 20% 1 1m0s 1m0s 24h0m0s (GitOps too) 2

LIMITS DIFFER
NAMESPACE NAME MESSAGE
NS truework `+heldToStricter+`

ORDERS
NAMESPACE PROVIDER STATE READY REASON COUNT
NS accountchek - False ProviderNotReady 1
NS truework - - - 1
NS truework active True Converged 2
NS truework completed False AlreadyTerminal 1
NS txcloud canceled True Converged 1
NS txcloud expired False AlreadyTerminal 1

STALLED
REASON COUNT ORDERS
AlreadyTerminal 2 NS/c, NS/g
ProviderNotReady 1 NS/e`, "NS", ns)
	if r.code != 0 || words(r.stdout) != want {
		t.Errorf("status: exit %d\n%s%s\nwant (spacing aside):\n%s", r.code, r.stdout, r.stderr, want)
	}

	r = plugin("status", "-n", ns, "--provider", "txcloud")
	want = strings.ReplaceAll(`PROVIDERS
NAMESPACE NAME VENDOR READY REASON RATE ACCOUNT LIMITS POLL BUDGET ORDERS POLL EFFECTIVE POLL RETENTION FINISHED
NS txcloud txcloud True CredentialsValid 1/s burst 5 own 20% 1 1m0s 1m0s 24h0m0s (GitOps too) 2

ORDERS
NAMESPACE PROVIDER STATE READY REASON COUNT
NS txcloud canceled True Converged 1
NS txcloud expired False AlreadyTerminal 1

STALLED
REASON COUNT ORDERS
AlreadyTerminal 1 NS/g`, "NS", ns)
	if r.code != 0 || words(r.stdout) != want {
		t.Errorf("status --provider txcloud: exit %d\n%s%s\nwant (spacing aside):\n%s", r.code, r.stdout, r.stderr, want)
	}

	empty := newNamespace(t, "empty")
	if r := plugin("status", "-n", empty); r.code != 0 || words(r.stdout) != "PROVIDERS\nnone\n\nORDERS\nnone\n\nSTALLED\nnone" {
		t.Errorf("status of an empty namespace: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
