module github.com/ordersync/verification-operator/test/release

go 1.26.0
