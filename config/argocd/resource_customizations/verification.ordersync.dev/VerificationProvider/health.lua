-- Argo CD health of a VerificationProvider or ClusterVerificationProvider,
-- from its Ready condition (it has no Stalled one). Written for Argo CD's
-- restricted Lua VM (no string, math or os library).
local hs = {}
local ready = nil
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then ready = c end
  end
end
if ready == nil or obj.status.observedGeneration == nil or obj.status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to look at this generation."
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
elseif ready.status == "False" then
  -- Missing or unusable credentials: nothing heals until a person acts.
  hs.status = "Degraded"
else
  hs.status = "Progressing"
end
hs.message = ready.reason .. ": " .. ready.message
return hs
