-- The upload1m shape: every request is a POST with the same request body (its size in bytes is
-- the script's argument, after wrk's "--"), answered with the backend's small body. wrk takes one
-- -s script, so this one loads wrk-report.lua (from its own directory) for the same done().
local source = debug.getinfo(1, "S").source
dofile((source:match("^@(.*/)") or "./") .. "wrk-report.lua")

-- Runs once per wrk thread, before wrk formats the request it then sends unchanged: the body is
-- built once per thread, not per request.
init = function(args)
  local size = tonumber(args[1])
  if not size or size < 1 then
    error("wrk-upload.lua needs the body size in bytes as its argument (wrk ... URL -- 1048576)")
  end
  local chunk = "edge-balancer proxy benchmark upload body, 64 bytes per chunk..\n"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/octet-stream"
  wrk.body = string.rep(chunk, math.ceil(size / #chunk)):sub(1, size)
end
