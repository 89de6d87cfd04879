package conformance_test

import (
	"testing"

	"github.com/ordersync/verification-operator/providers/conformance"
)

func TestTxCloud(t *testing.T) { conformance.Run(t, conformance.TxCloud()) }
