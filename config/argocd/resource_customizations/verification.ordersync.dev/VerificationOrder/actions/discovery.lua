-- The actions Argo CD offers on a VerificationOrder.
local actions = {}
actions["refresh"] = {["disabled"] = false}
return actions
