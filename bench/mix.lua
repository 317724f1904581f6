-- The closed-loop load of the benchmark: wrk sends the request bodies of a file (one
-- JSON body a line, the first script argument) in turn, as POSTs to the URL's path,
-- and reports one line for the harness when done.
local requests = {}
local count = 0
local next_request = 0

function init(args)
  for line in io.lines(args[1]) do
    count = count + 1
    requests[count] = wrk.format("POST", nil, {["Content-Type"] = "application/json"}, line)
  end
  if count == 0 then
    error("no request bodies in " .. args[1])
  end
end

function request()
  next_request = next_request % count + 1
  return requests[next_request]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
