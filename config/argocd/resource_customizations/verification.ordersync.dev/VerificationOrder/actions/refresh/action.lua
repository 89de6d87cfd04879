-- refresh asks the controller to look at the order now: an annotation change
-- triggers a reconcile (the vendor is observed again unless the order is
-- terminal, when its status already says all there is). Argo CD runs
-- actions without a global os: its safe os (time and date) comes by require.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["verification.ordersync.dev/refresh"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
