-- A 60 KB block of X-MS-Exchange-* headers (Microsoft 365) passes.
dofile(mtdir .. "/common.lua")
local extra = {}
local total = 0
local i = 0
while total < 60 * 1024 do
	i = i + 1
	local name = string.format("X-MS-Exchange-CrossTenant-Test%d", i)
	local value = string.rep("A", 150) .. tostring(i)
	table.insert(extra, {name, value})
	total = total + #name + #value + 4
end
run_cases({{headers = good_headers(nil, extra),
	    what = "message with " .. i .. " Exchange headers"}})
