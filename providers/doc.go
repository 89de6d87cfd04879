// Package providers is the vendor-neutral contract between the controller and
// the verification vendors: a Client that observes an order and applies the
// actions a vendor supports, a PII-free Observation, typed errors, each
// vendor's capabilities, and a registry from vendor name to constructor.
//
// Each vendor lives in its own package (providers/<vendor>) with an HTTP
// simulator beside it (providers/<vendor>/simulator). Clients decode only the
// fields listed in Observation, so PII in a vendor response never reaches a Go
// value that could be logged or written to the API server.
package providers
