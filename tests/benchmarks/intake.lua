-- wrk script: POST 3-line orders with unique external ids (RUN prefix + thread + counter).
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
local run = os.getenv("RUN") or "r"
local path = os.getenv("TARGET_PATH") or "/api/v1/orders/"
local key = os.getenv("KEY")
local skus = tonumber(os.getenv("SKUS") or "30")

request = function()
  counter = counter + 1
  local a = (counter % skus) + 1
  local b = ((counter + 7) % skus) + 1
  local c = ((counter + 13) % skus) + 1
  local body = string.format([[{"external_id":"%s-%d-%d","currency":"USD",
"customer":{"email":"c%d@example.com","name":"Bench Customer"},
"shipping_address":{"name":"Bench","line1":"1 Main St","city":"Springfield","region":"IL","postal_code":"62701","country":"US"},
"lines":[{"sku":"BENCH-%03d","quantity":1},{"sku":"BENCH-%03d","quantity":2},{"sku":"BENCH-%03d","quantity":1}]}]],
    run, tid, counter, counter % 500, a, b, c)
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["Authorization"] = "Token " .. key}, body)
end
