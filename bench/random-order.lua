-- GET /orders/o-<n> over random existing order ids (ORDER_COUNT of them), for wrk, as a reader (TOKEN: a JWT)
local count = tonumber(os.getenv("ORDER_COUNT"))
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed)
end

request = function()
  return wrk.format("GET", "/orders/o-" .. math.random(0, count - 1))
end
