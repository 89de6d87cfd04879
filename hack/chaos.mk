# Chaos, crashes and failover (docs/reliability.md), included from the
# Makefile (`include hack/chaos.mk`). `make test` runs a short version of
# the crash run (go test ./test/chaos with its defaults); this is the full
# one: 500 orders, 3 SIGKILLs, slow answers and in-doubt reverifications,
# leader failover and an API-server partition, an account that turns slow
# (its answers after the client's timeout) while other accounts' orders
# must keep converging, and the operator bugs the runs found, reproduced
# on their own. It writes chaos-results.json.
#
#   make test-chaos                      # a new seed, printed
#   make test-chaos CHAOS_SEED=1234      # replay a run
#   make test-chaos CHAOS_ORDERS=200 CHAOS_KILLS=5

CHAOS_ORDERS ?= 500
CHAOS_KILLS ?= 3
# 0 picks a seed and prints it.
CHAOS_SEED ?= 0
CHAOS_FLAGS ?= -chaos.failover -chaos.slow -chaos.slowvendor -chaos.doubt -chaos.strict

##@ Chaos

.PHONY: test-chaos
test-chaos: manifests envtest ## Run the full chaos suite (docs/reliability.md); writes chaos-results.json.
	go test ./test/chaos -count=1 -timeout 90m -v -args -ginkgo.v \
		-chaos.orders=$(CHAOS_ORDERS) -chaos.kills=$(CHAOS_KILLS) -chaos.seed=$(CHAOS_SEED) \
		$(CHAOS_FLAGS) -chaos.out=$(CURDIR)/chaos-results.json
