// Package controllers wires the operator together (Setup): the field
// indexes, the metrics, the reconcilers and the webhook receiver. Each
// concern lives in a package of its own below it:
//
//   - order: the VerificationOrder reconciler (observe, plan, pay, act,
//     record);
//   - provider: the reconciler of both provider kinds;
//   - connection: reaching a vendor (provider lookups, Secret reads, the
//     client cache, accounts and budget reports);
//   - budget: each vendor account's request budget;
//   - plan: the pure decision, shared with the kubectl plugin;
//   - index: the field indexes;
//   - metrics: the vendor-call and fleet metrics.
//
// The loop and its rules are described in docs/design.md.
package controllers
