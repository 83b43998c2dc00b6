-- Sends each request to a random path from the file named by $PATHS_FILE (one path per line).
local paths = {}
for line in io.lines(os.getenv("PATHS_FILE")) do
  paths[#paths + 1] = line
end

request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
