// store.js - a Haraka plugin for the interop matrix: accepts every
// recipient except those whose local part starts with "refused" (550), and
// queues each message into STORE/msg-<uuid>.eml (STORE from the environment
// variable INTEROP_STORE), written through a dot name and renamed when done.
'use strict';
const fs = require('fs');
const path = require('path');

exports.hook_rcpt = function (next, connection, params) {
    const addr = String(params[0]).replace(/^<|>$/g, '');
    if (/^refused[^@]*@/i.test(addr)) return next(DENY, `5.1.1 <${addr}>: no such user`);
    next(OK);
};

exports.hook_queue = function (next, connection) {
    const store = process.env.INTEROP_STORE;
    const txn = connection.transaction;
    const tmp = path.join(store, '.in-' + txn.uuid);
    const ws = fs.createWriteStream(tmp);
    ws.on('finish', () => {
        fs.renameSync(tmp, path.join(store, 'msg-' + txn.uuid + '.eml'));
        next(OK, 'stored ' + txn.uuid);
    });
    ws.on('error', (e) => next(DENYSOFT, 'store failed: ' + e.message));
    txn.message_stream.pipe(ws, { line_endings: '\r\n', dot_stuffed: true });
};

// an authenticated session relays: its messages come here, not to hook_queue
exports.hook_queue_outbound = exports.hook_queue;
