-- The listener's rules, evaluated as the ALB evaluates them, in HAProxy (lab/haproxy.ts loads this file).
-- The lab's ELBv2 endpoint replaces the whole rule list in one step through the runtime API
-- (`elb set-rules <hex>`), so no request sees half of a change and HAProxy never reloads.
-- Each rule: { id, conditions = { {kind, patterns, name?} }, targets = { {group, weight} }, sticky = seconds }.
-- https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html

local rules = {}
math.randomseed(os.time())

local function decode(hex)
  return (hex:gsub('..', function(h) return string.char(tonumber(h, 16)) end))
end

core.register_cli({ 'elb', 'set-rules' }, 'elb set-rules <hex> : replace the listener rules', function(applet, _, _, hex)
  local chunk, err = load(decode(hex or ''), 'rules', 't', {})
  if not chunk then
    applet:send('error: ' .. err .. '\n')
    return
  end
  local ok, value = pcall(chunk)
  if not ok or type(value) ~= 'table' then
    applet:send('error: ' .. tostring(value) .. '\n')
    return
  end
  rules = value
  applet:send('ok ' .. #rules .. '\n')
end)

local function any_match(subject, patterns)
  if subject == nil then
    return false
  end
  for _, p in ipairs(patterns) do
    if string.find(subject, p) then
      return true
    end
  end
  return false
end

-- "If the same header appears multiple times in the request, we search them in order until a match is found."
-- https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_HttpHeaderConditionConfig.html
local function header_matches(headers, name, patterns)
  local values = headers[name]
  if values == nil then
    return false
  end
  local i = 0
  while values[i] ~= nil do
    if any_match(string.lower(values[i]), patterns) then
      return true
    end
    i = i + 1
  end
  return false
end

local function matches(rule, req)
  for _, c in ipairs(rule.conditions) do
    local ok
    if c.kind == 'path' then
      ok = any_match(req.path, c.patterns)
    elseif c.kind == 'host' then
      ok = any_match(req.host, c.patterns)
    elseif c.kind == 'method' then
      ok = any_match(req.method, c.patterns)
    else
      ok = header_matches(req.headers, c.name, c.patterns)
    end
    if not ok then
      return false
    end
  end
  return true
end

-- Target-group stickiness outranks the weights: a valid AWSALBTG naming a group of the action keeps the user
-- there, at weight 0 too; anyone else gets a weighted choice, and with stickiness on, the cookie.
-- A group the action does not name gets nobody, and with all weights 0 nobody is chosen (backend `none`: 503).
local function choose(txn, rule)
  txn:set_var('txn.rule', rule.id)
  if rule.sticky > 0 then
    local pinned = txn.sf:req_cook('AWSALBTG')
    for _, t in ipairs(rule.targets) do
      if pinned == t.group then
        txn:set_var('txn.color', t.group)
        return
      end
    end
  end
  local total = 0
  for _, t in ipairs(rule.targets) do
    total = total + t.weight
  end
  if total == 0 then
    txn:set_var('txn.color', 'none')
    return
  end
  local pick = math.random(total)
  for _, t in ipairs(rule.targets) do
    pick = pick - t.weight
    if pick <= 0 then
      txn:set_var('txn.color', t.group)
      break
    end
  end
  if rule.sticky > 0 then
    txn:set_var('txn.fresh', 1)
    txn:set_var('txn.group_s', rule.sticky)
  end
end

core.register_action('elb_route', { 'http-req' }, function(txn)
  local host = txn.sf:req_hdr('host') or ''
  local req = {
    path = txn.sf:path(),
    host = string.lower((host:gsub(':%d+$', ''))),
    method = txn.sf:method(),
    headers = txn.http:req_get_headers(),
  }
  for _, rule in ipairs(rules) do
    if matches(rule, req) then
      choose(txn, rule)
      return
    end
  end
  txn:set_var('txn.color', 'none')
end)
