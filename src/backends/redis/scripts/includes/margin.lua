-- Every key of a name lives at least this long past the latest holder or waiter expiry it
-- serves (includes/touch-keys.lua), so a name's keys outlive every entry in them.
local KEY_MARGIN_MS = 60000
