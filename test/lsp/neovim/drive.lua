-- Drives the Trove language server from headless Neovim 0.7 (Debian 12's package) with Neovim's
-- built-in LSP client, started by the README's Neovim set-up. Run by test/lsp/neovim.test.ts:
--   nvim --headless -u <the README's init.lua> -i NONE -n +"luafile test/lsp/neovim/drive.lua"
-- Env: TROVE_NVIM_FILE (a Python file in the workspace folder, Neovim's working folder),
-- TROVE_NVIM_OUT (where the JSON of what happened goes).
-- The script always writes TROVE_NVIM_OUT and quits; `error` names the step that failed.
local env = function(name) return assert(os.getenv(name), name .. ' is not set') end
local out = { steps = {}, messages = {}, notices = {} }
local function step(name) table.insert(out.steps, name) end
-- Nothing may wait for a person: notices are recorded, and a menu is a failure.
vim.notify = function(message) table.insert(out.notices, message) end
vim.ui.select = function(items) error(#items .. ' code lenses on one line: Neovim asks which one to run') end

local function run()
  local file = env('TROVE_NVIM_FILE')
  out.nvim = vim.version()
  vim.lsp.handlers['window/showMessage'] = function(_, result)
    table.insert(out.messages, result.message)
  end
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  out.filetype = vim.bo[bufnr].filetype

  step('start')
  -- The client is started by the README's set-up (the init file), on the FileType event of `edit`.
  local client_id
  assert(vim.wait(20000, function()
    for _, c in pairs(vim.lsp.buf_get_clients(bufnr)) do
      if c.name == 'trove' then client_id = c.id end
    end
    return client_id ~= nil
  end, 20), 'no trove client attached to the buffer: the README set-up did not start one')
  local client = vim.lsp.get_client_by_id(client_id)
  assert(vim.wait(20000, function() return client.initialized end, 20), 'the server did not answer initialize')
  out.executeCommands = (client.server_capabilities.executeCommandProvider or {}).commands

  step('diagnostics')
  assert(vim.wait(20000, function() return #vim.diagnostic.get(bufnr) > 0 end, 20), 'no diagnostics were published')
  out.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(out.diagnostics, { line = d.lnum, message = d.message, code = d.user_data and d.user_data.lsp and d.user_data.lsp.code })
  end

  local uri = vim.uri_from_bufnr(bufnr)
  local function request(method, params)
    local answers, err = vim.lsp.buf_request_sync(bufnr, method, params, 20000)
    assert(answers, method .. ': ' .. tostring(err))
    local answer = answers[client_id]
    assert(answer and not answer.err, method .. ' failed: ' .. vim.inspect(answer))
    return answer.result
  end

  step('hover')
  local hover = request('textDocument/hover', { textDocument = { uri = uri }, position = { line = 0, character = 26 } })
  out.hover = hover and hover.contents and hover.contents.value

  step('completion')
  -- Inside the string of line 2, after `"mnist-`.
  local completion = request('textDocument/completion', { textDocument = { uri = uri }, position = { line = 1, character = 30 } })
  local items = completion and (completion.items or completion) or {}
  out.completion = {}
  for _, item in ipairs(items) do table.insert(out.completion, item.label) end

  step('code lens')
  vim.lsp.codelens.refresh()
  assert(vim.wait(20000, function() return #(vim.lsp.codelens.get(bufnr) or {}) > 0 end, 20), 'no code lenses')
  out.lenses = {}
  for _, lens in ipairs(vim.lsp.codelens.get(bufnr)) do
    table.insert(out.lenses, { line = lens.range.start.line, title = lens.command and lens.command.title, command = lens.command and lens.command.command })
  end

  step('run the lens on line 1')
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.lsp.codelens.run()
  assert(vim.wait(30000, function()
    if #out.notices > 0 then return true end
    for _, m in ipairs(out.messages) do
      if m:find('downloaded') then return true end
    end
    return false
  end, 20), 'the Download lens did not report a download')
  assert(#out.notices == 0, 'Neovim said: ' .. table.concat(out.notices, ' / '))

  step('stop')
  vim.lsp.stop_client(client_id)
  vim.wait(5000, function() return vim.lsp.client_is_stopped(client_id) end, 20)
  out.stopped = vim.lsp.client_is_stopped(client_id)
end

local ok, err = pcall(run)
if not ok then out.error = tostring(err) end
local f = assert(io.open(env('TROVE_NVIM_OUT'), 'w'))
f:write(vim.fn.json_encode(out))
f:close()
vim.cmd('qall!')
