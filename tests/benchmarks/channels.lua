-- wrk script: 50 sales channels at once, each with its own key, placing 3-line orders AND reading them back.
-- KEYS: comma-separated channel keys. Every other request (once an order is known) GETs an order this
-- thread placed, with the key of the channel that placed it (the external id carries the key's index).
local keys = {}
for k in string.gmatch(os.getenv("KEYS") or "", "[^,]+") do table.insert(keys, k) end
local run = os.getenv("RUN") or "r"
local skus = tonumber(os.getenv("SKUS") or "30")

-- Each thread runs this script in its own Lua state; ``tid`` is the global setup() gives each one (a file-level
-- ``local tid`` would shadow it, and every thread would send the same external ids: replays, not orders).
local threads = {}
local made = 0
function setup(thread)
  thread:set("tid", made)
  made = made + 1
  table.insert(threads, thread)
end

local counter = 0
local sent = 0      -- orders sent by this thread: the key rotates over every channel
local placed = {}   -- {key index, order id} of orders this thread placed
writes = 0
reads = 0

request = function()
  counter = counter + 1
  if counter % 2 == 0 and #placed > 0 then
    local pick = placed[(counter % #placed) + 1]
    reads = reads + 1
    return wrk.format("GET", "/api/v1/orders/" .. pick[2] .. "/", {["Authorization"] = "Token " .. keys[pick[1]]})
  end
  sent = sent + 1
  local k = ((sent + tid * 17) % #keys) + 1
  local a = (counter % skus) + 1
  local b = ((counter + 7) % skus) + 1
  local c = ((counter + 13) % skus) + 1
  local body = string.format([[{"external_id":"%s-%d-k%d-%d","currency":"USD",
"customer":{"email":"m%d@example.com","name":"Load Customer"},
"shipping_address":{"name":"Load","line1":"1 Main St","city":"Springfield","region":"IL","postal_code":"62701","country":"US"},
"lines":[{"sku":"BENCH-%03d","quantity":1},{"sku":"BENCH-%03d","quantity":2},{"sku":"BENCH-%03d","quantity":1}]}]],
    run, tid, k, counter, counter % 500, a, b, c)
  writes = writes + 1
  return wrk.format("POST", "/api/v1/orders/",
    {["Content-Type"] = "application/json", ["Authorization"] = "Token " .. keys[k]}, body)
end

response = function(status, headers, body)
  if status == 201 then
    local id = string.match(body, '^{"id":(%d+)')
    local k = string.match(body, '"external_id":"[^"]*%-k(%d+)%-%d+"')
    if id and k and #placed < 1000 then table.insert(placed, {tonumber(k), id}) end
  end
end

done = function(summary, latency, requests)
  local w, r = 0, 0
  for _, thread in ipairs(threads) do
    w = w + thread:get("writes")
    r = r + thread:get("reads")
  end
  io.write(string.format("load: writes %d reads %d\n", w, r))
end
