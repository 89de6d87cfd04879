package v1alpha1

// ReverifiedAnnotation keeps, on the object itself, the request that its
// reverification created, as "<spec.reverification.verificationRequestID>/<created id>".
// status.orderID holds the same id; the annotation is where an object that
// lost its status (restored from a backup, or copied with its metadata)
// finds it, so that the billable reverification is never bought again.
// The controller writes it; a person may set it to adopt a reverification
// made elsewhere.
const ReverifiedAnnotation = "verification.ordersync.dev/reverified"
