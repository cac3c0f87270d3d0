// nodemailer smtp-server on loopback for the interop matrix.
//   node nodemailer.js PORT TLSPORT CERT KEY STOREDIR [PORT538]
// PORT: cleartext with STARTTLS; TLSPORT: implicit TLS. Account alice/secret
// (PLAIN, LOGIN, CRAM-MD5; AUTH optional, also before STARTTLS, except on
// PORT538 (cleartext + STARTTLS) where AUTH before STARTTLS gets 538). Senders whose local part starts
// with "refused" get 553, recipients 550. Each message is written as it arrived (the DATA
// stream: dot-unstuffed, CRLF kept) to STOREDIR/msg-<n>.eml, through a
// temporary name so a reader never sees half a file.
'use strict';
const fs = require('fs');
const path = require('path');
const { SMTPServer } = require('smtp-server');

const [port, tlsPort, cert, key, store] = process.argv.slice(2);
let seq = 0;

function options(secure) {
    return {
        secure,
        key: fs.readFileSync(key),
        cert: fs.readFileSync(cert),
        name: 'localhost',
        size: 40 * 1024 * 1024,
        hideDSN: false,
        authMethods: ['PLAIN', 'LOGIN', 'CRAM-MD5'],
        authOptional: true,
        allowInsecureAuth: true,
        logger: false,
        onAuth(auth, session, cb) {
            const ok = auth.username === 'alice' &&
                (auth.method === 'CRAM-MD5' ? auth.validatePassword('secret') : auth.password === 'secret');
            if (!ok) return cb(new Error('Invalid username or password'));
            cb(null, { user: 'alice' });
        },
        onMailFrom(address, session, cb) {
            if (/^refused/i.test(address.address)) {
                const err = new Error('5.1.8 <' + address.address + '>: sender address rejected');
                err.responseCode = 553;
                return cb(err);
            }
            cb();
        },
        onRcptTo(address, session, cb) {
            if (/^refused/i.test(address.address)) {
                const err = new Error('5.1.1 <' + address.address + '>: no such user');
                err.responseCode = 550;
                return cb(err);
            }
            cb();
        },
        onData(stream, session, cb) {
            const n = ++seq;
            const tmp = path.join(store, '.tmp-' + process.pid + '-' + n);
            const ws = fs.createWriteStream(tmp);
            stream.pipe(ws);
            ws.on('finish', () => {
                if (stream.sizeExceeded) {
                    fs.unlinkSync(tmp);
                    const err = new Error('5.3.4 Message too big');
                    err.responseCode = 552;
                    return cb(err);
                }
                fs.renameSync(tmp, path.join(store, 'msg-' + process.pid + '-' + n + '.eml'));
                cb(null, 'Message queued as ' + n);
            });
            ws.on('error', (e) => cb(e));
        },
    };
}

// and on port538 (optional) AUTH only after STARTTLS: before it, 538
const port538 = process.argv[7];
for (const [p, secure, tlsAuthOnly] of [[port, false, false], [tlsPort, true, false], [port538, false, true]]) {
    if (!p) continue;
    const opts = options(secure);
    if (tlsAuthOnly) opts.allowInsecureAuth = false;
    const srv = new SMTPServer(opts);
    srv.on('error', (e) => { console.error('smtp-server error:', e.message); });
    srv.listen(Number(p), '127.0.0.1', () => console.log('listening on', p, secure ? '(implicit TLS)' : ''));
}
