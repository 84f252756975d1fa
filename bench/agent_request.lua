-- wrk script. WWP_MODULE=hello.wasm (default) sends the Argo agent's template.execute call for
-- that module under --module-dir; WWP_MODULE=healthz sends GET /healthz, the HTTP floor.
local module = os.getenv("WWP_MODULE") or "hello.wasm"
if module == "healthz" then
  wrk.method = "GET"
  wrk.path = "/healthz"
else
  wrk.method = "POST"
  wrk.path = "/api/v1/template.execute"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. (os.getenv("WWP_TOKEN") or "bench-token")
  wrk.body = [[{"workflow":{"metadata":{"name":"bench","namespace":"default","uid":"bench-uid"}},
"template":{"name":"bench","plugin":{"wasm":{"module":{"path":"]] .. module .. [["}}}}}]]
end

-- Keep only successful steps in the count: a 503 or a failed step is an error, not throughput.
response = function(status, headers, body)
  if status ~= 200 or (module ~= "healthz" and not string.find(body, '"Succeeded"', 1, true)) then
    wrk.thread:set("bad", (wrk.thread:get("bad") or 0) + 1)
  end
end

done = function(summary, latency, requests)
  io.write(string.format("requests=%d duration_s=%.2f rps=%.0f p50_us=%d p90_us=%d p99_us=%d errors_status=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), summary.errors.status))
end
