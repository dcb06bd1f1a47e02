#!/usr/bin/env node
// Fake model server for the agent tests (tests/integ/t-agents.sh).
//
//   node fake-model-server.js PORTFILE LOGFILE SCRIPTFILE
//
// Listens on 127.0.0.1 only, on a free port written to PORTFILE.  Every request
// (method, URL, headers, body) is appended to LOGFILE, so a test can assert
// what did or did not reach "the model".  SCRIPTFILE is JSON:
//   {"commands": ["cat ~/.ssh/id_ed25519", "echo hi > made-by-agent.txt"],
//    "final": "done"}
// The server answers a conversation with one shell tool call per command, in
// order (the step is the number of tool results already in the request), and
// then with the final text.  Two wire protocols:
// - OpenAI Responses API (POST .../responses, SSE), as used by Codex with a
//   custom model provider: the shell tool is whichever of exec_command,
//   shell_command or shell the request offers;
// - Anthropic Messages API (POST .../messages, SSE or JSON), as used by Claude
//   Code with ANTHROPIC_BASE_URL: the tool is "Bash".
// Anything else gets a small JSON answer (model lists) or 404.
'use strict';
const http = require('http');
const fs = require('fs');
const [portFile, logFile, scriptFile] = process.argv.slice(2);
if (!portFile || !logFile || !scriptFile) {
	console.error('usage: fake-model-server.js PORTFILE LOGFILE SCRIPTFILE');
	process.exit(2);
}
const script = JSON.parse(fs.readFileSync(scriptFile, 'utf8'));
const commands = script.commands || [];
const finalText = script.final || 'done';
let seq = 0;

function log(req, body) {
	fs.appendFileSync(logFile, JSON.stringify({
		method: req.method, url: req.url, headers: req.headers, body,
	}) + '\n');
}

function sse(res, events) {
	res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
	for (const [name, data] of events)
		res.write((name ? `event: ${name}\n` : '') + `data: ${JSON.stringify(data)}\n\n`);
	res.end();
}

// ---- OpenAI Responses API
function responses(req, res, body) {
	const input = Array.isArray(body.input) ? body.input : [];
	const step = input.filter(i => i && (i.type === 'function_call_output' ||
		i.type === 'custom_tool_call_output' || i.type === 'local_shell_call_output')).length;
	const tools = (body.tools || []).map(t => t.name || (t.function && t.function.name) || t.type);
	const id = `resp_${++seq}`;
	const usage = { input_tokens: 10, input_tokens_details: { cached_tokens: 0 },
		output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 };
	let item;
	if (step < commands.length) {
		const cmd = commands[step];
		let name, args;
		if (tools.includes('exec_command')) { name = 'exec_command'; args = { cmd }; }
		else if (tools.includes('shell_command')) { name = 'shell_command'; args = { command: cmd }; }
		else { name = 'shell'; args = { command: ['bash', '-lc', cmd] }; }
		item = { type: 'function_call', id: `fc_${seq}`, call_id: `call_${seq}`, name,
			arguments: JSON.stringify(args), status: 'completed' };
	} else {
		item = { type: 'message', id: `msg_${seq}`, role: 'assistant', status: 'completed',
			content: [{ type: 'output_text', text: finalText, annotations: [] }] };
	}
	const base = { id, object: 'response', model: body.model || 'fake-model', created_at: 0 };
	sse(res, [
		['response.created', { type: 'response.created', response: { ...base, status: 'in_progress', output: [] } }],
		['response.output_item.added', { type: 'response.output_item.added', output_index: 0, item }],
		['response.output_item.done', { type: 'response.output_item.done', output_index: 0, item }],
		['response.completed', { type: 'response.completed', response: { ...base, status: 'completed', output: [item], usage } }],
	]);
}

// ---- Anthropic Messages API
function messages(req, res, body) {
	const msgs = Array.isArray(body.messages) ? body.messages : [];
	let step = 0;
	for (const m of msgs)
		if (m.role === 'user' && Array.isArray(m.content))
			step += m.content.filter(c => c && c.type === 'tool_result').length;
	const hasBash = (body.tools || []).some(t => t.name === 'Bash');
	const id = `msg_${++seq}`;
	let content, stop;
	if (hasBash && step < commands.length) {
		content = [{ type: 'tool_use', id: `toolu_${seq}`, name: 'Bash',
			input: { command: commands[step], description: 'scripted step' } }];
		stop = 'tool_use';
	} else {
		content = [{ type: 'text', text: hasBash ? finalText : 'ok' }];
		stop = 'end_turn';
	}
	const usage = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
	const msg = { id, type: 'message', role: 'assistant', model: body.model || 'fake-model',
		stop_sequence: null, usage };
	if (!body.stream) {
		res.writeHead(200, { 'content-type': 'application/json' });
		res.end(JSON.stringify({ ...msg, content, stop_reason: stop }));
		return;
	}
	const ev = [['message_start', { type: 'message_start', message: { ...msg, content: [], stop_reason: null } }]];
	content.forEach((c, index) => {
		if (c.type === 'text') {
			ev.push(['content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }]);
			ev.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: c.text } }]);
		} else {
			ev.push(['content_block_start', { type: 'content_block_start', index,
				content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } }]);
			ev.push(['content_block_delta', { type: 'content_block_delta', index,
				delta: { type: 'input_json_delta', partial_json: JSON.stringify(c.input) } }]);
		}
		ev.push(['content_block_stop', { type: 'content_block_stop', index }]);
	});
	ev.push(['message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 5 } }]);
	ev.push(['message_stop', { type: 'message_stop' }]);
	sse(res, ev);
}

const server = http.createServer((req, res) => {
	let raw = '';
	req.setEncoding('utf8');
	req.on('data', d => { raw += d; });
	req.on('end', () => {
		let body = raw;
		try { body = raw ? JSON.parse(raw) : null; } catch (e) { /* keep the raw text */ }
		log(req, body);
		const path = req.url.split('?')[0];
		try {
			if (req.method === 'POST' && path.endsWith('/responses')) return responses(req, res, body || {});
			if (req.method === 'POST' && path.endsWith('/messages')) return messages(req, res, body || {});
			if (req.method === 'POST' && path.endsWith('/count_tokens')) {
				res.writeHead(200, { 'content-type': 'application/json' });
				return res.end('{"input_tokens":10}');
			}
			if (req.method === 'GET' && path.endsWith('/models')) {
				res.writeHead(200, { 'content-type': 'application/json' });
				return res.end(JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model' }], models: [] }));
			}
		} catch (e) {
			res.writeHead(500); return res.end(String(e));
		}
		res.writeHead(404, { 'content-type': 'application/json' });
		res.end('{"error":{"message":"not found"}}');
	});
});
server.listen(0, '127.0.0.1', () => {
	fs.writeFileSync(portFile + '.tmp', String(server.address().port));
	fs.renameSync(portFile + '.tmp', portFile);
});
