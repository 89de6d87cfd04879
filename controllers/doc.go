// Package controllers holds the two reconcilers: VerificationOrder (observe
// the vendor order, plan, apply, record) and VerificationProvider (check
// credentials, hold a provider while Cancel-policy orders need it). The
// loop and its rules are described in docs/design.md.
package controllers
