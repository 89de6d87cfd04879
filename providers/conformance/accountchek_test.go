package conformance_test

import (
	"testing"

	"github.com/ordersync/verification-operator/providers/conformance"
)

func TestAccountChek(t *testing.T) { conformance.Run(t, conformance.AccountChek()) }
