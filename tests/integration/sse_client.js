#!/usr/bin/env node
// A third-party EventSource client (the `eventsource` npm package, pinned in
// package-lock.json) for test_streams.py: it connects to URL, reconnects as
// the package does (after `retry:`, with Last-Event-ID), and prints one JSON
// object a line on stdout for everything it sees:
//   {"kind":"open","t":MS}
//   {"kind":"event","t":MS,"type":TYPE,"id":LAST_EVENT_ID,"data":DATA}
//   {"kind":"error","t":MS,"status":STATUS|null,"message":TEXT|null}
//   {"kind":"exit","t":MS}
// (t: Date.now() when the client saw it).
//
//   node sse_client.js URL [--header 'Name: value']... [--event TYPE]...
//                          [--seconds N]
//
// --event names an event type to listen for (default: message); --header
// adds a request header (`Last-Event-ID: N` is where the package starts,
// and it sends its own Last-Event-ID on every reconnect); --seconds ends
// the client after N seconds (default 60), so it never outlives its test.
'use strict';

const EventSource = require('eventsource');

function usage(msg) {
	process.stderr.write('sse_client.js: ' + msg + '\n');
	process.exit(2);
}

const args = process.argv.slice(2);
let url = null;
const headers = {};
const types = [];
let seconds = 60;
for (let i = 0; i < args.length; i++) {
	const a = args[i];
	if (a === '--header' || a === '--event' || a === '--seconds') {
		if (i + 1 >= args.length)
			usage(a + ' needs a value');
		const v = args[++i];
		if (a === '--header') {
			const at = v.indexOf(':');
			if (at <= 0)
				usage('--header wants "Name: value", got ' + v);
			headers[v.slice(0, at).trim()] = v.slice(at + 1).trim();
		} else if (a === '--event') {
			types.push(v);
		} else {
			seconds = Number(v);
			if (!(seconds > 0))
				usage('--seconds wants a positive number');
		}
	} else if (url === null) {
		url = a;
	} else {
		usage('unexpected argument ' + a);
	}
}
if (url === null)
	usage('no URL');
if (types.length === 0)
	types.push('message');

function say(obj) {
	obj.t = Date.now();
	process.stdout.write(JSON.stringify(obj) + '\n');
}

const es = new EventSource(url, { headers: headers });
es.addEventListener('open', () => say({ kind: 'open' }));
es.addEventListener('error', (e) => say({
	kind: 'error',
	status: e && e.status !== undefined ? e.status : null,
	message: e && e.message !== undefined ? e.message : null,
}));
for (const type of types) {
	es.addEventListener(type, (e) => say({
		kind: 'event', type: type, id: e.lastEventId, data: e.data,
	}));
}

setTimeout(() => {
	say({ kind: 'exit' });
	es.close();
	process.exit(0);
}, seconds * 1000);
