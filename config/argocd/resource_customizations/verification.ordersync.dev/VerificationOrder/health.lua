-- Argo CD health of a VerificationOrder, from its kstatus conditions
-- (docs/design.md, Conditions). Written for Argo CD's restricted Lua VM
-- (no string, math or os library): only ipairs and the .. operator.
local hs = {}
local function condition(t)
  if obj.status ~= nil and obj.status.conditions ~= nil then
    for _, c in ipairs(obj.status.conditions) do
      if c.type == t then return c end
    end
  end
  return nil
end
-- Argo CD reads an object being deleted as Progressing before it runs a
-- health script (gitops-engine's GetResourceHealth); the same here, for
-- anything that runs the script on its own. Only a Cancel-policy order
-- lingers: its finalizer waits for the cancel at the vendor.
if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Being deleted: the order is canceled at the vendor first (deletionPolicy Cancel)."
  return hs
end
if obj.metadata.annotations ~= nil and obj.metadata.annotations["verification.ordersync.dev/paused"] == "true" then
  hs.status = "Suspended"
  hs.message = "Paused: no vendor calls until the annotation verification.ordersync.dev/paused is removed."
  return hs
end
local ready = condition("Ready")
-- The generation the controller last looked at. A new order's Pending
-- conditions come before its first result, which sets
-- status.observedGeneration: they carry their own.
local observed = nil
if obj.status ~= nil then observed = obj.status.observedGeneration end
if observed == nil and ready ~= nil then observed = ready.observedGeneration end
if ready == nil or observed == nil or observed < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to look at this generation."
  return hs
end
local stalled = condition("Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.reason .. ": " .. stalled.message
  return hs
end
-- Ready=True stays while a later look at the vendor is retried
-- (Reconciling=True): the order is where Git wants it, as last observed.
if ready.status == "True" then
  hs.status = "Healthy"
else
  hs.status = "Progressing"
end
hs.message = ready.reason .. ": " .. ready.message
return hs
