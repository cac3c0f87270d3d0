/* smtp.h - v0.6.0 - a blocking SMTP client in one header - public domain (Unlicense) */
#if defined(SMTP_IMPLEMENTATION) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L   /* getaddrinfo, poll, clock_gettime, MSG_NOSIGNAL under -std=c99 */
#endif
#if defined(SMTP_IMPLEMENTATION) && defined(__APPLE__) && !defined(_DARWIN_C_SOURCE)
#define _DARWIN_C_SOURCE 1        /* SO_NOSIGPIPE, hidden when the program set _POSIX_C_SOURCE alone */
#endif
/*

   DOCUMENTATION

   WHAT IT IS
     smtp.h sends mail. One file holds the declarations and, when
     SMTP_IMPLEMENTATION is defined, the implementation: sockets with
     deadlines, a buffered reply reader, the message writer and composer,
     and an SMTP session that blocks, or steps from the caller's own event
     loop (STEPPING). It allocates nothing while sending, keeps no global
     state and installs no signal handlers.

   QUICK START
     In exactly one C file, include smtp.h FIRST (it defines
     _POSIX_C_SOURCE for the POSIX calls it needs) with the implementation:

         #define SMTP_IMPLEMENTATION
         #include "smtp.h"

     Every other file includes "smtp.h" without the define (Windows:
     link -lws2_32 -lbcrypt -lcrypt32 too). Then:

         smtp_config cfg = {0};              (zero is valid: every field has a default)
         cfg.host = "mail.example.com";      (AUTO, the zero value: TLS, mode probed;
                                              certificates checked against the system CAs)
         smtp_session s;
         if (smtp_open(&s, &cfg) == SMTP_OK) {
             const char *to[] = { "bob@example.com", NULL };
             smtp_message m = {0};
             m.from = "Alice <alice@example.com>"; m.to = to;
             m.subject = "Hello"; m.text = "Hi Bob.\n";
             smtp_result r = smtp_send(&s, &m);
             if (r < 0) fprintf(stderr, "%s\n", smtp_error_detail(&s));
         }
         smtp_close(&s);

     Build: cc -std=c99 app.c -lbearssl   (or -DSMTP_NO_TLS without BearSSL)

   FUNCTIONS (one line each; the declarations below say the rest)
     Sessions
       smtp_open(s, cfg)            connect, greeting, EHLO, TLS, AUTH: ready
       smtp_send(s, msg)            compose and send one message (MIME, headers)
       smtp_send_batch(s, msgs, n, results)   many messages on one session
       smtp_send_mail(cfg, msg, detail, n)    open, send and close in one call
       smtp_close(s)                QUIT, free what open loaded; always call it
     Stepping (your own event loop: STEPPING)
       smtp_open_start(s, cfg)
       smtp_send_start(s, msg)  smtp_send_batch_start(s, msgs, n, results)
       smtp_quit_start(s)           QUIT stepped; smtp_close then waits for nothing
       smtp_step(s)                 the work that needs no waiting; WANT_* or the result
       smtp_fd(s)  smtp_timeout_ms(s)   what to wait on, and how long
     Low level (a message the program writes itself)
       smtp_mail_from(s, addr)      smtp_mail_from_opts(s, addr, params)
       smtp_rcpt_to(s, addr)        smtp_rcpt_to_opts(s, addr, params)
       smtp_data_begin(s)  smtp_data_write(s, data, len)  smtp_data_end(s)
       smtp_rset(s)  smtp_noop(s)
     After open, and after errors
       smtp_error_detail(s)         the last error in one sentence
       smtp_result_str(r)           a result code in words
       smtp_is_transient(s, r)      1: retry later may work; 0: it will not
       smtp_reconnects(s)           connections reopened (LASTING SESSIONS)
       smtp_last_reply(s)           the last reply: code, enhanced status, text
       smtp_extensions(s)  smtp_supported_auth(s)  smtp_size_limit(s)
       smtp_security_used(s)  smtp_port_used(s)
       smtp_tls_version(s)  smtp_tls_cipher(s)  smtp_tls_resumed(s)
       smtp_tls_peer_cert(s, &pc)   the server's certificate: subject, dates, SHA-256
     Configuration
       smtp_config_load(st, path, account)         an msmtp file (~/.msmtprc)
       smtp_config_load_system(st, path, account)  /etc/msmtprc
       smtp_config_from_url(st, url)        smtp:// and smtps:// URLs
       smtp_settings_set(st, key, value)    one more key (command lines)
       smtp_settings_get(st, key)           the value in force of any key
       smtp_settings_free(st)
       smtp_config_keys(&count)             every key: name, values, default
       smtp_config_set_tls_versions(cfg, mask)  (and _unsafe)
     TLS resources shared between sessions
       smtp_trust_load_system(&t, detail, n)  _load_file  _load_pem
       smtp_trust_count(t)  smtp_trust_free(t)
       smtp_tls_cache_new()  smtp_tls_cache_free(c)

   CONFIG MACROS
     SMTP_IMPLEMENTATION  compile the implementation (in one file only)
     SMTP_STATIC          make every function static (SMTP_API)
     SMTP_NO_TLS          build without BearSSL; TLS requests fail at run
                          time with SMTP_ERR_UNSUPPORTED. Names, fields and
                          prototypes are the same in every build; only
                          sizeof(smtp_session) changes, so every file that
                          includes smtp.h must see the same feature macros.
     SMTP_MALLOC/SMTP_FREE  the allocator, for the few things that
                          allocate: trust stores (smtp_trust_load_*, and
                          the system CAs smtp_open loads when cfg.trust is
                          NULL), client certificates and keys loaded at
                          open, TLS caches, settings (smtp_config_load,
                          _from_url, smtp_settings_set) and the one-shot
                          smtp_send_mail; define both or none. Sending on
                          an open session allocates nothing.
     SMTP_CERT_MAX        the largest server certificate accepted (8192
                          bytes of DER); a bigger one is SMTP_ERR_CERT.
     Sizes (they shape smtp_session: define them alike wherever smtp.h is
     included), today's defaults first, then SMTP_SMALL's:
     SMTP_MAX_RECIPIENTS  recipients of one transaction; more go on in
                          further transactions (1000; 100)
     SMTP_BUFFER_SIZE     the read and the write buffer, each; a whole
                          reply must fit (16384; 2048)
     SMTP_AUTH_MAX        an AUTH payload: user and password together,
                          a token, a decoded challenge; the reply text
                          kept is sized to hold its base64 (9000; 1024)
     SMTP_CERT_MAX        (8192; 4096)
     SMTP_TLS_MONO        1: BearSSL's half-duplex record buffer, 16 KB
                          less; 0: full duplex (1; 1: the bench showed
                          no loss, tests/ports/README.md)
     Platform hooks (define before including the implementation):
     SMTP_ENTROPY(buf, len)  fills buf with len random bytes (TLS seeds,
                          Message-IDs); default getrandom, /dev/urandom
     SMTP_TIME()          seconds since 1970 (UTC), for the Date header
                          and certificate validity; default time(NULL).
                          A device without a real-time clock gives what it
                          knows; a clock far off fails certificates with
                          SMTP_ERR_CERT naming the dates.
     SMTP_CLOCK_MS()      a monotonic clock in milliseconds (long long),
                          for every deadline; default clock_gettime's
                          CLOCK_MONOTONIC
     SMTP_NO_STDIO        no file system: nothing is opened or stat'ed
                          (snprintf is still used). CA certificates,
                          client certificates and attachments come from
                          memory (smtp_trust_load_pem, cfg.trust,
                          cfg.tls_cert_pem, attachment data); a file name
                          given instead is SMTP_ERR_UNSUPPORTED, before
                          anything is sent; smtp_config_load fails
     SMTP_NO_GETADDRINFO  no name resolution: cfg.host, a proxy's host and
                          cfg.local_address must be IP addresses (a name
                          is SMTP_ERR_RESOLVE), or use cfg.transport
     SMTP_SMALL           the embedded profile: the values after the ';'
                          above; sizeof(smtp_session) is 40,904 bytes with
                          TLS (92,280 by default), tested against
                          aiosmtpd and Postfix in cleartext, STARTTLS and
                          implicit TLS, with AUTH (tests/small.c). Tokens
                          from cfg.token are then at most 511 bytes.

   ERRORS
     Every call returns smtp_result: SMTP_OK (0), SMTP_PARTIAL (positive:
     the message was sent but some recipients were refused), or a negative
     SMTP_ERR_*; smtp_step also SMTP_WANT_READ or SMTP_WANT_WRITE (positive:
     not done yet, see STEPPING). smtp_result_str() names a code; smtp_error_detail() says
     what failed and where, in one sentence: host:port, the command, and
     the server's reply; bytes from outside appear there (and in
     per-recipient texts) only as printable text: control bytes, DEL, C1
     controls and invalid UTF-8 as \xHH, so a server cannot write to a
     terminal or a log through them. smtp_last_reply() gives the last
     reply parsed, raw: code, RFC 3463 enhanced status, text.
     SMTP_ERR_AUTH is a refused login (535: do not retry blindly);
     SMTP_ERR_AUTH_TEMP a 4xx to AUTH (454: try later);
     SMTP_ERR_AUTH_UNAVAILABLE no usable mechanism (also 504 and 538).
     Two kinds of failure. Transport failures (IO, TIMEOUT, CLOSED,
     PROTOCOL, TOO_LONG while reading, TLS, CERT, and a 421 reply) end the
     session: every later call returns the same code without I/O until
     smtp_close(). Reply failures (REPLY, PARAM, a refused recipient) end
     only the transaction: smtp_send sends RSET and the session goes on.
     Bad input (CR, LF in a command argument or header, a malformed
     address, NULL where a string is required) is SMTP_ERR_PARAM before a
     byte is sent, and the detail names the field.
     Retry or give up: smtp_is_transient(s, r) is 1 for NOMEM, RESOLVE,
     CONNECT, TIMEOUT, IO, CLOSED (a 421 too), PROXY, AUTH_TEMP,
     UNKNOWN_OUTCOME (RFC 5321 6.1: treat as not delivered), TLS when the
     handshake's I/O failed (not a version or cipher the server refuses),
     and REPLY when the reply that refused was 4xx (450, 451, 452); 0 for
     OK, PARTIAL, PARAM, STATE, PROTOCOL, TOO_LONG, CERT, NO_STARTTLS,
     AUTH (535), AUTH_UNAVAILABLE, UNSUPPORTED, CONFIG, ABORTED, and REPLY
     for a 5xx.

   SESSIONS AND MEMORY
     smtp_session is a struct you own: on the stack, static, or on the
     heap. It holds the read and write buffers, the last reply and the
     BearSSL contexts with their 33 KB record buffer (sizeof(smtp_session)
     is about 106 KB with TLS, 57 KB with SMTP_NO_TLS: 16 KB each for the
     read and the write buffer, 12 KB for the text of the last reply, 8 KB
     for the recipients of one transaction). Sending a message allocates
     nothing. One session belongs to one thread at a
     time; sessions in different threads never touch each other.
     States: smtp_open leaves a session ready; smtp_send and the batch
     return to ready after each message (a refused one too). The low
     level calls go ready -> smtp_mail_from -> after MAIL ->
     smtp_rcpt_to -> after RCPT -> smtp_data_begin -> in DATA (or in
     BDAT) -> smtp_data_end -> ready; smtp_rset returns to ready from
     any of them. A call in the wrong state is SMTP_ERR_STATE, naming the
     call and the state. A transport failure ends the session: every
     later call returns that failure until smtp_close.

   LASTING SESSIONS
     A session kept open between messages (a daemon, a batch mailer)
     outlives the server's patience. Before a transaction on a connection
     idle for a second or more, what the server sent meanwhile is read
     without waiting, and past cfg.idle_check_ms (default 30 s; negative:
     never) a NOOP asks. When the connection turns out closed, or the
     server answers 421 before it accepted MAIL FROM, smtp_send and
     smtp_send_batch open a new connection with the same config (the TLS
     mode that worked, resumed through cfg.tls_cache when given, AUTH
     again) and send the transaction there, once per message. Never after
     any byte of the message went out: then the result is the error and
     nothing is sent twice. cfg.no_reconnect = 1 turns this off. The trace
     notes each reconnect ("reconnecting to host:port: why");
     smtp_reconnects(s) counts them.
     cfg.messages_per_connection: after that many messages the session
     sends QUIT and reconnects (also inside a batch).
     cfg.messages_per_second: messages start at most that often; the pause
     is at most a second. Both turn cfg.pipeline_messages off where they
     apply. Results per message are unchanged.
     cfg.token: OAuth2 bearer tokens (XOAUTH2, OAUTHBEARER; with it,
     cfg.allowed_auth defaults to those two and may hold only them). It is
     called at each AUTH with renew 0; when the server refuses the token
     (535), once with renew 1 for a fresh one, and AUTH is tried again, on
     a new connection if the server closed this one. Tokens never reach
     the trace; a static password still works.
     LMTP (RFC 2033): cfg.protocol = SMTP_PROTOCOL_LMTP (key protocol
     lmtp) sends LHLO and reads one reply per accepted recipient after the
     end of the message (also after BDAT LAST), each deciding for its
     recipient in results; smtp_send returns SMTP_PARTIAL when some were
     refused there. The low-level smtp_data_end reads them all:
     SMTP_OK, SMTP_PARTIAL or SMTP_ERR_REPLY, smtp_last_reply the last.

   TIMEOUTS (milliseconds; 0 = the default; negative = no limit)
     connect_timeout_ms   30 s   connecting, in total over every address
     greeting_timeout_ms  30 s   the server's 220 greeting
     timeout_ms           60 s   each command and its reply, each write
     data_timeout_ms      10 min the reply to the end of the message
                                 (RFC 5321 4.5.3.2.6; giving up early and
                                 resending makes duplicates)
     Deadlines are absolute (monotonic clock, poll()): a server that
     trickles one byte at a time cannot stretch a wait. Name resolution
     (getaddrinfo) is the one wait that cannot be bounded portably; pass an
     IP address as host to avoid it.

   MESSAGES
     smtp_send composes: Date (UTC), Message-ID, From, To, Cc, Subject
     (RFC 2047 when not ASCII, folded under 78 columns), extra headers
     (message.headers: checked and folded; the ones smtp.h writes cannot
     be given), MIME-Version, and the body: text/plain; text + html as
     multipart/alternative; attachments with a content_id as inline parts
     of a multipart/related around the HTML; other attachments in a
     multipart/mixed. Attachments come from memory or from a file read as
     it is sent (never held whole), in base64 lines of 76 columns; their
     Content-Type from the extension (txt html htm csv json xml ics pdf png
     jpg jpeg gif svg webp zip gz, else application/octet-stream); non-ASCII
     file names as RFC 2231 parameters. Display names: RFC 2047 when not
     ASCII, quoted when they hold specials. Text parts: 7bit when ASCII;
     8bit with BODY=8BITMIME when the server offers 8BITMIME; otherwise
     quoted-printable: no 8-bit byte reaches a server that did not offer
     it, and no line on the wire exceeds 998 octets. Bcc recipients get the
     message but never appear in the headers. A subject that is not valid
     UTF-8 is not refused: its bytes go in RFC 2047 words unchanged, so a
     reader gets back exactly what was given. The envelope sender is
     envelope_from, or the address inside from; "" is the null sender <>.
     Extensions, each only when the server offers it: PIPELINING (MAIL,
     RCPT and DATA in one write), CHUNKING (BDAT), SIZE (the message is
     measured first: over the server's limit it is SMTP_ERR_TOO_LONG before
     a byte is sent), SMTPUTF8 (UTF-8 addresses as they are; without it a
     non-ASCII domain goes as A-labels when each label is already lower
     case and composed, since there are no UTS 46 tables here, and a
     non-ASCII local part is SMTP_ERR_UNSUPPORTED), DSN (dsn_notify,
     dsn_orcpt, dsn_ret, dsn_envid; ignored with a trace note otherwise),
     ENHANCEDSTATUSCODES (in smtp_last_reply and the per-recipient
     results). A 452 "too many recipients" continues with the rest in a
     further transaction. smtp_send_batch sends many messages on one
     session, each transaction pipelined (MAIL, RCPT, DATA or BDAT in one
     write); cfg.pipeline_messages = 1 also sends the next envelope with
     the end of the message before (RFC 2920 allows it; Dovecot, Haraka
     and chasquid break on it, so it is off by default).
     Results that say nothing was sent are exact: a reply that arrives
     before the end of the message went out is SMTP_ERR_PROTOCOL (a "250"
     right after "354" claims nothing), and when the end went out but no
     reply came the message's result is SMTP_ERR_UNKNOWN_OUTCOME: it may
     have been delivered, so resending may duplicate it.
     Address headers given in message.headers (Reply-To, Sender,
     Resent-*, Mail-Followup-To, Disposition-Notification-To, ...) are
     address lists split at commas outside quotes: each address is checked
     like a recipient's and written like From's (a display name holding a
     comma must be quoted there). Display names are given plainly or as
     one quoted string; every '"' and '\\' is escaped when written.
     Attachment content types may carry RFC 2045 parameters
     ("text/plain; charset=utf-8"). Header lines are folded at words and
     never consist of white space only.
     Programs that write their own message use smtp_mail_from (or
     smtp_mail_from_opts for BODY=8BITMIME and other parameters),
     smtp_rcpt_to, smtp_data_begin, smtp_data_write and smtp_data_end:
     smtp_data_write turns every bare LF and bare CR into CRLF and doubles
     a '.' that starts a line (RFC 5321 4.5.2), in pieces of any size;
     long lines pass as given; 8-bit bytes without BODY=8BITMIME are
     refused (the connection is dropped, nothing is delivered).

   TLS (BearSSL; TLS 1.0 to 1.2, TLS 1.2 only by default)
     security modes:
       SMTP_SECURITY_AUTO (0)   TLS required, the mode probed. Port 465:
                                implicit TLS, then STARTTLS. Any other port: a
                                probe, which waits up to 400 ms for a cleartext
                                greeting (it came: STARTTLS on that connection;
                                none: TLS on that connection), then the mode it
                                did not pick, with the whole greeting time. Port
                                0: implicit on 465, the probe on 587, then on
                                25. Nothing is sent before the greeting, so
                                pregreet traps stay quiet. A TLS alert, a
                                certificate that fails, or a refused login
                                stops the search. Never cleartext.
                                smtp_security_used() and smtp_port_used() tell
                                what won; when all fail the detail lists every
                                attempt.
       SMTP_SECURITY_IMPLICIT   TLS from the first byte (default port 465)
       SMTP_SECURITY_STARTTLS   STARTTLS required (587): a server that does not
                                offer it gets nothing past EHLO
                                (SMTP_ERR_NO_STARTTLS); bytes after its 220 to
                                STARTTLS are an injection (SMTP_ERR_PROTOCOL);
                                after the handshake everything learned is
                                forgotten and EHLO sent again (RFC 3207 4.2)
       SMTP_SECURITY_STARTTLS_IF_AVAILABLE  opportunistic (25): TLS when offered
       SMTP_SECURITY_NONE       cleartext
     Trust: cfg.trust (a store from smtp_trust_load_*, shared read-only by
     any number of sessions and threads), else cfg.ca_pem, cfg.ca_file, or
     the system bundle, loaded by smtp_open for that session (about 9 ms
     for Debian's 144 CAs) and freed by smtp_close.
     What SMTP_VERIFY_FULL (0) checks: BearSSL's x509 engine verifies the
     chain to a trust anchor (signatures, validity dates, CA and key-usage
     constraints; SHA-1 and MD5 signatures are not accepted, nor RSA keys
     under 2048 bits anywhere in the chain); then smtp.h checks the host
     name against the subjectAltName only (a trailing dot removed, ASCII
     case ignored; a name only in the subject's CN is refused, as browsers
     and Go refuse it, though OpenSSL and curl accept it; '*' only as the
     whole leftmost label with two labels after it: *.example.test matches
     mx.example.test, never example.test, *.test or a.b.example.test); an
     IP literal is checked against iPAddress names and sends no SNI; the
     server certificate's extendedKeyUsage, when present, must allow
     serverAuth; the nameConstraints of every issuing CA (DNS names and IP
     addresses, critical or not) must allow the host connected to;
     certificates are one well-formed DER element each, at most
     SMTP_CERT_MAX bytes (8192). _NO_HOSTNAME: all of it but the host name
     match (name constraints still apply to the host connected to). _NONE:
     nothing is verified (for tests); the certificate must still be sound
     DER with an RSA or EC key. cfg.tls_fingerprint pins the SHA-256 of the
     server's certificate or of its public key (hex, colons allowed): with
     a pin an unknown issuer or a self-signed certificate passes; names,
     dates and the key policy still apply unless tls_verify is _NONE.
     Server certificate bytes reach only BearSSL's x509 engine and our own
     bounded DER reader. Client certificates: cfg.tls_cert_file/
     tls_key_file or the _pem fields (RSA or EC). Certificate failures are
     SMTP_ERR_CERT with the cause in the detail; other TLS failures
     SMTP_ERR_TLS.
     Versions: smtp_config_set_tls_versions (drops TLS 1.3, which BearSSL
     cannot speak) and smtp_config_set_tls_versions_unsafe (smtp_open then
     fails before connecting). smtp_tls_version and smtp_tls_cipher tell
     what was negotiated; smtp_tls_peer_cert describes the server's
     certificate (subject, issuer, validity, names, key, SHA-256 of it and
     of its key), read by the same bounded DER reader. AES-GCM suites come first on CPUs with AES-NI,
     ChaCha20-Poly1305 elsewhere. After QUIT, close_notify is sent without
     waiting for the server's. TLS session resumption through a cache the
     caller owns (cfg.tls_cache), only for fully verified sessions, keyed
     by host, port, mode, versions, tls_verify and a SHA-256 over the whole
     trust store, the pin and the client certificate chain.

   PROXIES
     cfg.proxy: SMTP_PROXY_SOCKS4 (the client resolves the SMTP host to
     IPv4; proxy.username is the user id), SMTP_PROXY_SOCKS4A (the proxy
     resolves the name), SMTP_PROXY_SOCKS5 (RFC 1928; the name goes to the
     proxy to resolve, IP literals as addresses, IPv6 too; with
     proxy.username, RFC 1929 username/password), SMTP_PROXY_HTTP (HTTP/1.1
     CONNECT with Host; Basic credentials when proxy.username is set; any
     2xx is success; the reply is read up to its empty line and not a byte
     further, so a greeting in the same segment is kept). The handshake
     runs within connect_timeout_ms, binds to local_address, and sits
     between TCP and TLS: every security mode works through every proxy,
     and certificates are checked against the SMTP host's name, never the
     proxy's. With a proxy that resolves, no local DNS lookup is made for
     the SMTP host. A refusal is SMTP_ERR_PROXY with the proxy's reason in
     words (SOCKS4 91-93, SOCKS5 replies 1-8, no acceptable method,
     credentials refused, the HTTP status and reason); an unreachable
     proxy is SMTP_ERR_RESOLVE / SMTP_ERR_CONNECT naming the proxy.
     User names and passwords longer than 255 bytes, or holding control
     characters, are SMTP_ERR_PARAM before connecting.

   AUTH (RFC 4954)
     With cfg.username set, smtp_open authenticates after EHLO (after the
     EHLO that follows TLS). smtp_supported_auth() reports what that EHLO
     offered (also the old "AUTH=" form). cfg.allowed_auth limits what may
     be used (0 = PLAIN|LOGIN|CRAM_MD5). The order, among what both sides
     allow: inside TLS, XOAUTH2 then OAUTHBEARER (only when allowed
     explicitly: the password is then the bearer token), then PLAIN, LOGIN,
     CRAM-MD5. Outside TLS only CRAM-MD5 (MD5 and HMAC-MD5 are built in,
     also with SMTP_NO_TLS), unless cfg.allow_cleartext_auth. A 504 tries
     the next mechanism; a refusal of the credentials (535) stops at once
     with SMTP_ERR_AUTH and the reply in smtp_last_reply: trying others
     would hide the cause and feed account lockouts. Nothing in common, or
     no AUTH offered: SMTP_ERR_AUTH_UNAVAILABLE, the detail naming both
     sides. A token refused by XOAUTH2/OAUTHBEARER: the server's JSON error
     is in the detail. Secrets never reach the trace (placeholders), and
     the buffers that held them are wiped. User name and password together
     are at most 8600 bytes (RFC 4954: 12288 octets of base64).

   OTHER STREAMS
     cfg.socket_path: a Unix-domain socket instead of host and port (a
     local MTA; msmtp's socket key); host then only names the server for
     TLS (localhost when NULL). cfg.transport: a byte stream of your own
     (lwIP, a modem, ssh, a test script): read, write and close callbacks
     given the time left (see smtp_transport); smtp.h connects nothing,
     and proxies, TLS, AUTH and the session run over it. One stream is one
     connection: no reconnect, and AUTO only probes it.
     examples/custom-transport.c runs a session over stdin and stdout.

   STEPPING
     One thread can drive many sessions from its own poll, epoll or libuv
     loop: smtp_open_start, smtp_send_start (or smtp_send_batch_start)
     return at once, and each smtp_step does what needs no waiting, then
     returns SMTP_WANT_READ or SMTP_WANT_WRITE, or at the end exactly what
     smtp_open or smtp_send would have (results filled the same way).
     smtp_open, smtp_send and smtp_send_batch are this same loop with
     poll() in it: one implementation. Deadlines hold as in
     the blocking calls: smtp_timeout_ms is the time left, and the step that
     finds it passed returns SMTP_ERR_TIMEOUT (cfg.messages_per_second's
     pause is a WANT_READ whose time left is the pause). Attachments are
     read from their files in pieces between steps. With cfg.transport,
     smtp_fd is SMTP_INVALID_SOCKET and read and write get timeout_ms 0:
     SMTP_ERR_TIMEOUT from them means "would block". After a start call
     smtp_timeout_ms is 0: step at once, and the step says what to wait
     for. smtp_fd can change from one step to the next while a connection
     is made (the next address of a name, AUTO's next attempt, a new
     connection within a send): take it after every step. The TCP
     connect (each address of the name in turn, all within
     connect_timeout_ms), a proxy's handshake, the TLS handshake,
     greeting, EHLO, STARTTLS, AUTH, AUTO's probe and attempts, and the
     new connections a session opens (cfg.messages_per_connection, a
     server that closed an idle one, or closed after refusing a token)
     are stepped. One wait remains, name resolution: getaddrinfo waits
     inside smtp_open_start for the server's name or the proxy's, and
     again in the step that begins a new connection (AUTO's later
     attempts, a reconnect); an IP literal does not wait, nor do
     cfg.addresses (the addresses your own asynchronous resolver found;
     host stays the name TLS checks), and SOCKS4a, SOCKS5 and HTTP
     proxies resolve the server's name themselves (plain SOCKS4 needs it
     resolved: with the proxy's name). smtp_close sends QUIT and waits
     for its reply; smtp_quit_start steps it instead, and smtp_close
     after it waits for nothing. With epoll:

       struct epoll_event ev = { 0 }, got[64];
       int ep = epoll_create1(0), i, n, r;
       for (i = 0; i < N; i++) {                  // sessions opened already, or
           smtp_send_start(&ss[i], &msg[i]);      // smtp_open_start: the same loop
           ev.events = EPOLLOUT; ev.data.u32 = i;
           epoll_ctl(ep, EPOLL_CTL_ADD, smtp_fd(&ss[i]), &ev);
       }                                          // (opening: smtp_fd may change, see above)
       while (live > 0) {
           n = epoll_wait(ep, got, 64, 1000);     // or the least smtp_timeout_ms
           for (i = 0; i < n; i++) {
               smtp_session *s = &ss[got[i].data.u32];
               r = smtp_step(s);
               if (r == SMTP_WANT_READ || r == SMTP_WANT_WRITE) {
                   ev.events = r == SMTP_WANT_READ ? EPOLLIN : EPOLLOUT;
                   ev.data.u32 = got[i].data.u32;
                   epoll_ctl(ep, EPOLL_CTL_MOD, smtp_fd(s), &ev);
                   continue;
               }
               epoll_ctl(ep, EPOLL_CTL_DEL, smtp_fd(s), NULL);
               report(s, r); live--;              // r as smtp_send returns it
           }
           // a session whose smtp_timeout_ms reached 0: smtp_step it too
       }

     examples/many-sessions.c is the same with poll(), 100 sessions
     opened and sending from one loop.

   CONFIG FILE
     smtp_config_load reads msmtp's format into an smtp_settings whose cfg
     is ready for smtp_open; smtp_config_from_url reads smtp:// URLs (their
     query keys are the same); smtp_settings_set applies one more key
     (command lines). smtp_config_load_system reads the system file
     (/etc/msmtprc) without the permission check, as msmtp does. A file
     holding a password must be mode 600 (as msmtp asks; not checked on
     Windows, which has no such mode, as msmtp there). A file without a
     tls line keeps AUTO (TLS required) where msmtp would send in
     cleartext. The keys (msmtp's meaning where msmtp has them; the table
     is smtp_config_keys(), from which programs derive their options):

       host: the server
           takes a host name or address
       port: the server's port
           takes 1..65535; default 465 implicit, 587 STARTTLS, else 25
       socket: a Unix socket instead of host and port
           takes a path
       from: the envelope sender when the message names none
           takes an address
       user: the AUTH user name (none: no AUTH)
           takes text
       password: the AUTH password, or the OAuth2 token
           takes text
       passwordeval: a command printing the password, for programs to run
           takes a command
       auth: on: any of PLAIN, LOGIN, CRAM-MD5; off: no AUTH; or one
           takes on|off|plain|login|cram-md5|xoauth2|oauthbearer; default on
       tls: msmtp: off is cleartext (security none)
           takes on|off
       tls_starttls: msmtp: with tls on, off is implicit TLS
           takes on|off; default on
       tls_trust_file: the trusted CAs
           takes a PEM file|system; default system
       tls_fingerprint: pin the server's certificate
           takes a SHA-256 fingerprint (64 hex digits, ':' allowed)
       tls_cert_file: client certificate chain
           takes a PEM file
       tls_key_file: client certificate's key
           takes a PEM file
       tls_certcheck: off: no certificate check
           takes on|off; default on
       tls_nocertcheck: old msmtp: tls_certcheck off
           takes nothing
       tls_min_version: lowest TLS version
           takes 1.0|1.1|1.2|1.3; default 1.2
       tls_max_version: highest TLS version
           takes 1.0|1.1|1.2|1.3; default 1.2
       security: auto: TLS required, the mode probed
           takes auto|none|starttls|starttls-if-available|implicit; default auto
       proxy_host: the proxy to connect through (see proxy_type)
           takes a host name or address
       proxy_port: the proxy's port
           takes 1..65535; default 1080, http 8080
       proxy_type: the proxy's protocol
           takes socks4|socks4a|socks5|http; default socks5
       proxy_user: SOCKS4 user id, SOCKS5 or HTTP user
           takes text
       proxy_password: SOCKS5 or HTTP password
           takes text
       source_ip: bind to this local address
           takes an address
       domain: the name in EHLO
           takes one word without white space; default this host's name
       timeout: each command and its reply
           takes seconds (1..2000000)|off; default 60
       connect_timeout: the connection
           takes seconds (1..2000000)|off; default 30
       greeting_timeout: the 220 greeting
           takes seconds (1..2000000)|off; default 30
       data_timeout: the reply to the end of the message
           takes seconds (1..2000000)|off; default 600
       allow_cleartext_auth: on: PLAIN, LOGIN, XOAUTH2 also without TLS
           takes on|off; default off
       pipeline_messages: on: a batch's messages pipelined into each other
           takes on|off; default off
       protocol: lmtp: LHLO, a reply per recipient
           takes smtp|lmtp; default smtp
       reconnect: off: a connection the server closed is an error
           takes on|off; default on
       idle_check: idle longer: NOOP before the next message
           takes seconds (1..2000000)|off; default 30
       messages_per_connection: QUIT and reconnect after this many (0: no limit)
           takes 0..1000000; default 0
       messages_per_second: at most this many messages a second (0: no limit)
           takes 0..1000000; default 0

     msmtp keys that do not concern sending are kept for programs
     (smtp_settings_get returns them; smtp-send uses several) and listed in
     notes when a file gives them:
       logfile, logfile_time_format, syslog, aliases, auto_from, maildomain,
       dsn_notify, dsn_return, add_missing_from_header,
       add_missing_date_header, remove_bcc_headers, undisclosed_recipients,
       set_from_header, set_date_header, set_msgid_header,
       allow_from_override, from_full_name, tls_crl_file, tls_priorities,
       tls_min_dh_prime_bits, tls_host_override, ntlmdomain, keepbcc,
       envelope_from, eval.

   TRACE
     cfg.trace receives every command line sent (SMTP_TRACE_OUT), every
     reply line received (SMTP_TRACE_IN), the message bytes as sent
     (SMTP_TRACE_BODY) and notes (SMTP_TRACE_INFO). Secrets (AUTH
     payloads) are replaced by a placeholder.

   EHLO NAME
     cfg.helo_name, else the host name when it is fully qualified (holds a
     dot), else the local address as an address literal ([127.0.0.1],
     [IPv6:::1]) as RFC 5321 4.1.3 asks. No DNS lookup is made for it.

   THREADS
     No global state: each session belongs to one thread at a time, and
     sessions in different threads never touch each other. A trust store
     (smtp_trust) is read-only once loaded and may be shared by any number
     of sessions and threads (tested under ThreadSanitizer). A TLS session
     cache is used by one thread at a time. No signal handlers are set:
     writes use MSG_NOSIGNAL (SO_NOSIGPIPE where there is no such flag;
     Winsock raises no signal).

   PLATFORMS
     Linux first; the code is POSIX (sockets, poll, clock_gettime). Run
     here: x86-64 glibc (gcc, clang, tcc), musl static, and under qemu
     s390x, powerpc (big-endian), armhf and i386 (make ports). macOS and
     the BSDs are compile-checked with their feature macros simulated on
     Linux headers (tests/ports/featuremacros.sh), not run: smtp.h sets
     _POSIX_C_SOURCE at 200809L unless the program set it (MSG_NOSIGNAL is
     POSIX 2008) and defines _DARWIN_C_SOURCE on macOS (SO_NOSIGPIPE);
     when a program's own feature macros hide both (FreeBSD with
     _XOPEN_SOURCE=600, any system with _POSIX_C_SOURCE=200112L), the
     build stops with #error rather than risk SIGPIPE.
     Windows (mingw-w64; Vista or later): link -lws2_32 -lbcrypt -lcrypt32.
     The same session over Winsock 2: non-blocking sockets (ioctlsocket
     FIONBIO, not inherited), WSAPoll for reads and writes, select() for
     the connect (WSAPoll misses a refused connect before Windows 10 2004),
     QueryPerformanceCounter for deadlines, BCryptGenRandom for entropy,
     FormatMessage for Winsock's error text, and smtp_trust_load_system
     (the default trust) reads the ROOT certificate store. What is done
     to Winsock: each connection calls WSAStartup before resolving and
     WSACleanup when its socket is closed (at smtp_close, or when the
     connect fails); Winsock counts these, so a program that uses Winsock
     itself is not affected, and one that does not finds it uninitialised
     again after smtp_close. Nothing else is global. cfg.socket_path needs
     AF_UNIX (Windows 10 1803 or later); where Winsock lacks it,
     SMTP_ERR_UNSUPPORTED. A config file's mode is not checked (no Unix
     modes). Run: the unit tests, cleartext, STARTTLS and implicit TLS
     sends under wine 8 (make test; tests/ports/README.md); AF_UNIX was
     not run (wine 8 has none), nor were MSVC or a real Windows.

   LIMITS (the defaults; see CONFIG MACROS for SMTP_SMALL's)
     A whole reply must fit in 16384 bytes (SMTP_ERR_TOO_LONG otherwise:
     RFC 5321 allows 512 per line, RFC 4954 12288 for AUTH lines); the
     text kept for smtp_last_reply is cut at 12399 bytes (an AUTH
     challenge fits). Addresses are at most 254 octets, also as A-labels.
     A header word (an address with its name, a parameter) is at most 900
     bytes; a header value at most 4000.

   STATUS (v0.6)
     Cleartext and TLS sessions with every deadline, AUTH, SOCKS and HTTP
     proxies, msmtp configuration files and smtp:// URLs, pipelining,
     BDAT, batches, TLS resumption, the MIME composer and the extensions
     (SIZE, 8BITMIME, SMTPUTF8, DSN).

   LICENSE
     Public domain (Unlicense); see the end of the file.
*/
#ifndef SMTP_H_INCLUDED
#define SMTP_H_INCLUDED

#include <stddef.h>
#ifndef SMTP_NO_TLS
#include <bearssl.h>
#endif

#define SMTP_VERSION_MAJOR 0
#define SMTP_VERSION_MINOR 6
#define SMTP_VERSION_PATCH 0
#define SMTP_VERSION_STRING "0.6.0"

/* The socket of a session (smtp_socket): a descriptor on POSIX, a Winsock
   SOCKET (an unsigned integer as wide as a pointer) on Windows; none is
   SMTP_INVALID_SOCKET. */
#ifdef _WIN32
#include <stdint.h>
typedef uintptr_t smtp_socket;
#define SMTP_INVALID_SOCKET ((smtp_socket)~(smtp_socket)0)
#else
typedef int smtp_socket;
#define SMTP_INVALID_SOCKET (-1)
#endif

#ifndef SMTP_API
#  ifdef SMTP_STATIC
#    if defined(__GNUC__) || defined(__clang__)
#      define SMTP_API static __attribute__((unused))
#    else
#      define SMTP_API static
#    endif
#  else
#    define SMTP_API extern
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes: one table makes the enum and smtp_result_str(). */
#define SMTP_RESULT_TABLE(X) \
    X(SMTP_OK,                    0, "success") \
    X(SMTP_PARTIAL,               1, "sent, but some recipients were refused") \
    X(SMTP_WANT_READ,             2, "in progress: call smtp_step when smtp_fd is readable") \
    X(SMTP_WANT_WRITE,            3, "in progress: call smtp_step when smtp_fd is writable") \
    X(SMTP_ERR_PARAM,            -1, "invalid parameter") \
    X(SMTP_ERR_STATE,            -2, "call not valid in this session state") \
    X(SMTP_ERR_NOMEM,            -3, "out of memory") \
    X(SMTP_ERR_RESOLVE,          -4, "host name could not be resolved") \
    X(SMTP_ERR_CONNECT,          -5, "connection failed") \
    X(SMTP_ERR_TIMEOUT,          -6, "timed out") \
    X(SMTP_ERR_IO,               -7, "input/output error") \
    X(SMTP_ERR_CLOSED,           -8, "connection closed") \
    X(SMTP_ERR_PROTOCOL,         -9, "protocol violation by the server") \
    X(SMTP_ERR_TOO_LONG,        -10, "too long") \
    X(SMTP_ERR_REPLY,           -11, "server refused the command") \
    X(SMTP_ERR_PROXY,           -12, "proxy error") \
    X(SMTP_ERR_TLS,             -13, "TLS error") \
    X(SMTP_ERR_CERT,            -14, "certificate verification failed") \
    X(SMTP_ERR_NO_STARTTLS,     -15, "server does not offer STARTTLS") \
    X(SMTP_ERR_AUTH,            -16, "authentication failed") \
    X(SMTP_ERR_AUTH_UNAVAILABLE,-17, "no usable authentication mechanism") \
    X(SMTP_ERR_UNSUPPORTED,     -18, "not supported") \
    X(SMTP_ERR_CONFIG,          -19, "configuration error") \
    X(SMTP_ERR_ABORTED,         -20, "cancelled by the progress callback") \
    X(SMTP_ERR_UNKNOWN_OUTCOME, -21, "the message went out but its reply never came: it may have been delivered") \
    X(SMTP_ERR_AUTH_TEMP,       -22, "temporary authentication failure: try again later")

#define SMTP__ENUM_ITEM(name, value, text) name = value,
typedef enum smtp_result { SMTP_RESULT_TABLE(SMTP__ENUM_ITEM) SMTP__RESULT_END } smtp_result;
#undef SMTP__ENUM_ITEM

typedef enum smtp_security {
    SMTP_SECURITY_AUTO = 0,   /* TLS required, mode probed: implicit or STARTTLS */
    SMTP_SECURITY_NONE,       /* cleartext, never STARTTLS */
    SMTP_SECURITY_STARTTLS,   /* explicit TLS, required (default port 587) */
    SMTP_SECURITY_STARTTLS_IF_AVAILABLE, /* opportunistic (default port 25) */
    SMTP_SECURITY_IMPLICIT    /* TLS from the first byte (default port 465) */
} smtp_security;

/* AUTH mechanisms: allowed_auth (what the caller permits) and
   smtp_supported_auth() (what the server offers). */
enum { SMTP_AUTH_PLAIN = 1u << 0, SMTP_AUTH_LOGIN = 1u << 1,
       SMTP_AUTH_CRAM_MD5 = 1u << 2, SMTP_AUTH_XOAUTH2 = 1u << 3,
       SMTP_AUTH_OAUTHBEARER = 1u << 4 };

/* TLS protocol versions, for the two setters below. */
enum { SMTP_TLS_1_0 = 1u << 0, SMTP_TLS_1_1 = 1u << 1,
       SMTP_TLS_1_2 = 1u << 2, SMTP_TLS_1_3 = 1u << 3 };

/* Certificate checks (tls_verify). */
enum { SMTP_VERIFY_FULL = 0, SMTP_VERIFY_NO_HOSTNAME, SMTP_VERIFY_NONE };

/* Service extensions from the EHLO reply: smtp_extensions(). */
enum { SMTP_EXT_SIZE = 1u << 0, SMTP_EXT_PIPELINING = 1u << 1,
       SMTP_EXT_8BITMIME = 1u << 2, SMTP_EXT_SMTPUTF8 = 1u << 3,
       SMTP_EXT_STARTTLS = 1u << 4, SMTP_EXT_AUTH = 1u << 5,
       SMTP_EXT_CHUNKING = 1u << 6, SMTP_EXT_DSN = 1u << 7,
       SMTP_EXT_ENHANCEDSTATUSCODES = 1u << 8 };

typedef enum smtp_proxy_type {
    SMTP_PROXY_NONE = 0, SMTP_PROXY_SOCKS4, SMTP_PROXY_SOCKS4A,
    SMTP_PROXY_SOCKS5, SMTP_PROXY_HTTP
} smtp_proxy_type;

typedef struct smtp_proxy {
    smtp_proxy_type type;
    const char *host; int port;
    const char *username, *password;   /* SOCKS4 user id; SOCKS5 RFC 1929; HTTP Basic */
} smtp_proxy;

/* Trace directions. */
typedef enum smtp_trace_dir {
    SMTP_TRACE_OUT = 0,   /* a command line sent, without CRLF */
    SMTP_TRACE_IN,        /* a reply line received, without CRLF */
    SMTP_TRACE_BODY,      /* message bytes as written to the wire (a chunk, not a line) */
    SMTP_TRACE_INFO       /* a note from the library */
} smtp_trace_dir;
typedef void (*smtp_trace_fn)(void *user, smtp_trace_dir dir, const char *data, size_t len);

struct smtp_trust;   /* a shared, read-only trust store (TLS issue) */

/* Your own byte stream (cfg.transport): lwIP, a serial modem, a pipe to
   ssh, a test script. smtp.h then connects nothing itself; proxies, TLS
   (implicit and STARTTLS), AUTH and the session run over it. timeout_ms
   is the time left before the current deadline: 0 means do not wait,
   negative means no limit.
     read:  up to n bytes into buf. Returns how many (1..n), 0 when the
            peer closed the stream, SMTP_ERR_TIMEOUT when nothing came in
            time, or SMTP_ERR_IO (any other negative value counts as it).
     write: some of buf[0..n). Returns how many bytes it took (1..n; it is
            called again for the rest), SMTP_ERR_TIMEOUT when none could
            be written in time, 0 or SMTP_ERR_CLOSED when the peer is gone,
            or SMTP_ERR_IO.
     close: the session is done with the stream (smtp_close, or a failure
            that ended the session); called once. May be NULL.
   One stream is one connection: no reconnect (cfg.no_reconnect is
   implied; cfg.messages_per_connection is refused) and AUTO only probes
   (cleartext greeting: STARTTLS; silence: implicit TLS). */
typedef struct smtp_transport {
    int (*read)(void *user, void *buf, size_t n, int timeout_ms);
    int (*write)(void *user, const void *buf, size_t n, int timeout_ms);
    void (*close)(void *user);
    void *user;
} smtp_transport;

/* cfg.protocol: SMTP, or LMTP (RFC 2033: LHLO, then one reply per
   accepted recipient after the end of the message). */
typedef enum smtp_protocol { SMTP_PROTOCOL_SMTP = 0, SMTP_PROTOCOL_LMTP = 1 } smtp_protocol;

typedef struct smtp_config {
    const char *host; int port;        /* port 0: chosen by security mode (25, 587, 465) */
    /* A Unix-domain socket to connect to instead of host and port (msmtp's
       socket key); host then only names the server for TLS ("localhost"
       when NULL). No proxy with it. */
    const char *socket_path;
    /* Your own stream instead of a connection (smtp_transport above); host
       then only names the server for TLS ("localhost" when NULL). */
    const smtp_transport *transport;
    const char *from;                  /* default envelope sender (config files have it) */
    const char *username, *password;   /* password, or the OAuth2 token for XOAUTH2 */
    smtp_security security;            /* 0 = AUTO: TLS required */
    unsigned allowed_auth;             /* SMTP_AUTH_* mask; 0 = PLAIN|LOGIN|CRAM_MD5.
                                          XOAUTH2 only when set here: password is then a token */
    int allow_cleartext_auth;          /* 0: PLAIN/LOGIN/XOAUTH2 only inside TLS */
    int connect_timeout_ms;            /* 0 = 30 s; total over every address (and proxy) */
    int greeting_timeout_ms;           /* 0 = 30 s; the 220 greeting */
    int timeout_ms;                    /* 0 = 60 s; each command + reply, each write */
    int data_timeout_ms;               /* 0 = 10 min; the reply to the end of the message */
    smtp_proxy proxy;                  /* type 0: direct connection */
    const char *local_address; int local_port;   /* bind before connect; NULL/0: any */
    /* IP addresses (literals, NULL-terminated, at most 64) to connect to
       in turn instead of resolving host, or the proxy's host when a proxy
       is set: your own resolver's answer, e.g. an event loop's
       asynchronous one (STEPPING). host stays the name TLS checks and a
       proxy is given. NULL: getaddrinfo. */
    const char *const *addresses;
    const char *helo_name;             /* NULL: FQDN or address literal */
    unsigned tls_versions;             /* set through the two setters below; 0 = 1.2 */
    const char *ca_file;               /* PEM bundle; NULL: the system bundle */
    const char *ca_pem; size_t ca_pem_len;   /* CA certificates as PEM in memory */
    const struct smtp_trust *trust;    /* shared trust store; NULL: load per session */
    struct smtp_tls_cache *tls_cache;  /* TLS session resumption (smtp_tls_cache_new); NULL: none */
    int tls_verify;                    /* SMTP_VERIFY_FULL (0), _NO_HOSTNAME, _NONE */
    const char *tls_fingerprint;       /* pin: SHA-256 of the server certificate, hex */
    const char *tls_cert_file, *tls_key_file;  /* client certificate chain and key, PEM files */
    const char *tls_cert_pem, *tls_key_pem;    /* the same as PEM text in memory (NUL-terminated) */
    smtp_trace_fn trace; void *trace_user;     /* see TRACE */
    int no_chunking;                   /* 1: never BDAT, even when offered (DATA instead) */
    /* 1: in smtp_send_batch, the next message's MAIL, RCPT and DATA leave
       with the end of the one before (RFC 2920 allows it; Dovecot, Haraka
       and chasquid break on it). 0: commands are pipelined within each
       transaction only. */
    int pipeline_messages;
    /* Called as the message body goes out (after each write of up to
       16 KB) with the bytes sent so far, and once more just before the
       end of the message goes out, with the total (for DATA the end-of-
       data line included). A non-zero return cancels: the connection is
       dropped before the end of data, so the server discards the
       message, and the call returns SMTP_ERR_ABORTED. */
    int (*progress)(void *user, unsigned long long sent); void *progress_user;
    /* Sessions that last (see LASTING SESSIONS in the manual). */
    int no_reconnect;                  /* 1: a connection the server closed is an error, never reopened */
    int idle_check_ms;                 /* 0 = 30 s: idle longer, NOOP before the next message; negative: never */
    unsigned messages_per_connection;  /* 0 = no limit: QUIT and reconnect after this many messages */
    unsigned messages_per_second;      /* 0 = no limit: messages spaced to at most this rate */
    /* OAuth2 bearer tokens that renew (XOAUTH2, OAUTHBEARER; instead of
       password): writes a NUL-terminated token of at most cap - 1 bytes
       into buf and returns its length, or -1 to fail. Called at each AUTH
       with renew 0; when the server refuses the token, once with renew 1
       (get a fresh one), and AUTH is tried once more. */
    int (*token)(void *user, const char *username, char *buf, size_t cap, int renew); void *token_user;
    smtp_protocol protocol;            /* SMTP_PROTOCOL_SMTP (0), or SMTP_PROTOCOL_LMTP (RFC 2033) */
} smtp_config;

/* The last reply parsed. text holds the lines without their codes (and
   without the enhanced status when it leads a line), joined by '\n',
   NUL-terminated; it lives in the session until the next command. */
typedef struct smtp_reply {
    int code;                /* 200..599; 0 when no reply was read */
    char status[16];         /* RFC 3463 enhanced status "5.1.1", or "" */
    const char *text;        /* never NULL once a session was opened */
    size_t len;              /* strlen(text) */
    int lines;               /* number of lines in the reply */
} smtp_reply;

/* A file or a block of memory attached to a message (smtp_message.attachments). */
typedef struct smtp_attachment {
    const char *filename;            /* the name shown (UTF-8); NULL: the path's last part */
    const char *path;                /* read from this file as it is sent, never held whole; or */
    const void *data; size_t size;   /* from memory */
    const char *content_type;        /* NULL: from the file name's extension */
    const char *content_id;          /* set: an inline part (multipart/related), "cid:" in the HTML */
} smtp_attachment;

/* An extra header line (smtp_message.headers): Reply-To, X-... */
typedef struct smtp_header { const char *name, *value; } smtp_header;

/* What became of one recipient of smtp_send. */
typedef struct smtp_rcpt_result {
    const char *address;     /* the recipient string as given in the message */
    int accepted;            /* 1: the server took the message for it */
    int code;                /* the deciding reply: to RCPT when refused, else to the end of data */
    char status[16];         /* its enhanced status, or "" */
    char text[200];          /* its text, cut to fit */
} smtp_rcpt_result;

typedef struct smtp_message {
    const char *from;                                /* "a@b" or "Name <a@b>"; NULL: cfg.from */
    const char *envelope_from;                       /* MAIL FROM if not from's address; "" = <> */
    const char *const *to, *const *cc, *const *bcc;  /* NULL-terminated; NULL = none */
    const char *subject;                             /* UTF-8; RFC 2047 when needed; NULL = none */
    const char *text;                                /* UTF-8 text body; NULL = empty */
    const char *html;                                /* an HTML alternative to text (multipart/alternative) */
    const smtp_attachment *attachments; size_t attachment_count;
    const smtp_header *headers; size_t header_count; /* extra headers, checked and folded */
    /* DSN (RFC 3461), used when the server offers DSN, else noted in the trace */
    const char *dsn_notify;                          /* "NEVER" or e.g. "SUCCESS,FAILURE,DELAY", every recipient */
    int dsn_orcpt;                                   /* 1: ORCPT=rfc822;address on every recipient */
    const char *dsn_ret;                             /* "FULL" or "HDRS" */
    const char *dsn_envid;                           /* the envelope id */
    /* Per-recipient outcome, in the order to, cc, bcc. Optional. */
    smtp_rcpt_result *results; size_t results_cap;   /* caller's array and its length */
    void (*on_result)(void *user, const smtp_rcpt_result *r); void *user;
} smtp_message;

/* The session: a struct the caller owns (on the stack, static, on the
   heap); its layout is private, in >>structs at the end of this part. */
typedef struct smtp_session smtp_session;

/* smtp_result_str: a short English phrase for a result code; never NULL. */
SMTP_API const char *smtp_result_str(smtp_result r);

/* TLS versions. A mask is a range: BearSSL negotiates between a minimum and
   a maximum, so the lowest and highest bits set are what count (1_0|1_2
   allows 1.1 too). Unknown bits: SMTP_ERR_PARAM from both setters.
   smtp_config_set_tls_versions drops the versions this build cannot speak
   (TLS 1.3 with BearSSL): 1.2|1.3 gives 1.2, 1.3 alone falls back to the
   newest supported version. Never fails for a known version.
   smtp_config_set_tls_versions_unsafe stores the mask unchecked; smtp_open
   then fails with SMTP_ERR_UNSUPPORTED if any version in it cannot be
   spoken. */
SMTP_API smtp_result smtp_config_set_tls_versions(smtp_config *cfg, unsigned versions);
SMTP_API smtp_result smtp_config_set_tls_versions_unsafe(smtp_config *cfg, unsigned versions);

/* smtp_open: connects (every address of host in turn, within
   connect_timeout_ms), reads the 220 greeting (greeting_timeout_ms), sends
   EHLO (HELO when EHLO is refused) and learns the server's extensions.
   cfg and its strings must stay valid until smtp_close. Returns SMTP_OK,
   or an error with the detail set; after an error the session needs only
   smtp_close (which is then harmless). */
SMTP_API smtp_result smtp_open(smtp_session *s, const smtp_config *cfg);

/* smtp_send: composes m and sends it in one or more transactions (MAIL,
   RCPT for to, cc and bcc, DATA, the message, the final reply). Returns
   SMTP_OK when every recipient was accepted, SMTP_PARTIAL when some were
   refused, an error when the message went to none (SMTP_ERR_REPLY when
   the server refused it). Nothing counts as sent before the server's
   reply to the end of data. Per-recipient outcomes go to m->results /
   m->on_result. Allocates nothing. */
SMTP_API smtp_result smtp_send(smtp_session *s, const smtp_message *m);

/* smtp_send_mail: one shot: open, send, close, with a session allocated
   through SMTP_MALLOC. detail (may be NULL) receives the error sentence. */
SMTP_API smtp_result smtp_send_mail(const smtp_config *cfg, const smtp_message *m,
                                    char *detail, size_t detail_size);

/* smtp_send_batch: sends msgs[0..count) on the session, results[i] for
   each (SMTP_OK, SMTP_PARTIAL or an error, as smtp_send returns). With
   PIPELINING each message's MAIL, RCPT and DATA leave in one write; with
   cfg.pipeline_messages the next message's envelope also rides with the
   end of the one before (RFC 2920; some servers break on it). Each
   result comes only from that message's own final reply. A transport
   failure ends the batch: the message whose end of data went out without
   a reply gets SMTP_ERR_UNKNOWN_OUTCOME (it may have been delivered), the
   others not yet settled get that error. Returns the last error met, or
   SMTP_OK. */
SMTP_API smtp_result smtp_send_batch(smtp_session *s, const smtp_message *msgs, size_t count,
                                     smtp_result *results);

/* Stepping: the same open and sends, driven from the caller's own event
   loop. smtp_open_start checks cfg, resolves the name (getaddrinfo: a
   wait, none for an IP literal or cfg.addresses) and begins the TCP
   connect; SMTP_OK: under way, or the error smtp_open would have
   returned. smtp_send_start / smtp_send_batch_start check their
   arguments as smtp_send / smtp_send_batch do and return at once
   (SMTP_OK: started; nothing is sent yet). After a start call
   smtp_timeout_ms is 0: call smtp_step at once. smtp_step then does all
   the work that needs no waiting and returns SMTP_WANT_READ or
   SMTP_WANT_WRITE (wait until
   smtp_fd is readable or writable, at most smtp_timeout_ms, then call it
   again), or the operation's final result, exactly what the blocking
   call would have returned (the batch's results[] filled the same way).
   A step that finds its deadline passed returns SMTP_ERR_TIMEOUT. The
   blocking calls are loops over the same steps with poll(). smtp_fd (a
   descriptor; a SOCKET on Windows, for WSAPoll) is SMTP_INVALID_SOCKET
   (-1 on POSIX) with cfg.transport (its read and write are then called with
   timeout_ms 0: SMTP_ERR_TIMEOUT there means "would block", and the
   step returns the want of that direction; wait on your own stream).
   smtp_timeout_ms: milliseconds left before the current deadline (-1:
   none). smtp_fd may change between steps while a connection is made
   (the next address, AUTO's next attempt, a reconnect within a send):
   take it after every step. A message's attachments are read from their
   files in pieces between steps. Still waiting inside a step: the name
   resolution of a new connection (AUTO's later attempts, a reconnect;
   none with cfg.addresses or an IP literal). One operation at a time:
   the other calls return SMTP_ERR_STATE while one is under way. */
SMTP_API smtp_result smtp_open_start(smtp_session *s, const smtp_config *cfg);
SMTP_API smtp_result smtp_send_start(smtp_session *s, const smtp_message *m);
SMTP_API smtp_result smtp_send_batch_start(smtp_session *s, const smtp_message *msgs, size_t count,
                                           smtp_result *results);
/* smtp_quit_start: QUIT, stepped (smtp_close sends it and waits for
   its reply, up to timeout_ms). smtp_step returns SMTP_WANT_* until the
   reply came, then SMTP_OK (or why the QUIT failed); the connection is
   closed either way, and smtp_close then frees the session without
   waiting. On a session with nothing to QUIT, the first step returns
   SMTP_OK. */
SMTP_API smtp_result smtp_quit_start(smtp_session *s);
SMTP_API smtp_result smtp_step(smtp_session *s);
SMTP_API smtp_socket smtp_fd(const smtp_session *s);
SMTP_API int smtp_timeout_ms(const smtp_session *s);

/* smtp_close: QUIT (waiting at most timeout_ms for its reply), then closes
   the connection. Always safe to call, also after a failed smtp_open and
   twice. Returns SMTP_OK or the error that ended the session. */
SMTP_API smtp_result smtp_close(smtp_session *s);

/* Low-level transaction calls; smtp_send is built on them. Addresses are
   "a@b" or "Name <a@b>"; the part inside <> is used. Each sends one
   command and reads its reply within timeout_ms; a refusal returns
   SMTP_ERR_REPLY (see smtp_last_reply) and leaves the session usable.
   smtp_mail_from: MAIL FROM:<addr> ("" is the null sender).
   smtp_rcpt_to:   RCPT TO:<addr> ("postmaster" alone is valid).
   smtp_data_begin: DATA, expects 354.
   smtp_data_write: message bytes, any piece size; normalises line ends
                    and stuffs dots; each write within timeout_ms.
   smtp_data_end:  ends the data ("." line) and waits data_timeout_ms for
                   the final reply; SMTP_OK means the server took it.
   smtp_rset, smtp_noop: RSET and NOOP. */
SMTP_API smtp_result smtp_mail_from(smtp_session *s, const char *addr);
/* smtp_mail_from_opts: MAIL FROM with ESMTP parameters appended, e.g.
   "BODY=8BITMIME SIZE=12345" (checked: printable ASCII words only). A body
   with 8-bit bytes given to smtp_data_write needs BODY=8BITMIME here and a
   server that offers 8BITMIME; otherwise smtp_data_write refuses it with
   SMTP_ERR_UNSUPPORTED and drops the connection rather than send it. */
SMTP_API smtp_result smtp_mail_from_opts(smtp_session *s, const char *addr, const char *params);
SMTP_API smtp_result smtp_rcpt_to(smtp_session *s, const char *addr);
/* smtp_rcpt_to_opts: RCPT TO with ESMTP parameters appended, e.g.
   "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.com" (printable ASCII;
   NOTIFY and ORCPT only when the server offers DSN, else
   SMTP_ERR_UNSUPPORTED and nothing is sent). */
SMTP_API smtp_result smtp_rcpt_to_opts(smtp_session *s, const char *addr, const char *params);
SMTP_API smtp_result smtp_data_begin(smtp_session *s);
SMTP_API smtp_result smtp_data_write(smtp_session *s, const void *data, size_t len);
SMTP_API smtp_result smtp_data_end(smtp_session *s);
SMTP_API smtp_result smtp_rset(smtp_session *s);
SMTP_API smtp_result smtp_noop(smtp_session *s);

/* smtp_reconnects: how many times the session opened a new connection
   after smtp_open: when the server had closed an idle one (or answered
   421 before MAIL was accepted), and every cfg.messages_per_connection
   messages. smtp_is_transient: 1 when a later retry can fix result r
   (timeouts, connection failures, a 4xx reply incl. 421 and 452, TLS
   handshake I/O, SMTP_ERR_UNKNOWN_OUTCOME), 0 when it cannot (5xx,
   certificate failures, bad parameters, AUTH refused with 535); for
   SMTP_ERR_REPLY the reply that refused decides (the manual's ERRORS
   table gives every code). */
SMTP_API int smtp_reconnects(const smtp_session *s);
SMTP_API int smtp_is_transient(const smtp_session *s, smtp_result r);

/* Trust stores: CA certificates loaded once, read-only afterwards, safe
   to share between sessions and threads (cfg.trust). Memory comes from
   SMTP_MALLOC and goes back through smtp_trust_free. detail (may be NULL)
   receives a sentence on failure. Certificates whose keys BearSSL cannot
   use are skipped; none usable is SMTP_ERR_CERT.
   smtp_trust_load_system: the system bundle (Debian's
   /etc/ssl/certs/ca-certificates.crt and the other usual places; on
   Windows the ROOT certificate store).
   smtp_trust_load_file: a PEM file. smtp_trust_load_pem: PEM in memory.
   In SMTP_NO_TLS builds they return SMTP_ERR_UNSUPPORTED. */
typedef struct smtp_trust smtp_trust;
SMTP_API smtp_result smtp_trust_load_system(smtp_trust **out, char *detail, size_t detail_size);
SMTP_API smtp_result smtp_trust_load_file(smtp_trust **out, const char *path, char *detail, size_t detail_size);
SMTP_API smtp_result smtp_trust_load_pem(smtp_trust **out, const void *pem, size_t len,
                                         char *detail, size_t detail_size);
SMTP_API size_t smtp_trust_count(const smtp_trust *t);           /* anchors loaded */
SMTP_API void smtp_trust_free(smtp_trust *t);                    /* NULL is fine */

/* TLS session resumption. A cache the caller owns, named in cfg.tls_cache:
   a later smtp_open to the same host, port and mode, with the same trust
   settings, resumes the TLS session and skips the full handshake. Only
   sessions whose certificate was fully verified (SMTP_VERIFY_FULL, or a
   pin) are kept: a resumed session is not verified again. It remembers
   the 8 newest. Use it from one thread at a time. smtp_tls_resumed tells
   whether a session was resumed. NULL from new when out of memory or with
   SMTP_NO_TLS. */
typedef struct smtp_tls_cache smtp_tls_cache;
SMTP_API smtp_tls_cache *smtp_tls_cache_new(void);
SMTP_API void smtp_tls_cache_free(smtp_tls_cache *c);
SMTP_API int smtp_tls_resumed(const smtp_session *s);

/* The server's certificate as this session received it (the leaf), for
   programs that show it (smtp-send --serverinfo). Strings are printable:
   control bytes and invalid UTF-8 appear as \xHH. Filled during every
   full handshake, whatever cfg.tls_verify says; a resumed session shows
   no certificate. SMTP_ERR_STATE without TLS or after resumption,
   SMTP_ERR_UNSUPPORTED with SMTP_NO_TLS. */
typedef struct smtp_peer_cert {
    char subject[256], issuer[256];       /* "C=DE, O=Example, CN=mx.example.com", as encoded */
    char not_before[24], not_after[24];   /* "2026-12-03 22:08:10 UTC" */
    char names[512];                      /* subjectAltName: "DNS:mx.example.com, IP:192.0.2.1" */
    char key[24];                         /* "RSA 2048", "EC P-256" */
    unsigned char sha256[32];             /* of the certificate (DER) */
    unsigned char spki_sha256[32];        /* of its SubjectPublicKeyInfo (what a key pin names) */
    int chain_length;                     /* certificates the server sent */
} smtp_peer_cert;
SMTP_API smtp_result smtp_tls_peer_cert(const smtp_session *s, smtp_peer_cert *out);

/* After smtp_open: the security mode that got through (AUTO says which),
   the port, and the TLS version and cipher suite ("TLSv1.2",
   "ECDHE-RSA-AES128-GCM-SHA256"; "" without TLS). */
SMTP_API smtp_security smtp_security_used(const smtp_session *s);
SMTP_API int smtp_port_used(const smtp_session *s);
SMTP_API const char *smtp_tls_version(const smtp_session *s);
SMTP_API const char *smtp_tls_cipher(const smtp_session *s);

SMTP_API unsigned smtp_supported_auth(const smtp_session *s);   /* SMTP_AUTH_* the server offers */
SMTP_API unsigned smtp_extensions(const smtp_session *s);       /* SMTP_EXT_* the server offers */
SMTP_API unsigned long smtp_size_limit(const smtp_session *s);  /* SIZE value; 0: none given */
SMTP_API const smtp_reply *smtp_last_reply(const smtp_session *s);
SMTP_API const char *smtp_error_detail(const smtp_session *s);  /* never NULL */

/* Settings from a file or a URL. The strings that cfg points to, the
   notes and the detail live in this object until smtp_settings_free. */
typedef struct smtp_settings {
    smtp_config cfg;            /* ready for smtp_open; zero where the file says nothing */
    const char *account;        /* the account that was loaded */
    const char *passwordeval;   /* msmtp's passwordeval: a command for the program to run, or NULL */
    const char *notes;          /* "FILE:LINE: key 'logfile' ignored (...)" lines, or "" */
    char detail[512];           /* on failure: what, with file, line and key */
    char *mem; size_t used, cap;   /* private */
    void *extra;                   /* private: values added by smtp_settings_set */
} smtp_settings;

/* smtp_config_load: reads an msmtp configuration file (~/.msmtprc):
   `defaults`, `account NAME`, `account NAME : PARENT[, PARENT...]`,
   `account default : NAME`, # comments, "double-quoted values" with \"
   and \\ escapes. account NULL means "default". Keys and their meaning
   are listed in the manual (CONFIG FILE). Unknown keys, bad values, an
   unterminated quote, a missing account, an account inheriting from
   itself: SMTP_ERR_CONFIG with file, line and key in s->detail. A file
   that holds a password and can be read by group or others is refused,
   as msmtp refuses it. Free with smtp_settings_free (also after errors). */
SMTP_API smtp_result smtp_config_load(smtp_settings *s, const char *path, const char *account);
/* smtp_config_load_system: the same for the system-wide file
   (/etc/msmtprc), which msmtp reads without the permission check: it is
   the administrator's to protect. */
SMTP_API smtp_result smtp_config_load_system(smtp_settings *s, const char *path, const char *account);

/* smtp_config_from_url: smtps://[user[:password]@]host[:port][/ehlo-name][?key=value&...]
   (implicit TLS) or smtp://... (STARTTLS required unless the query says
   otherwise, e.g. ?security=none). user and password are percent-decoded;
   IPv6 literals in brackets; query keys as in the config file. */
SMTP_API smtp_result smtp_config_from_url(smtp_settings *s, const char *url);
SMTP_API void smtp_settings_free(smtp_settings *s);
/* smtp_settings_set: one more key, as in the file ("port", "587"), on
   settings loaded or zeroed ({0}); the value is copied. For command-line
   tools. SMTP_ERR_CONFIG for an unknown key or a bad value (s->detail). */
SMTP_API smtp_result smtp_settings_set(smtp_settings *s, const char *key, const char *value);
/* smtp_settings_get: the value in force of any key that the file (for the
   loaded account, after inheritance), the URL or smtp_settings_set gave,
   also the msmtp keys the library only notes (logfile, aliases,
   dsn_notify, set_from_header, ...); NULL when none gave it. The string
   lives until smtp_settings_free. */
SMTP_API const char *smtp_settings_get(const smtp_settings *s, const char *key);
/* smtp_config_keys: every key the file, URL queries and smtp_settings_set
   take, in the manual's order; *count gets their number. For programs
   that derive their options from the library (smtp-send's long options
   and --help). The table is static and never changes at run time. */
typedef struct smtp_config_key {
    const char *name;            /* "data_timeout" */
    const char *value;           /* what it takes: "on|off", "1..65535", "seconds (1..2000000)|off", ... */
    const char *default_value;   /* as written in a file, "" when none or it depends */
    const char *doc;             /* one line */
    int sends;                   /* 1: configures the session; 0: an msmtp key only kept (smtp_settings_get) */
} smtp_config_key;
SMTP_API const smtp_config_key *smtp_config_keys(size_t *count);

/* ------------------------------------------------------------------------ */
/* private: one layer of the transport stack. At the bottom TCP, a Unix
   socket or the caller's cfg.transport; a proxy's tunnel and TLS go on
   top, each keeping the one below. */
struct smtp_session;
/* A layer of the transport stack. read: bytes read (> 0); write: bytes
   taken (> 0; all of them unless the session is stepped); either: 0 when
   it would block (stepped sessions only: link.want says which way), or
   SMTP_ERR_*. Without smtp_step they wait until the deadline. */
typedef struct smtp__io {
    int  (*read)(struct smtp_session *s, void *buf, size_t len, long long deadline);
    int  (*write)(struct smtp_session *s, const void *buf, size_t len, long long deadline);
    void (*close)(struct smtp_session *s);
    void *ctx;
} smtp__io;

/* Sizes chosen at compile time (CONFIG MACROS); SMTP_SMALL picks the
   embedded profile. They shape smtp_session: every file that includes
   smtp.h must see the same ones. */
#ifdef SMTP_SMALL
#ifndef SMTP_MAX_RECIPIENTS
#define SMTP_MAX_RECIPIENTS 100
#endif
#ifndef SMTP_BUFFER_SIZE
#define SMTP_BUFFER_SIZE 2048
#endif
#ifndef SMTP_AUTH_MAX
#define SMTP_AUTH_MAX 1024
#endif
#ifndef SMTP_CERT_MAX
#define SMTP_CERT_MAX 4096
#endif
#endif
#ifndef SMTP_TLS_MONO
#define SMTP_TLS_MONO 1                 /* BearSSL's half-duplex record buffer: 16 KB less, no loss measured */
#endif
#ifndef SMTP_MAX_RECIPIENTS
#define SMTP_MAX_RECIPIENTS 1000        /* a transaction's recipients (RFC 5321 4.5.3.1.8: at least 100) */
#endif
#ifndef SMTP_BUFFER_SIZE
#define SMTP_BUFFER_SIZE 16384          /* the read and the write buffer, each */
#endif
#ifndef SMTP_AUTH_MAX
#define SMTP_AUTH_MAX 9000              /* an AUTH payload: its base64 stays under RFC 4954's 12288 */
#endif
#define SMTP__RBUF_SIZE SMTP_BUFFER_SIZE
#define SMTP__WBUF_SIZE SMTP_BUFFER_SIZE
#define SMTP__TEXT_SIZE (SMTP_AUTH_MAX / 3 * 4 + 400)   /* a whole AUTH challenge; 12400 by default */
/* a command (up to 1600 bytes) and an AUTH payload's base64 must fit the write buffer */
typedef char smtp__sizes_ok[(SMTP_BUFFER_SIZE >= 2048 && SMTP_BUFFER_SIZE >= SMTP_AUTH_MAX / 3 * 4 + 100 &&
                             SMTP_AUTH_MAX >= 512 && SMTP_MAX_RECIPIENTS >= 1) ? 1 : -1];

#ifndef SMTP_NO_TLS
/* private: certificate checks around BearSSL's x509 "minimal" engine
   (names, key policy, name constraints, pins, the relaxed modes). */
#ifndef SMTP_CERT_MAX
#define SMTP_CERT_MAX 8192           /* the largest certificate of a server's chain (DER) */
#endif
typedef struct smtp__x509 {
    const br_x509_class *vtable;
    br_x509_minimal_context minimal;
    const char *host;                   /* the name checked (the session's tls_name) */
    br_x509_pkey pkey;                  /* the server's key from our own reader (relaxed modes) */
    int index, over, verify, ip_len, has_pin, pin_ok, has_key, weak_sig, relaxed, chain_seen;
    unsigned err, policy;               /* what minimal said; our own first refusal */
    unsigned char ip[16], pin[32];
    unsigned char key[520];             /* pkey's bytes: RSA n and e, or the EC point */
    smtp_peer_cert peer;                /* the leaf, described (smtp_tls_peer_cert) */
    size_t cert_len;
    unsigned char cert[SMTP_CERT_MAX];  /* the certificate being received */
} smtp__x509;

typedef struct smtp__tls {
    br_ssl_client_context sc;
    smtp__x509 x;
    smtp__io lower;                     /* the transport under TLS */
    struct smtp_trust *own;             /* loaded for this session when cfg.trust is NULL */
    struct smtp__client *client;        /* client certificate chain and key, loaded at open */
#if defined(SMTP_TLS_MONO) && SMTP_TLS_MONO
    unsigned char iobuf[BR_SSL_BUFSIZE_MONO];   /* half duplex: 16 KB less */
#else
    unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
#endif
} smtp__tls;
#endif

/* >>structs  the session's private layout. Each part owns one concern and
   is reset in one place; the largest members come last. */

/* What the server offered in its EHLO reply (forgotten after STARTTLS). */
typedef struct smtp__caps {
    unsigned ext, auth;                 /* SMTP_EXT_*, SMTP_AUTH_* */
    unsigned long size_max;             /* SIZE's limit, 0 when none */
} smtp__caps;

/* A TCP connect under way (smtp__dial_next): getaddrinfo's lists, kept
   until it ends, and the address being tried. It holds one smtp__net_up
   reference, handed to the socket that connects. */
typedef struct smtp__dial {
    void *res, *loc;                    /* struct addrinfo lists (NULL with SMTP_NO_GETADDRINFO: parsed again) */
    long long dl;                       /* the connect's deadline, for all the addresses (and a proxy's handshake) */
    int i, at, err;                     /* the address to try (its index); the last one tried; why it failed */
    unsigned char up, nofam;            /* the lists and the reference are held; an address had no local one */
    unsigned char v4ok, v4[4];          /* SOCKS4: the server's IPv4 address, resolved with the proxy's */
} smtp__dial;

/* The transport stack: the socket and the top layer's slot. */
typedef struct smtp__link {
    smtp_socket fd;                     /* the socket (SMTP_INVALID_SOCKET: none) */
    int sys_errno;                      /* errno (Windows: WSAGetLastError()) of the last system failure */
    int nb;                             /* stepped (smtp_step): a layer that would wait returns 0 */
    smtp_result want;                   /* then: SMTP_WANT_READ or SMTP_WANT_WRITE */
    long long dl;                       /* and the deadline of that wait */
    int wrote;                          /* bytes went out since the last read: a reply cannot be there yet */
    smtp__io io;                        /* TCP, then a proxy's tunnel, then TLS on top */
    smtp__dial dial;
    char peer[276];                     /* "host:port" (host: 255 bytes at most), for messages */
} smtp__link;

/* TLS as the session uses it: the mode tried and the one that worked. */
typedef struct smtp__sec {
    smtp_security mode_try;             /* the mode being tried (the resumption cache's key) */
    smtp_security mode_used;            /* the mode that got through (AUTO tells which) */
    int on, resumed;                    /* TLS is the top layer; its session was resumed */
    unsigned err;                       /* BearSSL's error code of a failed handshake */
    char name[256];                     /* the server's name for SNI and checks (no trailing dot) */
    long long hs_dl;                    /* the TLS handshake's deadline */
    int auth_i, auth_long;              /* AUTH: the mechanism tried (its index); its payload did not fit */
    struct smtp__autost *au;            /* AUTO's attempts while smtp_open runs (SMTP_MALLOC) */
} smtp__sec;

/* Dot-stuffing state across writes (RFC 5321 4.5.2); nostuff: BDAT or a count. */
typedef struct smtp__dot { int bol, cr, nostuff; } smtp__dot;

/* The writer: commands and body bytes go out through buf. counting: the
   body is only measured (SIZE), nothing goes out. */
/* Where the composer stands in a message that went out over several
   steps: units (a header line, a text, an attachment) are counted in each
   pass over the message; those finished in an earlier step are skipped,
   the one under way resumes. */
typedef struct smtp__cursor {
    unsigned long k, done;              /* units met in this pass; units finished before */
    size_t off;                         /* bytes of the unit (or of its chunk) already taken */
    unsigned long long pos;             /* chunked units: the input offset where the chunk starts */
    size_t col;                         /* quoted-printable: the output column there */
} smtp__cursor;

typedef struct smtp__writer {
    size_t len, off;                    /* bytes waiting in buf; of them, already written (BDAT: the chunk's start) */
    int busy;                           /* a flush is under way (a step may stop inside it) */
    long long dl;                       /* its deadline */
    smtp__cursor cur;
    smtp__dot dot;
    int counting;
    unsigned long long counted;         /* what counting measured */
    unsigned long long sent;            /* body bytes of this message on the wire, for progress */
    unsigned char buf[SMTP__WBUF_SIZE];
} smtp__writer;

/* The reader: buffered bytes, the last reply and the command it answers. */
typedef struct smtp__reply_parser { size_t off; int code; int lines; } smtp__reply_parser;

typedef struct smtp__reader {
    size_t pos, len;                    /* unread bytes are buf[pos..len) */
    int active, ehlo, ms;               /* a reply is being read (a step may stop inside it); its kind and budget */
    int xphase;                         /* smtp__exchange: 0 idle, 1 sending its line, 2 reading its reply */
    long long dl;                       /* its deadline */
    smtp__reply_parser rp;
    smtp_reply reply;                   /* reply.text points at text */
    char cmd[80];                       /* the command being answered, for messages */
    char text[SMTP__TEXT_SIZE];
    unsigned char buf[SMTP__RBUF_SIZE];
} smtp__reader;

/* BDAT (RFC 3030): chunks in flight and the first refusal among them. */
typedef struct smtp__bdat {
    int on, last;                       /* BDAT in use; the last chunk awaits its reply */
    int pending, failed;                /* replies not read yet; a chunk was refused */
    int code; char status[16];          /* that refusal */
    size_t chunk;                       /* the size of the chunk under way */
} smtp__bdat;

/* The connection's life across messages: reopened, used, paced. */
typedef struct smtp__conn {
    int reconnects;                     /* connections opened again (smtp_reconnects) */
    int renew;                          /* the token was refused: 1 ask for a new one, 2 asked */
    unsigned messages;                  /* messages begun on this connection */
    long long last_reply;               /* when the last reply came (monotonic ms), for idle_check_ms */
    long long next_send;                /* messages_per_second: the earliest start of the next message */
} smtp__conn;

/* The transaction being sent. */
typedef struct smtp__txn {
    int body8, utf8;                    /* BODY=8BITMIME declared; SMTPUTF8 in use */
    int eod_sent;                       /* the end of the message went out, its reply not read yet */
    unsigned accepted;                  /* recipients accepted by smtp_rcpt_to (LMTP: replies owed) */
    int mail_code; char mail_status[16];   /* a refused MAIL, for the recipients it leaves */
    char mail_text[300];                /* its reply, for the detail */
    char refused[200];                  /* the first recipient refusal, for the detail */
} smtp__txn;

/* One recipient of a transaction: its index in the message (to, cc, bcc
   in order; smtp__job_addr gives the address) and its state. */
enum { SMTP__UNTRIED = 0, SMTP__OK, SMTP__REFUSED, SMTP__DEFERRED, SMTP__SENT };   /* SENT: LMTP, settled */
typedef struct smtp__rcpt { unsigned idx; unsigned char st; } smtp__rcpt;
#define SMTP__RCPT_MAX SMTP_MAX_RECIPIENTS
#define SMTP__SASL_MAX SMTP_AUTH_MAX
#define SMTP__TOKEN_CAP (SMTP_AUTH_MAX >= 8192 ? 4096 : SMTP_AUTH_MAX / 2)   /* a token from cfg.token, NUL included */

/* A message on its way: its checked fields, where its recipient lists
   stand, and what became of them. */
typedef struct smtp__job {
    const smtp_message *m;
    const char *from, *env;
    const char *const *lists[3];
    size_t count[3];                    /* the lengths of to, cc and bcc */
    size_t total, tried, sent, carry, first_refused, list_pos;
    int list, utf8, body8, dsn;         /* SMTPUTF8, BODY=8BITMIME, DSN parameters in use */
    size_t live;                        /* s->work.rcpt[0..live) belong to this job and are not settled */
    unsigned long long size;            /* for SIZE (RFC 1870), 0 when not declared */
    char date[64], msgid[160], first_rb[300];
} smtp__job;

#define SMTP__DEPTH 6   /* resumable calls nested at most (the open: session_start, auth, renew, mech, outcome) */

/* The steps of smtp_send and smtp_send_batch, in the order a message
   takes them (smtp__send_step). A message needing more than one
   transaction (452) goes from SETTLE back to ENVELOPE. */
#define SMTP__SEND_STEPS(X) \
    X(SMTP__S_NEXT)      /* check the next message (unless its envelope went ahead) */ \
    X(SMTP__S_ENVELOPE)  /* MAIL, RCPT, DATA: pipelined into one write, or one at a time */ \
    X(SMTP__S_REPLIES)   /* the pipelined envelope's replies, in order */ \
    X(SMTP__S_BODY)      /* the composed message (DATA or BDAT chunks) */ \
    X(SMTP__S_END)       /* the end of data (or BDAT LAST); the next envelope may join it */ \
    X(SMTP__S_FINAL)     /* the reply to the end of data */ \
    X(SMTP__S_SETTLE)    /* each recipient's outcome; RSET; the carried-over recipients */ \
    X(SMTP__S_REOPEN)    /* a new connection (QUIT first after messages_per_connection), then NEXT or ENVELOPE */ \
    X(SMTP__S_DONE)
#define SMTP__STEP_ENUM(st) st,
enum { SMTP__SEND_STEPS(SMTP__STEP_ENUM) SMTP__NSTEPS };
#undef SMTP__STEP_ENUM

/* smtp_send and smtp_send_batch: the batch, the step it is at, and the
   message being sent (jobs[cur]) with the next one when its envelope
   went out ahead (jobs[!cur]; cfg.pipeline_messages). */
typedef struct smtp__send {
    int step;                           /* SMTP__S_* */
    const smtp_message *msgs;
    smtp_result *res;                   /* the caller's results, one per message */
    size_t n, i, nx;                    /* the batch; the message being sent; past the look-ahead */
    smtp_result last, verdict;          /* the last failure; the transaction's verdict at SETTLE */
    int cur, ahead, pipe, data_ok;      /* ahead: jobs[!cur]'s envelope went out; data_ok: 354 (or BDAT) */
    size_t g, ok, next_g;               /* recipients in the transaction, accepted ones; the look-ahead's */
    size_t mark_tried, mark_pos;        /* where the job's lists stood when the transaction began */
    int mark_list, reopened, re;        /* (for a reconnect); reopened: this message had one; re: REOPEN's kind */
    int checked, mail_ok, empty_data;   /* jobs[cur] passed its checks; MAIL got 250; DATA got 354 with nobody */
    int pc[SMTP__DEPTH];                /* resume points of the step and the calls under it (SMTP__BEGIN) */
    size_t k, lines, got;               /* a loop's place across stops; envelope lines put; LMTP replies good */
    long long dl;                       /* the envelope replies' deadline */
    smtp_result one;                    /* smtp_send's result */
    smtp__job jobs[2];
} smtp__send;

/* Work space by phase: AUTH (inside smtp_open) never overlaps a transaction. */
typedef union smtp__work {
    smtp__rcpt rcpt[SMTP__RCPT_MAX];    /* the recipients of one transaction */
    unsigned char sasl[SMTP__SASL_MAX + 400];   /* an AUTH payload, or a decoded challenge */
} smtp__work;

/* The session. Every field is private; its size is documented above. */
struct smtp_session {
    int state;                          /* SMTP__CLOSED .. (see smtp__check_state) */
    int op;                             /* the operation smtp_step drives (SMTP__OP_*) */
    smtp_result err;                    /* sticky: set once the session is over */
    unsigned long long msg_count;       /* messages begun, for Message-ID and boundaries */
    unsigned long long nonce;           /* random per session, for Message-ID and boundaries */
    smtp_config cfg;                    /* the caller's, defaults applied */
    smtp__caps caps;
    smtp__link link;
    smtp__sec sec;
    smtp__bdat bdat;
    smtp__conn conn;
    smtp__txn txn;
    smtp__send snd;
    int detail_code;                    /* the reply the detail is about (smtp_is_transient), or 0 */
    char detail[512];                   /* the last error's sentence */
    smtp__writer wr;
    smtp__reader rd;
    smtp__work work;
#ifndef SMTP_NO_TLS
    smtp__tls tls;
#endif
};

#ifdef __cplusplus
}
#endif
#endif /* SMTP_H_INCLUDED */

/* ======================================================================== */
/* >>implementation                                                         */
/* ======================================================================== */
#if defined(SMTP_IMPLEMENTATION) && !defined(SMTP__IMPLEMENTED)
#define SMTP__IMPLEMENTED

#if defined(SMTP_MALLOC) && !defined(SMTP_FREE)
#error "smtp.h: define SMTP_MALLOC and SMTP_FREE together"
#endif
#if defined(SMTP_FREE) && !defined(SMTP_MALLOC)
#error "smtp.h: define SMTP_MALLOC and SMTP_FREE together"
#endif
#ifndef SMTP_MALLOC
#include <stdlib.h>
#define SMTP_MALLOC(n) malloc(n)
#define SMTP_FREE(p) free(p)
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/types.h>
#if defined(_WIN32)
/* Windows (mingw-w64): Winsock 2, BCrypt for entropy, CryptoAPI for the
   ROOT store. Link -lws2_32 -lbcrypt -lcrypt32 (MSVC: the pragmas). */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <afunix.h>
#include <windows.h>
#include <wincrypt.h>
#include <bcrypt.h>
#include <process.h>
#if defined(_WIN32_WINNT) && _WIN32_WINNT < 0x0600
#error "smtp.h: Windows Vista or later is needed (WSAPoll, inet_pton): define _WIN32_WINNT as 0x0600 or more"
#endif
#ifdef _MSC_VER
#pragma comment(lib, "ws2_32")
#pragma comment(lib, "bcrypt")
#pragma comment(lib, "crypt32")
#endif
#else
#include <netdb.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#if defined(__linux__)
#include <sys/random.h>
#endif
#endif

#ifdef SMTP_TIME
#define SMTP__TIME() ((time_t)(SMTP_TIME()))
#else
#define SMTP__TIME() time(NULL)
#endif

#if !defined(_WIN32)   /* Winsock raises no signal on a closed connection */
#ifndef MSG_NOSIGNAL
#ifndef SO_NOSIGPIPE   /* a write to a closed connection would raise SIGPIPE and kill the program */
#error "smtp.h: neither MSG_NOSIGNAL nor SO_NOSIGPIPE is visible; define _POSIX_C_SOURCE 200809L (or no feature macros) before including smtp.h"
#endif
#define MSG_NOSIGNAL 0          /* macOS: SO_NOSIGPIPE on the socket instead */
#endif
#ifndef O_CLOEXEC
#define O_CLOEXEC 0             /* older POSIX levels; the descriptor is closed at once anyway */
#endif
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SMTP__PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SMTP__MAYBE_UNUSED __attribute__((unused))   /* seams for the tests and fuzzers */
#else
#define SMTP__PRINTF(f, a)
#define SMTP__MAYBE_UNUSED
#endif

/* The session's states, X(state, how a message names it): where the
   low-level calls may be made (smtp__check_state) and what they lead to. */
#define SMTP__SESSION_STATES(X) X(SMTP__CLOSED, "closed") X(SMTP__READY, "ready") X(SMTP__MAIL, "after MAIL") \
    X(SMTP__RCPT, "after RCPT") X(SMTP__DATA, "in DATA") X(SMTP__END, "awaiting the final reply") \
    X(SMTP__BDAT, "in BDAT")
#define SMTP__STATE_ENUM(st, name) st,
enum { SMTP__SESSION_STATES(SMTP__STATE_ENUM) SMTP__NSTATES };
#undef SMTP__STATE_ENUM
typedef long long smtp__ms;     /* absolute monotonic milliseconds; -1: no deadline */

/* What smtp_step drives. */
enum { SMTP__OP_NONE = 0, SMTP__OP_SEND, SMTP__OP_BATCH, SMTP__OP_OPEN, SMTP__OP_OPENED, SMTP__OP_QUIT };

/* Resumable functions. A stepped session (smtp_step; the blocking calls
   too, over a socket) returns SMTP_WANT_* from the middle of an operation
   when the socket would block, and the next step comes back to the same
   place. A function that may stop so gets pc, its resume point in the
   session (0: from the top), and hands pc + 1 to the resumable functions
   it calls. Its locals do not survive a stop: what must is kept in the
   session, and every local is declared before SMTP__BEGIN.
     SMTP__BEGIN(pc) ... SMTP__END(pc, r)   the body; r is returned
     SMTP__AWAIT(pc, r, call)   r = call; a want returns at once, and the
                                next step re-enters at this line (call is
                                made again: its arguments must not be
                                locals set inside the body)
     SMTP__EXIT(r, v)           r = v and leave
   pc goes back to 0 on every way out but a stop. Below them, the writer
   (smtp__flush), the reader (smtp__read_reply), smtp__exchange and the
   composer (smtp__cursor) keep their own place. Not stepped, nothing ever
   stops and pc stays 0. */
#define SMTP__WANTS(r) ((r) == SMTP_WANT_READ || (r) == SMTP_WANT_WRITE)
/* Inside the library only: AUTH must go on over a new connection (the
   server closed this one after refusing a token; the renewed token is
   kept). Whoever started the session makes the new one (smtp__reopen_step). */
#define SMTP__R_REOPEN ((smtp_result)4)
#define SMTP__BEGIN(pc) switch (*(pc)) { case 0:
#define SMTP__AWAIT(pc, r, call) do { *(pc) = __LINE__; if (0) { case __LINE__:; } \
        (r) = (call); if (SMTP__WANTS(r)) return (r); } while (0)
#define SMTP__EXIT(r, v) do { (r) = (v); goto smtp__out; } while (0)
#define SMTP__END(pc, r) goto smtp__out; } smtp__out: if (!SMTP__WANTS(r)) *(pc) = 0; return (r)

SMTP_API const char *smtp_result_str(smtp_result r)
{
    switch (r) {
#define SMTP__STR_ITEM(name, value, text) case name: return text;
    SMTP_RESULT_TABLE(SMTP__STR_ITEM)
#undef SMTP__STR_ITEM
    default: return "unknown result code";
    }
}

/* ------------------------------------------------------------------------ */
/* >>util  names of the enumerations, text helpers used by every section    */
/* ------------------------------------------------------------------------ */

/* Case-insensitive: the n bytes at t equal the NUL-terminated lit. */
static int smtp__ieq(const char *t, size_t n, const char *lit)
{
    size_t i;
    for (i = 0; i < n; i++) {
        int a = (unsigned char)t[i], b = (unsigned char)lit[i];
        if (!b) return 0;
        if (a >= 'a' && a <= 'z') a -= 32;
        if (b >= 'a' && b <= 'z') b -= 32;
        if (a != b) return 0;
    }
    return lit[n] == 0;
}

/* The names of the enumerations, each list once: X(value, the name in
   messages and on the wire, the name in config files and URLs). Config
   keys, EHLO's AUTH line, the AUTH command, errors and the trace all read
   them from here; names compare without regard to case. */
#define SMTP__SECURITY_NAMES(X) X(SMTP_SECURITY_AUTO, "AUTO", "auto") X(SMTP_SECURITY_NONE, "cleartext", "none") \
    X(SMTP_SECURITY_STARTTLS, "STARTTLS", "starttls") \
    X(SMTP_SECURITY_STARTTLS_IF_AVAILABLE, "STARTTLS if available", "starttls-if-available") \
    X(SMTP_SECURITY_IMPLICIT, "implicit TLS", "implicit")
#define SMTP__PROXY_NAMES(X) X(SMTP_PROXY_SOCKS4, "SOCKS4", "socks4") X(SMTP_PROXY_SOCKS4A, "SOCKS4a", "socks4a") \
    X(SMTP_PROXY_SOCKS5, "SOCKS5", "socks5") X(SMTP_PROXY_HTTP, "HTTP", "http")
#define SMTP__TLS_NAMES(X) X(SMTP_TLS_1_0, "TLSv1.0", "1.0") X(SMTP_TLS_1_1, "TLSv1.1", "1.1") \
    X(SMTP_TLS_1_2, "TLSv1.2", "1.2") X(SMTP_TLS_1_3, "TLSv1.3", "1.3")
#define SMTP__AUTH_NAMES(X) X(SMTP_AUTH_PLAIN, "PLAIN", "plain") X(SMTP_AUTH_LOGIN, "LOGIN", "login") \
    X(SMTP_AUTH_CRAM_MD5, "CRAM-MD5", "cram-md5") X(SMTP_AUTH_XOAUTH2, "XOAUTH2", "xoauth2") \
    X(SMTP_AUTH_OAUTHBEARER, "OAUTHBEARER", "oauthbearer")
#define SMTP__NAME_BAR(v, wire, key) "|" key   /* &("|a|b|c")[1] is "a|b|c": what a key takes */

typedef struct smtp__name { unsigned value; const char *wire, *key; } smtp__name;
#define SMTP__NAME_ITEM(v, wire, key) { (unsigned)(v), wire, key },
static const smtp__name smtp__security_names[] = { SMTP__SECURITY_NAMES(SMTP__NAME_ITEM) { 0, NULL, NULL } };
static const smtp__name smtp__proxy_names[] = { SMTP__PROXY_NAMES(SMTP__NAME_ITEM) { 0, NULL, NULL } };
static const smtp__name smtp__tls_names[] = { SMTP__TLS_NAMES(SMTP__NAME_ITEM) { 0, NULL, NULL } };
static const smtp__name smtp__auth_names[] = { SMTP__AUTH_NAMES(SMTP__NAME_ITEM) { 0, NULL, NULL } };
#undef SMTP__NAME_ITEM

/* The entry whose config name (key 1) or wire name (key 0) is the n
   bytes at p, or NULL. */
static const smtp__name *smtp__name_find(const smtp__name *t, int key, const char *p, size_t n)
{
    for (; t->wire; t++)
        if (smtp__ieq(p, n, key ? t->key : t->wire)) return t;
    return NULL;
}

/* The wire name of value v, or "?". */
static const char *smtp__name_of(const smtp__name *t, unsigned v)
{
    for (; t->wire; t++)
        if (t->value == v) return t->wire;
    return "?";
}

/* ------------------------------------------------------------------------ */
/* >>codec  base64, quoted-printable, RFC 2047, punycode/IDNA, xtext (pure) */
/* ------------------------------------------------------------------------ */

/* Base64 digit value (RFC 4648), -1 for anything else. */
static int smtp__b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Base64 (RFC 4648) of in[0..n) into out (4 * ((n + 2) / 3) bytes, no NUL). */
static size_t smtp__b64(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18]; out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63]; out[o++] = tab[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0u);
        out[o++] = tab[v >> 18]; out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    return o;
}

/* Longest prefix of p[0..n), at most max bytes, that does not split a
   UTF-8 sequence (RFC 2047 6.3: each encoded word holds whole characters).
   Invalid UTF-8 is cut anywhere: the bytes still come back unchanged. */
static size_t smtp__utf8_cut(const unsigned char *p, size_t n, size_t max)
{
    size_t k;
    if (n <= max) return n;
    k = max;
    while (k > 0 && max - k < 3 && (p[k] & 0xC0) == 0x80) k--;
    return (k == 0 || (p[k] & 0xC0) == 0x80) ? max : k;
}

static int smtp__is_ascii_text(const char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x7F || (c < 0x20 && c != '\t')) return 0;
    }
    return 1;
}

/* Base64 decoding (RFC 4648) of t[0..n) into out (room for 3 * n / 4).
   Strict: only the alphabet, padding at the end. Returns the length, or
   -1 when malformed. */
static long smtp__unb64(const char *t, size_t n, unsigned char *out)
{
    size_t i, o = 0;
    unsigned acc = 0;
    int bits = 0, pad = 0;
    if (n % 4) return -1;
    for (i = 0; i < n; i++) {
        int v;
        if (t[i] == '=') { if (++pad > 2 || i < n - 2) return -1; continue; }
        if (pad || (v = smtp__b64val((unsigned char)t[i])) < 0) return -1;
        acc = (acc << 6 | (unsigned)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) { bits -= 8; out[o++] = (unsigned char)(acc >> bits); }
    }
    return (long)o;
}


/* ---- internationalized addresses: SMTPUTF8 (RFC 6531) or A-labels ------ */

/* The next code point of UTF-8 p[0..n) at *i; -1 when malformed. */
static long smtp__utf8_next(const unsigned char *p, size_t n, size_t *i)
{
    unsigned c = p[*i];
    int k, len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    unsigned long v;
    if (!len || *i + (size_t)len > n) return -1;
    v = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (k = 1; k < len; k++) {
        if ((p[*i + (size_t)k] & 0xC0) != 0x80) return -1;
        v = v << 6 | (p[*i + (size_t)k] & 0x3F);
    }
    if ((len == 2 && v < 0x80) || (len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
        (v >= 0xD800 && v <= 0xDFFF))
        return -1;
    *i += (size_t)len;
    return (long)v;
}

/* Without the UTS 46 tables a single header cannot map or normalise a
   label; it takes only labels that are already lower case and composed:
   no ASCII capitals, no combining marks, none of the capital letters of
   the common alphabets (Latin-1, Latin Extended-A, Greek, Cyrillic). */
static int smtp__label_ok(const long *cp, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        long c = cp[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 0x300 && c <= 0x36F) || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
            (c >= 0x100 && c <= 0x17F && c % 2 == 0 && c != 0x138) || (c >= 0x391 && c <= 0x3AB) ||
            (c >= 0x400 && c <= 0x42F) || c == 0x1E9E)
            return 0;
    }
    return 1;
}

/* RFC 3492 punycode of cp[0..n) after "xn--" into out (NUL-terminated);
   its length, or 0 when it does not fit cap or passes 63 octets (RFC 5890
   2.3.2.1: an A-label is a DNS label). Every write checks room first. */
static size_t smtp__punycode(const long *cp, size_t n, char *out, size_t cap)
{
    unsigned long nn = 128, delta = 0, bias = 72, h, b = 0, m, q, k, t;
    size_t o = 4, j;
    if (cap < 6) return 0;
    memcpy(out, "xn--", 4);
    for (j = 0; j < n; j++) if (cp[j] < 128) { if (o + 1 >= cap) return 0; out[o++] = (char)cp[j]; b++; }
    h = b;
    if (b > 0) { if (o + 1 >= cap) return 0; out[o++] = '-'; }
    while (h < n) {
        for (m = (unsigned long)-1, j = 0; j < n; j++) if ((unsigned long)cp[j] >= nn && (unsigned long)cp[j] < m) m = (unsigned long)cp[j];
        delta += (m - nn) * (h + 1);
        nn = m;
        for (j = 0; j < n; j++) {
            if ((unsigned long)cp[j] < nn) delta++;
            if ((unsigned long)cp[j] == nn) {
                for (q = delta, k = 36;; k += 36) {
                    t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
                    if (q < t) break;
                    if (o + 1 >= cap) return 0;
                    out[o++] = "abcdefghijklmnopqrstuvwxyz0123456789"[t + (q - t) % (36 - t)];
                    q = (q - t) / (36 - t);
                }
                if (o + 1 >= cap) return 0;
                out[o++] = "abcdefghijklmnopqrstuvwxyz0123456789"[q];
                /* adapt (RFC 3492 6.1) */
                delta = h == b ? delta / 700 : delta / 2;
                delta += delta / (h + 1);
                for (k = 0; delta > 455; k += 36) delta /= 35;
                bias = k + 36 * delta / (delta + 38);
                delta = 0;
                h++;
            }
        }
        delta++; nn++;
    }
    out[o] = 0;
    return o > 63 ? 0 : o;
}

/* The address with its domain as A-labels (RFC 5890), for servers without
   SMTPUTF8. NULL when it converts; else what is wrong, and the label in bad. */
static const char *smtp__idna_addr(const char *a, size_t n, char *out, size_t cap, char *bad, size_t bn)
{
    const char *at = NULL, *p;
    size_t o, i;
    for (p = a; p < a + n; p++) if (*p == '@') at = p;
    if (!at) return "has no domain";
    for (p = a; p < at; p++)
        if ((unsigned char)*p >= 0x80) return "has a non-ASCII local part and the server does not offer SMTPUTF8";
    o = (size_t)(at - a) + 1;
    if (o >= cap) return "is too long";
    memcpy(out, a, o);
    for (p = at + 1; p <= a + n;) {
        const char *e = p;
        long cp[64];
        size_t ncp = 0, ascii = 1;
        while (e < a + n && *e != '.') e++;
        for (i = 0; p + i < e;) {
            size_t pos = i;
            long c = smtp__utf8_next((const unsigned char *)p, (size_t)(e - p), &pos);
            if (c < 0 || ncp == 64) return "has a domain that is not UTF-8 or a label over 63 characters";
            if (c >= 128) ascii = 0;
            cp[ncp++] = c;
            i = pos;
        }
        if (ascii) {
            if (o + (size_t)(e - p) + 1 >= cap) return "is too long";
            memcpy(out + o, p, (size_t)(e - p)); o += (size_t)(e - p);
        } else {
            size_t k;
            if (!smtp__label_ok(cp, ncp)) {
                snprintf(bad, bn, "%.*s", (int)(e - p), p);
                return "has a domain label that is not lower-case NFC (no UTS 46 mapping here): write it so, or use "
                       "a server with SMTPUTF8";
            }
            if (!(k = smtp__punycode(cp, ncp, out + o, cap - o))) return "is too long (or a label's A-label passes 63 octets)";
            o += k;
        }
        if (o + 2 > cap) return "is too long";
        if (e < a + n) out[o++] = '.';
        p = e + 1;
    }
    out[o] = 0;
    return NULL;
}

static int smtp__is_ascii(const char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) if ((unsigned char)p[i] >= 0x80) return 0;
    return 1;
}

/* xtext (RFC 3461 4): '+', '=' and bytes outside 33..126 as +XX. */
static size_t smtp__xtext(const char *p, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, o = 0;
    for (i = 0; i < n && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 33 || c > 126 || c == '+' || c == '=') { out[o++] = '+'; out[o++] = hex[c >> 4]; out[o++] = hex[c & 15]; }
        else out[o++] = (char)c;
    }
    out[o] = 0;
    return o;
}

/* Quoted-printable (RFC 2045 6.7) of text[*i..n) into out[0..cap), cap
   at least 8: lines of at most 76 columns, '=' and bytes outside printable
   ASCII as =XX, a space or tab before a line end as =20 / =09; line ends
   (CRLF, LF, CR) stay line ends. *col carries the column from one call to
   the next; *i advances past what was encoded. Returns the bytes written. */
static size_t smtp__qp_encode(const char *text, size_t n, size_t *i, size_t *col, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *i < n && o + 8 <= cap; (*i)++) {
        unsigned char c = (unsigned char)text[*i];
        char tok[3];
        size_t tl = 1;
        if (c == '\r' || c == '\n') {
            if (c == '\r' && *i + 1 < n && text[*i + 1] == '\n') (*i)++;
            out[o++] = '\r'; out[o++] = '\n';
            *col = 0;
            continue;
        }
        if ((c >= 33 && c <= 126 && c != '=') ||
            ((c == ' ' || c == '\t') && *i + 1 < n && text[*i + 1] != '\r' && text[*i + 1] != '\n')) {
            tok[0] = (char)c;
        } else {
            tok[0] = '='; tok[1] = hex[c >> 4]; tok[2] = hex[c & 15]; tl = 3;
        }
        if (*col + tl > 75) { out[o++] = '='; out[o++] = '\r'; out[o++] = '\n'; *col = 0; }
        memcpy(out + o, tok, tl);
        o += tl; *col += tl;
    }
    return o;
}

/* An RFC 2047 "B" encoded word of UTF-8 p[0..n), cut at a character
   boundary after at most 39 bytes of input (72 columns with the charset,
   so a first line "Subject: " word stays under 78): into w (at least 75
   bytes); *used is the input taken. Returns the word's length. */
static size_t smtp__encoded_word(const char *p, size_t n, char *w, size_t *used)
{
    size_t k = smtp__utf8_cut((const unsigned char *)p, n, 39), o;
    memcpy(w, "=?UTF-8?B?", 10);
    o = 10 + smtp__b64((const unsigned char *)p, k, w + 10);
    w[o++] = '?'; w[o++] = '=';
    *used = k;
    return o;
}

/* ------------------------------------------------------------------------ */
/* >>platform  sockets, getaddrinfo, non-blocking connect, bind, poll        */
/* ------------------------------------------------------------------------ */

/* The calls the rest of the file makes to the system, given once for
   Windows (Winsock 2) and once for POSIX, with the same names: one block
   per platform, as miniaudio keeps its backends apart, and no #ifdef in
   the callers:
     smtp__net_up/down()    WSAStartup/WSACleanup around each socket's life
                            (Winsock counts them); nothing on POSIX
     smtp__sock_errno()     errno, or WSAGetLastError(); SMTP__EINTR,
                            SMTP__EAGAIN, SMTP__EWOULDBLOCK, SMTP__EPIPE,
                            SMTP__ECONNRESET are its values
     smtp__sock_open/close  a socket, non-blocking, not inherited
     smtp__sock_opt/err     setsockopt(int) and getsockopt(SO_ERROR)
     smtp__sock_connect     0 connected, -1 in progress, or an error code
     smtp__sock_connect_done  is the connect in progress over, within ms?
                            (then, when asked, 0 or why it failed)
     smtp__sock_recv/send   recv, send (no SIGPIPE on POSIX)
     smtp__sock_poll        poll (WSAPoll) on one socket
     smtp__clock_ms, smtp__sleep_ms   monotonic milliseconds, a pause
     smtp__strerror, smtp__sys_entropy, smtp__hostname,
     smtp__file_size, smtp__file_mode */

static int smtp__left(smtp__ms dl);

#if defined(_WIN32)
/* ---- Windows: Winsock 2 -------------------------------------------------- */
#define SMTP__EINTR WSAEINTR
#define SMTP__EAGAIN WSAEWOULDBLOCK
#define SMTP__EWOULDBLOCK WSAEWOULDBLOCK
#define SMTP__EPIPE WSAECONNABORTED   /* what send gives when the peer has gone (POSIX: EPIPE) */
#define SMTP__ECONNRESET WSAECONNRESET
#define SMTP__ENOUNIX WSAEAFNOSUPPORT   /* no AF_UNIX: before Windows 10 1803, and wine 8 */

/* Winsock needs WSAStartup before its first call and WSACleanup after the
   last; both are reference-counted by Winsock itself, so one pair per
   socket (taken in smtp__dial_begin, given back in smtp__tcp_close)
   changes nothing for a program that uses Winsock too. */
static int smtp__net_up(void)
{
    WSADATA w;
    return WSAStartup(MAKEWORD(2, 2), &w);
}

static void smtp__net_down(void) { (void)WSACleanup(); }

static int smtp__sock_errno(void) { return WSAGetLastError(); }

/* Winsock codes (10000 and up) by FormatMessage, C library ones (a file)
   by strerror. */
static const char *smtp__strerror(int e, char *buf, size_t n)
{
    if (e >= WSABASEERR) {
        DWORD k = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, (DWORD)e, 0,
                                 buf, (DWORD)(n > 0xFFFF ? 0xFFFF : n), NULL);
        while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == '\r' || buf[k - 1] == ' ' || buf[k - 1] == '.'))
            buf[--k] = 0;
        if (k == 0) snprintf(buf, n, "Winsock error %d", e);
    } else {
        snprintf(buf, n, "%s", strerror(e));   /* the CRT's buffer is per thread */
    }
    return buf;
}

static void smtp__set_nonblock(smtp_socket fd)
{
    u_long one = 1;
    (void)ioctlsocket((SOCKET)fd, (long)FIONBIO, &one);
    (void)SetHandleInformation((HANDLE)fd, HANDLE_FLAG_INHERIT, 0);   /* as FD_CLOEXEC */
}

static int smtp__sock_open(int family, int type, int proto, smtp_socket *out)
{
    SOCKET k = socket(family, type, proto);
    if (k == INVALID_SOCKET) return WSAGetLastError();
    *out = (smtp_socket)k;
    smtp__set_nonblock(*out);
    return 0;
}

static void smtp__sock_close(smtp_socket fd) { (void)closesocket((SOCKET)fd); }

static void smtp__sock_opt(smtp_socket fd, int level, int name, int v)
{
    (void)setsockopt((SOCKET)fd, level, name, (const char *)&v, (int)sizeof v);
}

static int smtp__sock_err(smtp_socket fd)
{
    int e = 0, el = (int)sizeof e;
    if (getsockopt((SOCKET)fd, SOL_SOCKET, SO_ERROR, (char *)&e, &el) != 0) e = WSAGetLastError();
    return e;
}

static int smtp__sock_connect(smtp_socket fd, const struct sockaddr *a, socklen_t al)
{
    int e;
    if (connect((SOCKET)fd, a, al) == 0) return 0;
    e = WSAGetLastError();
    return e == WSAEWOULDBLOCK || e == WSAEINPROGRESS ? -1 : e;
}

/* select(), not WSAPoll: WSAPoll never reports a refused connect on
   Windows before 10 2004 (curl avoids it for the same reason); a failed
   connect shows in the exception set. */
static int smtp__sock_connect_done(smtp_socket fd, int ms, int *err)
{
    fd_set w, x;
    struct timeval tv;
    int r;
    FD_ZERO(&w); FD_ZERO(&x);
    FD_SET((SOCKET)fd, &w); FD_SET((SOCKET)fd, &x);
    tv.tv_sec = ms / 1000; tv.tv_usec = (ms % 1000) * 1000;
    r = select(0, NULL, &w, &x, ms < 0 ? NULL : &tv);
    if (r > 0 && err) {
        int e = smtp__sock_err(fd);
        *err = e ? e : FD_ISSET((SOCKET)fd, &x) ? WSAECONNREFUSED : 0;
    }
    return r > 0 ? 1 : r;
}

static ssize_t smtp__sock_recv(smtp_socket fd, void *buf, size_t len)
{
    return recv((SOCKET)fd, (char *)buf, len > INT_MAX ? INT_MAX : (int)len, 0);
}

static ssize_t smtp__sock_send(smtp_socket fd, const void *buf, size_t len)
{
    return send((SOCKET)fd, (const char *)buf, len > INT_MAX ? INT_MAX : (int)len, 0);
}

static int smtp__sock_poll(smtp_socket fd, short ev, int ms)
{
    WSAPOLLFD p;
    p.fd = (SOCKET)fd; p.events = ev; p.revents = 0;
    return WSAPoll(&p, 1, ms);
}

/* QueryPerformanceCounter: monotonic, never adjusted. */
#ifndef SMTP_CLOCK_MS
static smtp__ms smtp__clock_ms(void)
{
    LARGE_INTEGER c, f;
    QueryPerformanceCounter(&c);
    QueryPerformanceFrequency(&f);
    return (smtp__ms)(c.QuadPart / f.QuadPart) * 1000 + (smtp__ms)(c.QuadPart % f.QuadPart) * 1000 / f.QuadPart;
}
#endif

static void smtp__sleep_ms(int ms) { Sleep((DWORD)ms); }

#ifndef SMTP_ENTROPY
static size_t smtp__sys_entropy(unsigned char *out, size_t n)
{
    size_t got = 0;
    while (got < n) {   /* ULONG at a time */
        ULONG k = n - got > 0x10000000 ? 0x10000000 : (ULONG)(n - got);
        if (BCryptGenRandom(NULL, out + got, k, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) break;
        got += k;
    }
    return got;
}
#endif

/* gethostname is a Winsock call: its own reference, for sessions over
   cfg.transport where no socket holds one. */
static int smtp__hostname(char *out, size_t n)
{
    int r;
    if (smtp__net_up() != 0) return -1;
    r = gethostname(out, n > INT_MAX ? INT_MAX : (int)n);
    smtp__net_down();
    return r;
}

#ifndef SMTP_NO_STDIO
static int smtp__file_size(const char *path, unsigned long long *size)
{
    struct _stati64 sb;
    if (_stati64(path, &sb) != 0) return -1;
    *size = (unsigned long long)sb.st_size;
    return 0;
}

/* No Unix permission bits on Windows (stat makes them up from the
   read-only flag): not checked, as msmtp does not check them there. */
static int smtp__file_mode(const char *path, unsigned *mode)
{
    (void)path; (void)mode;
    return -1;
}
#endif

#else
/* ---- POSIX ------------------------------------------------------------- */
#define SMTP__EINTR EINTR
#define SMTP__EAGAIN EAGAIN
#define SMTP__EWOULDBLOCK EWOULDBLOCK
#define SMTP__EPIPE EPIPE
#define SMTP__ECONNRESET ECONNRESET
#define SMTP__ENOUNIX (-1)              /* never: POSIX has AF_UNIX */

static int smtp__net_up(void) { return 0; }
static void smtp__net_down(void) {}
static int smtp__sock_errno(void) { return errno; }

/* strerror_r has two incompatible forms; this wraps both. */
static const char *smtp__strerror(int e, char *buf, size_t n)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(e, buf, n);
#else
    if (strerror_r(e, buf, n) != 0) snprintf(buf, n, "error %d", e);
    return buf;
#endif
}

static void smtp__set_nonblock(smtp_socket fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) (void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
#ifdef SO_NOSIGPIPE
    { int one = 1; (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one); }
#endif
}

static int smtp__sock_open(int family, int type, int proto, smtp_socket *out)
{
    int fd = socket(family, type, proto);
    if (fd < 0) return errno;
    *out = fd;
    smtp__set_nonblock(fd);
    return 0;
}

static void smtp__sock_close(smtp_socket fd) { close(fd); }

static void smtp__sock_opt(smtp_socket fd, int level, int name, int v)
{
    (void)setsockopt(fd, level, name, &v, sizeof v);
}

static int smtp__sock_err(smtp_socket fd)
{
    int e = 0;
    socklen_t el = sizeof e;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0) e = errno;
    return e;
}

static int smtp__sock_connect(smtp_socket fd, const struct sockaddr *a, socklen_t al)
{
    int e;
    if (connect(fd, a, al) == 0) return 0;
    e = errno;
    return e == EINPROGRESS || e == EINTR ? -1 : e;
}

static int smtp__sock_poll(smtp_socket fd, short ev, int ms);
/* The connect is over (connected or refused) when the socket is writable;
   SO_ERROR says which, and reading it clears it: only when err is given. */
static int smtp__sock_connect_done(smtp_socket fd, int ms, int *err)
{
    int r = smtp__sock_poll(fd, POLLOUT, ms);
    if (r > 0 && err) *err = smtp__sock_err(fd);
    return r > 0 ? 1 : r;
}

static ssize_t smtp__sock_recv(smtp_socket fd, void *buf, size_t len) { return recv(fd, buf, len, 0); }

static ssize_t smtp__sock_send(smtp_socket fd, const void *buf, size_t len)
{
    return send(fd, buf, len, MSG_NOSIGNAL);
}

static int smtp__sock_poll(smtp_socket fd, short ev, int ms)
{
    struct pollfd p;
    p.fd = fd; p.events = ev; p.revents = 0;
    return poll(&p, 1, ms);
}

#ifndef SMTP_CLOCK_MS
static smtp__ms smtp__clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (smtp__ms)ts.tv_sec * 1000 + (smtp__ms)(ts.tv_nsec / 1000000);
}
#endif

static void smtp__sleep_ms(int ms) { (void)poll(NULL, 0, ms); }

/* getrandom, else /dev/urandom. */
#ifndef SMTP_ENTROPY
static size_t smtp__sys_entropy(unsigned char *out, size_t n)
{
    size_t got = 0;
#if defined(__linux__)
    while (got < n) {
        ssize_t k = getrandom(out + got, n - got, 0);
        if (k <= 0) break;
        got += (size_t)k;
    }
#endif
    if (got < n) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t k = read(fd, out + got, n - got);
            if (k > 0) got += (size_t)k;
            close(fd);
        }
    }
    return got;
}
#endif

static int smtp__hostname(char *out, size_t n) { return gethostname(out, n); }

#ifndef SMTP_NO_STDIO
static int smtp__file_size(const char *path, unsigned long long *size)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return -1;
    *size = (unsigned long long)sb.st_size;
    return 0;
}

/* The permission bits of a file (a config file holding a password). */
static int smtp__file_mode(const char *path, unsigned *mode)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return -1;
    *mode = (unsigned)sb.st_mode;
    return 0;
}
#endif
#endif

/* Random bytes: SMTP_ENTROPY(buf, len) when the program defines it (a
   system without getrandom, /dev/urandom or BCrypt), else the system's. */
static void smtp__entropy(unsigned char *out, size_t n)
{
#ifdef SMTP_ENTROPY
    SMTP_ENTROPY(out, n);
#else
    (void)smtp__sys_entropy(out, n);
#endif
}

/* ------------------------------------------------------------------------ */
/* >>deadline  monotonic clock; every wait takes "time left"                */
/* ------------------------------------------------------------------------ */

static smtp__ms smtp__now(void)
{
#ifdef SMTP_CLOCK_MS   /* the program's monotonic clock (a device without clock_gettime; the fuzzers) */
    return (smtp__ms)(SMTP_CLOCK_MS());
#else
    return smtp__clock_ms();
#endif
}

static smtp__ms smtp__deadline(int ms) { return ms < 0 ? -1 : smtp__now() + ms; }

/* Milliseconds left before dl, for poll(): -1 without a deadline. */
static int smtp__left(smtp__ms dl)
{
    smtp__ms left;
    if (dl < 0) return -1;
    left = dl - smtp__now();
    if (left <= 0) return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

/* Waits ms milliseconds, no I/O (cfg.messages_per_second). */
static void smtp__pause(int ms)
{
    smtp__ms dl = smtp__deadline(ms);
    int left;
    while ((left = smtp__left(dl)) > 0) smtp__sleep_ms(left);
}

/* Waits until fd is ready for ev, or dl passes. Errors and hang-ups count
   as ready: the call that follows reports them. */
static int smtp__poll(smtp_socket fd, short ev, smtp__ms dl)
{
    for (;;) {
        int t = smtp__left(dl), r;
        r = smtp__sock_poll(fd, ev, t);   /* t == 0 (the deadline is now): only "is it ready?" */
        if (r == 0 && t == 0) return SMTP_ERR_TIMEOUT;
        if (r > 0) return SMTP_OK;
        if (r < 0 && smtp__sock_errno() != SMTP__EINTR) return SMTP_ERR_IO;
    }
}

/* Waits until the connect under way on fd is over, or dl passes: SMTP_OK
   (then *err, when err is given: 0 connected, or why it failed),
   SMTP_ERR_TIMEOUT or SMTP_ERR_IO. dl now: only "is it over?". */
static int smtp__poll_connect(smtp_socket fd, smtp__ms dl, int *err)
{
    for (;;) {
        int t = smtp__left(dl), r = smtp__sock_connect_done(fd, t, err);
        if (r == 0 && t == 0) return SMTP_ERR_TIMEOUT;
        if (r > 0) return SMTP_OK;
        if (r < 0 && smtp__sock_errno() != SMTP__EINTR) return SMTP_ERR_IO;
    }
}

/* ------------------------------------------------------------------------ */
/* >>transport  the io slot: {read, write, close}; TCP is the first layer   */
/* ------------------------------------------------------------------------ */

static int smtp__errno_result(int e)
{
    return (e == SMTP__EPIPE || e == SMTP__ECONNRESET) ? SMTP_ERR_CLOSED : SMTP_ERR_IO;
}

/* A stepped session's layer found nothing to do without waiting: it
   says which way (smtp_step returns that), or the deadline has passed. */
static int smtp__would_block(smtp_session *s, smtp_result want, smtp__ms dl)
{
    if (smtp__left(dl) == 0) return SMTP_ERR_TIMEOUT;
    s->link.want = want;
    s->link.dl = dl;
    return 0;
}

/* Reads what is there (at most len): > 0 bytes, 0 (stepped: it would
   block), or an error. Not stepped, it waits until dl. */
static int smtp__tcp_read(smtp_session *s, void *buf, size_t len, smtp__ms dl)
{
    if (len > INT_MAX) len = INT_MAX;
    /* a reply is read right after its command went out: wait first, then
       read (trying recv first came back empty once per message). Stepped,
       that wait is the caller's: say so before trying (not for a read
       that must not wait, dl now: it looks at what is there) */
    if (s->link.nb && s->link.wrote && smtp__left(dl) != 0) {
        s->link.wrote = 0;
        return smtp__would_block(s, SMTP_WANT_READ, dl);
    }
    for (;;) {
        ssize_t n;
        if (!s->link.nb) {
            int r = smtp__poll(s->link.fd, POLLIN, dl);
            if (r) return r;
        }
        n = smtp__sock_recv(s->link.fd, buf, len);
        if (n > 0) return (int)n;
        if (n == 0) return SMTP_ERR_CLOSED;
        if (smtp__sock_errno() == SMTP__EINTR) continue;
        if (smtp__sock_errno() == SMTP__EAGAIN || smtp__sock_errno() == SMTP__EWOULDBLOCK) {
            if (s->link.nb) return smtp__would_block(s, SMTP_WANT_READ, dl);
            continue;
        }
        s->link.sys_errno = smtp__sock_errno();
        return smtp__errno_result(smtp__sock_errno());
    }
}

/* Writes buf: all of it before dl, or (stepped) what the socket takes
   now; the count, 0 (stepped: none could go without waiting), or an error. */
static int smtp__tcp_write(smtp_session *s, const void *buf, size_t len, smtp__ms dl)
{
    const char *p = (const char *)buf;
    size_t done = 0;
    if (len > INT_MAX) len = INT_MAX;
    while (done < len) {
        ssize_t n = smtp__sock_send(s->link.fd, p + done, len - done);
        if (n > 0) { done += (size_t)n; s->link.wrote = 1; continue; }
        if (n < 0 && smtp__sock_errno() == SMTP__EINTR) continue;
        if (n < 0 && (smtp__sock_errno() == SMTP__EAGAIN || smtp__sock_errno() == SMTP__EWOULDBLOCK)) {
            int r;
            if (s->link.nb) return done ? (int)done : smtp__would_block(s, SMTP_WANT_WRITE, dl);
            if ((r = smtp__poll(s->link.fd, POLLOUT, dl)) != SMTP_OK) return r;
            continue;
        }
        s->link.sys_errno = n < 0 ? smtp__sock_errno() : SMTP__EPIPE;
        return smtp__errno_result(s->link.sys_errno);
    }
    return (int)done;
}

/* Closes the socket and gives back the Winsock reference it held. */
static void smtp__tcp_close(smtp_session *s)
{
    if (s->link.fd != SMTP_INVALID_SOCKET) { smtp__sock_close(s->link.fd); smtp__net_down(); }
    s->link.fd = SMTP_INVALID_SOCKET;
}

/* cfg.transport under the session: the caller's read, write and close
   behind the same calls as TCP. What it returns is held to its contract
   (a count beyond what was asked is an I/O error, not trusted). */
static int smtp__user_result(int n)
{
    return n == SMTP_ERR_TIMEOUT || n == SMTP_ERR_CLOSED ? n : SMTP_ERR_IO;
}

static int smtp__user_read(smtp_session *s, void *buf, size_t len, smtp__ms dl)
{
    const smtp_transport *t = s->cfg.transport;
    int n;
    if (len > INT_MAX) len = INT_MAX;
    n = t->read(t->user, buf, len, s->link.nb ? 0 : smtp__left(dl));
    if (n == SMTP_ERR_TIMEOUT && s->link.nb) return smtp__would_block(s, SMTP_WANT_READ, dl);
    if (n == 0) return SMTP_ERR_CLOSED;
    if (n < 0) return smtp__user_result(n);
    return (size_t)n <= len ? n : SMTP_ERR_IO;
}

static int smtp__user_write(smtp_session *s, const void *buf, size_t len, smtp__ms dl)
{
    const smtp_transport *t = s->cfg.transport;
    const char *p = (const char *)buf;
    size_t done = 0;
    if (len > INT_MAX) len = INT_MAX;
    while (done < len) {
        int n = t->write(t->user, p + done, len - done, s->link.nb ? 0 : smtp__left(dl));
        if (n == SMTP_ERR_TIMEOUT && s->link.nb) return done ? (int)done : smtp__would_block(s, SMTP_WANT_WRITE, dl);
        if (n == 0) return SMTP_ERR_CLOSED;
        if (n < 0) return smtp__user_result(n);
        if ((size_t)n > len - done) return SMTP_ERR_IO;
        done += (size_t)n;
    }
    return (int)done;
}

static void smtp__user_close(smtp_session *s)
{
    const smtp_transport *t = s->cfg.transport;
    if (t->close) t->close(t->user);
}

/* Bytes from outside made harmless for a terminal or a log: printable
   ASCII and well-formed UTF-8 (from U+00A0 on) pass; control bytes (ESC,
   BEL, CR, ...), DEL, the C1 controls and bytes that are not UTF-8 become
   \xHH. Writes at most n-1 bytes and a NUL; returns the length. */
static size_t smtp__visible(char *out, size_t n, const unsigned char *p, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, o = 0;
    if (!n) return 0;
    while (i < len) {
        unsigned c = p[i];
        size_t k = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        unsigned long cp = k == 2 ? c & 0x1F : k == 3 ? c & 0x0F : c & 0x07;
        size_t j;
        int ok = k == 1 ? c >= 0x20 && c != 0x7F : k > 1 && i + k <= len;
        for (j = 1; ok && k > 1 && j < k; j++) {
            if ((p[i + j] & 0xC0) != 0x80) ok = 0;
            cp = cp << 6 | (p[i + j] & 0x3F);
        }
        if (ok && k > 1 && (cp < 0xA0 || (k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
                            (cp >= 0xD800 && cp <= 0xDFFF)))
            ok = 0;
        if (!ok) k = 1;
        if (o + (ok ? k : 4) >= n) break;
        if (ok) { memcpy(out + o, p + i, k); o += k; }
        else { out[o++] = '\\'; out[o++] = 'x'; out[o++] = hex[c >> 4]; out[o++] = hex[c & 15]; }
        i += k;
    }
    out[o] = 0;
    return o;
}

/* Formats into s->detail; returns r. The sentence carries server text and
   names from outside: it goes through smtp__visible. */
static smtp_result smtp__fail(smtp_session *s, smtp_result r, const char *fmt, ...) SMTP__PRINTF(3, 4);
static smtp_result smtp__fail(smtp_session *s, smtp_result r, const char *fmt, ...)
{
    char raw[sizeof s->detail];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    smtp__visible(s->detail, sizeof s->detail, (const unsigned char *)raw,
                  (size_t)n < sizeof raw ? (size_t)n : sizeof raw - 1);
    s->detail_code = s->rd.reply.code;
    return r;
}


static void smtp__trace(smtp_session *s, smtp_trace_dir dir, const char *p, size_t n)
{
    if (s->cfg.trace) s->cfg.trace(s->cfg.trace_user, dir, p, n);
}

static void smtp__note(smtp_session *s, const char *text) { smtp__trace(s, SMTP_TRACE_INFO, text, strlen(text)); }

/* A transport-level failure: the session is over. Later calls return r. */
static smtp_result smtp__break(smtp_session *s, smtp_result r)
{
    s->err = r;
    s->rd.active = s->rd.xphase = s->wr.busy = 0;   /* nothing is under way any more */
    if (s->link.io.close) s->link.io.close(s);
    s->link.io.close = NULL;
    return r;
}

/* One address: a non-blocking socket, bound to la when given, its connect
   begun, in *out. 0 connected, 1 under way, -1 failed (*err says why: try
   the next), -3 the bind failed (the session's error is set). */
static int smtp__sock_start(smtp_session *s, const struct addrinfo *ai, const struct addrinfo *la, int *err,
                            smtp_socket *out)
{
    char ebuf[128];
    smtp_socket fd = SMTP_INVALID_SOCKET;
    int e = smtp__sock_open(ai->ai_family, ai->ai_socktype, ai->ai_protocol, &fd);
    if (e) { *err = e; return -1; }
    /* a fixed local port may still be in TIME_WAIT from the last run */
    if (la && s->cfg.local_port) smtp__sock_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (la && bind(fd, la->ai_addr, (socklen_t)la->ai_addrlen) != 0) {
        e = smtp__sock_errno();
        smtp__sock_close(fd);
        (void)smtp__fail(s, SMTP_ERR_CONNECT, "cannot bind to local address %s port %d: %s",
                         s->cfg.local_address ? s->cfg.local_address : "*", s->cfg.local_port,
                         smtp__strerror(e, ebuf, sizeof ebuf));
        return -3;
    }
    e = smtp__sock_connect(fd, ai->ai_addr, (socklen_t)ai->ai_addrlen);
    if (e > 0) { *err = e; smtp__sock_close(fd); return -1; }
    *out = fd;
    return e == 0 ? 0 : 1;
}

/* A connected stream socket (TCP or Unix) becomes the bottom layer; it
   holds one smtp__net_up reference until smtp__tcp_close. */
static smtp_result smtp__stream_on(smtp_session *s, smtp_socket fd)
{
    s->link.fd = fd;
    s->link.io.read = smtp__tcp_read;
    s->link.io.write = smtp__tcp_write;
    s->link.io.close = smtp__tcp_close;
    return SMTP_OK;
}

/* Name to addresses: getaddrinfo, or with SMTP_NO_GETADDRINFO (a system
   without it) IP literals only, one address (a name is SMTP_ERR_RESOLVE:
   give an address, or cfg.transport). 0, or a code for smtp__resolve_error;
   what comes out goes back through smtp__unresolve. smtp__literal: an IP
   literal (or, passive, NULL: any) into one, without I/O; 0 or 1. */
typedef struct smtp__addr1 { struct addrinfo ai; struct sockaddr_storage ss; } smtp__addr1;
static int smtp__literal(const char *host, int port, int passive, smtp__addr1 *one)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)&one->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)&one->ss;
    memset(one, 0, sizeof *one);
    one->ai.ai_socktype = SOCK_STREAM;
    one->ai.ai_addr = (struct sockaddr *)(void *)&one->ss;
    if ((!host && passive) || (host && inet_pton(AF_INET, host, &v4->sin_addr) == 1)) {
        if (!host) v4->sin_addr.s_addr = htonl(INADDR_ANY);
        v4->sin_family = AF_INET; v4->sin_port = htons((unsigned short)port);
        one->ai.ai_family = AF_INET; one->ai.ai_addrlen = (socklen_t)sizeof *v4;
    } else if (host && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6; v6->sin6_port = htons((unsigned short)port);
        one->ai.ai_family = AF_INET6; one->ai.ai_addrlen = (socklen_t)sizeof *v6;
    } else return 1;
    return 0;
}

static int smtp__resolve(const char *host, int port, int passive, struct addrinfo **out, smtp__addr1 *one)
{
#ifdef SMTP_NO_GETADDRINFO
    if (smtp__literal(host, port, passive, one) != 0) return 1;
    *out = &one->ai;
    return 0;
#else
    struct addrinfo hints;
    char portstr[16];
    (void)one;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (passive) hints.ai_flags = AI_PASSIVE;
    snprintf(portstr, sizeof portstr, "%d", port);
    return getaddrinfo(host, portstr, &hints, out);
#endif
}

static const char *smtp__resolve_error(int rc)
{
#ifdef SMTP_NO_GETADDRINFO
    (void)rc;
    return "not an IP address, and built with SMTP_NO_GETADDRINFO (no name resolution): give an address";
#else
    return gai_strerror(rc);
#endif
}

static void smtp__unresolve(struct addrinfo *res)
{
#ifndef SMTP_NO_GETADDRINFO
    if (res) freeaddrinfo(res);
#else
    (void)res;
#endif
}

/* An address as text (no lookup), or "" . */
static void smtp__numeric_host(const struct sockaddr *sa, char *out, size_t n)
{
    const void *a = sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr
                                              : (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) || !inet_ntop(sa->sa_family, a, out, (socklen_t)n))
        out[0] = 0;
}

/* The TCP connect, in two parts: smtp__dial_begin resolves the name (the
   one wait that cannot be stepped: getaddrinfo) and keeps the addresses;
   smtp__dial_next tries them in turn, all within link.dial.dl, each one's
   connect stepped. The peer is the SMTP server, or the proxy when one is
   set; cfg.local_address/local_port are bound first when set. Until the
   socket is connected, link.io.close is smtp__dial_close: smtp_close or a
   failed open gives everything back. */
static void smtp__dial_target(const smtp_session *s, const char **host, int *port, const char **role)
{
    int px = s->cfg.proxy.type != SMTP_PROXY_NONE;
    *host = px ? s->cfg.proxy.host : s->cfg.host;
    *port = px ? s->cfg.proxy.port : s->cfg.port;
    *role = px ? "proxy" : "SMTP server";
}

/* The dial's lists given back; its Winsock reference too unless the
   connected socket takes it (keep_ref). */
static void smtp__dial_end(smtp_session *s, int keep_ref)
{
    smtp__dial *d = &s->link.dial;
    smtp__unresolve((struct addrinfo *)d->res);
    smtp__unresolve((struct addrinfo *)d->loc);
    d->res = d->loc = NULL;
    if (d->up && !keep_ref) smtp__net_down();
    d->up = 0;
}

static void smtp__dial_close(smtp_session *s)
{
    if (s->link.fd != SMTP_INVALID_SOCKET) smtp__sock_close(s->link.fd);
    s->link.fd = SMTP_INVALID_SOCKET;
    smtp__dial_end(s, 0);
}

/* Address i of the dial (NULL past the last), and in *la the local
   address of its family (NULL: none asked for, or none of that family).
   cfg.addresses, and with SMTP_NO_GETADDRINFO the literals, are parsed
   here each time (no I/O; smtp__init or smtp__dial_begin checked them). */
static const struct addrinfo *smtp__dial_addr(smtp_session *s, int i, const struct addrinfo **la,
                                             smtp__addr1 *r1, smtp__addr1 *l1)
{
    const struct addrinfo *ai = (const struct addrinfo *)s->link.dial.res, *loc = (const struct addrinfo *)s->link.dial.loc;
    const char *host, *role;
    int port, k;
    smtp__dial_target(s, &host, &port, &role);
    *la = NULL;
    if (s->cfg.addresses) {   /* the caller's own resolver's answer */
        for (k = 0; k < i && s->cfg.addresses[k]; k++) {}
        if (!s->cfg.addresses[k] || smtp__literal(s->cfg.addresses[k], port, 0, r1) != 0) return NULL;
        ai = &r1->ai;
        i = 0;
    } else if (!ai) {
        if (smtp__literal(host, port, 0, r1) != 0) return NULL;
        ai = &r1->ai;
    }
    if (!loc && (s->cfg.local_address || s->cfg.local_port) &&
        smtp__literal(s->cfg.local_address, s->cfg.local_port, 1, l1) == 0)
        loc = &l1->ai;
    for (; ai && i > 0; i--) ai = ai->ai_next;
    if (ai && loc) for (*la = loc; *la && (*la)->ai_family != ai->ai_family; *la = (*la)->ai_next) {}
    return ai;
}

static smtp_result smtp__socks4_resolve(smtp_session *s);
static smtp_result smtp__dial_begin(smtp_session *s)
{
    smtp__dial *d = &s->link.dial;
    struct addrinfo *res = NULL, *loc = NULL;
    smtp__addr1 r1, l1;
    const char *host, *role;
    char ebuf[128];
    int port, rc;
    smtp__ms dl = d->dl;   /* set by the caller */
    smtp__dial_target(s, &host, &port, &role);
    memset(d, 0, sizeof *d);
    d->dl = dl;
    if ((rc = smtp__net_up()) != 0)
        return smtp__fail(s, SMTP_ERR_CONNECT, "cannot start Winsock (WSAStartup): %s", smtp__strerror(rc, ebuf, sizeof ebuf));
    d->up = 1;
    s->link.io.close = smtp__dial_close;
    if (s->cfg.addresses) res = NULL;   /* the caller resolved: cfg.addresses */
    else if ((rc = smtp__resolve(host, port, 0, &res, &r1)) != 0)
        return smtp__fail(s, SMTP_ERR_RESOLVE, "cannot resolve %s name \"%s\": %s", role, host, smtp__resolve_error(rc));
    d->res = res == &r1.ai ? NULL : res;
    if ((s->cfg.local_address || s->cfg.local_port) && (rc = smtp__resolve(s->cfg.local_address, s->cfg.local_port, 1, &loc, &l1)) != 0)
        return smtp__fail(s, SMTP_ERR_RESOLVE, "cannot use local_address \"%s\": %s",
                          s->cfg.local_address ? s->cfg.local_address : "", smtp__resolve_error(rc));
    d->loc = loc == &l1.ai ? NULL : loc;
    return smtp__socks4_resolve(s);
}

/* The connect under way on link.fd: SMTP_OK connected, SMTP_ERR_CONNECT
   failed (link.dial.err says why), SMTP_ERR_TIMEOUT (the deadline passed)
   or, stepped, SMTP_WANT_WRITE. */
static smtp_result smtp__dial_wait(smtp_session *s)
{
    smtp__dial *d = &s->link.dial;
    int e = 0, r = smtp__poll_connect(s->link.fd, s->link.nb ? smtp__now() : d->dl, &e);
    if (r == SMTP_ERR_TIMEOUT && s->link.nb)
        return smtp__would_block(s, SMTP_WANT_WRITE, d->dl) == 0 ? SMTP_WANT_WRITE : SMTP_ERR_TIMEOUT;
    if (r != SMTP_OK) { d->err = smtp__sock_errno(); return r == SMTP_ERR_TIMEOUT ? SMTP_ERR_TIMEOUT : SMTP_ERR_CONNECT; }
    d->err = e;
    return e ? SMTP_ERR_CONNECT : SMTP_OK;
}

static smtp_result smtp__dial_next(smtp_session *s, int *pc)
{
    smtp__dial *d = &s->link.dial;
    const struct addrinfo *ai, *la = NULL;
    smtp__addr1 r1, l1;
    const char *host, *role;
    char ebuf[128], where[INET6_ADDRSTRLEN + 8];
    int port, k = 0, e = 0;
    smtp_socket fd = SMTP_INVALID_SOCKET;
    smtp_result r = SMTP_OK;
    smtp__dial_target(s, &host, &port, &role);
    SMTP__BEGIN(pc);
    for (;; d->i++) {
        if (!(ai = smtp__dial_addr(s, d->i, &la, &r1, &l1))) break;
        if ((s->cfg.local_address || s->cfg.local_port) && !la) { d->nofam = 1; continue; }
        d->at = d->i + 1;
        k = smtp__sock_start(s, ai, la, &e, &fd);
        if (k == -3) SMTP__EXIT(r, SMTP_ERR_CONNECT);
        if (k == -1) { d->err = e; continue; }
        s->link.fd = fd;
        if (k == 1) {
            SMTP__AWAIT(pc, r, smtp__dial_wait(s));
            if (r == SMTP_ERR_TIMEOUT) break;
            if (r == SMTP_ERR_CONNECT) {
                smtp__sock_close(s->link.fd);
                s->link.fd = SMTP_INVALID_SOCKET;
                r = SMTP_OK;
                continue;
            }
        }
        smtp__sock_opt(s->link.fd, IPPROTO_TCP, TCP_NODELAY, 1);
        smtp__dial_end(s, 1);   /* connected: the socket takes the dial's Winsock reference */
        SMTP__EXIT(r, smtp__stream_on(s, s->link.fd));
    }
    where[0] = 0;
    if (d->at && (ai = smtp__dial_addr(s, d->at - 1, &la, &r1, &l1)) != NULL)
        smtp__numeric_host(ai->ai_addr, where, sizeof where);
    if (r == SMTP_ERR_TIMEOUT)
        r = smtp__fail(s, SMTP_ERR_TIMEOUT, "connecting to %s %s port %d (%s) timed out after %d ms",
                       role, host, port, where, s->cfg.connect_timeout_ms);
    else if (!d->at && d->nofam)
        r = smtp__fail(s, SMTP_ERR_CONNECT, "cannot connect to %s %s port %d: local_address %s "
                       "has no address of the same family", role, host, port, s->cfg.local_address);
    else
        r = smtp__fail(s, SMTP_ERR_CONNECT, "cannot connect to %s %s port %d (%s%s): %s", role, host,
                       port, where, d->at > 1 ? ", the last of several addresses" : "",
                       smtp__strerror(d->err, ebuf, sizeof ebuf));
    SMTP__END(pc, r);
}

/* Connects to the Unix-domain socket cfg.socket_path within dl; the same
   transport as TCP (a stream on a descriptor). Windows 10 1803 and later
   have AF_UNIX (afunix.h); where Winsock lacks it, SMTP_ERR_UNSUPPORTED. */
static smtp_result smtp__unix_connect(smtp_session *s, smtp__ms dl)
{
    struct sockaddr_un su;
    struct addrinfo ai;
    char ebuf[128];
    size_t n = strlen(s->cfg.socket_path);
    smtp_socket fd = SMTP_INVALID_SOCKET;
    int e = 0, got;
    if ((e = smtp__net_up()) != 0)
        return smtp__fail(s, SMTP_ERR_CONNECT, "cannot start Winsock (WSAStartup): %s", smtp__strerror(e, ebuf, sizeof ebuf));
    memset(&su, 0, sizeof su);
    su.sun_family = AF_UNIX;
    memcpy(su.sun_path, s->cfg.socket_path, n + 1);   /* n < sizeof su.sun_path: smtp__init checked */
    memset(&ai, 0, sizeof ai);
    ai.ai_family = AF_UNIX; ai.ai_socktype = SOCK_STREAM;
    ai.ai_addr = (struct sockaddr *)(void *)&su; ai.ai_addrlen = sizeof su;
    got = smtp__sock_start(s, &ai, NULL, &e, &fd);   /* over at once, but for a full backlog on some systems */
    if (got == 1 && (got = smtp__poll_connect(fd, dl, &e)) != SMTP_OK) { smtp__sock_close(fd); got = -2; }
    if (got == 0 && e == 0) return smtp__stream_on(s, fd);
    if (got == 0) { smtp__sock_close(fd); got = -1; }
    smtp__net_down();
    if (got == -1 && e == SMTP__ENOUNIX)
        return smtp__fail(s, SMTP_ERR_UNSUPPORTED, "cannot connect to the Unix socket %s: this Windows has no "
                          "Unix-domain sockets (AF_UNIX: Windows 10 1803 or later)", s->cfg.socket_path);
    if (got == -2)
        return smtp__fail(s, SMTP_ERR_TIMEOUT, "connecting to the Unix socket %s timed out after %d ms",
                          s->cfg.socket_path, s->cfg.connect_timeout_ms);
    return smtp__fail(s, SMTP_ERR_CONNECT, "cannot connect to the Unix socket %s: %s", s->cfg.socket_path,
                      smtp__strerror(e, ebuf, sizeof ebuf));
}

/* SMTP_NO_STDIO: a system without a file system. Every file the library
   would read is refused with this code, in words by smtp__file_error:
   CA bundles, client certificates, msmtp files and attachment paths come
   from memory instead (smtp_trust_load_pem, cfg.tls_cert_pem,
   smtp_settings_set, attachment data). */
#define SMTP__NOFILES 0x7fff

static const char *smtp__file_error(int e, char *buf, size_t n)
{
    if (e == SMTP__NOFILES) return "built with SMTP_NO_STDIO (no file system): give it from memory";
    return smtp__strerror(e, buf, n);
}

#ifdef SMTP_NO_STDIO
static int smtp__read_file(const char *path, char **out, size_t *n)
{
    (void)path; *out = NULL; *n = 0;
    return SMTP__NOFILES;
}
static int smtp__file_size(const char *path, unsigned long long *size) { (void)path; *size = 0; return -1; }
static int smtp__file_mode(const char *path, unsigned *mode) { (void)path; *mode = 0; return -1; }
#else
/* A whole file into memory from SMTP_MALLOC (NUL added); 0 or an errno. */
static int smtp__read_file(const char *path, char **out, size_t *n)
{
    FILE *f = fopen(path, "rb");
    long l;
    int e;
    *out = NULL;
    if (!f) return errno ? errno : EIO;
    if (fseek(f, 0, SEEK_END) != 0 || (l = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        e = errno ? errno : EIO; fclose(f); return e;
    }
    *out = (char *)SMTP_MALLOC((size_t)l + 1);
    if (!*out) { fclose(f); return ENOMEM; }
    if (fread(*out, 1, (size_t)l, f) != (size_t)l) {
        e = errno ? errno : EIO; fclose(f); SMTP_FREE(*out); *out = NULL; return e;
    }
    fclose(f);
    (*out)[l] = 0;
    *n = (size_t)l;
    return 0;
}
#endif

static int smtp__hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Overwrites secrets so the compiler cannot drop it. */
static void smtp__wipe(void *p, size_t n)
{
    volatile unsigned char *v = (volatile unsigned char *)p;
    while (n--) *v++ = 0;
}

/* ------------------------------------------------------------------------ */
/* >>proxy  SOCKS4, SOCKS4a, SOCKS5 (RFC 1928, RFC 1929) and HTTP CONNECT:  */
/*          a handshake on the TCP socket, under connect_timeout_ms. The   */
/*          reply parsers are pure: (buffer, length) -> bytes used, 0 when  */
/*          more is needed, SMTP_ERR_PROTOCOL when malformed               */
/* ------------------------------------------------------------------------ */

typedef struct smtp__preply { int status, ver; char reason[160]; } smtp__preply;   /* ver: what a two-byte reply starts with */

/* SOCKS4 reply: VN=0, CD (90 granted, 91-93 refused), port, address. */
static long smtp__socks4_reply(const unsigned char *b, size_t n, smtp__preply *r)
{
    if (n < 8) return 0;
    if (b[0] != 0) return SMTP_ERR_PROTOCOL;
    r->status = b[1];
    return 8;
}

/* A two-byte reply, VER STATUS: SOCKS5's method selection (RFC 1928 3,
   VER 5) and its user/password status (RFC 1929 2, VER 1). */
static long smtp__socks5_two(const unsigned char *b, size_t n, smtp__preply *r)
{
    if (n < 2) return 0;
    if (b[0] != r->ver) return SMTP_ERR_PROTOCOL;
    r->status = b[1];
    return 2;
}

/* RFC 1928 6: VER REP RSV ATYP BND.ADDR BND.PORT, the address IPv4 (1),
   a name (3, with its length) or IPv6 (4). */
static long smtp__socks5_reply(const unsigned char *b, size_t n, smtp__preply *r)
{
    size_t need;
    if (n < 5) return 0;
    if (b[0] != 5 || b[2] != 0) return SMTP_ERR_PROTOCOL;
    switch (b[3]) {
    case 1: need = 4 + 4 + 2; break;
    case 3: need = 4 + 1 + (size_t)b[4] + 2; break;
    case 4: need = 4 + 16 + 2; break;
    default: return SMTP_ERR_PROTOCOL;
    }
    if (n < need) return 0;
    r->status = b[1];
    return (long)need;
}

/* HTTP CONNECT reply: the status line and the headers, up to and with the
   empty line, and not one byte past it (a greeting in the same segment is
   the SMTP server's). At most 8 KB of headers. */
static long smtp__http_reply(const unsigned char *b, size_t n, smtp__preply *r)
{
    const char *p = (const char *)b;
    size_t i, end = 0, lim = n < 8192 ? n : 8192, k;
    for (i = 0; i < lim && !end; i++)
        if (p[i] == '\n' && ((i >= 1 && p[i - 1] == '\n') || (i >= 2 && p[i - 1] == '\r' && p[i - 2] == '\n')))
            end = i + 1;
    if (!end) return n >= 8192 ? SMTP_ERR_PROTOCOL : 0;
    if (end < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' || p[9] < '1' || p[9] > '5' ||
        p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
        return SMTP_ERR_PROTOCOL;
    r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    for (i = 12; i < end && p[i] == ' '; i++) {}
    for (k = 0; i < end && p[i] != '\r' && p[i] != '\n' && k + 1 < sizeof r->reason; i++)
        r->reason[k++] = (char)((unsigned char)p[i] < 0x20 ? '?' : p[i]);
    r->reason[k] = 0;
    return (long)end;
}

static const char *smtp__socks5_error(int rep)
{
    static const char *t[] = { "succeeded", "general SOCKS server failure", "connection not allowed by ruleset",
                               "network unreachable", "host unreachable", "connection refused", "TTL expired",
                               "command not supported", "address type not supported" };
    return rep >= 0 && rep <= 8 ? t[rep] : "unknown reply code";
}

static const char *smtp__proxy_name(smtp_proxy_type t)
{
    return t == SMTP_PROXY_NONE ? "no" : smtp__name_of(smtp__proxy_names, (unsigned)t);
}

/* A proxy request: copied into the write buffer (at once: nothing else is
   in it before the session), then written within the connect's deadline
   (s->link.dial.dl). Stepped, a stop
   comes back to the writing (rd.xphase 1), so the caller's request
   buffer is not read again; it may be wiped as soon as this returns. */
static smtp_result smtp__proxy_send(smtp_session *s, const void *p, size_t n, const char *what)
{
    char ebuf[128];
    if (s->rd.xphase == 0) {
        if (n > sizeof s->wr.buf) n = sizeof s->wr.buf;   /* requests are at most 1400 bytes */
        memcpy(s->wr.buf, p, n);
        s->wr.len = n; s->wr.off = 0;
        snprintf(s->rd.cmd, sizeof s->rd.cmd, "%s", what);
        s->rd.xphase = 1;
    }
    while (s->wr.off < s->wr.len) {
        int r = s->link.io.write(s, s->wr.buf + s->wr.off, s->wr.len - s->wr.off, s->link.dial.dl);
        if (r > 0) { s->wr.off += (size_t)r; continue; }
        if (r == 0) return s->link.want;
        smtp__wipe(s->wr.buf, s->wr.len);
        s->wr.len = s->wr.off = 0; s->rd.xphase = 0;
        if (r == SMTP_ERR_TIMEOUT)
            return smtp__fail(s, SMTP_ERR_TIMEOUT, "the %s proxy %s:%d took more than %d ms (sending %s)",
                              smtp__proxy_name(s->cfg.proxy.type), s->cfg.proxy.host, s->cfg.proxy.port,
                              s->cfg.connect_timeout_ms, s->rd.cmd);
        return smtp__fail(s, SMTP_ERR_PROXY, "the %s proxy %s:%d %s while we sent %s", smtp__proxy_name(s->cfg.proxy.type),
                          s->cfg.proxy.host, s->cfg.proxy.port,
                          r == SMTP_ERR_CLOSED ? "closed the connection" : smtp__strerror(s->link.sys_errno, ebuf, sizeof ebuf),
                          s->rd.cmd);
    }
    smtp__wipe(s->wr.buf, s->wr.len);   /* a login may have been in it */
    s->wr.len = s->wr.off = 0; s->rd.xphase = 0;
    return SMTP_OK;
}

/* Reads one proxy reply into the read buffer and parses it (rep->ver set
   to ver first: what a two-byte reply starts with); the bytes after it
   stay there for the session. Stepped, it goes on from what is buffered. */
static smtp_result smtp__proxy_recv(smtp_session *s, long (*parse)(const unsigned char *, size_t, smtp__preply *),
                                    smtp__preply *rep, int ver, const char *what)
{
    rep->ver = ver;
    for (;;) {
        long used = parse(s->rd.buf + s->rd.pos, s->rd.len - s->rd.pos, rep);
        int n;
        if (used > 0) {
            s->rd.pos += (size_t)used;
            if (s->rd.pos == s->rd.len) s->rd.pos = s->rd.len = 0;
            return SMTP_OK;
        }
        if (used < 0)
            return smtp__fail(s, SMTP_ERR_PROXY, "the %s proxy %s:%d sent a malformed %s",
                              smtp__proxy_name(s->cfg.proxy.type), s->cfg.proxy.host, s->cfg.proxy.port, what);
        if (s->rd.len == sizeof s->rd.buf)
            return smtp__fail(s, SMTP_ERR_PROXY, "the %s proxy %s:%d sent a %s longer than %d bytes",
                              smtp__proxy_name(s->cfg.proxy.type), s->cfg.proxy.host, s->cfg.proxy.port, what,
                              (int)sizeof s->rd.buf);
        n = s->link.io.read(s, s->rd.buf + s->rd.len, sizeof s->rd.buf - s->rd.len, s->link.dial.dl);
        if (n == 0) return s->link.want;
        if (n == SMTP_ERR_TIMEOUT)
            return smtp__fail(s, SMTP_ERR_TIMEOUT, "the %s proxy %s:%d sent no complete %s within %d ms",
                              smtp__proxy_name(s->cfg.proxy.type), s->cfg.proxy.host, s->cfg.proxy.port, what,
                              s->cfg.connect_timeout_ms);
        if (n < 0)
            return smtp__fail(s, SMTP_ERR_PROXY, "the %s proxy %s:%d closed the connection instead of sending its %s",
                              smtp__proxy_name(s->cfg.proxy.type), s->cfg.proxy.host, s->cfg.proxy.port, what);
        s->rd.len += (size_t)n;
    }
}

/* The proxy's target: cfg.host (or the name TLS will check) and whether
   it is an IPv4 or IPv6 literal (ip holds it then). */
typedef struct smtp__target { const char *host; size_t len; int port, v4, v6; unsigned char ip[16]; } smtp__target;

static void smtp__target_of(const smtp_session *s, smtp__target *t)
{
    t->host = s->sec.name[0] ? s->sec.name : s->cfg.host;
    t->len = strlen(t->host);
    t->port = s->cfg.port;
    t->v4 = inet_pton(AF_INET, t->host, t->ip) == 1;
    t->v6 = !t->v4 && inet_pton(AF_INET6, t->host, t->ip) == 1;
}

/* SOCKS4 carries an IPv4 address: for a name, the client resolves it,
   with the proxy's name (smtp__dial_begin: the wait is there, not in a
   step). */
static smtp_result smtp__socks4_resolve(smtp_session *s)
{
    struct addrinfo *ai = NULL, *a4;
    smtp__addr1 one;
    smtp__target t;
    s->link.dial.v4ok = 0;
    if (s->cfg.proxy.type != SMTP_PROXY_SOCKS4) return SMTP_OK;
    smtp__target_of(s, &t);
    if (t.v4) return SMTP_OK;
    if (smtp__resolve(t.host, 0, 0, &ai, &one) != 0) ai = NULL;
    for (a4 = ai; a4 && a4->ai_family != AF_INET; a4 = a4->ai_next) {}
    if (a4) memcpy(s->link.dial.v4, &((struct sockaddr_in *)(void *)a4->ai_addr)->sin_addr, 4);
    smtp__unresolve(ai == &one.ai ? NULL : ai);
    if (!a4)
        return smtp__fail(s, SMTP_ERR_RESOLVE, "SOCKS4 needs an IPv4 address for %s and it has none "
                          "(SOCKS4a or SOCKS5 let the proxy resolve it)", t.host);
    s->link.dial.v4ok = 1;
    return SMTP_OK;
}

/* SOCKS4 and SOCKS4a: a CONNECT with an IPv4 address, or 0.0.0.x and the
   name (4a: the proxy resolves). The request and its reply; resumable
   (SMTP__BEGIN), as the other handshakes. */
static smtp_result smtp__socks4_connect(smtp_session *s, int *pc)
{
    const smtp_proxy *px = &s->cfg.proxy;
    const char *uid = px->username ? px->username : "";
    unsigned char req[600];
    size_t n = 8;
    smtp__target t;
    smtp__preply rep;
    smtp_result r = SMTP_OK;
    memset(&rep, 0, sizeof rep);
    SMTP__BEGIN(pc);
    smtp__target_of(s, &t);
    req[0] = 4; req[1] = 1; req[2] = (unsigned char)(t.port >> 8); req[3] = (unsigned char)t.port;
    if (px->type == SMTP_PROXY_SOCKS4 && !t.v4) {   /* smtp__socks4_resolve found it with the proxy's name */
        if (!s->link.dial.v4ok)
            SMTP__EXIT(r, smtp__fail(s, SMTP_ERR_RESOLVE, "SOCKS4 needs an IPv4 address for %s", t.host));
        memcpy(t.ip, s->link.dial.v4, 4);
        t.v4 = 1;
    }
    if (t.v4) memcpy(req + 4, t.ip, 4);
    else { req[4] = req[5] = req[6] = 0; req[7] = 1; }
    memcpy(req + n, uid, strlen(uid) + 1); n += strlen(uid) + 1;
    if (!t.v4) { memcpy(req + n, t.host, t.len + 1); n += t.len + 1; }
    SMTP__AWAIT(pc, r, smtp__proxy_send(s, req, n, "the CONNECT request"));
    if (r) SMTP__EXIT(r, r);
    SMTP__AWAIT(pc, r, smtp__proxy_recv(s, smtp__socks4_reply, &rep, 0, "reply"));
    if (r) SMTP__EXIT(r, r);
    if (rep.status != 90)
        r = smtp__fail(s, SMTP_ERR_PROXY, "the %s proxy %s:%d refused to connect to %s: %d (%s)",
                       smtp__proxy_name(px->type), px->host, px->port, s->link.peer, rep.status,
                       rep.status == 91 ? "request rejected or failed" : rep.status == 92 ?
                       "the proxy cannot reach our identd" : rep.status == 93 ?
                       "identd reports a different user id" : "unknown reply code");
    SMTP__END(pc, r);
}

/* SOCKS5 (RFC 1928): greeting, method (none, or RFC 1929's user name and
   password), CONNECT. */
static smtp_result smtp__socks5_connect(smtp_session *s, int *pc)
{
    const smtp_proxy *px = &s->cfg.proxy;
    int user = px->username != NULL;
    unsigned char req[600];
    size_t n = 0, ul = 0, pl = 0;   /* resumed, proxy_send does not read the request again */
    smtp__target t;
    smtp__preply rep;
    smtp_result r = SMTP_OK;
    memset(&rep, 0, sizeof rep);
    SMTP__BEGIN(pc);
    req[0] = 5; req[1] = (unsigned char)(user ? 2 : 1); req[2] = 0; req[3] = 2;
    SMTP__AWAIT(pc, r, smtp__proxy_send(s, req, user ? 4 : 3, "its greeting"));
    if (r) SMTP__EXIT(r, r);
    SMTP__AWAIT(pc, r, smtp__proxy_recv(s, smtp__socks5_two, &rep, 5, "method selection"));
    if (r) SMTP__EXIT(r, r);
    if (rep.status == 0xFF || (rep.status != 0 && !(rep.status == 2 && user)))
        SMTP__EXIT(r, smtp__fail(s, SMTP_ERR_PROXY, "the SOCKS5 proxy %s:%d accepts none of our authentication "
                                 "methods (%s)%s", px->host, px->port, user ? "none, username/password" : "none",
                                 user ? "" : ": it may want a user name and password (cfg.proxy.username)"));
    if (rep.status == 2) {   /* RFC 1929: the user name and password */
        ul = strlen(px->username); pl = px->password ? strlen(px->password) : 0;
        req[0] = 1; req[1] = (unsigned char)ul; memcpy(req + 2, px->username, ul);
        req[2 + ul] = (unsigned char)pl;
        if (pl) memcpy(req + 3 + ul, px->password, pl);
        SMTP__AWAIT(pc, r, smtp__proxy_send(s, req, 3 + ul + pl, "the user name and password"));
        smtp__wipe(req, sizeof req);
        if (r) SMTP__EXIT(r, r);
        SMTP__AWAIT(pc, r, smtp__proxy_recv(s, smtp__socks5_two, &rep, 1, "authentication reply"));
        if (r) SMTP__EXIT(r, r);
        if (rep.status != 0)
            SMTP__EXIT(r, smtp__fail(s, SMTP_ERR_PROXY, "the SOCKS5 proxy %s:%d refused the user name and password "
                                     "for \"%s\" (RFC 1929 status %d): authentication failed", px->host, px->port,
                                     px->username, rep.status));
    }
    smtp__target_of(s, &t);
    req[0] = 5; req[1] = 1; req[2] = 0;
    if (t.v4) { req[3] = 1; memcpy(req + 4, t.ip, 4); n = 8; }
    else if (t.v6) { req[3] = 4; memcpy(req + 4, t.ip, 16); n = 20; }
    else { req[3] = 3; req[4] = (unsigned char)t.len; memcpy(req + 5, t.host, t.len); n = 5 + t.len; }
    req[n++] = (unsigned char)(t.port >> 8); req[n++] = (unsigned char)t.port;
    SMTP__AWAIT(pc, r, smtp__proxy_send(s, req, n, "the CONNECT request"));
    if (r) SMTP__EXIT(r, r);
    SMTP__AWAIT(pc, r, smtp__proxy_recv(s, smtp__socks5_reply, &rep, 5, "reply"));
    if (r) SMTP__EXIT(r, r);
    if (rep.status != 0)
        r = smtp__fail(s, SMTP_ERR_PROXY, "the SOCKS5 proxy %s:%d could not connect to %s: %s (reply %d)",
                       px->host, px->port, s->link.peer, smtp__socks5_error(rep.status), rep.status);
    SMTP__END(pc, r);
}

/* HTTP CONNECT (RFC 9110 9.3.6), HTTP/1.1 with Host, Basic credentials. */
static smtp_result smtp__http_connect(smtp_session *s, int *pc)
{
    const smtp_proxy *px = &s->cfg.proxy;
    char line[1400], cred[600];
    int k = 0;
    smtp__target t;
    smtp__preply rep;
    smtp_result r = SMTP_OK;
    memset(&rep, 0, sizeof rep);
    SMTP__BEGIN(pc);
    smtp__target_of(s, &t);
    k = snprintf(line, sizeof line, t.v6 ? "CONNECT [%s]:%d HTTP/1.1\r\nHost: [%s]:%d\r\n"
                                         : "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n", t.host, t.port, t.host, t.port);
    if (px->username) {
        size_t ul = strlen(px->username), pl = px->password ? strlen(px->password) : 0;
        memcpy(cred, px->username, ul); cred[ul] = ':';
        if (pl) memcpy(cred + ul + 1, px->password, pl);
        k += snprintf(line + k, sizeof line - (size_t)k, "Proxy-Authorization: Basic ");
        k += (int)smtp__b64((unsigned char *)cred, ul + 1 + pl, line + k);
        k += snprintf(line + k, sizeof line - (size_t)k, "\r\n");
        smtp__wipe(cred, sizeof cred);
    }
    k += snprintf(line + k, sizeof line - (size_t)k, "\r\n");
    SMTP__AWAIT(pc, r, smtp__proxy_send(s, line, (size_t)k, "the CONNECT request"));
    smtp__wipe(line, sizeof line);
    if (r) SMTP__EXIT(r, r);
    s->snd.k = 0;
    do {   /* RFC 9110 15.2: interim 1xx responses may come before the final one; skipped */
        SMTP__AWAIT(pc, r, smtp__proxy_recv(s, smtp__http_reply, &rep, 0, "reply to CONNECT"));
        if (r) SMTP__EXIT(r, r);
    } while (rep.status / 100 == 1 && rep.status != 101 && ++s->snd.k < 16);
    if (rep.status / 100 != 2)
        r = smtp__fail(s, SMTP_ERR_PROXY, "the HTTP proxy %s:%d refused CONNECT to %s: %d %s%s", px->host, px->port,
                       s->link.peer, rep.status, rep.reason,
                       rep.status == 407 ? (px->username ? " (authentication failed)" :
                                            " (it wants credentials: cfg.proxy.username and password)")
                       : rep.status == 401 ? " (authentication failed)" : "");
    SMTP__END(pc, r);
}

/* The handshake that makes the proxy connect us to cfg.host:cfg.port,
   within the connect deadline (s->link.dial.dl). A failure closes the
   tunnel. */
static smtp_result smtp__proxy_handshake(smtp_session *s, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    if (s->cfg.proxy.type == SMTP_PROXY_SOCKS4 || s->cfg.proxy.type == SMTP_PROXY_SOCKS4A)
        SMTP__AWAIT(pc, r, smtp__socks4_connect(s, pc + 1));
    else if (s->cfg.proxy.type == SMTP_PROXY_SOCKS5) SMTP__AWAIT(pc, r, smtp__socks5_connect(s, pc + 1));
    else SMTP__AWAIT(pc, r, smtp__http_connect(s, pc + 1));
    if (r) {
        if (s->link.io.close) s->link.io.close(s);
        s->link.io.close = NULL;
        s->rd.pos = s->rd.len = 0;
    }
    SMTP__END(pc, r);
}

/* The transport to the SMTP server or to its proxy, within link.dial.dl:
   TCP (its name resolved first unless smtp__dial_begin did already), a
   Unix socket, or the caller's stream. */
static smtp_result smtp__connect_transport(smtp_session *s, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    if (s->cfg.socket_path) SMTP__EXIT(r, smtp__unix_connect(s, s->link.dial.dl));
    if (s->cfg.transport) {   /* the caller's stream is the connection (to the proxy, when one is set) */
        s->link.io.read = smtp__user_read; s->link.io.write = smtp__user_write; s->link.io.close = smtp__user_close;
        SMTP__EXIT(r, smtp__socks4_resolve(s));
    }
    if (!s->link.dial.up && (r = smtp__dial_begin(s)) != SMTP_OK) SMTP__EXIT(r, r);
    SMTP__AWAIT(pc, r, smtp__dial_next(s, pc + 1));
    SMTP__END(pc, r);
}

/* Connects to the SMTP server, directly or through the proxy, within
   link.dial.dl: the transport, then the proxy's handshake. */
static smtp_result smtp__connect_step(smtp_session *s, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    SMTP__AWAIT(pc, r, smtp__connect_transport(s, pc + 1));
    if (r == SMTP_OK && s->cfg.proxy.type != SMTP_PROXY_NONE) SMTP__AWAIT(pc, r, smtp__proxy_handshake(s, pc + 1));
    SMTP__END(pc, r);
}

/* ------------------------------------------------------------------------ */
/* >>tls  BearSSL driven directly over the non-blocking socket: every      */
/*        handshake, read and write obeys the deadline it is given         */
/* ------------------------------------------------------------------------ */
#ifndef SMTP_NO_TLS

struct smtp_trust {
    br_x509_trust_anchor *ta; size_t n, cap;
    unsigned char digest[32];           /* SHA-256 of every anchor's name and key: the cache key's trust */
};

static void smtp__detail(char *d, size_t n, const char *fmt, ...) SMTP__PRINTF(3, 4);
static void smtp__detail(char *d, size_t n, const char *fmt, ...)
{
    va_list ap;
    if (!d || !n) return;
    va_start(ap, fmt);
    vsnprintf(d, n, fmt, ap);
    va_end(ap);
}

SMTP_API void smtp_trust_free(smtp_trust *t)
{
    size_t i;
    if (!t) return;
    for (i = 0; i < t->n; i++) SMTP_FREE(t->ta[i].dn.data);   /* one block per anchor */
    SMTP_FREE(t->ta);
    SMTP_FREE(t);
}

SMTP_API size_t smtp_trust_count(const smtp_trust *t) { return t ? t->n : 0; }

/* Calls begin/data/end for every object of a PEM text (RFC 7468).
   smtp__pem_each returns 0, or -1 when the text is malformed or ends
   inside an object. */
typedef struct smtp__pem_sink {
    void (*begin)(void *ctx, const char *name);
    void (*data)(void *ctx, const void *p, size_t n);
    void (*end)(void *ctx);
    void *ctx;
} smtp__pem_sink;

/* Our own PEM reader: BearSSL's br_pem_decoder spent three quarters of
   the 40 ms that loading Debian's bundle took (callgrind); a plain
   base64 decoder over whole lines does the same work in a fraction. */

static int smtp__pem_each(const void *pem, size_t len, smtp__pem_sink *k)
{
    const char *p = (const char *)pem, *end = p + len;
    unsigned char out[780];
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0, inside = 0, pad = 0;
    while (p < end) {
        const char *eol = (const char *)memchr(p, '\n', (size_t)(end - p)), *le = eol ? eol : end, *q;
        while (le > p && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t')) le--;
        if (!inside) {
            if (le - p > 16 && !memcmp(p, "-----BEGIN ", 11) && !memcmp(le - 5, "-----", 5)) {
                char name[80];
                size_t nl = (size_t)(le - p) - 16;
                if (nl >= sizeof name) nl = sizeof name - 1;
                memcpy(name, p + 11, nl);
                name[nl] = 0;
                inside = 1; bits = 0; acc = 0; o = 0; pad = 0;
                k->begin(k->ctx, name);
            }
        } else if (le - p >= 9 && !memcmp(p, "-----END ", 9)) {
            if (bits >= 6) return -1;                      /* a dangling base64 digit */
            if (o) k->data(k->ctx, out, o);
            o = 0; inside = 0;
            k->end(k->ctx);
        } else if (!memchr(p, ':', (size_t)(le - p))) {    /* RFC 1421 headers are skipped */
            for (q = p; q < le; q++) {
                int v;
                if (*q == ' ' || *q == '\t') continue;
                if (*q == '=') { pad = 1; continue; }
                if (pad || (v = smtp__b64val((unsigned char)*q)) < 0) return -1;
                acc = (acc << 6 | (unsigned)v) & 0xFFFFFF;
                bits += 6;
                if (bits >= 8) {
                    bits -= 8;
                    out[o++] = (unsigned char)(acc >> bits);
                    if (o == sizeof out) { k->data(k->ctx, out, o); o = 0; }   /* a line of any length */
                }
            }
        }
        p = eol ? eol + 1 : end;
    }
    return inside ? -1 : 0;
}


/* One DER element header in p[0..n): tag, header length, content length. */
static int smtp__der(const unsigned char *p, size_t n, unsigned *tag, size_t *hdr, size_t *len)
{
    size_t i = 2, l, k;
    if (n < 2 || (p[0] & 0x1F) == 0x1F) return -1;
    *tag = p[0];
    l = p[1];
    if (l & 0x80) {
        k = l & 0x7F;
        if (k == 0 || k > 3 || n < 2 + k) return -1;
        for (l = 0; k > 0; k--) l = l << 8 | p[i++];
    }
    if (l > n - i) return -1;
    *hdr = i; *len = l;
    return 0;
}

/* Loading state: each certificate's DER is gathered whole, then given to
   BearSSL's X.509 decoder in one push of exactly its length (the decoder
   must never be pushed bytes after it stopped); the DN is collected as
   it decodes. */
typedef struct smtp__loader {
    smtp_trust *t;
    br_x509_decoder_context dc;
    unsigned char *dn; size_t dn_len, dn_cap;
    unsigned char *der; size_t der_len, der_cap;
    int in_cert, nomem, certs;
} smtp__loader;

/* Appends p[0..n) to a growing buffer from SMTP_MALLOC; -1 when out of memory. */
static int smtp__append(unsigned char **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
    if (*len + n > *cap) {
        size_t c = (*len + n) * 2;
        unsigned char *b = (unsigned char *)SMTP_MALLOC(c);
        if (!b) return -1;
        if (*len) { memcpy(b, *buf, *len); smtp__wipe(*buf, *len); }   /* key bytes pass here */
        SMTP_FREE(*buf);
        *buf = b; *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    return 0;
}

static void smtp__dn_append(void *ctx, const void *buf, size_t len)
{
    smtp__loader *l = (smtp__loader *)ctx;
    if (!l->nomem && smtp__append(&l->dn, &l->dn_len, &l->dn_cap, buf, len)) l->nomem = 1;
}

static int smtp__is_cert_pem(const char *name)
{
    return !strcmp(name, "CERTIFICATE") || !strcmp(name, "X509 CERTIFICATE") ||
           !strcmp(name, "TRUSTED CERTIFICATE");
}

static void smtp__anchor_begin(void *ctx, const char *name)
{
    smtp__loader *l = (smtp__loader *)ctx;
    l->in_cert = smtp__is_cert_pem(name);
    l->dn_len = 0;
    l->der_len = 0;
}

static void smtp__anchor_data(void *ctx, const void *p, size_t n)
{
    smtp__loader *l = (smtp__loader *)ctx;
    if (l->in_cert && !l->nomem && smtp__append(&l->der, &l->der_len, &l->der_cap, p, n)) l->nomem = 1;
}

/* 0 when p[0..n) is exactly one DER element (a SEQUENCE), nothing after it. */
static int smtp__der_whole(const unsigned char *p, size_t n)
{
    unsigned tag;
    size_t h, l;
    return smtp__der(p, n, &tag, &h, &l) || tag != 0x30 || h + l != n ? -1 : 0;
}

/* The certificate just decoded becomes an anchor: DN and key copied into
   one allocation. Certificates BearSSL cannot use are skipped. */
static void smtp__anchor_end(void *ctx)
{
    smtp__loader *l = (smtp__loader *)ctx;
    const br_x509_pkey *pk;
    br_x509_trust_anchor *ta;
    size_t klen;
    unsigned char *mem;
    if (!l->in_cert) return;
    l->in_cert = 0;
    l->certs++;
    if (l->nomem || smtp__der_whole(l->der, l->der_len)) return;
    br_x509_decoder_init(&l->dc, smtp__dn_append, l);
    br_x509_decoder_push(&l->dc, l->der, l->der_len);
    pk = br_x509_decoder_get_pkey(&l->dc);
    if (!pk || br_x509_decoder_last_error(&l->dc) != 0 || l->nomem) return;
    klen = pk->key_type == BR_KEYTYPE_RSA ? pk->key.rsa.nlen + pk->key.rsa.elen : pk->key.ec.qlen;
    if (l->t->n == l->t->cap) {
        size_t cap = l->t->cap ? l->t->cap * 2 : 64;
        br_x509_trust_anchor *a = (br_x509_trust_anchor *)SMTP_MALLOC(cap * sizeof *a);
        if (!a) { l->nomem = 1; return; }
        if (l->t->n) memcpy(a, l->t->ta, l->t->n * sizeof *a);
        SMTP_FREE(l->t->ta);
        l->t->ta = a; l->t->cap = cap;
    }
    mem = (unsigned char *)SMTP_MALLOC(l->dn_len + klen + 1);
    if (!mem) { l->nomem = 1; return; }
    ta = &l->t->ta[l->t->n++];
    memcpy(mem, l->dn, l->dn_len);
    ta->dn.data = mem; ta->dn.len = l->dn_len;
    ta->flags = br_x509_decoder_isCA(&l->dc) ? BR_X509_TA_CA : 0;
    ta->pkey = *pk;
    mem += l->dn_len;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        memcpy(mem, pk->key.rsa.n, pk->key.rsa.nlen); ta->pkey.key.rsa.n = mem;
        memcpy(mem + pk->key.rsa.nlen, pk->key.rsa.e, pk->key.rsa.elen);
        ta->pkey.key.rsa.e = mem + pk->key.rsa.nlen;
    } else {
        memcpy(mem, pk->key.ec.q, pk->key.ec.qlen); ta->pkey.key.ec.q = mem;
    }
}

/* The trust's digest: SHA-256 of every anchor's name and key (the TLS
   session cache's key includes it). */
static void smtp__trust_digest(smtp_trust *t)
{
    br_sha256_context c;
    size_t i;
    br_sha256_init(&c);
    for (i = 0; i < t->n; i++) {
        const br_x509_trust_anchor *ta = &t->ta[i];
        unsigned char hdr[9];
        size_t kl = ta->pkey.key_type == BR_KEYTYPE_RSA ? ta->pkey.key.rsa.nlen : ta->pkey.key.ec.qlen;
        hdr[0] = (unsigned char)ta->flags; hdr[1] = ta->pkey.key_type;
        hdr[2] = (unsigned char)(ta->dn.len >> 8); hdr[3] = (unsigned char)ta->dn.len;
        hdr[4] = (unsigned char)(kl >> 8); hdr[5] = (unsigned char)kl;
        hdr[6] = (unsigned char)(ta->pkey.key_type == BR_KEYTYPE_RSA ? (unsigned)ta->pkey.key.rsa.elen : (unsigned)ta->pkey.key.ec.curve);
        hdr[7] = hdr[8] = 0;
        br_sha256_update(&c, hdr, sizeof hdr);
        br_sha256_update(&c, ta->dn.data, ta->dn.len);
        if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
            br_sha256_update(&c, ta->pkey.key.rsa.n, ta->pkey.key.rsa.nlen);
            br_sha256_update(&c, ta->pkey.key.rsa.e, ta->pkey.key.rsa.elen);
        } else br_sha256_update(&c, ta->pkey.key.ec.q, ta->pkey.key.ec.qlen);
    }
    br_sha256_out(&c, t->digest);
}

SMTP_API smtp_result smtp_trust_load_pem(smtp_trust **out, const void *pem, size_t len,
                                         char *detail, size_t detail_size)
{
    smtp__loader l;
    smtp__pem_sink k;
    int bad;
    if (!out || (!pem && len)) {
        smtp__detail(detail, detail_size, "smtp_trust_load_pem: out or pem is NULL");
        return SMTP_ERR_PARAM;
    }
    *out = NULL;
    memset(&l, 0, sizeof l);
    l.t = (smtp_trust *)SMTP_MALLOC(sizeof *l.t);
    if (!l.t) return SMTP_ERR_NOMEM;
    memset(l.t, 0, sizeof *l.t);
    k.begin = smtp__anchor_begin; k.data = smtp__anchor_data; k.end = smtp__anchor_end; k.ctx = &l;
    bad = smtp__pem_each(pem, len, &k);
    SMTP_FREE(l.dn);
    SMTP_FREE(l.der);
    if (l.nomem) { smtp_trust_free(l.t); smtp__detail(detail, detail_size, "out of memory"); return SMTP_ERR_NOMEM; }
    if (bad) {
        smtp__detail(detail, detail_size, "the PEM data is malformed or truncated (after %d certificates)", l.certs);
        smtp_trust_free(l.t);
        return SMTP_ERR_CERT;
    }
    if (l.t->n == 0) {
        smtp__detail(detail, detail_size, "no usable certificate in the PEM data (%d found)", l.certs);
        smtp_trust_free(l.t);
        return SMTP_ERR_CERT;
    }
    smtp__trust_digest(l.t);
    *out = l.t;
    return SMTP_OK;
}

SMTP_API smtp_result smtp_trust_load_file(smtp_trust **out, const char *path, char *detail, size_t detail_size)
{
    char *buf, ebuf[128], tmp[256];
    size_t n = 0;
    int e;
    smtp_result r;
    if (!out || !path) { smtp__detail(detail, detail_size, "smtp_trust_load_file: out or path is NULL"); return SMTP_ERR_PARAM; }
    *out = NULL;
    if ((e = smtp__read_file(path, &buf, &n)) != 0) {
        smtp__detail(detail, detail_size, "cannot read CA file %s: %s", path, smtp__file_error(e, ebuf, sizeof ebuf));
        return e == ENOMEM ? SMTP_ERR_NOMEM : e == SMTP__NOFILES ? SMTP_ERR_UNSUPPORTED : SMTP_ERR_CERT;
    }
    r = smtp_trust_load_pem(out, buf, n, tmp, sizeof tmp);
    SMTP_FREE(buf);
    if (r) smtp__detail(detail, detail_size, "CA file %s: %s", path, tmp);
    return r;
}

#if defined(_WIN32)
/* Windows: the ROOT store (CertOpenSystemStore), each certificate's DER
   through the loader smtp_trust_load_pem uses. */
SMTP_API smtp_result smtp_trust_load_system(smtp_trust **out, char *detail, size_t detail_size)
{
    HCERTSTORE st;
    PCCERT_CONTEXT c = NULL;
    smtp__loader l;
    if (!out) return SMTP_ERR_PARAM;
    *out = NULL;
    if (!(st = CertOpenSystemStoreA(0, "ROOT"))) {
        smtp__detail(detail, detail_size, "cannot open the Windows ROOT certificate store (error %lu); "
                     "set cfg.ca_file or cfg.trust", (unsigned long)GetLastError());
        return SMTP_ERR_CERT;
    }
    memset(&l, 0, sizeof l);
    if (!(l.t = (smtp_trust *)SMTP_MALLOC(sizeof *l.t))) { CertCloseStore(st, 0); return SMTP_ERR_NOMEM; }
    memset(l.t, 0, sizeof *l.t);
    while ((c = CertEnumCertificatesInStore(st, c)) != NULL) {
        if (!(c->dwCertEncodingType & X509_ASN_ENCODING)) continue;
        smtp__anchor_begin(&l, "CERTIFICATE");
        smtp__anchor_data(&l, c->pbCertEncoded, c->cbCertEncoded);
        smtp__anchor_end(&l);
    }
    CertCloseStore(st, 0);
    SMTP_FREE(l.dn);
    SMTP_FREE(l.der);
    if (l.nomem) { smtp_trust_free(l.t); smtp__detail(detail, detail_size, "out of memory"); return SMTP_ERR_NOMEM; }
    if (l.t->n == 0) {
        smtp__detail(detail, detail_size, "no usable certificate in the Windows ROOT store (%d found); "
                     "set cfg.ca_file or cfg.trust", l.certs);
        smtp_trust_free(l.t);
        return SMTP_ERR_CERT;
    }
    smtp__trust_digest(l.t);
    *out = l.t;
    return SMTP_OK;
}
#else
SMTP_API smtp_result smtp_trust_load_system(smtp_trust **out, char *detail, size_t detail_size)
{
    static const char *const paths[] = {
        "/etc/ssl/certs/ca-certificates.crt",                 /* Debian, Ubuntu, Alpine, Arch */
        "/etc/pki/tls/certs/ca-bundle.crt",                   /* Fedora, RHEL */
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        "/etc/ssl/ca-bundle.pem",                             /* openSUSE */
        "/etc/ssl/cert.pem",                                  /* macOS, OpenBSD, Alpine */
        "/usr/local/etc/ssl/cert.pem",                        /* FreeBSD */
        "/usr/local/share/certs/ca-root-nss.crt"
    };
    size_t i;
    if (!out) return SMTP_ERR_PARAM;
#ifdef SMTP_NO_STDIO
    (void)i; (void)paths;
    *out = NULL;
    smtp__detail(detail, detail_size, "smtp_trust_load_system: built with SMTP_NO_STDIO (no file system): load "
                 "the CA certificates from memory (smtp_trust_load_pem, cfg.trust)");
    return SMTP_ERR_UNSUPPORTED;
#else
    for (i = 0; i < sizeof paths / sizeof *paths; i++)
        if (access(paths[i], R_OK) == 0) return smtp_trust_load_file(out, paths[i], detail, detail_size);
    *out = NULL;
    smtp__detail(detail, detail_size, "no system CA bundle found (looked in %s and %d other places); "
                 "set cfg.ca_file or cfg.trust", paths[0], (int)(sizeof paths / sizeof *paths) - 1);
    return SMTP_ERR_CERT;
#endif
}
#endif

/* ---- certificate checks ---------------------------------------------- */
/* BearSSL's x509 "minimal" engine checks signatures, dates and the chain
   to a trust anchor. Around it we check what it does not: the host name
   against the subjectAltName only (RFC 6125: no CN fallback, a wildcard
   only as the whole leftmost label with two labels after it), the server
   key's size and extendedKeyUsage, the name constraints of issuing CAs,
   the pin; and we give the server's key in the relaxed modes. The bytes
   of the server's certificates reach only minimal (which stops on its
   first error) and our own bounded DER reader below: never
   br_x509_decoder, which dereferences NULL when pushed more bytes after
   it stopped (a certificate entry with bytes after its DER did that). */

/* Our own end_chain verdicts (BearSSL's codes stop at 63, alerts start at 256). */
#define SMTP__ERR_PIN   200u       /* pin mismatch */
#define SMTP__ERR_DER   201u       /* not one well-formed DER certificate */
#define SMTP__ERR_BIG   202u       /* larger than SMTP_CERT_MAX */
#define SMTP__ERR_NOSAN 203u       /* no DNS name or IP address in a subjectAltName */
#define SMTP__ERR_EKU   204u       /* extendedKeyUsage without serverAuth */
#define SMTP__ERR_RSA   205u       /* RSA key under 2048 bits */
#define SMTP__ERR_SHA1  206u       /* signed with SHA-1 or MD5 */
#define SMTP__ERR_NC    207u       /* outside an issuer's name constraints */
#define SMTP__ERR_KEY   208u       /* a key type we cannot use */

/* A window of DER bytes; smtp__der_next takes its first element. */
typedef struct smtp__span { const unsigned char *p; size_t n; } smtp__span;

static int smtp__der_next(smtp__span *in, unsigned *tag, smtp__span *content)
{
    size_t h, l;
    if (smtp__der(in->p, in->n, tag, &h, &l)) return -1;
    content->p = in->p + h; content->n = l;
    in->p += h + l; in->n -= h + l;
    return 0;
}

static int smtp__oid_is(smtp__span o, const char *der, size_t n)
{
    return o.n == n && memcmp(o.p, der, n) == 0;
}

/* What we read of one certificate (RFC 5280 4.1). */
typedef struct smtp__cert_info {
    smtp__span issuer, subject, spki, san, eku, nc;   /* spki with its header; the others contents */
    smtp__span validity;
    int weak_sig;                                     /* signed with MD5 or SHA-1 */
} smtp__cert_info;

static int smtp__cert_exts(smtp__span x, smtp__cert_info *ci)
{
    smtp__span seq, e, oid, v;
    unsigned tag;
    if (smtp__der_next(&x, &tag, &seq) || tag != 0x30 || x.n) return -1;
    while (seq.n) {
        smtp__span *slot = NULL;
        if (smtp__der_next(&seq, &tag, &e) || tag != 0x30) return -1;
        if (smtp__der_next(&e, &tag, &oid) || tag != 0x06) return -1;
        if (smtp__der_next(&e, &tag, &v)) return -1;
        if (tag == 0x01 && smtp__der_next(&e, &tag, &v)) return -1;        /* critical */
        if (tag != 0x04 || e.n) return -1;
        if (smtp__oid_is(oid, "\x55\x1D\x11", 3)) slot = &ci->san;          /* 2.5.29.17 */
        else if (smtp__oid_is(oid, "\x55\x1D\x25", 3)) slot = &ci->eku;     /* 2.5.29.37 */
        else if (smtp__oid_is(oid, "\x55\x1D\x1E", 3)) slot = &ci->nc;      /* 2.5.29.30 */
        if (slot) {
            if (slot->p) return -1;                                        /* twice (RFC 5280 4.2) */
            *slot = v;
        }
    }
    return 0;
}

/* 0 when c[0..n) is exactly one certificate, nothing after it. */
static int smtp__cert_parse(const unsigned char *c, size_t n, smtp__cert_info *ci)
{
    smtp__span in, cert, tbs, f, alg, alg_all, oid, sig_in = { NULL, 0 };
    unsigned tag;
    int idx = 0;
    memset(ci, 0, sizeof *ci);
    in.p = c; in.n = n;
    if (smtp__der_next(&in, &tag, &cert) || tag != 0x30 || in.n) return -1;
    if (smtp__der_next(&cert, &tag, &tbs) || tag != 0x30) return -1;
    if (smtp__der_next(&cert, &tag, &alg) || tag != 0x30) return -1;
    alg_all = alg;
    if (smtp__der_next(&alg, &tag, &oid) || tag != 0x06) return -1;
    if (smtp__der_next(&cert, &tag, &f) || tag != 0x03 || cert.n) return -1;
    ci->weak_sig =   /* {md2,md5,sha1}WithRSAEncryption, ecdsa-with-SHA1, dsa-with-sha1 */
        (oid.n == 9 && !memcmp(oid.p, "\x2A\x86\x48\x86\xF7\x0D\x01\x01", 8) &&
         (oid.p[8] == 2 || oid.p[8] == 4 || oid.p[8] == 5)) ||
        smtp__oid_is(oid, "\x2A\x86\x48\xCE\x3D\x04\x01", 7) || smtp__oid_is(oid, "\x2A\x86\x48\xCE\x38\x04\x03", 7);
    /* [0] version, serial, signature, issuer, validity, subject, spki, [1], [2], [3] extensions */
    while (tbs.n) {
        const unsigned char *start = tbs.p;
        if (smtp__der_next(&tbs, &tag, &f)) return -1;
        if (idx == 0) { idx = 1; if (tag == 0xA0) continue; }   /* numbered from the serial, 1 */
        switch (idx++) {
        case 2: sig_in = f; break;
        case 3: if (tag != 0x30) return -1; ci->issuer = f; break;
        case 4: if (tag != 0x30) return -1; ci->validity = f; break;
        case 5: if (tag != 0x30) return -1; ci->subject = f; break;
        case 6: if (tag != 0x30) return -1; ci->spki.p = start; ci->spki.n = (size_t)(tbs.p - start); break;
        default:
            if (idx > 7 && tag == 0xA3 && smtp__cert_exts(f, ci)) return -1;
            break;
        }
    }
    /* RFC 5280 4.1.1.2: the outer signatureAlgorithm is the signed one, byte for byte */
    if (idx < 7 || sig_in.n != alg_all.n || memcmp(sig_in.p, alg_all.p, alg_all.n)) return -1;
    return 0;
}

/* The key in a SubjectPublicKeyInfo (RSA: RFC 8017 A.1.1; EC: RFC 5480),
   copied into buf. 0, -1 when malformed, -2 for another algorithm or curve. */
static int smtp__spki_key(smtp__span spki, br_x509_pkey *pk, unsigned char *buf, size_t cap, int *rsa_bits)
{
    smtp__span seq, alg, oid, bits;
    unsigned tag;
    if (smtp__der_next(&spki, &tag, &seq) || tag != 0x30 || spki.n) return -1;
    if (smtp__der_next(&seq, &tag, &alg) || tag != 0x30) return -1;
    if (smtp__der_next(&seq, &tag, &bits) || tag != 0x03 || seq.n || bits.n < 2 || bits.p[0] != 0) return -1;
    bits.p++; bits.n--;
    if (smtp__der_next(&alg, &tag, &oid) || tag != 0x06) return -1;
    if (smtp__oid_is(oid, "\x2A\x86\x48\x86\xF7\x0D\x01\x01\x01", 9)) {           /* rsaEncryption */
        smtp__span rk, n, e;
        unsigned top;
        if (smtp__der_next(&bits, &tag, &rk) || tag != 0x30 || bits.n) return -1;
        if (smtp__der_next(&rk, &tag, &n) || tag != 0x02 || !n.n || (n.p[0] & 0x80)) return -1;
        if (smtp__der_next(&rk, &tag, &e) || tag != 0x02 || !e.n || (e.p[0] & 0x80) || rk.n) return -1;
        while (n.n && !n.p[0]) { n.p++; n.n--; }
        while (e.n && !e.p[0]) { e.p++; e.n--; }
        if (!n.n || !e.n || n.n > 512 || e.n > 8 || n.n + e.n > cap) return -1;
        memcpy(buf, n.p, n.n);
        memcpy(buf + n.n, e.p, e.n);
        pk->key_type = BR_KEYTYPE_RSA;
        pk->key.rsa.n = buf; pk->key.rsa.nlen = n.n;
        pk->key.rsa.e = buf + n.n; pk->key.rsa.elen = e.n;
        for (*rsa_bits = (int)n.n * 8, top = n.p[0]; !(top & 0x80); top <<= 1) (*rsa_bits)--;
        return 0;
    }
    if (smtp__oid_is(oid, "\x2A\x86\x48\xCE\x3D\x02\x01", 7)) {                   /* id-ecPublicKey */
        smtp__span par;
        int curve;
        if (smtp__der_next(&alg, &tag, &par) || tag != 0x06) return -2;           /* named curves only */
        if (smtp__oid_is(par, "\x2A\x86\x48\xCE\x3D\x03\x01\x07", 8)) curve = BR_EC_secp256r1;
        else if (smtp__oid_is(par, "\x2B\x81\x04\x00\x22", 5)) curve = BR_EC_secp384r1;
        else if (smtp__oid_is(par, "\x2B\x81\x04\x00\x23", 5)) curve = BR_EC_secp521r1;
        else return -2;
        if (!bits.n || bits.n > 133 || bits.n > cap) return -1;
        memcpy(buf, bits.p, bits.n);
        pk->key_type = BR_KEYTYPE_EC;
        pk->key.ec.curve = curve; pk->key.ec.q = buf; pk->key.ec.qlen = bits.n;
        return 0;
    }
    return -2;
}

static int smtp__ascii_ieq(const unsigned char *a, const char *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned x = a[i], y = (unsigned char)b[i];
        if (x - 'A' < 26u) x += 32;
        if (y - 'A' < 26u) y += 32;
        if (x != y) return 0;
    }
    return 1;
}

/* RFC 6125 6.4: a subjectAltName dNSName against host, ASCII case-insensitive.
   A '*' counts only as the whole leftmost label with at least two labels
   after it ("*.example.test", never "*.test" or "f*.example.test"), and
   stands for exactly one label. */
static int smtp__name_match(const unsigned char *p, size_t n, const char *host)
{
    size_t hl = strlen(host), i;
    const char *dot;
    if (n && p[n - 1] == '.') n--;
    if (!n || !hl) return 0;
    for (i = 0; i < n; i++)
        if (p[i] <= 32 || p[i] >= 127) return 0;
    if (n > 2 && p[0] == '*' && p[1] == '.') {
        if (memchr(p + 1, '*', n - 1) || !memchr(p + 2, '.', n - 2) || p[2] == '.') return 0;
        dot = strchr(host, '.');
        if (!dot || dot == host) return 0;
        return hl - (size_t)(dot - host) == n - 1 && smtp__ascii_ieq(p + 1, dot, n - 1);
    }
    if (memchr(p, '*', n)) return 0;
    return hl == n && smtp__ascii_ieq(p, host, n);
}

/* The SAN (GeneralNames) against the identity we verify: 1 a match, 0 none,
   -1 malformed; *names counts its DNS names and IP addresses. */
static int smtp__san_match(smtp__span san, const char *host, const unsigned char *ip, int ip_len, int *names)
{
    smtp__span seq, g;
    unsigned tag;
    int found = 0;
    if (smtp__der_next(&san, &tag, &seq) || tag != 0x30 || san.n) return -1;
    while (seq.n) {
        if (smtp__der_next(&seq, &tag, &g)) return -1;
        if (tag == 0x82 || tag == 0x87) (*names)++;
        if (ip_len ? (tag == 0x87 && g.n == (size_t)ip_len && !memcmp(g.p, ip, g.n))
                   : (tag == 0x82 && host && smtp__name_match(g.p, g.n, host)))
            found = 1;
    }
    return found;
}

/* Does a name-constraint base (RFC 5280 4.2.1.10) cover our identity?
   dNSName: the name itself or any name with labels added on the left;
   iPAddress: address and mask of the same family. */
static int smtp__nc_covers(unsigned tag, smtp__span b, const char *host, const unsigned char *ip, int ip_len)
{
    size_t i, hl;
    if (!host && !ip_len) return 0;
    if (ip_len) {
        if (tag != 0x87 || b.n != 2 * (size_t)ip_len) return 0;
        for (i = 0; i < (size_t)ip_len; i++)
            if ((ip[i] & b.p[(size_t)ip_len + i]) != (b.p[i] & b.p[(size_t)ip_len + i])) return 0;
        return 1;
    }
    if (tag != 0x82) return 0;
    if (!b.n) return 1;
    hl = strlen(host);
    if (b.p[0] == '.') return hl > b.n && smtp__ascii_ieq(b.p, host + hl - b.n, b.n);
    if (hl == b.n) return smtp__ascii_ieq(b.p, host, b.n);
    return hl > b.n && host[hl - b.n - 1] == '.' && smtp__ascii_ieq(b.p, host + hl - b.n, b.n);
}

/* 0 when an issuer's nameConstraints allow the identity we verify; only
   constraints of its own kind (DNS name or IP address) apply to it. */
static int smtp__nc_check(smtp__span nc, const char *host, const unsigned char *ip, int ip_len)
{
    smtp__span seq, set, sub, base;
    unsigned tag, btag, want = ip_len ? 0x87u : 0x82u;
    int permitted = 0, inside = 0;
    if (smtp__der_next(&nc, &tag, &seq) || tag != 0x30 || nc.n) return -1;
    while (seq.n) {
        int excluded;
        if (smtp__der_next(&seq, &tag, &set) || (tag != 0xA0 && tag != 0xA1)) return -1;
        excluded = tag == 0xA1;
        while (set.n) {
            if (smtp__der_next(&set, &tag, &sub) || tag != 0x30) return -1;
            if (smtp__der_next(&sub, &btag, &base)) return -1;
            if (btag != want) continue;
            if (excluded && smtp__nc_covers(btag, base, host, ip, ip_len)) return -1;
            if (!excluded) { permitted = 1; inside |= smtp__nc_covers(btag, base, host, ip, ip_len); }
        }
    }
    return permitted && !inside ? -1 : 0;
}

/* extendedKeyUsage (RFC 5280 4.2.1.12) allows serverAuth or any purpose? */
static int smtp__eku_server(smtp__span eku)
{
    smtp__span seq, oid;
    unsigned tag;
    if (smtp__der_next(&eku, &tag, &seq) || tag != 0x30 || eku.n) return 0;
    while (seq.n) {
        if (smtp__der_next(&seq, &tag, &oid) || tag != 0x06) return 0;
        if (smtp__oid_is(oid, "\x2B\x06\x01\x05\x05\x07\x03\x01", 8) ||              /* id-kp-serverAuth */
            smtp__oid_is(oid, "\x55\x1D\x25\x00", 4))                              /* anyExtendedKeyUsage */
            return 1;
    }
    return 0;
}

/* ---- the leaf described, for smtp_tls_peer_cert: every string bounded by
   its buffer, every byte from the certificate through smtp__visible ---- */

/* Appends sep, then n bytes of p (raw: their visible form) at *o, never
   past cap - 1; stops quietly when full. */
static void smtp__put(char *out, size_t cap, size_t *o, const char *sep, const void *p, size_t n, int raw)
{
    size_t k = strlen(sep);
    if (*o + k >= cap) return;
    memcpy(out + *o, sep, k); *o += k;
    if (raw) *o += smtp__visible(out + *o, cap - *o, (const unsigned char *)p, n);
    else { if (n > cap - 1 - *o) n = cap - 1 - *o; memcpy(out + *o, p, n); *o += n; }
    out[*o] = 0;
}

/* An attribute's OID by its short name (CN, O, ...) or dotted ("2.5.4.97"). */
static void smtp__oid_name(smtp__span oid, char *out, size_t cap)
{
    static const struct { const char *der, *name; } t[] = {
        { "\x55\x04\x03", "CN" }, { "\x55\x04\x06", "C" }, { "\x55\x04\x07", "L" }, { "\x55\x04\x08", "ST" },
        { "\x55\x04\x0A", "O" }, { "\x55\x04\x0B", "OU" }, { "\x55\x04\x05", "serialNumber" },
        { "\x2A\x86\x48\x86\xF7\x0D\x01\x09\x01", "emailAddress" } };
    size_t i, o = 0;
    unsigned long v = 0;
    for (i = 0; i < sizeof t / sizeof *t; i++)
        if (smtp__oid_is(oid, t[i].der, strlen(t[i].der))) { snprintf(out, cap, "%s", t[i].name); return; }
    out[0] = 0;
    for (i = 0; i < oid.n && o + 24 < cap; i++) {
        v = v << 7 | (oid.p[i] & 0x7F);
        if (oid.p[i] & 0x80) { if (v > 0x1FFFFFFUL) break; continue; }
        if (o == 0) o += (size_t)snprintf(out, cap, "%lu.%lu", v < 80 ? v / 40 : 2UL, v < 80 ? v % 40 : v - 80);
        else o += (size_t)snprintf(out + o, cap - o, ".%lu", v);
        v = 0;
    }
    if (!out[0]) snprintf(out, cap, "?");
}

/* A Name (RFC 5280 4.1.2.4) as "C=DE, O=Example, CN=mx", in encoded order. */
static void smtp__dn_string(smtp__span dn, char *out, size_t cap)
{
    smtp__span set, atv, oid, val;
    unsigned tag;
    size_t o = 0;
    char nm[48];
    out[0] = 0;
    while (dn.n) {
        if (smtp__der_next(&dn, &tag, &set) || tag != 0x31) return;
        while (set.n) {
            if (smtp__der_next(&set, &tag, &atv) || tag != 0x30) return;
            if (smtp__der_next(&atv, &tag, &oid) || tag != 0x06 || smtp__der_next(&atv, &tag, &val)) return;
            smtp__oid_name(oid, nm, sizeof nm);
            smtp__put(out, cap, &o, o ? ", " : "", nm, strlen(nm), 0);
            smtp__put(out, cap, &o, "=", val.p, val.n, 1);
        }
    }
}

/* UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ) as
   "YYYY-MM-DD HH:MM:SS UTC"; "?" when it is neither. */
static void smtp__der_time(unsigned tag, smtp__span t, char *out, size_t cap)
{
    char d[15];
    size_t i, k = tag == 0x17 ? 12 : tag == 0x18 ? 14 : 0;
    snprintf(out, cap, "?");
    if (!k || t.n != k + 1 || t.p[k] != 'Z') return;
    for (i = 0; i < k; i++) if (t.p[i] < '0' || t.p[i] > '9') return;
    if (k == 12) { d[0] = t.p[0] >= '5' ? '1' : '2'; d[1] = t.p[0] >= '5' ? '9' : '0'; memcpy(d + 2, t.p, 12); }
    else memcpy(d, t.p, 14);
    snprintf(out, cap, "%.4s-%.2s-%.2s %.2s:%.2s:%.2s UTC", d, d + 4, d + 6, d + 8, d + 10, d + 12);
}

/* subjectAltName: DNS names, IP addresses and e-mail addresses. */
static void smtp__san_string(smtp__span san, char *out, size_t cap)
{
    smtp__span seq, gn;
    unsigned tag;
    size_t o = 0;
    char ip[INET6_ADDRSTRLEN];
    out[0] = 0;
    if (smtp__der_next(&san, &tag, &seq) || tag != 0x30) return;
    while (seq.n) {
        if (smtp__der_next(&seq, &tag, &gn)) return;
        if (tag == 0x82) smtp__put(out, cap, &o, o ? ", DNS:" : "DNS:", gn.p, gn.n, 1);
        else if (tag == 0x81) smtp__put(out, cap, &o, o ? ", email:" : "email:", gn.p, gn.n, 1);
        else if (tag == 0x87 && (gn.n == 4 || gn.n == 16) &&
                 inet_ntop(gn.n == 4 ? AF_INET : AF_INET6, gn.p, ip, sizeof ip))
            smtp__put(out, cap, &o, o ? ", IP:" : "IP:", ip, strlen(ip), 0);
    }
}

/* The leaf described from its DER; -1 when it does not parse (p is then
   zero). Pure: the fuzzer calls it on any bytes. */
static int smtp__peer_describe(smtp_peer_cert *p, const unsigned char *der, size_t n)
{
    smtp__cert_info ci;
    smtp__span v, t;
    br_x509_pkey pk;
    br_sha256_context c;
    unsigned char kb[520];
    unsigned tag;
    int bits = 0;
    memset(p, 0, sizeof *p);
    if (smtp__cert_parse(der, n, &ci)) return -1;
    smtp__dn_string(ci.subject, p->subject, sizeof p->subject);
    smtp__dn_string(ci.issuer, p->issuer, sizeof p->issuer);
    v = ci.validity;
    snprintf(p->not_before, sizeof p->not_before, "?");
    snprintf(p->not_after, sizeof p->not_after, "?");
    if (!smtp__der_next(&v, &tag, &t)) smtp__der_time(tag, t, p->not_before, sizeof p->not_before);
    if (!smtp__der_next(&v, &tag, &t)) smtp__der_time(tag, t, p->not_after, sizeof p->not_after);
    if (ci.san.p) smtp__san_string(ci.san, p->names, sizeof p->names);
    if (smtp__spki_key(ci.spki, &pk, kb, sizeof kb, &bits) != 0) snprintf(p->key, sizeof p->key, "other");
    else if (pk.key_type == BR_KEYTYPE_RSA) snprintf(p->key, sizeof p->key, "RSA %d", bits);
    else snprintf(p->key, sizeof p->key, "EC %s", pk.key.ec.curve == BR_EC_secp256r1 ? "P-256" :
                  pk.key.ec.curve == BR_EC_secp384r1 ? "P-384" : pk.key.ec.curve == BR_EC_secp521r1 ? "P-521" : "?");
    br_sha256_init(&c); br_sha256_update(&c, der, n); br_sha256_out(&c, p->sha256);
    br_sha256_init(&c); br_sha256_update(&c, ci.spki.p, ci.spki.n); br_sha256_out(&c, p->spki_sha256);
    return 0;
}

/* At the end of each certificate: our checks on its DER. The first
   failure is kept for end_chain. */
static void smtp__x509_check_cert(smtp__x509 *x)
{
    smtp__cert_info ci;
    int checking = x->verify != SMTP_VERIFY_NONE, rsa_bits = 0, rc;
    if (x->policy || (x->index > 0 && !checking)) return;
    if (x->over) { x->policy = SMTP__ERR_BIG; return; }
    if (smtp__cert_parse(x->cert, x->cert_len, &ci)) { x->policy = SMTP__ERR_DER; return; }
    if (x->index == 0) (void)smtp__peer_describe(&x->peer, x->cert, x->cert_len);
    if (ci.weak_sig && !(ci.issuer.n == ci.subject.n && !memcmp(ci.issuer.p, ci.subject.p, ci.issuer.n)))
        x->weak_sig = 1;   /* minimal has no SHA-1 or MD5: a chain that needs one fails there */
    if (x->index > 0) {
        /* the constraints apply to the name we connected to, also when its check is off (NO_HOSTNAME) */
        if (ci.nc.p && smtp__nc_check(ci.nc, x->host, x->ip, x->ip_len)) x->policy = SMTP__ERR_NC;
        return;
    }
    if (x->has_pin) {
        unsigned char h[32];
        br_sha256_context c;
        br_sha256_init(&c); br_sha256_update(&c, x->cert, x->cert_len); br_sha256_out(&c, h);
        x->pin_ok = !memcmp(h, x->pin, 32);
        br_sha256_init(&c); br_sha256_update(&c, ci.spki.p, ci.spki.n); br_sha256_out(&c, h);
        x->pin_ok |= !memcmp(h, x->pin, 32);
    }
    rc = smtp__spki_key(ci.spki, &x->pkey, x->key, sizeof x->key, &rsa_bits);
    x->has_key = rc == 0;
    if (!checking) return;
    if (rc == 0 && x->pkey.key_type == BR_KEYTYPE_RSA && rsa_bits < 2048) x->policy = SMTP__ERR_RSA;
    else if (ci.eku.p && !smtp__eku_server(ci.eku)) x->policy = SMTP__ERR_EKU;
    else if (x->verify == SMTP_VERIFY_FULL) {
        int names = 0, m = ci.san.p ? smtp__san_match(ci.san, x->host, x->ip, x->ip_len, &names) : 0;
        if (m < 0) x->policy = SMTP__ERR_DER;
        else if (!names) x->policy = SMTP__ERR_NOSAN;
        else if (!m) x->policy = BR_ERR_X509_BAD_SERVER_NAME;
    }
}

static void smtp__x509_start_chain(const br_x509_class **ctx, const char *server_name)
{
    smtp__x509 *x = (smtp__x509 *)(void *)ctx;
    (void)server_name;   /* names are ours to check (x->host), minimal checks none */
    x->index = -1; x->over = 0; x->err = 0; x->policy = 0; x->relaxed = 0; x->chain_seen = 1;
    x->has_key = 0; x->pin_ok = 0; x->weak_sig = 0; x->cert_len = 0;
    memset(&x->peer, 0, sizeof x->peer);
    x->minimal.vtable->start_chain(&x->minimal.vtable, NULL);
}

static void smtp__x509_start_cert(const br_x509_class **ctx, uint32_t length)
{
    smtp__x509 *x = (smtp__x509 *)(void *)ctx;
    x->index++;
    x->cert_len = 0; x->over = 0;
    x->minimal.vtable->start_cert(&x->minimal.vtable, length);
}

static void smtp__x509_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
    smtp__x509 *x = (smtp__x509 *)(void *)ctx;
    if (!x->over && len <= sizeof x->cert - x->cert_len) {
        memcpy(x->cert + x->cert_len, buf, len);
        x->cert_len += len;
    } else x->over = 1;
    x->minimal.vtable->append(&x->minimal.vtable, buf, len);
}

static void smtp__x509_end_cert(const br_x509_class **ctx)
{
    smtp__x509 *x = (smtp__x509 *)(void *)ctx;
    x->minimal.vtable->end_cert(&x->minimal.vtable);
    smtp__x509_check_cert(x);
}

static unsigned smtp__x509_end_chain(const br_x509_class **ctx)
{
    smtp__x509 *x = (smtp__x509 *)(void *)ctx;
    unsigned err = x->minimal.vtable->end_chain(&x->minimal.vtable);
    x->err = err;
    x->peer.chain_length = x->index + 1;
    if (x->index < 0) return err ? err : BR_ERR_X509_EMPTY_CHAIN;
    if (x->policy == SMTP__ERR_DER || x->policy == SMTP__ERR_BIG) return x->policy;
    if (x->has_pin && !x->pin_ok) return SMTP__ERR_PIN;
    if (x->verify != SMTP_VERIFY_NONE) {
        if (x->policy) return x->policy;
        if (x->has_pin && err == BR_ERR_X509_NOT_TRUSTED) err = 0;   /* the pin is the trust */
        if (err && x->weak_sig && err != BR_ERR_X509_EXPIRED && err != BR_ERR_X509_NOT_TRUSTED) return SMTP__ERR_SHA1;
        if (err) return err;
    }
    if (x->err) {          /* minimal refused, we accept: the key comes from our own reader */
        if (!x->has_key) return SMTP__ERR_KEY;
        x->relaxed = 1;
    }
    return 0;
}

static const br_x509_pkey *smtp__x509_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
    smtp__x509 *x = (smtp__x509 *)(void *)ctx;
    if (!x->relaxed) return x->minimal.vtable->get_pkey(&x->minimal.vtable, usages);
    if (usages) *usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
    return &x->pkey;
}

static const br_x509_class smtp__x509_vtable = {
    sizeof(smtp__x509), smtp__x509_start_chain, smtp__x509_start_cert, smtp__x509_append,
    smtp__x509_end_cert, smtp__x509_end_chain, smtp__x509_get_pkey
};

/* The settings of the checks, once x->minimal is initialised (by
   br_ssl_client_init_full in the handshake): SHA-1 and MD5 signatures
   and RSA keys under 2048 bits refused by minimal too; host is the name
   checked (an IP literal is checked against iPAddress names); pin is a
   SHA-256 or NULL. */
static void smtp__x509_setup(smtp__x509 *x, int verify, const char *host, const unsigned char *pin)
{
    x->vtable = &smtp__x509_vtable;
    br_x509_minimal_set_hash(&x->minimal, br_md5_ID, NULL);
    br_x509_minimal_set_hash(&x->minimal, br_sha1_ID, NULL);
    br_x509_minimal_set_minrsa(&x->minimal, 256);
#ifdef SMTP_TIME   /* the program's clock for certificate dates (a device without a real-time clock) */
    {
        long long now = (long long)SMTP_TIME();
        br_x509_minimal_set_time(&x->minimal, (uint32_t)(now / 86400 + 719528), (uint32_t)(now % 86400));
    }
#endif
    x->verify = verify;
    x->host = host;
    x->ip_len = 0;
    if (host && inet_pton(AF_INET, host, x->ip) == 1) x->ip_len = 4;
    else if (host && inet_pton(AF_INET6, host, x->ip) == 1) x->ip_len = 16;
    x->has_pin = pin != NULL;
    if (pin) memcpy(x->pin, pin, 32);
}

/* For tests and the fuzzer: the checks without a TLS engine. */
static SMTP__MAYBE_UNUSED void smtp__x509_init(smtp__x509 *x, const br_x509_trust_anchor *ta, size_t ta_n, int verify,
                            const char *host, const unsigned char *pin)
{
    memset(x, 0, sizeof *x);
    br_x509_minimal_init_full(&x->minimal, ta, ta_n);
    smtp__x509_setup(x, verify, host, pin);
}

/* BearSSL's error codes in words. */
static const char *smtp__br_error(unsigned e)
{
    static const struct { unsigned code; const char *text; } t[] = {
        { BR_ERR_BAD_PARAM, "bad parameter" }, { BR_ERR_BAD_STATE, "bad state" },
        { BR_ERR_UNSUPPORTED_VERSION, "the server does not speak a TLS version we allow" },
        { BR_ERR_BAD_VERSION, "the server sent a bad version" },
        { BR_ERR_BAD_LENGTH, "a record of impossible length (is the server speaking TLS?)" },
        { BR_ERR_TOO_LARGE, "a record too large" }, { BR_ERR_BAD_MAC, "a record failed its MAC check" },
        { BR_ERR_NO_RANDOM, "no random source" },
        { BR_ERR_UNKNOWN_TYPE, "a record of unknown type (is the server speaking TLS?)" },
        { BR_ERR_UNEXPECTED, "an unexpected message" }, { BR_ERR_BAD_CCS, "a bad ChangeCipherSpec" },
        { BR_ERR_BAD_ALERT, "a bad alert" }, { BR_ERR_BAD_HANDSHAKE, "a malformed handshake message" },
        { BR_ERR_OVERSIZED_ID, "an oversized session id" },
        { BR_ERR_BAD_CIPHER_SUITE, "no cipher suite in common" },
        { BR_ERR_BAD_COMPRESSION, "an unsupported compression" }, { BR_ERR_BAD_FRAGLEN, "a bad fragment length" },
        { BR_ERR_BAD_SECRENEG, "a bad secure renegotiation" }, { BR_ERR_EXTRA_EXTENSION, "an unexpected extension" },
        { BR_ERR_BAD_SNI, "a bad server name" }, { BR_ERR_BAD_HELLO_DONE, "a bad ServerHelloDone" },
        { BR_ERR_LIMIT_EXCEEDED, "a limit was exceeded (too many certificates?)" },
        { BR_ERR_BAD_FINISHED, "a bad Finished message" }, { BR_ERR_RESUME_MISMATCH, "a resumption mismatch" },
        { BR_ERR_INVALID_ALGORITHM, "an invalid algorithm" }, { BR_ERR_BAD_SIGNATURE, "a bad signature" },
        { BR_ERR_WRONG_KEY_USAGE, "the key may not be used this way" },
        { BR_ERR_NO_CLIENT_AUTH, "the server wants a client certificate and none was given" },
        { BR_ERR_IO, "an I/O error" },
        { BR_ERR_X509_INVALID_VALUE, "certificate: invalid value" }, { BR_ERR_X509_TRUNCATED, "certificate: truncated" },
        { BR_ERR_X509_EMPTY_CHAIN, "the server sent no certificate" },
        { BR_ERR_X509_INNER_TRUNC, "certificate: inner element truncated" },
        { BR_ERR_X509_BAD_TAG_CLASS, "certificate: bad tag class" },
        { BR_ERR_X509_BAD_TAG_VALUE, "certificate: bad tag value" },
        { BR_ERR_X509_INDEFINITE_LENGTH, "certificate: indefinite length" },
        { BR_ERR_X509_EXTRA_ELEMENT, "certificate: extra element" },
        { BR_ERR_X509_UNEXPECTED, "certificate: unexpected element" },
        { BR_ERR_X509_NOT_CONSTRUCTED, "certificate: not constructed" },
        { BR_ERR_X509_NOT_PRIMITIVE, "certificate: not primitive" },
        { BR_ERR_X509_PARTIAL_BYTE, "certificate: partial byte" }, { BR_ERR_X509_BAD_BOOLEAN, "certificate: bad boolean" },
        { BR_ERR_X509_OVERFLOW, "certificate: overflow" }, { BR_ERR_X509_BAD_DN, "certificate: bad name" },
        { BR_ERR_X509_BAD_TIME, "certificate: bad time" },
        { BR_ERR_X509_UNSUPPORTED, "certificate: unsupported feature" },
        { BR_ERR_X509_LIMIT_EXCEEDED, "certificate: a limit was exceeded (chain too long?)" },
        { BR_ERR_X509_WRONG_KEY_TYPE, "certificate: wrong key type" },
        { BR_ERR_X509_BAD_SIGNATURE, "certificate: bad signature" },
        { BR_ERR_X509_TIME_UNKNOWN, "certificate: the time is unknown" },
        { BR_ERR_X509_EXPIRED, "the certificate has expired or is not yet valid" },
        { BR_ERR_X509_DN_MISMATCH, "certificate: issuer and subject names do not chain" },
        { BR_ERR_X509_BAD_SERVER_NAME, "the certificate is not for this host name" },
        { BR_ERR_X509_CRITICAL_EXTENSION, "certificate: unsupported critical extension" },
        { BR_ERR_X509_NOT_CA, "certificate: an issuer is not a CA" },
        { BR_ERR_X509_FORBIDDEN_KEY_USAGE, "certificate: key usage forbids TLS" },
        { BR_ERR_X509_WEAK_PUBLIC_KEY, "certificate: a key is too weak (RSA under 2048 bits)" },
        { BR_ERR_X509_NOT_TRUSTED, "the certificate's issuer is unknown (not signed by a trusted CA, or self-signed)" },
        { SMTP__ERR_PIN, "the certificate does not match the pinned fingerprint (tls_fingerprint)" },
        { SMTP__ERR_DER, "a certificate is not well-formed DER (or has bytes after it)" },
        { SMTP__ERR_BIG, "a certificate is larger than SMTP_CERT_MAX (8192 bytes unless defined otherwise)" },
        { SMTP__ERR_NOSAN, "the certificate has no subjectAltName with a DNS name or IP address "
                           "(a name only in the subject's CN is refused, as browsers refuse it)" },
        { SMTP__ERR_EKU, "the certificate's extendedKeyUsage does not allow serverAuth" },
        { SMTP__ERR_RSA, "the server's RSA key is shorter than 2048 bits" },
        { SMTP__ERR_SHA1, "a certificate of the chain is signed with SHA-1 or MD5, which are refused" },
        { SMTP__ERR_NC, "the host name is outside the name constraints of an issuing CA" },
        { SMTP__ERR_KEY, "the server's key is neither RSA nor EC on P-256, P-384 or P-521" }
    };
    size_t i;
    for (i = 0; i < sizeof t / sizeof *t; i++)
        if (t[i].code == e) return t[i].text;
    return "an unknown TLS error";
}

static const char *smtp__alert_name(unsigned a)
{
    switch (a) {
    case 10: return "unexpected_message"; case 20: return "bad_record_mac";
    case 40: return "handshake_failure"; case 42: return "bad_certificate";
    case 43: return "unsupported_certificate"; case 45: return "certificate_expired";
    case 46: return "certificate_unknown"; case 47: return "illegal_parameter";
    case 48: return "unknown_ca"; case 50: return "decode_error"; case 51: return "decrypt_error";
    case 70: return "protocol_version"; case 71: return "insufficient_security";
    case 80: return "internal_error"; case 86: return "inappropriate_fallback";
    case 112: return "unrecognized_name"; case 116: return "certificate_required";
    default: return "alert";
    }
}

static int smtp__is_cert_error(unsigned e)
{
    return e >= BR_ERR_X509_OK && e < BR_ERR_RECV_FATAL_ALERT;   /* ours (200..208) too */
}

/* The engine closed: its error in words, in s->detail; the result code. */
static smtp_result smtp__tls_failed(smtp_session *s, const char *when)
{
    unsigned e = (unsigned)br_ssl_engine_last_error(&s->tls.sc.eng);
    s->sec.err = e;
    if (e == BR_ERR_OK)
        return smtp__fail(s, SMTP_ERR_CLOSED, "%s closed the TLS connection %s", s->link.peer, when);
    if (e >= BR_ERR_SEND_FATAL_ALERT)
        return smtp__fail(s, SMTP_ERR_TLS, "TLS with %s failed %s: we sent alert %u (%s)", s->link.peer, when,
                          e - BR_ERR_SEND_FATAL_ALERT, smtp__alert_name(e - BR_ERR_SEND_FATAL_ALERT));
    if (e >= BR_ERR_RECV_FATAL_ALERT) {
        unsigned a = e - BR_ERR_RECV_FATAL_ALERT;
        int hint = !s->tls.client && (a == 40 || a == 42 || a == 116);
        return smtp__fail(s, SMTP_ERR_TLS, "TLS with %s failed %s: the server sent alert %u (%s)%s", s->link.peer,
                          when, a, smtp__alert_name(a),
                          hint ? "; it may want a client certificate (cfg.tls_cert_file)" : "");
    }
    if (smtp__is_cert_error(e))
        return smtp__fail(s, SMTP_ERR_CERT, "the certificate of %s was refused: %s (BearSSL error %u)",
                          s->link.peer, smtp__br_error(e), e);
    return smtp__fail(s, SMTP_ERR_TLS, "TLS with %s failed %s: %s (BearSSL error %u)%s", s->link.peer, when,
                      smtp__br_error(e), e,
                      (e == BR_ERR_UNSUPPORTED_VERSION || e == BR_ERR_BAD_VERSION) && !strcmp(when, "during the handshake")
                      ? "; no TLS record came back: a cleartext server answers with its greeting" : "");
}

/* One step of record I/O: send what the engine has to send, else read
   what it waits for. 1: done; 0: it would block (stepped); errors from
   the layer below come back as they are. */
static int smtp__tls_pump(smtp_session *s, smtp__ms dl)
{
    br_ssl_engine_context *eng = &s->tls.sc.eng;
    unsigned st = br_ssl_engine_current_state(eng);
    unsigned char *buf;
    size_t len;
    int r;
    if (st & BR_SSL_CLOSED) return SMTP_ERR_TLS;
    if (st & BR_SSL_SENDREC) {
        buf = br_ssl_engine_sendrec_buf(eng, &len);
        if ((r = s->tls.lower.write(s, buf, len, dl)) <= 0) return r;
        br_ssl_engine_sendrec_ack(eng, (size_t)r);
        return 1;
    }
    if (st & BR_SSL_RECVREC) {
        buf = br_ssl_engine_recvrec_buf(eng, &len);
        if ((r = s->tls.lower.read(s, buf, len, dl)) <= 0) return r;
        br_ssl_engine_recvrec_ack(eng, (size_t)r);
        return 1;
    }
    return SMTP_ERR_TLS;
}

static int smtp__tls_read(smtp_session *s, void *out, size_t len, smtp__ms dl)
{
    br_ssl_engine_context *eng = &s->tls.sc.eng;
    for (;;) {
        unsigned st = br_ssl_engine_current_state(eng);
        int r;
        if (st & BR_SSL_CLOSED) return smtp__tls_failed(s, "while reading");
        if (st & BR_SSL_RECVAPP) {
            size_t n;
            unsigned char *b = br_ssl_engine_recvapp_buf(eng, &n);
            if (n > len) n = len;
            if (n > INT_MAX) n = INT_MAX;
            memcpy(out, b, n);
            br_ssl_engine_recvapp_ack(eng, n);
            return (int)n;
        }
        if ((r = smtp__tls_pump(s, dl)) <= 0)
            return r == SMTP_ERR_TLS ? smtp__tls_failed(s, "while reading") : r;
    }
}

/* Takes buf into the engine and sends its records: all of it, or
   (stepped) what could go now. Bytes taken are sent by later pumps even
   when the socket was full (every read pumps out what waits first). */
static int smtp__tls_write(smtp_session *s, const void *data, size_t len, smtp__ms dl)
{
    br_ssl_engine_context *eng = &s->tls.sc.eng;
    const unsigned char *p = (const unsigned char *)data;
    size_t done = 0;
    int r;
    if (len > INT_MAX) len = INT_MAX;
    while (done < len) {
        unsigned st = br_ssl_engine_current_state(eng);
        if (st & BR_SSL_CLOSED) return smtp__tls_failed(s, "while writing");
        if (st & BR_SSL_SENDAPP) {
            size_t n;
            unsigned char *b = br_ssl_engine_sendapp_buf(eng, &n);
            if (n > len - done) n = len - done;
            memcpy(b, p + done, n);
            br_ssl_engine_sendapp_ack(eng, n);
            done += n;
            continue;
        }
        if ((r = smtp__tls_pump(s, dl)) <= 0) {
            if (r == 0 && done) break;
            return r == SMTP_ERR_TLS ? smtp__tls_failed(s, "while writing") : r;
        }
    }
    br_ssl_engine_flush(eng, 0);
    while (br_ssl_engine_current_state(eng) & BR_SSL_SENDREC)
        if ((r = smtp__tls_pump(s, dl)) <= 0) {
            if (r == 0) break;   /* stepped: the records wait in the engine */
            return r == SMTP_ERR_TLS ? smtp__tls_failed(s, "while writing") : r;
        }
    return (int)done;
}

/* close_notify, sent without waiting for the server's (some never answer). */
static void smtp__tls_close(smtp_session *s)
{
    br_ssl_engine_context *eng = &s->tls.sc.eng;
    smtp__ms dl = smtp__deadline(200);
    br_ssl_engine_close(eng);
    while (br_ssl_engine_current_state(eng) & BR_SSL_SENDREC) {
        size_t n;
        unsigned char *b = br_ssl_engine_sendrec_buf(eng, &n);
        int w = s->tls.lower.write(s, b, n, dl);
        if (w <= 0) break;
        br_ssl_engine_sendrec_ack(eng, (size_t)w);
    }
    s->sec.on = 0;
    s->tls.lower.close(s);
}



/* "AB:CD:..." or "abcd..." (64 hex digits) into 32 bytes. */
static int smtp__parse_pin(const char *h, unsigned char out[32])
{
    int n = 0;
    for (; *h; h++) {
        int v;
        if (*h == ':' || *h == ' ') continue;
        v = smtp__hexval(*h);
        if (v < 0 || n >= 64) return -1;
        if (n % 2 == 0) out[n / 2] = (unsigned char)(v << 4);
        else out[n / 2] = (unsigned char)(out[n / 2] | v);
        n++;
    }
    return n == 64 ? 0 : -1;
}

/* The resumption cache: the newest sessions, keyed by everything that
   decided their verification. */
#define SMTP__CACHE_N 8
struct smtp_tls_cache {
    struct { char key[600]; br_ssl_session_parameters p; unsigned long long stamp; } e[SMTP__CACHE_N];
    unsigned long long clock;
};

SMTP_API smtp_tls_cache *smtp_tls_cache_new(void)
{
    smtp_tls_cache *c = (smtp_tls_cache *)SMTP_MALLOC(sizeof *c);
    if (c) memset(c, 0, sizeof *c);
    return c;
}

SMTP_API void smtp_tls_cache_free(smtp_tls_cache *c)
{
    if (!c) return;
    smtp__wipe(c, sizeof *c);   /* master secrets */
    SMTP_FREE(c);
}

/* A client certificate: its chain (DER copies) and its private key (kept
   inside the decoder that decoded it). */
#define SMTP__CHAIN_MAX 8
typedef struct smtp__client {
    br_skey_decoder_context key;
    br_x509_certificate chain[SMTP__CHAIN_MAX];
    size_t n;
    int what, keys, nomem;              /* what: 1 in a certificate, 2 in a key */
    unsigned char *cur; size_t cur_len, cur_cap;   /* the object being read (DER) */
} smtp__client;

static void smtp__client_begin(void *ctx, const char *name)
{
    smtp__client *c = (smtp__client *)ctx;
    size_t nl = strlen(name);
    c->what = 0;
    c->cur = NULL; c->cur_len = c->cur_cap = 0;
    if (smtp__is_cert_pem(name) && c->n < SMTP__CHAIN_MAX) c->what = 1;
    else if (nl >= 11 && !strcmp(name + nl - 11, "PRIVATE KEY") && !c->keys) c->what = 2;
}

static void smtp__client_data(void *ctx, const void *p, size_t n)
{
    smtp__client *c = (smtp__client *)ctx;
    if (c->what && !c->nomem && smtp__append(&c->cur, &c->cur_len, &c->cur_cap, p, n)) c->nomem = 1;
}

static void smtp__client_end(void *ctx)
{
    smtp__client *c = (smtp__client *)ctx;
    if (c->what == 1 && c->cur) { c->chain[c->n].data = c->cur; c->chain[c->n++].data_len = c->cur_len; c->cur = NULL; }
    if (c->what == 2) {   /* one push of exactly the key's DER (see smtp__loader) */
        c->keys++;
        br_skey_decoder_init(&c->key);
        if (c->cur && !smtp__der_whole(c->cur, c->cur_len)) br_skey_decoder_push(&c->key, c->cur, c->cur_len);
        /* else: not DER, no key (reported below) */
        smtp__wipe(c->cur, c->cur_cap);
        SMTP_FREE(c->cur);
        c->cur = NULL;
    }
    c->what = 0;
}

static void smtp__client_free(smtp__client *c)
{
    size_t i;
    if (!c) return;
    for (i = 0; i < c->n; i++) SMTP_FREE(c->chain[i].data);
    SMTP_FREE(c->cur);
    memset(c, 0, sizeof *c);            /* the private key goes with it */
    SMTP_FREE(c);
}

/* The resumption key: host, port, mode, versions, the verification mode,
   and a SHA-256 over everything that decided the verification: the whole
   trust store's anchors (whichever way they were given), the pin, and
   the client certificate chain. "" when the session may not be kept (its
   certificate was not fully checked). */
static void smtp__cache_key(const smtp_session *s, char *key, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const smtp_trust *t = s->cfg.trust ? s->cfg.trust : s->tls.own;
    br_sha256_context c;
    unsigned char d[32];
    char dh[65];
    size_t i;
    key[0] = 0;
    if (s->cfg.tls_verify != SMTP_VERIFY_FULL && !s->cfg.tls_fingerprint) return;
    br_sha256_init(&c);
    br_sha256_update(&c, "trust", 6);
    if (t) br_sha256_update(&c, t->digest, 32);
    br_sha256_update(&c, "pin", 4);
    if (s->cfg.tls_fingerprint) br_sha256_update(&c, s->tls.x.pin, 32);
    br_sha256_update(&c, "client", 7);
    if (s->tls.client)
        for (i = 0; i < s->tls.client->n; i++)
            br_sha256_update(&c, s->tls.client->chain[i].data, s->tls.client->chain[i].data_len);
    br_sha256_out(&c, d);
    for (i = 0; i < 32; i++) { dh[2 * i] = hex[d[i] >> 4]; dh[2 * i + 1] = hex[d[i] & 15]; }
    dh[64] = 0;
    snprintf(key, n, "%s|%d|%d|%u|%d|%s", s->sec.name, s->cfg.port, (int)s->sec.mode_try, s->cfg.tls_versions,
             s->cfg.tls_verify, dh);
}

/* Loads cfg.tls_cert_* and cfg.tls_key_* (either text may hold both). */
static smtp_result smtp__tls_client(smtp_session *s)
{
    smtp__client *c;
    smtp__pem_sink k;
    const char *src[2], *what[2];
    char ebuf[128];
    int i;
    if (s->tls.client || (!s->cfg.tls_cert_file && !s->cfg.tls_cert_pem)) return SMTP_OK;
    c = (smtp__client *)SMTP_MALLOC(sizeof *c);
    if (!c) return smtp__fail(s, SMTP_ERR_NOMEM, "out of memory for the client certificate");
    memset(c, 0, sizeof *c);
    s->tls.client = c;
    k.begin = smtp__client_begin; k.data = smtp__client_data; k.end = smtp__client_end; k.ctx = c;
    src[0] = s->cfg.tls_cert_file; what[0] = s->cfg.tls_cert_pem;
    src[1] = s->cfg.tls_key_file;  what[1] = s->cfg.tls_key_pem;
    for (i = 0; i < 2; i++) {
        char *buf = NULL;
        size_t n = 0;
        int e, bad;
        const char *name = src[i] ? src[i] : i ? "cfg.tls_key_pem" : "cfg.tls_cert_pem";
        if (src[i]) {
            if ((e = smtp__read_file(src[i], &buf, &n)) != 0)
                return smtp__fail(s, SMTP_ERR_CERT, "cannot read the client %s file %s: %s", i ? "key" : "certificate",
                                  src[i], smtp__file_error(e, ebuf, sizeof ebuf));
            bad = smtp__pem_each(buf, n, &k);
            SMTP_FREE(buf);
        } else if (what[i]) bad = smtp__pem_each(what[i], strlen(what[i]), &k);
        else continue;
        if (bad) return smtp__fail(s, SMTP_ERR_CERT, "%s is not valid PEM", name);
    }
    if (c->nomem) return smtp__fail(s, SMTP_ERR_NOMEM, "out of memory for the client certificate");
    if (c->n == 0) return smtp__fail(s, SMTP_ERR_CERT, "no certificate in the client certificate PEM");
    if (!c->keys || br_skey_decoder_last_error(&c->key) != 0 || br_skey_decoder_key_type(&c->key) == 0)
        return smtp__fail(s, SMTP_ERR_CERT, "no usable private key (RSA or EC) for the client certificate "
                          "(cfg.tls_key_file or cfg.tls_key_pem)");
    return SMTP_OK;
}

/* Loads the trust this session uses when cfg.trust names none. */
static smtp_result smtp__tls_trust(smtp_session *s)
{
    char d[300];
    smtp_result r;
    if (s->cfg.trust || s->tls.own || s->cfg.tls_verify == SMTP_VERIFY_NONE) return SMTP_OK;
    if (s->cfg.tls_fingerprint && !s->cfg.ca_file && !s->cfg.ca_pem) return SMTP_OK;  /* the pin alone */
    if (s->cfg.ca_pem) r = smtp_trust_load_pem(&s->tls.own, s->cfg.ca_pem, s->cfg.ca_pem_len ? s->cfg.ca_pem_len : strlen(s->cfg.ca_pem), d, sizeof d);
    else if (s->cfg.ca_file) r = smtp_trust_load_file(&s->tls.own, s->cfg.ca_file, d, sizeof d);
    else r = smtp_trust_load_system(&s->tls.own, d, sizeof d);
    if (r) return smtp__fail(s, r, "cannot load the trusted certificates: %s", d);
    return SMTP_OK;
}

/* The version and suite a finished handshake agreed on, by name. */
static const char *smtp__tls_vname(const br_ssl_engine_context *eng)
{
    unsigned v = br_ssl_engine_get_version(eng);
    return v >= BR_TLS10 && v <= BR_TLS12 ? smtp__name_of(smtp__tls_names, 1u << (v - BR_TLS10)) : "TLS";
}

static const char *smtp__suite_name(unsigned cs)
{
    switch (cs) {
    case BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: return "ECDHE-ECDSA-AES128-GCM-SHA256";
    case BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: return "ECDHE-RSA-AES128-GCM-SHA256";
    case BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: return "ECDHE-ECDSA-AES256-GCM-SHA384";
    case BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: return "ECDHE-RSA-AES256-GCM-SHA384";
    case BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: return "ECDHE-ECDSA-CHACHA20-POLY1305";
    case BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: return "ECDHE-RSA-CHACHA20-POLY1305";
    case BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: return "ECDHE-ECDSA-AES128-SHA256";
    case BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: return "ECDHE-RSA-AES128-SHA256";
    case BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: return "ECDHE-ECDSA-AES128-SHA";
    case BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: return "ECDHE-RSA-AES128-SHA";
    case BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: return "ECDHE-ECDSA-AES256-SHA";
    case BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: return "ECDHE-RSA-AES256-SHA";
    case BR_TLS_RSA_WITH_AES_128_GCM_SHA256: return "AES128-GCM-SHA256";
    case BR_TLS_RSA_WITH_AES_256_GCM_SHA384: return "AES256-GCM-SHA384";
    case BR_TLS_RSA_WITH_AES_128_CBC_SHA256: return "AES128-SHA256";
    case BR_TLS_RSA_WITH_AES_128_CBC_SHA: return "AES128-SHA";
    case BR_TLS_RSA_WITH_AES_256_CBC_SHA: return "AES256-SHA";
    default: return "unknown";
    }
}
static const char *smtp__tls_suite(const br_ssl_engine_context *eng)
{
    br_ssl_session_parameters p;
    br_ssl_engine_get_session_parameters(eng, &p);
    return smtp__suite_name(p.cipher_suite);
}

/* The engine for one handshake: trust, client certificate, suites (AES-GCM
   first where the CPU has AES-NI, 3.8 GB/s against ChaCha20's 0.5 here,
   else ChaCha20), the certificate checks, versions, buffer, entropy. */
static smtp_result smtp__tls_setup(smtp_session *s)
{
    static const uint16_t gcm_first[] = {
        BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
        BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
        BR_TLS_RSA_WITH_AES_128_GCM_SHA256, BR_TLS_RSA_WITH_AES_256_GCM_SHA384,
        BR_TLS_RSA_WITH_AES_128_CBC_SHA256, BR_TLS_RSA_WITH_AES_128_CBC_SHA, BR_TLS_RSA_WITH_AES_256_CBC_SHA
    };
    uint16_t suites[sizeof gcm_first / sizeof *gcm_first];
    br_ssl_engine_context *eng = &s->tls.sc.eng;
    smtp__x509 *x = &s->tls.x;
    const smtp_trust *t;
    unsigned char seed[32], pin[32];
    unsigned lo, hi;
    size_t i, ns = 0;
    smtp_result r;
    int aesni = br_aes_x86ni_ctr_get_vtable() != NULL;
    if ((r = smtp__tls_trust(s)) != SMTP_OK) return r;
    if ((r = smtp__tls_client(s)) != SMTP_OK) return r;
    t = s->cfg.trust ? s->cfg.trust : s->tls.own;
    br_ssl_client_init_full(&s->tls.sc, &x->minimal, t ? t->ta : NULL, t ? t->n : 0);
    if (s->tls.client) {
        smtp__client *c = s->tls.client;
        if (br_skey_decoder_key_type(&c->key) == BR_KEYTYPE_RSA)
            br_ssl_client_set_single_rsa(&s->tls.sc, c->chain, c->n, br_skey_decoder_get_rsa(&c->key),
                                         br_rsa_pkcs1_sign_get_default());
        else
            br_ssl_client_set_single_ec(&s->tls.sc, c->chain, c->n, br_skey_decoder_get_ec(&c->key),
                                        BR_KEYTYPE_SIGN, 0, br_ec_get_default(), br_ecdsa_sign_asn1_get_default());
    }
    if (!aesni) { suites[ns++] = gcm_first[4]; suites[ns++] = gcm_first[5]; }
    for (i = 0; i < sizeof gcm_first / sizeof *gcm_first; i++)
        if (aesni || (i != 4 && i != 5)) suites[ns++] = gcm_first[i];
    br_ssl_engine_set_suites(eng, suites, ns);
    if (s->cfg.tls_fingerprint && smtp__parse_pin(s->cfg.tls_fingerprint, pin) != 0)
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.tls_fingerprint must be 64 hex digits (SHA-256), colons allowed");
    smtp__x509_setup(x, s->cfg.tls_verify, s->sec.name, s->cfg.tls_fingerprint ? pin : NULL);
    br_ssl_engine_set_x509(eng, &x->vtable);
    for (lo = 0; !(s->cfg.tls_versions & (1u << lo)); lo++) {}
    for (hi = 3; !(s->cfg.tls_versions & (1u << hi)); hi--) {}
    if (hi > 2 || lo > 2)
        return smtp__fail(s, SMTP_ERR_UNSUPPORTED, "TLS 1.3 was required (smtp_config_set_tls_versions_unsafe) "
                          "but BearSSL speaks TLS 1.0 to 1.2");
    br_ssl_engine_set_versions(eng, BR_TLS10 + lo, BR_TLS10 + hi);
    br_ssl_engine_set_buffer(eng, s->tls.iobuf, sizeof s->tls.iobuf, sizeof s->tls.iobuf >= BR_SSL_BUFSIZE_BIDI);
    smtp__entropy(seed, sizeof seed);
    br_ssl_engine_inject_entropy(eng, seed, sizeof seed);
    memset(seed, 0, sizeof seed);
    return SMTP_OK;
}

/* Resumption (cfg.tls_cache): 1 when a fully verified session of the same
   server and settings was found and set in the engine. */
static int smtp__tls_resume(smtp_session *s)
{
    char key[600];
    int k, resume = 0;
    smtp__cache_key(s, key, sizeof key);
    if (s->cfg.tls_cache && key[0])
        for (k = 0; k < SMTP__CACHE_N; k++)
            if (s->cfg.tls_cache->e[k].stamp && !strcmp(s->cfg.tls_cache->e[k].key, key)) {
                br_ssl_engine_set_session_parameters(&s->tls.sc.eng, &s->cfg.tls_cache->e[k].p);
                resume = 1;
            }
    return resume;
}

/* Keeps the session's parameters in the cache, in its own slot or the oldest. */
static void smtp__tls_remember(smtp_session *s)
{
    smtp_tls_cache *c = s->cfg.tls_cache;
    char key[600];
    int k, slot = 0;
    if (!c) return;
    smtp__cache_key(s, key, sizeof key);
    if (!key[0]) return;
    for (k = 0; k < SMTP__CACHE_N; k++) {
        if (!strcmp(c->e[k].key, key)) { slot = k; break; }
        if (c->e[k].stamp < c->e[slot].stamp) slot = k;
    }
    snprintf(c->e[slot].key, sizeof c->e[slot].key, "%s", key);
    br_ssl_engine_get_session_parameters(&s->tls.sc.eng, &c->e[slot].p);
    c->e[slot].stamp = ++c->clock;
}

/* One pump of the handshake: SMTP_OK when it moved, SMTP_WANT_* when
   it must wait (stepped), or the failure that ended the session. */
static smtp_result smtp__hs_pump(smtp_session *s, int ms)
{
    int rr = smtp__tls_pump(s, s->sec.hs_dl);
    if (rr > 0) return SMTP_OK;
    if (rr == 0) return s->link.want;
    if (rr == SMTP_ERR_TLS) return smtp__break(s, smtp__tls_failed(s, "during the handshake"));
    if (rr == SMTP_ERR_TIMEOUT)
        return smtp__break(s, smtp__fail(s, SMTP_ERR_TIMEOUT, "the TLS handshake with %s did not finish "
                                         "within %d ms", s->link.peer, ms));
    if (rr == SMTP_ERR_CLOSED)
        return smtp__break(s, smtp__fail(s, SMTP_ERR_TLS, "%s closed the connection during the TLS "
                                         "handshake (does it speak TLS on this port?%s)", s->link.peer,
                                         s->tls.client ? "" : " does it want a client certificate?"));
    return smtp__break(s, smtp__fail(s, (smtp_result)rr, "the TLS handshake with %s failed: %s",
                                     s->link.peer, smtp_result_str((smtp_result)rr)));
}

/* TLS over the current transport (implicit, or after STARTTLS's 220): the
   engine set up, TLS pushed on the io slot, the handshake run to its end
   within ms (its deadline kept in sec.hs_dl). Resumable (SMTP__BEGIN). */
static smtp_result smtp__tls_handshake(smtp_session *s, int ms, int *pc)
{
    br_ssl_engine_context *eng = &s->tls.sc.eng;
    smtp__x509 *x = &s->tls.x;
    smtp_result r = SMTP_OK;
    unsigned st;
    int resume;
    SMTP__BEGIN(pc);
    if (s->rd.pos < s->rd.len)   /* after a proxy: the server spoke before TLS */
        SMTP__EXIT(r, smtp__break(s, smtp__fail(s, SMTP_ERR_PROTOCOL, "%s sent %d bytes before the TLS handshake",
                                                s->link.peer, (int)(s->rd.len - s->rd.pos))));
    if ((r = smtp__tls_setup(s)) != SMTP_OK) SMTP__EXIT(r, r);
    resume = smtp__tls_resume(s);
    x->chain_seen = 0;
    /* SNI carries names, never an IP literal (RFC 6066 3) */
    if (!br_ssl_client_reset(&s->tls.sc, x->ip_len ? NULL : s->sec.name, resume) ||
        br_ssl_engine_last_error(eng) != BR_ERR_OK)
        SMTP__EXIT(r, smtp__fail(s, SMTP_ERR_TLS, "cannot start TLS: BearSSL error %d", br_ssl_engine_last_error(eng)));
    s->tls.lower = s->link.io;
    s->link.io.read = smtp__tls_read;
    s->link.io.write = smtp__tls_write;
    s->link.io.close = smtp__tls_close;
    s->sec.on = 1;
    s->sec.hs_dl = smtp__deadline(ms);
    snprintf(s->rd.cmd, sizeof s->rd.cmd, "the TLS handshake");
    for (;;) {
        st = br_ssl_engine_current_state(eng);
        if (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP)) {
            char note[140];
            s->sec.resumed = !x->chain_seen;   /* no certificate came: the session was resumed */
            snprintf(note, sizeof note, "TLS established: %s, %s%s", smtp__tls_vname(eng), smtp__tls_suite(eng),
                     s->sec.resumed ? ", resumed" : "");
            smtp__note(s, note);
            smtp__tls_remember(s);
            SMTP__EXIT(r, SMTP_OK);
        }
        if (st & BR_SSL_CLOSED) SMTP__EXIT(r, smtp__break(s, smtp__tls_failed(s, "during the handshake")));
        SMTP__AWAIT(pc, r, smtp__hs_pump(s, ms));
        if (r) SMTP__EXIT(r, r);
    }
    SMTP__END(pc, r);
}


#else /* SMTP_NO_TLS */

SMTP_API smtp_result smtp_trust_load_system(smtp_trust **out, char *detail, size_t detail_size)
{
    if (out) *out = NULL;
    if (detail && detail_size) snprintf(detail, detail_size, "built with SMTP_NO_TLS: no TLS");
    return SMTP_ERR_UNSUPPORTED;
}
SMTP_API smtp_result smtp_trust_load_file(smtp_trust **out, const char *path, char *detail, size_t detail_size)
{
    (void)path;
    return smtp_trust_load_system(out, detail, detail_size);
}
SMTP_API smtp_result smtp_trust_load_pem(smtp_trust **out, const void *pem, size_t len, char *detail,
                                         size_t detail_size)
{
    (void)pem; (void)len;
    return smtp_trust_load_system(out, detail, detail_size);
}
SMTP_API size_t smtp_trust_count(const smtp_trust *t) { (void)t; return 0; }
SMTP_API void smtp_trust_free(smtp_trust *t) { (void)t; }
SMTP_API smtp_tls_cache *smtp_tls_cache_new(void) { return NULL; }
SMTP_API void smtp_tls_cache_free(smtp_tls_cache *c) { (void)c; }
#endif /* SMTP_NO_TLS */

/* ------------------------------------------------------------------------ */
/* >>reader  reply parser (pure), EHLO capabilities (pure), buffered reader */
/* ------------------------------------------------------------------------ */

/* ASCII case-insensitive comparisons, whatever the locale. */
static int smtp__casecmp(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
        if (x != y) return 1;
    }
    return *a != *b;
}

/* One reply line p[0..n), line end removed (RFC 5321 4.2: Reply-code
   [ ("-" / SP) textstring ]). Sets code, last (SP or nothing after the
   code) and the text. SMTP_OK or SMTP_ERR_PROTOCOL. */
static int smtp__reply_line(const char *p, size_t n, int *code, int *last,
                            const char **text, size_t *tn)
{
    if (n < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9' ||
        p[2] < '0' || p[2] > '9')
        return SMTP_ERR_PROTOCOL;
    if (memchr(p, 0, n)) return SMTP_ERR_PROTOCOL;
    *code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    if (n == 3) { *last = 1; *text = p + 3; *tn = 0; return SMTP_OK; }
    if (p[3] == ' ') *last = 1;
    else if (p[3] == '-') *last = 0;
    else return SMTP_ERR_PROTOCOL;
    *text = p + 4; *tn = n - 4;
    return SMTP_OK;
}

/* Incremental reply parser (smtp__reply_parser): state over the bytes of
   one reply, from its first byte. */
/* Called once per complete line: raw line, its text, its index. */
typedef void (*smtp__line_fn)(void *user, const char *line, size_t n,
                              const char *text, size_t tn, int index);

/* Feeds buf[0..len): every byte of this reply received so far (buf does
   not move between calls, or moves with its start). Returns the reply's
   length once its last line is in, 0 when more bytes are needed, or
   SMTP_ERR_PROTOCOL (a malformed line, lines that disagree on the code). */
static long smtp__reply_feed(smtp__reply_parser *rp, const char *buf, size_t len,
                             smtp__line_fn fn, void *user)
{
    while (rp->off < len) {
        const char *p = buf + rp->off, *nl, *text;
        size_t n, tn;
        int code, last;
        nl = (const char *)memchr(p, '\n', len - rp->off);
        if (!nl) return 0;
        n = (size_t)(nl - p);
        if (n && p[n - 1] == '\r') n--;
        if (smtp__reply_line(p, n, &code, &last, &text, &tn) != SMTP_OK) return SMTP_ERR_PROTOCOL;
        if (rp->lines && code != rp->code) return SMTP_ERR_PROTOCOL;
        rp->code = code;
        if (fn) fn(user, p, n, text, tn, rp->lines);
        rp->lines++;
        rp->off = (size_t)(nl - buf) + 1;
        if (last) return (long)rp->off;
    }
    return 0;
}

/* RFC 3463 enhanced status code at the start of a reply text: class "."
   subject "." detail, class matching the reply code's first digit, 1-3
   digits each. Copies it to out; returns the bytes to strip (with one
   following space), 0 when the text has none. */
static size_t smtp__enhanced(const char *t, size_t n, int code, char out[16])
{
    size_t i = 2, j;
    int part;
    if (n < 5 || (t[0] != '2' && t[0] != '4' && t[0] != '5') || t[0] - '0' != code / 100 ||
        t[1] != '.')
        return 0;
    for (part = 0; part < 2; part++) {
        for (j = i; i < n && i - j < 4 && t[i] >= '0' && t[i] <= '9'; i++) {}
        if (i == j || i - j > 3) return 0;
        if (part == 0) {
            if (i >= n || t[i] != '.') return 0;
            i++;
        }
    }
    if (i < n && t[i] != ' ') return 0;
    memcpy(out, t, i);
    out[i] = 0;
    return i < n ? i + 1 : i;
}

/* One EHLO keyword line (not the first line of the reply, which names the
   server): RFC 5321 4.1.1.1 ehlo-line = keyword *(SP param). */
static void smtp__ehlo_line(const char *t, size_t n, unsigned *ext, unsigned *auth,
                            unsigned long *size)
{
    size_t k = 0, i;
    while (k < n && t[k] != ' ' && t[k] != '=') k++;
    if (smtp__ieq(t, k, "SIZE")) {
        unsigned long v = 0;
        *ext |= SMTP_EXT_SIZE;
        for (i = k + 1; i < n && t[i] >= '0' && t[i] <= '9'; i++)
            v = v > (ULONG_MAX - 9) / 10 ? ULONG_MAX : v * 10 + (unsigned long)(t[i] - '0');
        *size = v;
    } else if (smtp__ieq(t, k, "PIPELINING")) *ext |= SMTP_EXT_PIPELINING;
    else if (smtp__ieq(t, k, "8BITMIME")) *ext |= SMTP_EXT_8BITMIME;
    else if (smtp__ieq(t, k, "SMTPUTF8")) *ext |= SMTP_EXT_SMTPUTF8;
    else if (smtp__ieq(t, k, "STARTTLS")) *ext |= SMTP_EXT_STARTTLS;
    else if (smtp__ieq(t, k, "CHUNKING")) *ext |= SMTP_EXT_CHUNKING;
    else if (smtp__ieq(t, k, "DSN")) *ext |= SMTP_EXT_DSN;
    else if (smtp__ieq(t, k, "ENHANCEDSTATUSCODES")) *ext |= SMTP_EXT_ENHANCEDSTATUSCODES;
    else if (smtp__ieq(t, k, "AUTH")) {
        /* "AUTH PLAIN LOGIN" and the old "AUTH=PLAIN LOGIN" form */
        *ext |= SMTP_EXT_AUTH;
        for (i = k; i < n;) {
            size_t b;
            while (i < n && (t[i] == ' ' || t[i] == '=')) i++;
            for (b = i; i < n && t[i] != ' '; i++) {}
            const smtp__name *m = smtp__name_find(smtp__auth_names, 0, t + b, i - b);
            if (m) *auth |= m->value;
        }
    }
}


typedef struct smtp__rctx { smtp_session *s; int ehlo; } smtp__rctx;

/* Per line of a reply: trace it, keep its text, learn EHLO keywords. */
static void smtp__on_line(void *user, const char *line, size_t n, const char *t, size_t tn,
                          int index)
{
    smtp__rctx *c = (smtp__rctx *)user;
    smtp_session *s = c->s;
    size_t room, skip = 0;
    smtp__trace(s, SMTP_TRACE_IN, line, n);
    if (c->ehlo) {
        if (index > 0) smtp__ehlo_line(t, tn, &s->caps.ext, &s->caps.auth, &s->caps.size_max);
    } else {
        char st[16];
        int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        skip = smtp__enhanced(t, tn, code, st);
        if (skip && index == 0) memcpy(s->rd.reply.status, st, sizeof st);
        else if (skip && strcmp(st, s->rd.reply.status) != 0) skip = 0;
    }
    t += skip; tn -= skip;
    if (index > 0 && s->rd.reply.len + 1 < sizeof s->rd.text) s->rd.text[s->rd.reply.len++] = '\n';
    room = sizeof s->rd.text - 1 - s->rd.reply.len;
    if (tn > room) tn = room;
    memcpy(s->rd.text + s->rd.reply.len, t, tn);
    s->rd.reply.len += tn;
    s->rd.text[s->rd.reply.len] = 0;
}

/* The reply text on one line, for messages: "550 5.1.1 text / more". */
static const char *smtp__reply_str(smtp_session *s, char *buf, size_t n)
{
    size_t i, o;
    o = (size_t)snprintf(buf, n, "%d%s%s ", s->rd.reply.code, s->rd.reply.status[0] ? " " : "",
                         s->rd.reply.status);
    for (i = 0; i < s->rd.reply.len && o + 4 < n; i++) {
        if (s->rd.text[i] == '\n') { memcpy(buf + o, " / ", 3); o += 3; }
        else buf[o++] = s->rd.text[i];
    }
    if (o >= n) o = n - 1;
    while (o > 0 && buf[o - 1] == ' ') o--;
    buf[o] = 0;
    return buf;
}

/* The loop of smtp__read_reply: feeds what is buffered, reads more. */
static smtp_result smtp__read_more(smtp_session *s)
{
    smtp__reply_parser *rp = &s->rd.rp;
    smtp__rctx c;
    char ebuf[128];
    c.s = s; c.ehlo = s->rd.ehlo;
    for (;;) {
        long r = smtp__reply_feed(rp, (const char *)s->rd.buf + s->rd.pos, s->rd.len - s->rd.pos,
                                  smtp__on_line, &c);
        int n;
        if (r > 0) {
            s->rd.pos += (size_t)r;
            if (s->rd.pos == s->rd.len) s->rd.pos = s->rd.len = 0;
            s->rd.reply.code = rp->code;
            s->rd.reply.lines = rp->lines;
            s->conn.last_reply = smtp__now();
            return SMTP_OK;
        }
        if (r < 0) {
            char seen[84];
            smtp__visible(seen, sizeof seen, s->rd.buf + s->rd.pos + rp->off, s->rd.len - s->rd.pos - rp->off);
            return smtp__break(s, smtp__fail(s, SMTP_ERR_PROTOCOL,
                "malformed reply to %s from %s (line %d): \"%s\"", s->rd.cmd, s->link.peer, rp->lines + 1, seen));
        }
        if (s->rd.pos > 0) {
            memmove(s->rd.buf, s->rd.buf + s->rd.pos, s->rd.len - s->rd.pos);
            s->rd.len -= s->rd.pos;
            s->rd.pos = 0;
        }
        if (s->rd.len == sizeof s->rd.buf)
            return smtp__break(s, smtp__fail(s, SMTP_ERR_TOO_LONG,
                "the reply to %s from %s is longer than %d bytes", s->rd.cmd, s->link.peer,
                (int)sizeof s->rd.buf));
        n = s->link.io.read(s, s->rd.buf + s->rd.len, sizeof s->rd.buf - s->rd.len, s->rd.dl);
        if (n == 0) return s->link.want;
        if (n == SMTP_ERR_TIMEOUT)
            return smtp__break(s, smtp__fail(s, SMTP_ERR_TIMEOUT,
                "no complete reply to %s from %s within %d ms", s->rd.cmd, s->link.peer, s->rd.ms));
        if (n == SMTP_ERR_CLOSED)
            return smtp__break(s, smtp__fail(s, SMTP_ERR_CLOSED,
                "%s closed the connection while we waited for the reply to %s", s->link.peer, s->rd.cmd));
        if (n == SMTP_ERR_TLS || n == SMTP_ERR_CERT) {   /* the TLS layer said why: keep its sentence */
            char why[sizeof s->detail];
            memcpy(why, s->detail, sizeof why);
            return smtp__break(s, smtp__fail(s, (smtp_result)n, "reading the reply to %s failed: %s", s->rd.cmd, why));
        }
        if (n < 0)
            return smtp__break(s, smtp__fail(s, (smtp_result)n,
                "reading the reply to %s from %s failed: %s", s->rd.cmd, s->link.peer,
                s->link.sys_errno ? smtp__strerror(s->link.sys_errno, ebuf, sizeof ebuf) : smtp_result_str((smtp_result)n)));
        s->rd.len += (size_t)n;
    }
}

/* Reads one whole reply before dl into s->rd.reply. The whole reply must fit
   in the read buffer. A failure here ends the session. ehlo: learn the
   capabilities; ms: dl's length, for messages. Stepped, it may return
   SMTP_WANT_*: called again, it goes on with the same reply and deadline. */
static smtp_result smtp__read_reply(smtp_session *s, smtp__ms dl, int ehlo, int ms)
{
    smtp_result r;
    if (!s->rd.active) {
        memset(&s->rd.rp, 0, sizeof s->rd.rp);
        s->rd.reply.code = 0; s->rd.reply.status[0] = 0; s->rd.reply.len = 0; s->rd.reply.lines = 0;
        s->rd.text[0] = 0;
        if (ehlo) { s->caps.ext = 0; s->caps.auth = 0; s->caps.size_max = 0; }
        s->rd.dl = dl; s->rd.ehlo = ehlo; s->rd.ms = ms;
        s->rd.active = 1;
    }
    r = smtp__read_more(s);
    if (r != SMTP_WANT_READ && r != SMTP_WANT_WRITE) s->rd.active = 0;
    return r;
}

/* A reply that is not the one expected: 421 ends the session (RFC 5321
   3.8), anything else fails the command only. */
static smtp_result smtp__refused(smtp_session *s)
{
    char rb[300];
    smtp__reply_str(s, rb, sizeof rb);
    if (s->rd.reply.code == 421)
        return smtp__break(s, smtp__fail(s, SMTP_ERR_CLOSED, "%s is closing the session (reply to %s): %s",
                                         s->link.peer, s->rd.cmd, rb));
    return smtp__fail(s, SMTP_ERR_REPLY, "%s refused %s: %s", s->link.peer, s->rd.cmd, rb);
}

/* ------------------------------------------------------------------------ */
/* >>md5  MD5 (RFC 1321) and HMAC-MD5 (RFC 2104), for CRAM-MD5: our own,   */
/*        so it works in SMTP_NO_TLS builds too                             */
/* ------------------------------------------------------------------------ */

typedef struct smtp__md5 { unsigned long a, b, c, d; unsigned long long len; unsigned char buf[64]; } smtp__md5;

#define SMTP__ROL(x, n) ((((x) << (n)) | ((x) >> (32 - (n)))) & 0xFFFFFFFFul)

static void smtp__md5_block(smtp__md5 *m, const unsigned char *p)
{
    static const unsigned long K[64] = {
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
        0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
        0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
        0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
        0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
        0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
        0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391 };
    static const unsigned char R[16] = { 7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21 };
    unsigned long X[16], a = m->a, b = m->b, c = m->c, d = m->d, f, t;
    int i, g;
    for (i = 0; i < 16; i++)
        X[i] = (unsigned long)p[4 * i] | (unsigned long)p[4 * i + 1] << 8 |
               (unsigned long)p[4 * i + 2] << 16 | (unsigned long)p[4 * i + 3] << 24;
    for (i = 0; i < 64; i++) {
        switch (i >> 4) {
        case 0: f = (b & c) | (~b & d); g = i; break;
        case 1: f = (d & b) | (~d & c); g = (5 * i + 1) & 15; break;
        case 2: f = b ^ c ^ d; g = (3 * i + 5) & 15; break;
        default: f = c ^ (b | (~d & 0xFFFFFFFFul)); g = (7 * i) & 15; break;
        }
        t = d; d = c; c = b;
        f = (a + (f & 0xFFFFFFFFul) + K[i] + X[g]) & 0xFFFFFFFFul;
        b = (b + SMTP__ROL(f, R[(i >> 4) * 4 + (i & 3)])) & 0xFFFFFFFFul;
        a = t;
    }
    m->a = (m->a + a) & 0xFFFFFFFFul; m->b = (m->b + b) & 0xFFFFFFFFul;
    m->c = (m->c + c) & 0xFFFFFFFFul; m->d = (m->d + d) & 0xFFFFFFFFul;
}

static void smtp__md5_init(smtp__md5 *m)
{
    m->a = 0x67452301; m->b = 0xefcdab89; m->c = 0x98badcfe; m->d = 0x10325476; m->len = 0;
}

static void smtp__md5_update(smtp__md5 *m, const void *data, size_t n)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t have = (size_t)(m->len & 63);
    m->len += n;
    if (have) {
        size_t k = 64 - have < n ? 64 - have : n;
        memcpy(m->buf + have, p, k);
        p += k; n -= k; have += k;
        if (have < 64) return;
        smtp__md5_block(m, m->buf);
    }
    for (; n >= 64; p += 64, n -= 64) smtp__md5_block(m, p);
    memcpy(m->buf, p, n);
}

static void smtp__md5_final(smtp__md5 *m, unsigned char out[16])
{
    unsigned char pad[72];
    unsigned long long bits = m->len * 8;
    size_t have = (size_t)(m->len & 63), padn = (have < 56 ? 56 : 120) - have;
    int i;
    memset(pad, 0, sizeof pad);
    pad[0] = 0x80;
    for (i = 0; i < 8; i++) pad[padn + (size_t)i] = (unsigned char)(bits >> (8 * i));
    smtp__md5_update(m, pad, padn + 8);
    for (i = 0; i < 4; i++) {
        unsigned long w = i == 0 ? m->a : i == 1 ? m->b : i == 2 ? m->c : m->d;
        out[4 * i] = (unsigned char)w; out[4 * i + 1] = (unsigned char)(w >> 8);
        out[4 * i + 2] = (unsigned char)(w >> 16); out[4 * i + 3] = (unsigned char)(w >> 24);
    }
    smtp__wipe(m, sizeof *m);
}

/* HMAC-MD5 (RFC 2104) of msg under key. */
static void smtp__hmac_md5(const void *key, size_t kn, const void *msg, size_t mn, unsigned char out[16])
{
    unsigned char k[64], pad[64], inner[16];
    smtp__md5 m;
    int i;
    memset(k, 0, sizeof k);
    if (kn > 64) { smtp__md5_init(&m); smtp__md5_update(&m, key, kn); smtp__md5_final(&m, k); }
    else memcpy(k, key, kn);
    for (i = 0; i < 64; i++) pad[i] = (unsigned char)(k[i] ^ 0x36);
    smtp__md5_init(&m); smtp__md5_update(&m, pad, 64); smtp__md5_update(&m, msg, mn); smtp__md5_final(&m, inner);
    for (i = 0; i < 64; i++) pad[i] = (unsigned char)(k[i] ^ 0x5c);
    smtp__md5_init(&m); smtp__md5_update(&m, pad, 64); smtp__md5_update(&m, inner, 16); smtp__md5_final(&m, out);
    smtp__wipe(k, sizeof k); smtp__wipe(pad, sizeof pad); smtp__wipe(inner, sizeof inner);
}

/* ------------------------------------------------------------------------ */
/* >>sasl  the payloads of PLAIN, CRAM-MD5, XOAUTH2 and OAUTHBEARER (pure);  */
/*         the exchanges are in >>session                                   */
/* ------------------------------------------------------------------------ */


/* The payload builders write into out[0..cap) and return the length, or
   0 when it does not fit (nothing is written past cap). */

/* RFC 4616: [authzid] NUL authcid NUL passwd. */
static size_t smtp__sasl_plain(const char *user, const char *pass, unsigned char *out, size_t cap)
{
    size_t u = strlen(user), p = strlen(pass);
    if (u + p + 2 > cap) return 0;
    out[0] = 0;
    memcpy(out + 1, user, u);
    out[1 + u] = 0;
    memcpy(out + 2 + u, pass, p);
    return u + p + 2;
}

/* RFC 2195: user SP hex(HMAC-MD5(password, challenge)). */
static size_t smtp__sasl_cram(const char *user, const char *pass, const unsigned char *ch, size_t cn,
                              unsigned char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[16];
    size_t u = strlen(user), i;
    if (u + 33 > cap) return 0;
    smtp__hmac_md5(pass, strlen(pass), ch, cn, d);
    memcpy(out, user, u);
    out[u] = ' ';
    for (i = 0; i < 16; i++) { out[u + 1 + 2 * i] = (unsigned char)hex[d[i] >> 4]; out[u + 2 + 2 * i] = (unsigned char)hex[d[i] & 15]; }
    smtp__wipe(d, sizeof d);
    return u + 33;
}

/* Google's XOAUTH2: "user=" user ^A "auth=Bearer " token ^A ^A. */
static size_t smtp__sasl_xoauth2(const char *user, const char *token, unsigned char *out, size_t cap)
{
    int k = snprintf((char *)out, cap, "user=%s\001auth=Bearer %s\001\001", user, token);
    return k < 0 || (size_t)k >= cap ? 0 : (size_t)k;
}

/* RFC 7628 3.1: gs2 header "n,a=user," (',' and '=' escaped as =2C =3D),
   then ^A host= ^A port= ^A auth=Bearer token ^A ^A. */
static size_t smtp__sasl_oauthbearer(const char *user, const char *host, int port, const char *token,
                                     unsigned char *out, size_t cap)
{
    size_t o = 4;
    int k;
    if (cap < 4) return 0;
    memcpy(out, "n,a=", 4);
    for (; *user; user++) {
        const char *e = *user == ',' ? "=2C" : *user == '=' ? "=3D" : NULL;
        if (o + (e ? 3 : 1) > cap) return 0;
        if (e) { memcpy(out + o, e, 3); o += 3; }
        else out[o++] = (unsigned char)*user;
    }
    k = snprintf((char *)out + o, cap - o, ",\001host=%s\001port=%d\001auth=Bearer %s\001\001", host, port, token);
    return k < 0 || (size_t)k >= cap - o ? 0 : o + (size_t)k;
}

/* ------------------------------------------------------------------------ */
/* >>writer  CRLF normalisation + dot-stuffing (pure), message composer     */
/* ------------------------------------------------------------------------ */

/* Body state: bol = at the beginning of a line; cr = the last input byte
   was a CR (its CRLF is out; an LF right after it belongs to it). */

/* Normalises in[0..n) into out[0..cap): every bare CR and bare LF becomes
   CRLF, a '.' that starts a line gets another (RFC 5321 4.5.2; not for
   BDAT, which has no end-of-data line), other
   bytes pass as they are. Stops when out has less than 2 bytes left.
   Returns bytes written; *used = bytes of in consumed. */
static size_t smtp__dot_encode(smtp__dot *st, const unsigned char *in, size_t n,
                               unsigned char *out, size_t cap, size_t *used)
{
    size_t i = 0, o = 0;
    while (i < n && cap - o >= 2) {
        unsigned char c = in[i];
        size_t j, lim;
        if (c == '\r') {
            out[o++] = '\r'; out[o++] = '\n';
            st->cr = 1; st->bol = 1; i++;
            continue;
        }
        if (c == '\n') {
            if (!st->cr) { out[o++] = '\r'; out[o++] = '\n'; st->bol = 1; }
            st->cr = 0; i++;
            continue;
        }
        st->cr = 0;
        if (st->bol && c == '.' && !st->nostuff) out[o++] = '.';
        st->bol = 0;
        lim = n - i < cap - o ? n : i + (cap - o);
        for (j = i + 1; j < lim && in[j] != '\r' && in[j] != '\n'; j++) {}
        memcpy(out + o, in + i, j - i);
        o += j - i;
        i = j;
    }
    *used = i;
    return o;
}

/* The end of the data: CRLF unless at the start of a line, then ".CRLF".
   out needs 5 bytes. */
static size_t smtp__dot_finish(const smtp__dot *st, unsigned char *out)
{
    size_t o = 0;
    if (!st->bol) { out[o++] = '\r'; out[o++] = '\n'; }
    memcpy(out + o, ".\r\n", 3);
    return o + 3;
}

/* BDAT (RFC 3030): the body goes in chunks, each "BDAT n" and n bytes,
   the last "BDAT n LAST"; no dot-stuffing, no end-of-data line. The
   write buffer keeps SMTP__BDAT_HDR bytes free at its start for the
   chunk's command. Replies are read as they come (each chunk has one),
   without waiting, so a long body cannot fill both directions. */
#define SMTP__BDAT_HDR 32

/* A write (or a non-waiting read) failed: the session is over. */
static smtp_result smtp__io_error(smtp_session *s, int r)
{
    char ebuf[128];
    if (r == SMTP_ERR_TIMEOUT)
        return smtp__break(s, smtp__fail(s, SMTP_ERR_TIMEOUT, "sending %s to %s timed out after %d ms",
                                         s->rd.cmd, s->link.peer, s->cfg.timeout_ms));
    if (r == SMTP_ERR_CLOSED)
        return smtp__break(s, smtp__fail(s, SMTP_ERR_CLOSED, "%s closed the connection while we sent %s",
                                         s->link.peer, s->rd.cmd));
    if (r == SMTP_ERR_TLS || r == SMTP_ERR_CERT) {   /* the TLS layer said why: keep its sentence */
        char why[sizeof s->detail];
        memcpy(why, s->detail, sizeof why);
        return smtp__break(s, smtp__fail(s, (smtp_result)r, "sending %s failed: %s", s->rd.cmd, why));
    }
    return smtp__break(s, smtp__fail(s, (smtp_result)r, "sending %s to %s failed: %s", s->rd.cmd, s->link.peer,
        s->link.sys_errno ? smtp__strerror(s->link.sys_errno, ebuf, sizeof ebuf) : smtp_result_str((smtp_result)r)));
}

/* n more bytes of the message are on their way: the progress callback
   sees the total and may cancel. Cancelling drops the connection before
   the end of data, so the server throws the partial message away (RFC
   5321 3.3, RFC 3030 2). The one place the callback is called. */
static smtp_result smtp__progress(smtp_session *s, size_t n)
{
    s->wr.sent += n;
    if (!s->cfg.progress || s->cfg.progress(s->cfg.progress_user, s->wr.sent) == 0) return SMTP_OK;
    return smtp__break(s, smtp__fail(s, SMTP_ERR_ABORTED, "the progress callback cancelled the message at %llu "
                                     "bytes, before its end; the connection was dropped so %s discards it",
                                     s->wr.sent, s->link.peer));
}

/* The body begins: the writer at the start of a line, nothing sent, no
   chunk owed. With BDAT the buffer keeps room for the chunk's command. */
static void smtp__body_start(smtp_session *s, int bdat)
{
    s->state = bdat ? SMTP__BDAT : SMTP__DATA;
    if (bdat) s->wr.len = SMTP__BDAT_HDR;
    s->wr.off = 0;
    memset(&s->wr.cur, 0, sizeof s->wr.cur);
    s->wr.dot.bol = 1; s->wr.dot.cr = 0; s->wr.sent = 0;
    s->bdat.pending = 0; s->bdat.failed = 0; s->bdat.last = 0;
}

/* Reads the replies to chunks that are already complete in the buffer or
   on the socket, without waiting (wait: wait for all of them). */
static smtp_result smtp__bdat_replies(smtp_session *s, int wait)
{
    smtp_result r;
    while (s->bdat.pending > 0) {
        smtp__reply_parser rp;
        int n;
        memset(&rp, 0, sizeof rp);
        if (!wait && smtp__reply_feed(&rp, (const char *)s->rd.buf + s->rd.pos, s->rd.len - s->rd.pos, NULL, NULL) <= 0) {
            /* nothing whole buffered: take what the socket has, now */
            if (s->rd.pos > 0) { memmove(s->rd.buf, s->rd.buf + s->rd.pos, s->rd.len - s->rd.pos); s->rd.len -= s->rd.pos; s->rd.pos = 0; }
            if (s->rd.len == sizeof s->rd.buf) return SMTP_OK;
            n = s->link.io.read(s, s->rd.buf + s->rd.len, sizeof s->rd.buf - s->rd.len, smtp__now());
            if (n == SMTP_ERR_TIMEOUT) return SMTP_OK;
            if (n < 0) return smtp__io_error(s, n);
            s->rd.len += (size_t)n;
            continue;
        }
        snprintf(s->rd.cmd, sizeof s->rd.cmd, "BDAT");
        r = smtp__read_reply(s, smtp__deadline(s->bdat.pending == 1 ? s->cfg.data_timeout_ms : s->cfg.timeout_ms), 0,
                             s->bdat.pending == 1 ? s->cfg.data_timeout_ms : s->cfg.timeout_ms);
        if (r) return r;
        s->bdat.pending--;
        if (s->rd.reply.code == 421) return smtp__refused(s);
        if (s->rd.reply.code != 250 && !s->bdat.failed) {
            /* RFC 3030 2: after a refused chunk, no more chunks; the transaction failed */
            s->bdat.failed = 1;
            smtp__reply_str(s, s->txn.refused, sizeof s->txn.refused);
            s->bdat.code = s->rd.reply.code;
            memcpy(s->bdat.status, s->rd.reply.status, sizeof s->bdat.status);
        }
    }
    return SMTP_OK;
}

/* Writes buf[wr.off..wr.len) (stepped: what can go now). SMTP_OK when
   all of it went, SMTP_WANT_* when the rest must wait, or the error that
   ended the session. */
static smtp_result smtp__write_out(smtp_session *s, smtp__ms dl)
{
    if (!s->wr.busy) { s->wr.busy = 1; s->wr.dl = dl; }   /* resumed, the first call's deadline holds */
    while (s->wr.off < s->wr.len) {
        int w = s->link.io.write(s, s->wr.buf + s->wr.off, s->wr.len - s->wr.off, s->wr.dl);
        if (w == 0) return s->link.want;
        if (w < 0) { s->wr.len = s->wr.off = 0; s->wr.busy = 0; return smtp__io_error(s, w); }
        s->wr.off += (size_t)w;
    }
    s->wr.busy = 0;
    return SMTP_OK;
}

/* Sends the buffered chunk with "BDAT n" before it. Once its command is
   in place (wr.off > 0) the chunk is under way and only goes on. */
static smtp_result smtp__bdat_chunk(smtp_session *s, smtp__ms dl)
{
    smtp_result r;
    if (!s->wr.off) {
        char hdr[SMTP__BDAT_HDR];
        int hl;
        s->bdat.chunk = s->wr.len - SMTP__BDAT_HDR;
        if (s->bdat.chunk == 0) return SMTP_OK;
        if (s->bdat.failed) { s->wr.len = SMTP__BDAT_HDR; return SMTP_ERR_REPLY; }
        hl = snprintf(hdr, sizeof hdr, "BDAT %lu\r\n", (unsigned long)s->bdat.chunk);
        memcpy(s->wr.buf + SMTP__BDAT_HDR - hl, hdr, (size_t)hl);
        smtp__trace(s, SMTP_TRACE_OUT, hdr, (size_t)hl - 2);
        s->wr.off = SMTP__BDAT_HDR - (size_t)hl;
    }
    if ((r = smtp__write_out(s, dl)) != SMTP_OK) return r;
    s->wr.len = SMTP__BDAT_HDR; s->wr.off = 0;
    s->bdat.pending++;
    if ((r = smtp__progress(s, s->bdat.chunk)) != SMTP_OK) return r;
    if ((r = smtp__bdat_replies(s, 0)) != SMTP_OK) return r;
    return s->bdat.failed ? SMTP_ERR_REPLY : SMTP_OK;
}

/* Flushes the write buffer, within timeout_ms (stepped: SMTP_WANT_* while
   it cannot all go; called again, it goes on). */
static smtp_result smtp__flush(smtp_session *s, smtp__ms dl)
{
    smtp_result r;
    size_t n = s->wr.len;
    if (s->state == SMTP__BDAT) return smtp__bdat_chunk(s, dl);
    if ((r = smtp__write_out(s, dl)) != SMTP_OK) return r;
    s->wr.len = s->wr.off = 0;
    return s->state == SMTP__DATA ? smtp__progress(s, n) : SMTP_OK;
}

/* Message bytes through the normaliser into the write buffer, flushed as
   it fills. *taken: how many of data went in (all, unless a flush must
   wait: then SMTP_WANT_*). */
static smtp_result smtp__put_body(smtp_session *s, const void *data, size_t len, size_t *taken)
{
    const unsigned char *p = (const unsigned char *)data;
    smtp__dot st;
    smtp_result r = SMTP_OK;
    *taken = 0;
    st.bol = s->wr.dot.bol; st.cr = s->wr.dot.cr; st.nostuff = s->state == SMTP__BDAT || s->wr.counting;
    if (s->wr.counting) {   /* SIZE (RFC 1870): line ends normalised, no dot-stuffing, nothing sent */
        unsigned char scratch[512];
        while (len > 0) {
            size_t used, o = smtp__dot_encode(&st, p, len, scratch, sizeof scratch, &used);
            s->wr.counted += o; p += used; len -= used;
        }
        s->wr.dot.bol = st.bol; s->wr.dot.cr = st.cr;
        return SMTP_OK;
    }
    while (len > 0) {
        size_t used, o;
        if (sizeof s->wr.buf - s->wr.len < 2 && (r = smtp__flush(s, smtp__deadline(s->cfg.timeout_ms))) != SMTP_OK)
            break;
        o = smtp__dot_encode(&st, p, len, s->wr.buf + s->wr.len, sizeof s->wr.buf - s->wr.len, &used);
        smtp__trace(s, SMTP_TRACE_BODY, (const char *)s->wr.buf + s->wr.len, o);
        s->wr.len += o;
        p += used; len -= used; *taken += used;
    }
    s->wr.dot.bol = st.bol; s->wr.dot.cr = st.cr;
    return r;
}

/* One unit of the composed message (a header line, a text): skipped when
   an earlier step wrote it, resumed where it stopped. */
static smtp_result smtp__body(smtp_session *s, const void *data, size_t len)
{
    smtp__cursor *c = &s->wr.cur;
    size_t used;
    smtp_result r;
    if (c->k++ < c->done) return SMTP_OK;
    r = smtp__put_body(s, (const char *)data + c->off, len - c->off, &used);
    c->off += used;
    if (r) return r;
    c->done++; c->off = 0;
    return SMTP_OK;
}

/* A header line being built, folded before 78 columns (RFC 5322 2.1.1)
   at the separators it is given. */
typedef struct smtp__header {
    smtp_session *s; char line[1000]; size_t len; int ntok; smtp_result err;
} smtp__header;

static void smtp__header_emit(smtp__header *h, const char *p, size_t n)
{
    if (!h->err) h->err = smtp__body(h->s, p, n);
}

static void smtp__header_emits(smtp__header *h, const char *str) { smtp__header_emit(h, str, strlen(str)); }

static void smtp__header_start(smtp__header *h, const char *name)
{
    h->len = strlen(name);
    if (h->len > 64) h->len = 64;   /* ours, or checked: 1..60 characters and ':' */
    h->ntok = 0;
    memcpy(h->line, name, h->len);
}

/* Adds a token after sep on the current line when it fits in 78 columns;
   else folds: the non-blank part of sep (a comma) ends this line and the
   token starts the next after one space. A token has at most
   SMTP__TOKEN_MAX bytes and sep at most 16, so with a header name of at
   most 61 the line never passes 998 octets (callers check first; a
   longer token is refused here too, never copied). */
#define SMTP__TOKEN_MAX 900
static void smtp__header_add(smtp__header *h, const char *sep, const char *tok, size_t n)
{
    size_t sl = strlen(sep), keep = sl;
    int fold = h->ntok > 0 && h->len + sl + n > 78;
    if (n > SMTP__TOKEN_MAX || sl > 16 || (fold ? 1 : h->len + sl) + n + 2 > sizeof h->line) {
        if (!h->err) h->err = smtp__fail(h->s, SMTP_ERR_PARAM, "a header word of %lu bytes is too long",
                                         (unsigned long)n);
        return;
    }
    while (keep > 0 && (sep[keep - 1] == ' ' || sep[keep - 1] == '\t')) keep--;
    if (fold) {
        memcpy(h->line + h->len, sep, keep);
        memcpy(h->line + h->len + keep, "\r\n", 2);
        smtp__header_emit(h, h->line, h->len + keep + 2);
        h->line[0] = ' ';
        h->len = 1;
    } else {
        memcpy(h->line + h->len, sep, sl);
        h->len += sl;
    }
    memcpy(h->line + h->len, tok, n);
    h->len += n;
    h->ntok++;
}

static void smtp__header_end(smtp__header *h)
{
    memcpy(h->line + h->len, "\r\n", 2);
    smtp__header_emit(h, h->line, h->len + 2);
    h->len = 0;
}

/* UTF-8 text as RFC 2047 encoded words, each a token. */
static void smtp__header_words(smtp__header *h, const char *sep, const char *p, size_t n)
{
    char w[80];
    int first = 1;
    while (n > 0) {
        size_t k, o = smtp__encoded_word(p, n, w, &k);
        smtp__header_add(h, first ? sep : " ", w, o);
        first = 0;
        p += k; n -= k;
    }
}

/* Free text (a Subject): as it is, folded at spaces, when it is ASCII
   without "=?" and no word is too long; otherwise encoded words. A run of
   spaces (up to 16 kept) separates words; a fold takes its place, so no
   line is only white space (RFC 5322 3.2.2). */
static void smtp__header_text(smtp__header *h, const char *p, size_t n)
{
    size_t i, b, longest = 0, run;
    char sep[17];
    for (i = 0; i < n; i = b + 1) {
        for (b = i; b < n && p[b] != ' ' && p[b] != '\t'; b++) {}
        if (b - i > longest) longest = b - i;
    }
    if (!smtp__is_ascii_text(p, n) || strstr(p, "=?") || longest > SMTP__TOKEN_MAX) {
        smtp__header_words(h, " ", p, n);
        return;
    }
    sep[0] = ' ';
    for (i = 0, run = 1; i < n; i = b) {   /* words between runs of white space (SP and HTAB) */
        for (; i < n && (p[i] == ' ' || p[i] == '\t'); i++) if (run < 16) sep[run++] = p[i];
        if (i >= n) break;
        for (b = i; b < n && p[b] != ' ' && p[b] != '\t'; b++) {}
        sep[run] = 0;
        smtp__header_add(h, sep, p + i, b - i);
        run = 0;
    }
}


/* The display name of "Name <a@b>" as plain text into out: surrounding
   quotes removed and quoted-pairs decoded (RFC 5322 3.2.4), so "Doe, J."
   and Doe, J. are the same name. -1 when a '"' inside is not escaped. */
static int smtp__dname(const char *nb, const char *ne, char *out, size_t cap, size_t *len)
{
    size_t o = 0;
    const char *p = nb;
    int quoted = ne - nb >= 2 && *nb == '"';
    for (p = nb + quoted; p < ne; p++) {
        char c = *p;
        if (quoted && c == '\\' && p + 1 < ne) c = *++p;           /* a quoted-pair */
        else if (c == '"') { if (quoted && p == ne - 1) break; return -1; }
        if (o + 1 >= cap) return -1;
        out[o++] = c;
    }
    if (quoted && p != ne - 1) return -1;                          /* no closing quote */
    out[o] = 0;
    *len = o;
    return 0;
}

/* Splits "Name <a@b>" (or "a@b") around the address, both trimmed. */
static void smtp__addr_split(const char *a, const char **nb, const char **ne, const char **ab, const char **ae)
{
    const char *lt = strrchr(a, '<');
    if (lt) { *ab = lt + 1; *ae = strchr(*ab, '>'); if (!*ae) *ae = *ab + strlen(*ab); *ne = lt; }
    else { *ab = a; *ae = a + strlen(a); *ne = a; }
    *nb = a;
    while (*ab < *ae && (**ab == ' ' || **ab == '\t')) (*ab)++;
    while (*ae > *ab && ((*ae)[-1] == ' ' || (*ae)[-1] == '\t')) (*ae)--;
    while (*nb < *ne && (**nb == ' ' || **nb == '\t')) (*nb)++;
    while (*ne > *nb && ((*ne)[-1] == ' ' || (*ne)[-1] == '\t')) (*ne)--;
}

/* Headers that hold address lists (RFC 5322 3.6.2, 3.6.6; RFC 8098,
   RFC 2369 practice): given in message.headers, each address is checked
   like a recipient's and written like From's. */
static int smtp__is_addr_header(const char *name)
{
    static const char *const t[] = { "Reply-To", "Sender", "Resent-From", "Resent-Sender", "Resent-To",
                                     "Resent-Cc", "Mail-Followup-To", "Mail-Reply-To",
                                     "Disposition-Notification-To", "Return-Receipt-To", "Errors-To" };
    size_t i;
    for (i = 0; i < sizeof t / sizeof *t; i++)
        if (!smtp__casecmp(name, t[i])) return 1;
    return 0;
}

/* The next element of an address list at *p, split at commas outside
   quoted strings and angle brackets, copied into out. 0; 1 at the end;
   -1 when a quote is not closed, -2 when an element does not fit cap. */
static int smtp__list_next(const char **p, char *out, size_t cap)
{
    const char *s = *p;
    size_t o = 0;
    int q = 0, ang = 0;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return 1;
    for (; *s; s++) {
        if (q && *s == '\\' && s[1]) { if (o + 2 >= cap) return -2; out[o++] = *s++; }
        else if (*s == '"') q = !q;
        else if (!q && *s == '<') ang = 1;
        else if (!q && *s == '>') ang = 0;
        else if (!q && !ang && *s == ',') break;
        if (o + 1 >= cap) return -2;
        out[o++] = *s;
    }
    if (q) return -1;
    out[o] = 0;
    *p = *s ? s + 1 : s;
    return 0;
}

/* An address as given ("a@b" or "Name <a@b>"): the display name as a
   quoted string with every '"' and '\' escaped when it holds specials, as
   RFC 2047 words when it is not ASCII (or too long to quote), then <a@b>.
   The address was checked before (smtp__addr: at most 254 octets). */
static void smtp__header_addr(smtp__header *h, const char *sep, const char *a)
{
    const char *nb, *ne, *ab, *ae;
    char tok[SMTP__TOKEN_MAX + 8], name[SMTP__TOKEN_MAX + 8], conv[600], bad[8];
    size_t o = 0, k, nl, al;
    smtp__addr_split(a, &nb, &ne, &ab, &ae);
    /* without SMTPUTF8 the header shows the domain as A-labels too (checked before) */
    if (!h->s->txn.utf8 && !smtp__is_ascii(ab, (size_t)(ae - ab))) {
        if (smtp__idna_addr(ab, (size_t)(ae - ab), conv, sizeof conv, bad, sizeof bad)) {
            if (!h->err) h->err = smtp__fail(h->s, SMTP_ERR_UNSUPPORTED, "the address \"%.80s\" cannot be written "
                                             "with its domain as A-labels", a);
            return;   /* never raw 8-bit to a server without SMTPUTF8 */
        }
        ab = conv; ae = conv + strlen(conv);
    }
    al = (size_t)(ae - ab);
    if (al > 300) {
        if (!h->err) h->err = smtp__fail(h->s, SMTP_ERR_PARAM, "an address of %lu bytes is too long", (unsigned long)al);
        return;
    }
    if (ne > nb) {
        int quote = 0;
        if (smtp__dname(nb, ne, name, sizeof name, &nl)) {
            if (!h->err) h->err = smtp__fail(h->s, SMTP_ERR_PARAM, "the display name of \"%.60s\" has an "
                                             "unescaped '\"'", a);
            return;
        }
        for (k = 0; k < nl; k++) {
            int ws = name[k] == ' ' || name[k] == '\t';
            /* specials need quotes (RFC 5322 3.2.3), and so does white space a phrase would not keep */
            if (strchr("()<>[]:;@\\,.\"", name[k]) || (ws && (k == 0 || k + 1 == nl || name[k + 1] == ' ' ||
                                                           name[k + 1] == '\t' || name[k] == '\t')))
                quote = 1;
            o += name[k] == '"' || name[k] == '\\' ? 2 : 1;
        }
        if (!smtp__is_ascii_text(name, nl) || o + 2 > SMTP__TOKEN_MAX || (nl >= 2 && name[0] == '=' && name[1] == '?')) {
            smtp__header_words(h, sep, name, nl);                 /* RFC 2047 5(3) */
        } else if (nl) {
            o = 0;
            if (quote) tok[o++] = '"';
            for (k = 0; k < nl; k++) {                        /* RFC 5322 3.2.4: quoted-pair */
                if (quote && (name[k] == '"' || name[k] == '\\')) tok[o++] = '\\';
                tok[o++] = name[k];
            }
            if (quote) tok[o++] = '"';
            smtp__header_add(h, sep, tok, o);
        }
        if (nl) sep = " ";
        o = 0;
        tok[o++] = '<';
        memcpy(tok + o, ab, al); o += al;
        tok[o++] = '>';
        smtp__header_add(h, sep, tok, o);
        return;
    }
    smtp__header_add(h, sep, ab, al);
}

/* Body text as quoted-printable, through the writer (the encoder is in
   >>codec). */
/* Quoted-printable: one unit of the composer, written in chunks; a step
   that stops inside it resumes at its chunk (cursor pos and col). */
static smtp_result smtp__qp(smtp_session *s, const char *text, size_t n)
{
    smtp__cursor *c = &s->wr.cur;
    char buf[512];
    size_t i, col, o, used;
    smtp_result r;
    if (c->k++ < c->done) return SMTP_OK;
    i = (size_t)c->pos; col = c->col;
    while (i < n) {
        size_t ni = i, ncol = col;
        o = smtp__qp_encode(text, n, &ni, &ncol, buf, sizeof buf);
        r = smtp__put_body(s, buf + c->off, o - c->off, &used);
        c->off += used;
        if (r) return r;
        i = ni; col = ncol;
        c->pos = i; c->col = col; c->off = 0;
    }
    c->done++; c->pos = 0; c->col = 0; c->off = 0;
    return SMTP_OK;
}

/* RFC 5322 3.3 date-time, in UTC (the zone name "+0000"). */
static size_t smtp__date(char *out, size_t n, time_t t)
{
    static const char days[] = "SunMonTueWedThuFriSat", mons[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct tm tm;
    gmtime_r(&t, &tm);
    return (size_t)snprintf(out, n, "%.3s, %02d %.3s %04d %02d:%02d:%02d +0000",
                            days + 3 * tm.tm_wday, tm.tm_mday, mons + 3 * tm.tm_mon,
                            tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Content-Type from a file name's extension. */
static const char *smtp__mime_type(const char *name)
{
    static const char *const t[][2] = {
        { "txt", "text/plain" }, { "html", "text/html" }, { "htm", "text/html" }, { "csv", "text/csv" },
        { "json", "application/json" }, { "xml", "application/xml" }, { "ics", "text/calendar" },
        { "pdf", "application/pdf" }, { "png", "image/png" }, { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
        { "gif", "image/gif" }, { "svg", "image/svg+xml" }, { "webp", "image/webp" }, { "zip", "application/zip" },
        { "gz", "application/gzip" } };
    const char *dot = name ? strrchr(name, '.') : NULL;
    size_t i;
    if (dot && !strchr(dot, '/'))
        for (i = 0; i < sizeof t / sizeof *t; i++)
            if (!smtp__casecmp(dot + 1, t[i][0])) return t[i][1];
    return "application/octet-stream";
}

/* A header parameter: ; name="value" when ASCII text, else RFC 2231
   ; name*=UTF-8''percent-encoded. A value longer than one line's worth
   goes in numbered sections (RFC 2231 3: name*0*=UTF-8''..; name*1*=..),
   each a token of its own for folding; every section is built in tok,
   whose loop stops SMTP__PARAM_SEC bytes in, so nothing is ever cut. */
#define SMTP__PARAM_SEC 64
static size_t smtp__param_char(char *o, int quoted, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    if (quoted) {
        if (c == '"' || c == '\\') { o[0] = '\\'; o[1] = (char)c; return 2; }
        o[0] = (char)c; return 1;
    }
    /* RFC 2231 7: attribute-char as itself, everything else %XX */
    if (c > 32 && c < 127 && !strchr("*'%()<>@,;:\\\"/[]?=", c)) { o[0] = (char)c; return 1; }
    o[0] = '%'; o[1] = hex[c >> 4]; o[2] = hex[c & 15]; return 3;
}

static void smtp__header_param(smtp__header *h, const char *name, const char *v)
{
    char tok[SMTP__PARAM_SEC + 48], one[3];
    size_t n = strlen(v), i, total = 0, o;
    int quoted = smtp__is_ascii_text(v, n), sec = 0, multi;
    for (i = 0; i < n; i++) total += smtp__param_char(one, quoted, (unsigned char)v[i]);
    multi = total > SMTP__PARAM_SEC;
    i = 0;
    do {
        o = (size_t)snprintf(tok, sizeof tok, multi ? "%.16s*%d%s=%s%s" : "%.16s%.0d%s=%s%s", name, sec,
                             quoted ? "" : "*", !quoted && sec == 0 ? "UTF-8''" : "", quoted ? "\"" : "");
        while (i < n && o < SMTP__PARAM_SEC + 32) o += smtp__param_char(tok + o, quoted, (unsigned char)v[i++]);
        if (quoted) tok[o++] = '"';
        smtp__header_add(h, "; ", tok, o);
        sec++;
    } while (i < n);
}

/* The boundary of a multipart at depth d: "=_" cannot occur in base64 or
   quoted-printable, and 7bit text holding it is sent quoted-printable. */
static void smtp__boundary(smtp_session *s, int d, char *out, size_t n)
{
    snprintf(out, n, "=_smtph_%016llx_%llu_%d", s->nonce, s->msg_count, d);
}

/* How a text part goes: 0 7bit, 1 8bit, 2 quoted-printable. */
static int smtp__text_enc(smtp_session *s, const char *t, size_t n)
{
    size_t i, run = 0;
    int eight = 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c == '\r' || c == '\n') { run = 0; continue; }
        if (++run > 998) return 2;
        if (c >= 0x80) eight = 1;
        if (c == '=' && i + 1 < n && t[i + 1] == '_') return 2;   /* could look like our boundary */
    }
    if (!eight) return 0;
    return s->txn.body8 ? 1 : 2;   /* 8bit only with BODY=8BITMIME (RFC 6152) */
}

static smtp_result smtp__text_part(smtp_session *s, smtp__header *h, const char *sub, const char *t)
{
    size_t n = strlen(t);
    int enc = smtp__text_enc(s, t, n);
    char line[120];
    snprintf(line, sizeof line, "Content-Type: text/%s; charset=utf-8\r\nContent-Transfer-Encoding: %s\r\n\r\n",
             sub, enc == 0 ? "7bit" : enc == 1 ? "8bit" : "quoted-printable");
    smtp__header_emits(h, line);
    if (h->err) return h->err;
    if (!n) return SMTP_OK;
    return enc == 2 ? smtp__qp(s, t, n) : smtp__body(s, t, n);
}

/* Base64 in 76-column lines (RFC 2045 6.8), from memory or streamed from
   a file in 57-byte lines (the file is never held whole). When counting,
   a file is measured by its size, not read. */
static smtp_result smtp__b64_part(smtp_session *s, const smtp_attachment *a)
{
    smtp__cursor *c = &s->wr.cur;
    unsigned char in[57 * 8];   /* 8 lines a write: a small frame (smtp_send's stack under 8 KB) */
    char out[78 * 8];
    FILE *f = NULL;
    smtp_result r = SMTP_OK;
    if (c->k++ < c->done) return SMTP_OK;   /* written in an earlier step */
    if (a->path) {
        if (s->wr.counting) {
            unsigned long long sz;
            if (smtp__file_size(a->path, &sz) != 0)
                return smtp__fail(s, SMTP_ERR_PARAM, "attachment %s: cannot read it", a->path);
            s->wr.counted += 4 * ((sz + 2) / 3) + 2 * ((sz + 56) / 57);
            return SMTP_OK;
        }
        /* opened for each step that writes part of it, read from where the last one stopped */
#ifdef SMTP_NO_STDIO
        return smtp__fail(s, SMTP_ERR_UNSUPPORTED, "attachment %s: built with SMTP_NO_STDIO", a->path);
#endif
        if (!(f = fopen(a->path, "rb")))
            return smtp__fail(s, SMTP_ERR_PARAM, "attachment %s: cannot open it", a->path);
        if (c->pos && (c->pos > LONG_MAX || fseek(f, (long)c->pos, SEEK_SET) != 0)) {
            fclose(f);
            return smtp__fail(s, SMTP_ERR_IO, "attachment %s: cannot read on from byte %llu", a->path, c->pos);
        }
    }
    for (;;) {
        size_t n, i, o = 0, used;
        if (f) n = fread(in, 1, sizeof in, f);
        else {
            size_t left = c->pos < a->size ? a->size - (size_t)c->pos : 0;
            n = left < sizeof in ? left : sizeof in;
            if (n) memcpy(in, (const unsigned char *)a->data + c->pos, n);
        }
        if (n == 0) break;
        for (i = 0; i < n; i += 57) {
            o += smtp__b64(in + i, n - i < 57 ? n - i : 57, out + o);
            out[o++] = '\r'; out[o++] = '\n';
        }
        r = smtp__put_body(s, out + c->off, o - c->off, &used);
        c->off += used;
        if (r != SMTP_OK) break;
        c->pos += n; c->off = 0;
        if (n < sizeof in) break;
    }
    if (f) {
        if (ferror(f) && r == SMTP_OK) r = smtp__fail(s, SMTP_ERR_IO, "attachment %s: a read failed", a->path);
        fclose(f);
    }
    if (r == SMTP_OK) { c->done++; c->pos = 0; c->off = 0; }
    return r;
}

static int smtp__token_char(unsigned char c)
{
    return c > 32 && c < 127 && !strchr("()<>@,;:\\\"/[]?=", c);
}

/* A Content-Type as RFC 2045 5.1 has it: type "/" subtype, then any
   number of "; attribute=value", each value a token or a quoted string,
   all ASCII. NULL when well formed, else the rule it breaks. With h, the
   type and each parameter go out as tokens of the header line (folded
   between parameters); *named tells whether a name parameter was given. */
static const char *smtp__ctype(const char *ct, smtp__header *h, int *named)
{
    const char *p = ct, *q;
    size_t n;
    for (n = 0; smtp__token_char((unsigned char)p[n]); n++) {}
    if (!n || p[n] != '/') return "must start with a type/subtype such as text/plain";
    for (p += n + 1, n = 0; smtp__token_char((unsigned char)p[n]); n++) {}
    if (!n) return "needs a subtype after '/'";
    p += n;
    if (h) smtp__header_add(h, "", ct, (size_t)(p - ct));
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) return NULL;
        if (*p != ';') return "has something other than \"; name=value\" parameters after the type";
        for (p++; *p == ' ' || *p == '\t'; p++) {}
        for (q = p, n = 0; smtp__token_char((unsigned char)p[n]); n++) {}
        if (!n || p[n] != '=') return "has a parameter that is not name=value";
        if (named && smtp__ieq(p, n, "NAME")) *named = 1;
        p += n + 1;
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if ((unsigned char)*p >= 127) return "has a non-ASCII byte in a quoted value";
                if (*p == '\\' && p[1]) p++;
            }
            if (*p++ != '"') return "has a quoted value without its closing '\"'";
        } else {
            for (n = 0; smtp__token_char((unsigned char)p[n]); n++) {}
            if (!n) return "has a parameter value that is neither a token nor a quoted string";
            p += n;
        }
        if (h) smtp__header_add(h, "; ", q, (size_t)(p - q));
    }
}

static smtp_result smtp__attach_part(smtp_session *s, smtp__header *h, const smtp_attachment *a)
{
    const char *name = a->filename, *slash;
    int named = 0;
    if (!name && a->path) name = (slash = strrchr(a->path, '/')) ? slash + 1 : a->path;
    smtp__header_start(h, "Content-Type: ");
    (void)smtp__ctype(a->content_type ? a->content_type : smtp__mime_type(name), h, &named);
    if (name && !named) smtp__header_param(h, "name", name);
    smtp__header_end(h);
    smtp__header_emits(h, "Content-Transfer-Encoding: base64\r\n");
    smtp__header_start(h, "Content-Disposition: ");
    smtp__header_add(h, "", a->content_id ? "inline" : "attachment", a->content_id ? 6 : 10);
    if (name) smtp__header_param(h, "filename", name);
    smtp__header_end(h);
    if (a->content_id) {
        char cid[208];   /* "<" id ">" as one token: a fold inside would change the id */
        snprintf(cid, sizeof cid, "<%.200s>", a->content_id);
        smtp__header_start(h, "Content-ID: ");
        smtp__header_add(h, "", cid, strlen(cid));
        smtp__header_end(h);
    }
    smtp__header_emits(h, "\r\n");
    if (h->err) return h->err;
    return smtp__b64_part(s, a);
}

static void smtp__multipart_open(smtp__header *h, const char *type, const char *b)
{
    smtp__header_start(h, "Content-Type: ");
    smtp__header_add(h, "", type, strlen(type));
    smtp__header_param(h, "boundary", b);
    smtp__header_end(h);
    smtp__header_emits(h, "\r\n");
}

static void smtp__multipart_sep(smtp__header *h, const char *b, int last)
{
    smtp__header_emits(h, "\r\n--");
    smtp__header_emits(h, b);
    smtp__header_emits(h, last ? "--\r\n" : "\r\n");
}

/* The body of the message below its top headers: text, or text and HTML
   (multipart/alternative), with inline parts (multipart/related) and
   attachments (multipart/mixed) around them as needed. */
static smtp_result smtp__compose_body(smtp_session *s, smtp__header *h, const smtp_message *m)
{
    char bm[64] = "", br[64] = "", ba[64] = "";
    size_t i, inl = 0, att = 0;
    smtp_result r;
    const char *text = m->text ? m->text : "";
    for (i = 0; i < m->attachment_count; i++) { if (m->attachments[i].content_id) inl++; else att++; }
    if (!m->html) { att += inl; inl = 0; }   /* inline parts belong with the HTML; without it, attachments */
    if (att) { smtp__boundary(s, 1, bm, sizeof bm); smtp__multipart_open(h, "multipart/mixed", bm); smtp__multipart_sep(h, bm, 0); }
    if (inl && m->html) { smtp__boundary(s, 2, br, sizeof br); smtp__multipart_open(h, "multipart/related", br); smtp__multipart_sep(h, br, 0); }
    if (m->html) {
        smtp__boundary(s, 3, ba, sizeof ba);
        smtp__multipart_open(h, "multipart/alternative", ba);
        smtp__multipart_sep(h, ba, 0);
        if ((r = smtp__text_part(s, h, "plain", text)) != SMTP_OK) return r;
        smtp__multipart_sep(h, ba, 0);
        if ((r = smtp__text_part(s, h, "html", m->html)) != SMTP_OK) return r;
        smtp__multipart_sep(h, ba, 1);
    } else if ((r = smtp__text_part(s, h, "plain", text)) != SMTP_OK) return r;
    for (i = 0; i < m->attachment_count; i++) {   /* inline parts: with the HTML, else as attachments */
        if (!m->attachments[i].content_id) continue;
        smtp__multipart_sep(h, inl ? br : bm, 0);
        if ((r = smtp__attach_part(s, h, &m->attachments[i])) != SMTP_OK) return r;
    }
    if (inl && m->html) smtp__multipart_sep(h, br, 1);
    for (i = 0; i < m->attachment_count; i++) {
        if (m->attachments[i].content_id) continue;
        smtp__multipart_sep(h, bm, 0);
        if ((r = smtp__attach_part(s, h, &m->attachments[i])) != SMTP_OK) return r;
    }
    if (att) smtp__multipart_sep(h, bm, 1);
    return h->err;
}

/* The message's headers and body, through smtp__body. msgid and date are
   made once per message, the same in every transaction. */
static smtp_result smtp__compose(smtp_session *s, const smtp_message *m, const char *from,
                                 const char *date, const char *msgid)
{
    smtp__header h;
    const char *const *l;
    size_t i;
    h.s = s; h.err = SMTP_OK;
    s->wr.cur.k = 0;   /* a new pass: the units written before are skipped */
    smtp__header_start(&h, "Date: "); smtp__header_add(&h, "", date, strlen(date)); smtp__header_end(&h);
    smtp__header_start(&h, "From:"); smtp__header_addr(&h, " ", from); smtp__header_end(&h);
    if (m->to && m->to[0]) {
        smtp__header_start(&h, "To:");
        for (l = m->to; *l; l++) smtp__header_addr(&h, l == m->to ? " " : ", ", *l);
        smtp__header_end(&h);
    }
    if (m->cc && m->cc[0]) {
        smtp__header_start(&h, "Cc:");
        for (l = m->cc; *l; l++) smtp__header_addr(&h, l == m->cc ? " " : ", ", *l);
        smtp__header_end(&h);
    }
    if (m->subject) {
        smtp__header_start(&h, "Subject:");
        smtp__header_text(&h, m->subject, strlen(m->subject));
        smtp__header_end(&h);
    }
    smtp__header_start(&h, "Message-ID: "); smtp__header_add(&h, "", msgid, strlen(msgid)); smtp__header_end(&h);
    for (i = 0; i < m->header_count; i++) {
        char name[80];
        snprintf(name, sizeof name, "%s:", m->headers[i].name);
        smtp__header_start(&h, name);
        if (smtp__is_addr_header(m->headers[i].name)) {   /* checked in smtp__job_check */
            const char *v = m->headers[i].value;
            char el[SMTP__TOKEN_MAX + 4];
            int first = 1;
            while (smtp__list_next(&v, el, sizeof el) == 0) { smtp__header_addr(&h, first ? " " : ", ", el); first = 0; }
        } else smtp__header_text(&h, m->headers[i].value, strlen(m->headers[i].value));
        smtp__header_end(&h);
    }
    smtp__header_emits(&h, "MIME-Version: 1.0\r\n");
    if (h.err) return h.err;
    return smtp__compose_body(s, &h, m);
}

/* ------------------------------------------------------------------------ */
/* >>config  defaults (applied here and only here), validation, TLS setters */
/* ------------------------------------------------------------------------ */

static void smtp__defaults(smtp_config *c)
{
    if (c->connect_timeout_ms == 0) c->connect_timeout_ms = 30000;
    if (c->greeting_timeout_ms == 0) c->greeting_timeout_ms = 30000;
    if (c->timeout_ms == 0) c->timeout_ms = 60000;
    if (c->data_timeout_ms == 0) c->data_timeout_ms = 600000;
    if (c->allowed_auth == 0)   /* a token provider means bearer tokens */
        c->allowed_auth = c->token ? SMTP_AUTH_XOAUTH2 | SMTP_AUTH_OAUTHBEARER
                                   : SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN | SMTP_AUTH_CRAM_MD5;
    if (c->idle_check_ms == 0) c->idle_check_ms = 30000;
    if (c->tls_versions == 0) c->tls_versions = SMTP_TLS_1_2;
    if (c->port == 0) {
        switch (c->security) {
        case SMTP_SECURITY_IMPLICIT: c->port = 465; break;
        case SMTP_SECURITY_STARTTLS: c->port = 587; break;
        default: c->port = 25; break;
        }
    }
}

#define SMTP__TLS_ALL (SMTP_TLS_1_0 | SMTP_TLS_1_1 | SMTP_TLS_1_2 | SMTP_TLS_1_3)
#define SMTP__TLS_CAN (SMTP_TLS_1_0 | SMTP_TLS_1_1 | SMTP_TLS_1_2)   /* BearSSL: no 1.3 */

SMTP_API smtp_result smtp_config_set_tls_versions(smtp_config *cfg, unsigned versions)
{
    unsigned lo, hi, v;
    if (!cfg || versions == 0 || (versions & ~(unsigned)SMTP__TLS_ALL)) return SMTP_ERR_PARAM;
    /* the mask is a range; keep the part of it this build can speak */
    for (lo = 1; !(versions & lo); lo <<= 1) {}
    for (hi = SMTP_TLS_1_3; !(versions & hi); hi >>= 1) {}
    if (lo > SMTP_TLS_1_2) lo = SMTP_TLS_1_2;
    if (hi > SMTP_TLS_1_2) hi = SMTP_TLS_1_2;
    for (v = 0; lo <= hi; lo <<= 1) v |= lo;
    cfg->tls_versions = v;
    return SMTP_OK;
}

SMTP_API smtp_result smtp_config_set_tls_versions_unsafe(smtp_config *cfg, unsigned versions)
{
    if (!cfg || versions == 0 || (versions & ~(unsigned)SMTP__TLS_ALL)) return SMTP_ERR_PARAM;
    cfg->tls_versions = versions;
    return SMTP_OK;
}

/* A string that goes into a command or a header: no CR, LF (a second
   command smuggled in) or other control bytes but tab. */
static int smtp__clean(const char *p)
{
    for (; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t') return 0;
    return 1;
}

/* Takes the address out of "a@b" or "Name <a@b>" and checks it (RFC 5321
   4.5.3.1.3: at most 254 octets in a path, here without the brackets).
   kind: 0 sender ("" = null sender allowed), 1 recipient ("postmaster"
   allowed). Returns NULL when fine, else what is wrong. */
static const char *smtp__addr(const char *in, int kind, const char **a, size_t *n)
{
    const char *lt, *p, *e, *at = NULL;
    if (!smtp__clean(in)) return "holds a control character (CR, LF, ...)";
    if (strlen(in) > 900) return "is longer than 900 bytes";
    lt = strrchr(in, '<');
    if (lt) {
        p = lt + 1;
        e = strchr(p, '>');
        if (!e) return "has '<' without '>'";
        for (lt = e + 1; *lt == ' ' || *lt == '\t'; lt++) {}
        if (*lt) return "has text after '>'";
    } else {
        for (p = in; *p == ' ' || *p == '\t'; p++) {}
        for (e = p + strlen(p); e > p && (e[-1] == ' ' || e[-1] == '\t'); e--) {}
    }
    *a = p; *n = (size_t)(e - p);
    if (*n == 0) return kind == 0 ? NULL : "is empty";
    if (*n > 254) return "is longer than 254 octets";
    for (lt = p; lt < e; lt++) {
        if (*lt == ' ' || *lt == '\t' || *lt == '<' || *lt == '>') return "holds a space, '<' or '>'";
        if (*lt == '@') at = lt;
    }
    for (lt = p; lt < e; lt++)   /* RFC 5322 3.4.1: a dot-atom; a domain literal [..] after the '@' */
        if (strchr("(),;:\\\"", *lt) || ((*lt == '[' || *lt == ']') && (!at || lt < at)))
            return "holds one of ( ) , ; : \\ \" [ ] (a comment, a list or a group is not one address)";
    if (!at) {
        if (kind == 1 && smtp__ieq(p, *n, "POSTMASTER")) return NULL;
        return "has no '@'";
    }
    if (at == p || at + 1 == e) return "has an empty local part or domain";
    return NULL;
}

/* smtp__addr, and the display name of "Name <a@b>" must decode (every '"'
   inside a quoted name escaped). */
static const char *smtp__addr_check(const char *in, int kind)
{
    const char *a, *bad, *nb, *ne, *ab, *ae;
    char name[SMTP__TOKEN_MAX + 8];
    size_t n;
    if ((bad = smtp__addr(in, kind, &a, &n)) != NULL) return bad;
    smtp__addr_split(in, &nb, &ne, &ab, &ae);
    if (ne > nb && smtp__dname(nb, ne, name, sizeof name, &n))
        return "has a '\"' in its display name that is not escaped (write the name plainly, or quote it "
               "with every inner '\"' as \\\")";
    return NULL;
}

/* ---- settings: the msmtp configuration file and smtp:// URLs ---------- */

#define SMTP__NOTES 4096   /* the end of the settings' memory holds the notes */

/* Copies n bytes of p into the settings' memory; NULL when out of memory. */
static char *smtp__settings_dup(smtp_settings *st, const char *p, size_t n)
{
    char *d;
    if (st->used + n + 1 > st->cap - SMTP__NOTES) return NULL;   /* the memory is sized up front */
    d = st->mem + st->used;
    memcpy(d, p, n);
    d[n] = 0;
    st->used += n + 1;
    return d;
}

static smtp_result smtp__settings_fail(smtp_settings *st, const char *where, int line, const char *fmt, ...) SMTP__PRINTF(4, 5);
static smtp_result smtp__settings_fail(smtp_settings *st, const char *where, int line, const char *fmt, ...)
{
    va_list ap;
    int k = line > 0 ? snprintf(st->detail, sizeof st->detail, "%s:%d: ", where, line)
                     : snprintf(st->detail, sizeof st->detail, "%s: ", where);
    va_start(ap, fmt);
    if (k >= 0 && (size_t)k < sizeof st->detail) vsnprintf(st->detail + k, sizeof st->detail - (size_t)k, fmt, ap);
    va_end(ap);
    return SMTP_ERR_CONFIG;
}

static int smtp__settings_bool(const char *v, int *out)
{
    if (!*v || !strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) { *out = 1; return 0; }
    if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) { *out = 0; return 0; }
    return -1;
}

/* A whole number lo..hi. */
static int smtp__settings_int(const char *v, long lo, long hi, long *out)
{
    long x = 0;
    if (!*v) return -1;
    for (; *v; v++) {
        if (*v < '0' || *v > '9' || x > 100000000L) return -1;
        x = x * 10 + (*v - '0');
    }
    if (x < lo || x > hi) return -1;
    *out = x;
    return 0;
}

/* ---- the configuration keys: one table ----------------------------------- */

/* Every key of the file, of URL queries and of smtp_settings_set, once:
   X(name, kind, field of smtp_config, what it takes, default, one line).
   smtp__settings_apply is one switch over the kinds; smtp_config_keys() gives
   the table to programs (smtp-send's long options and --help); the unit
   tests hold the manual's CONFIG FILE list to it. */
enum {
    SMTP__K_HOST, SMTP__K_PORT, SMTP__K_TEXT, SMTP__K_TEXT_OR_NULL, SMTP__K_WORD, SMTP__K_TRUST,
    SMTP__K_EVAL, SMTP__K_BOOL, SMTP__K_SECONDS, SMTP__K_AUTH, SMTP__K_TLS, SMTP__K_STARTTLS,
    SMTP__K_PIN, SMTP__K_CERTCHECK, SMTP__K_NOCERTCHECK, SMTP__K_TLS_MIN, SMTP__K_TLS_MAX,
    SMTP__K_SECURITY, SMTP__K_PROXY_HOST, SMTP__K_PROXY_TYPE, SMTP__K_NOTE, SMTP__K_COUNT, SMTP__K_NOT,
    SMTP__K_PROTOCOL
};
#define SMTP__F(f) offsetof(smtp_config, f)
#define SMTP__NOF 0                       /* the kind knows where its value goes */
#define SMTP__V_BOOL "on|off"
#define SMTP__V_PORT "1..65535"
#define SMTP__V_SECS "seconds (1..2000000)|off"
#define SMTP__V_NOTE "text (kept for programs: smtp_settings_get)"
#define SMTP__NOTE_KEY(X, name) X(name, SMTP__K_NOTE, SMTP__NOF, SMTP__V_NOTE, "", "msmtp key that does not concern sending")
#define SMTP__KEYS(X) \
    X("host", SMTP__K_HOST, SMTP__F(host), "a host name or address", "", "the server") \
    X("port", SMTP__K_PORT, SMTP__F(port), SMTP__V_PORT, "465 implicit, 587 STARTTLS, else 25", "the server's port") \
    X("socket", SMTP__K_TEXT_OR_NULL, SMTP__F(socket_path), "a path", "", \
      "a Unix socket instead of host and port") \
    X("from", SMTP__K_TEXT, SMTP__F(from), "an address", "", "the envelope sender when the message names none") \
    X("user", SMTP__K_TEXT_OR_NULL, SMTP__F(username), "text", "", "the AUTH user name (none: no AUTH)") \
    X("password", SMTP__K_TEXT, SMTP__F(password), "text", "", "the AUTH password, or the OAuth2 token") \
    X("passwordeval", SMTP__K_EVAL, SMTP__NOF, "a command", "", \
      "a command printing the password, for programs to run") \
    X("auth", SMTP__K_AUTH, SMTP__F(allowed_auth), "on|off" SMTP__AUTH_NAMES(SMTP__NAME_BAR), "on", \
      "on: any of PLAIN, LOGIN, CRAM-MD5; off: no AUTH; or one") \
    X("tls", SMTP__K_TLS, SMTP__NOF, SMTP__V_BOOL, "", "msmtp: off is cleartext (security none)") \
    X("tls_starttls", SMTP__K_STARTTLS, SMTP__NOF, SMTP__V_BOOL, "on", "msmtp: with tls on, off is implicit TLS") \
    X("tls_trust_file", SMTP__K_TRUST, SMTP__F(ca_file), "a PEM file|system", "system", "the trusted CAs") \
    X("tls_fingerprint", SMTP__K_PIN, SMTP__F(tls_fingerprint), \
      "a SHA-256 fingerprint (64 hex digits, ':' allowed)", "", "pin the server's certificate") \
    X("tls_cert_file", SMTP__K_TEXT_OR_NULL, SMTP__F(tls_cert_file), "a PEM file", "", "client certificate chain") \
    X("tls_key_file", SMTP__K_TEXT_OR_NULL, SMTP__F(tls_key_file), "a PEM file", "", "client certificate's key") \
    X("tls_certcheck", SMTP__K_CERTCHECK, SMTP__F(tls_verify), SMTP__V_BOOL, "on", "off: no certificate check") \
    X("tls_nocertcheck", SMTP__K_NOCERTCHECK, SMTP__F(tls_verify), "nothing", "", "old msmtp: tls_certcheck off") \
    X("tls_min_version", SMTP__K_TLS_MIN, SMTP__NOF, &(SMTP__TLS_NAMES(SMTP__NAME_BAR))[1], "1.2", "lowest TLS version") \
    X("tls_max_version", SMTP__K_TLS_MAX, SMTP__NOF, &(SMTP__TLS_NAMES(SMTP__NAME_BAR))[1], "1.2", "highest TLS version") \
    X("security", SMTP__K_SECURITY, SMTP__F(security), &(SMTP__SECURITY_NAMES(SMTP__NAME_BAR))[1], "auto", \
      "auto: TLS required, the mode probed") \
    X("proxy_host", SMTP__K_PROXY_HOST, SMTP__F(proxy.host), "a host name or address", "", \
      "the proxy to connect through (see proxy_type)") \
    X("proxy_port", SMTP__K_PORT, SMTP__F(proxy.port), SMTP__V_PORT, "1080, http 8080", "the proxy's port") \
    X("proxy_type", SMTP__K_PROXY_TYPE, SMTP__F(proxy.type), &(SMTP__PROXY_NAMES(SMTP__NAME_BAR))[1], "socks5", \
      "the proxy's protocol") \
    X("proxy_user", SMTP__K_TEXT_OR_NULL, SMTP__F(proxy.username), "text", "", "SOCKS4 user id, SOCKS5 or HTTP user") \
    X("proxy_password", SMTP__K_TEXT, SMTP__F(proxy.password), "text", "", "SOCKS5 or HTTP password") \
    X("source_ip", SMTP__K_TEXT_OR_NULL, SMTP__F(local_address), "an address", "", "bind to this local address") \
    X("domain", SMTP__K_WORD, SMTP__F(helo_name), "one word without white space", \
      "this host's name", "the name in EHLO") \
    X("timeout", SMTP__K_SECONDS, SMTP__F(timeout_ms), SMTP__V_SECS, "60", "each command and its reply") \
    X("connect_timeout", SMTP__K_SECONDS, SMTP__F(connect_timeout_ms), SMTP__V_SECS, "30", "the connection") \
    X("greeting_timeout", SMTP__K_SECONDS, SMTP__F(greeting_timeout_ms), SMTP__V_SECS, "30", "the 220 greeting") \
    X("data_timeout", SMTP__K_SECONDS, SMTP__F(data_timeout_ms), SMTP__V_SECS, "600", \
      "the reply to the end of the message") \
    X("allow_cleartext_auth", SMTP__K_BOOL, SMTP__F(allow_cleartext_auth), SMTP__V_BOOL, "off", \
      "on: PLAIN, LOGIN, XOAUTH2 also without TLS") \
    X("pipeline_messages", SMTP__K_BOOL, SMTP__F(pipeline_messages), SMTP__V_BOOL, "off", \
      "on: a batch's messages pipelined into each other") \
    X("protocol", SMTP__K_PROTOCOL, SMTP__F(protocol), "smtp|lmtp", "smtp", "lmtp: LHLO, a reply per recipient") \
    X("reconnect", SMTP__K_NOT, SMTP__F(no_reconnect), SMTP__V_BOOL, "on", \
      "off: a connection the server closed is an error") \
    X("idle_check", SMTP__K_SECONDS, SMTP__F(idle_check_ms), SMTP__V_SECS, "30", \
      "idle longer: NOOP before the next message") \
    X("messages_per_connection", SMTP__K_COUNT, SMTP__F(messages_per_connection), "0..1000000", "0", \
      "QUIT and reconnect after this many (0: no limit)") \
    X("messages_per_second", SMTP__K_COUNT, SMTP__F(messages_per_second), "0..1000000", "0", \
      "at most this many messages a second (0: no limit)") \
    SMTP__NOTE_KEY(X, "logfile") SMTP__NOTE_KEY(X, "logfile_time_format") SMTP__NOTE_KEY(X, "syslog") \
    SMTP__NOTE_KEY(X, "aliases") SMTP__NOTE_KEY(X, "auto_from") SMTP__NOTE_KEY(X, "maildomain") \
    SMTP__NOTE_KEY(X, "dsn_notify") SMTP__NOTE_KEY(X, "dsn_return") SMTP__NOTE_KEY(X, "add_missing_from_header") \
    SMTP__NOTE_KEY(X, "add_missing_date_header") SMTP__NOTE_KEY(X, "remove_bcc_headers") \
    SMTP__NOTE_KEY(X, "undisclosed_recipients") SMTP__NOTE_KEY(X, "set_from_header") SMTP__NOTE_KEY(X, "set_date_header") \
    SMTP__NOTE_KEY(X, "set_msgid_header") SMTP__NOTE_KEY(X, "allow_from_override") SMTP__NOTE_KEY(X, "from_full_name") \
    SMTP__NOTE_KEY(X, "tls_crl_file") SMTP__NOTE_KEY(X, "tls_priorities") SMTP__NOTE_KEY(X, "tls_min_dh_prime_bits") \
    SMTP__NOTE_KEY(X, "tls_host_override") SMTP__NOTE_KEY(X, "ntlmdomain") SMTP__NOTE_KEY(X, "keepbcc") \
    SMTP__NOTE_KEY(X, "envelope_from") SMTP__NOTE_KEY(X, "eval")

typedef struct smtp__key { const char *name; int kind; size_t off; const char *value; } smtp__key;
#define SMTP__KEY_ITEM(name, kind, off, value, dflt, doc) { name, kind, off, value },
static const smtp__key smtp__keys[] = { SMTP__KEYS(SMTP__KEY_ITEM) };
#undef SMTP__KEY_ITEM
#define SMTP__PUBKEY_ITEM(name, kind, off, value, dflt, doc) { name, value, dflt, doc, kind != SMTP__K_NOTE },
static const smtp_config_key smtp__pub_keys[] = { SMTP__KEYS(SMTP__PUBKEY_ITEM) };
#undef SMTP__PUBKEY_ITEM
#define SMTP__NKEYS (sizeof smtp__keys / sizeof *smtp__keys)

static const smtp__key *smtp__key_find(const char *name)
{
    size_t i;
    for (i = 0; i < SMTP__NKEYS; i++)
        if (!strcmp(smtp__keys[i].name, name)) return &smtp__keys[i];
    return NULL;
}

SMTP_API const smtp_config_key *smtp_config_keys(size_t *count)
{
    if (count) *count = SMTP__NKEYS;
    return smtp__pub_keys;
}

/* State of one load: what the file said about tls and the versions, so the
   security mode and the version range are settled once at the end. */
typedef struct smtp__load_state { int tls, starttls, auth_off, tls_min, tls_max, quiet, record; } smtp__load_state;

/* Blocks chained from st->extra, freed (wiped) with the settings:
   [next][size][kind][bytes]. kind 'V': a value given to smtp_settings_set;
   'K': "key\0value\0", every key applied, for smtp_settings_get. */
static char *smtp__settings_block(smtp_settings *st, char kind, const char *a, const char *b)
{
    size_t la = strlen(a), lb = b ? strlen(b) + 1 : 0, size = la + 1 + lb;
    size_t hdr = sizeof(void *) + sizeof(size_t) + 1;
    char *blk = (char *)SMTP_MALLOC(hdr + size);
    if (!blk) return NULL;
    memcpy(blk, &st->extra, sizeof(void *));
    memcpy(blk + sizeof(void *), &size, sizeof size);
    blk[hdr - 1] = kind;
    memcpy(blk + hdr, a, la + 1);
    if (b) memcpy(blk + hdr + la + 1, b, lb);
    st->extra = blk;
    return blk + hdr;
}

/* One value of an enumeration (security, proxy_type, auth, TLS version),
   by its name in the table; 0 and *out set, or -1. */
static int smtp__settings_enum(const smtp__name *t, const char *v, unsigned *out)
{
    const smtp__name *e = smtp__name_find(t, 1, v, strlen(v));
    if (!e) return -1;
    *out = e->value;
    return 0;
}

/* One key and its value, from a file line, a URL query or
   smtp_settings_set; v lives in st's memory already. One case per kind of
   key (SMTP__KEYS); a refusal names the key, the rule and the value. */
static smtp_result smtp__settings_apply(smtp_settings *st, smtp__load_state *x, const char *key, const char *v,
                                  const char *where, int line)
{
    smtp_config *c = &st->cfg;
    const smtp__key *k = smtp__key_find(key);
    char *field;
    long n;
    int b;
    unsigned e;
    if (!k) return smtp__settings_fail(st, where, line, "unknown key \"%.60s\"", key);
    if (!smtp__clean(v)) return smtp__settings_fail(st, where, line, "%s: the value holds a control character", key);
    if (x->record && !smtp__settings_block(st, 'K', key, v)) return SMTP_ERR_NOMEM;
    field = (char *)c + k->off;
#define SMTP__BAD() return smtp__settings_fail(st, where, line, "%s: takes %s (got \"%.60s\")", key, k->value, v)
    switch (k->kind) {
    case SMTP__K_HOST: if (!*v || strpbrk(v, " \t")) SMTP__BAD(); memcpy(field, &v, sizeof v); break;
    case SMTP__K_WORD:   /* the EHLO name: one word, at most 255 bytes */
        if (*v && (strpbrk(v, " \t") || strlen(v) > 255)) SMTP__BAD();
        /* fall through */
    case SMTP__K_TEXT_OR_NULL: { const char *p = *v ? v : NULL; memcpy(field, &p, sizeof p); break; }
    case SMTP__K_TEXT: memcpy(field, &v, sizeof v); break;
    case SMTP__K_TRUST: { const char *p = (*v && strcmp(v, "system")) ? v : NULL; memcpy(field, &p, sizeof p); break; }
    case SMTP__K_EVAL: st->passwordeval = v; break;
    case SMTP__K_PORT: if (smtp__settings_int(v, 1, 65535, &n)) SMTP__BAD(); *(int *)(void *)field = (int)n; break;
    case SMTP__K_BOOL: if (smtp__settings_bool(v, &b)) SMTP__BAD(); *(int *)(void *)field = b; break;
    case SMTP__K_NOT: if (smtp__settings_bool(v, &b)) SMTP__BAD(); *(int *)(void *)field = !b; break;
    case SMTP__K_COUNT: if (smtp__settings_int(v, 0, 1000000, &n)) SMTP__BAD(); *(unsigned *)(void *)field = (unsigned)n; break;
    case SMTP__K_PROTOCOL:
        if (strcmp(v, "smtp") && strcmp(v, "lmtp")) SMTP__BAD();
        c->protocol = v[0] == 'l' ? SMTP_PROTOCOL_LMTP : SMTP_PROTOCOL_SMTP;
        break;
    case SMTP__K_SECONDS:
        if (!strcmp(v, "off")) *(int *)(void *)field = -1;
        else if (smtp__settings_int(v, 1, 2000000, &n)) SMTP__BAD();
        else *(int *)(void *)field = (int)n * 1000;
        break;
    case SMTP__K_AUTH:
        x->auth_off = 0;
        if (!*v || !strcmp(v, "on")) c->allowed_auth = 0;
        else if (!strcmp(v, "off")) x->auth_off = 1;
        else if (smtp__settings_enum(smtp__auth_names, v, &e)) SMTP__BAD();
        else c->allowed_auth = e;
        break;
    case SMTP__K_TLS: if (smtp__settings_bool(v, &b)) SMTP__BAD(); x->tls = b ? 1 : 2; break;
    case SMTP__K_STARTTLS: if (smtp__settings_bool(v, &b)) SMTP__BAD(); x->starttls = b ? 1 : 2; break;
    case SMTP__K_PIN: {
        size_t hex = 0;
        const char *q;
        for (q = v; *q; q++) if (*q != ':') hex++;
        if (hex != 64) SMTP__BAD();
        c->tls_fingerprint = v;
        break;
    }
    case SMTP__K_CERTCHECK: if (smtp__settings_bool(v, &b)) SMTP__BAD(); c->tls_verify = b ? SMTP_VERIFY_FULL : SMTP_VERIFY_NONE; break;
    case SMTP__K_NOCERTCHECK: c->tls_verify = SMTP_VERIFY_NONE; break;
    case SMTP__K_TLS_MIN: case SMTP__K_TLS_MAX:
        if (!strncmp(v, "tls", 3) || !strncmp(v, "TLS", 3)) v += 3;
        if (*v == 'v' || *v == 'V') v++;
        if (smtp__settings_enum(smtp__tls_names, v, &e)) SMTP__BAD();
        if (k->kind == SMTP__K_TLS_MIN) x->tls_min = (int)e; else x->tls_max = (int)e;
        break;
    case SMTP__K_SECURITY:
        if (smtp__settings_enum(smtp__security_names, v, &e)) SMTP__BAD();
        c->security = (smtp_security)e;
        x->tls = 0; x->starttls = 0;   /* security is the last word */
        break;
    case SMTP__K_PROXY_HOST:
        c->proxy.host = *v ? v : NULL;
        if (!*v) c->proxy.type = SMTP_PROXY_NONE;
        else if (!c->proxy.type) c->proxy.type = SMTP_PROXY_SOCKS5;
        break;
    case SMTP__K_PROXY_TYPE: if (smtp__settings_enum(smtp__proxy_names, v, &e)) SMTP__BAD(); c->proxy.type = (smtp_proxy_type)e; break;
    case SMTP__K_NOTE:   /* an msmtp key that does not concern sending: kept, noted */
        if (!x->quiet) {
            char *notes = st->mem + st->cap - SMTP__NOTES;
            size_t have = strlen(notes);
            snprintf(notes + have, SMTP__NOTES - have, "%s:%d: %s ignored (it does not concern sending)\n",
                     where, line, key);
        }
        break;
    }
#undef SMTP__BAD
    return SMTP_OK;
}

/* Settles the security mode and TLS versions from what the keys said. */
static smtp_result smtp__settings_finish(smtp_settings *st, smtp__load_state *x, const char *where)
{
    smtp_config *c = &st->cfg;
    if (x->tls == 2) c->security = SMTP_SECURITY_NONE;
    else if (x->tls == 1) c->security = x->starttls == 2 ? SMTP_SECURITY_IMPLICIT : SMTP_SECURITY_STARTTLS;
    else if (x->starttls) c->security = x->starttls == 2 ? SMTP_SECURITY_IMPLICIT : SMTP_SECURITY_STARTTLS;
    if (x->auth_off) { c->username = NULL; c->password = NULL; }
    if (x->tls_min || x->tls_max) {
        unsigned lo = x->tls_min ? (unsigned)x->tls_min : (unsigned)SMTP_TLS_1_2;
        unsigned hi = x->tls_max ? (unsigned)x->tls_max : (unsigned)SMTP_TLS_1_3;
        unsigned m = 0, v;
        if (lo > hi) return smtp__settings_fail(st, where, 0, "tls_min_version is above tls_max_version");
        for (v = lo; v <= hi; v <<= 1) m |= v;
        (void)smtp_config_set_tls_versions(c, m);
    }
    if (c->proxy.host && !c->proxy.port) c->proxy.port = c->proxy.type == SMTP_PROXY_HTTP ? 8080 : 1080;
    return SMTP_OK;
}

SMTP_API smtp_result smtp_settings_set(smtp_settings *st, const char *key, const char *value)
{
    smtp__load_state x;
    char *v;
    smtp_result r;
    if (!st || !key || !value) return SMTP_ERR_PARAM;
    if (!st->notes) st->notes = "";
    if (!(v = smtp__settings_block(st, 'V', value, NULL))) return SMTP_ERR_NOMEM;   /* cfg points at it */
    memset(&x, 0, sizeof x);
    x.quiet = 1; x.record = 1;
    if ((r = smtp__settings_apply(st, &x, key, v, "option", 0)) != SMTP_OK) return r;
    return smtp__settings_finish(st, &x, "option");
}

SMTP_API const char *smtp_settings_get(const smtp_settings *st, const char *key)
{
    const char *blk;
    size_t hdr = sizeof(void *) + sizeof(size_t) + 1;
    if (!st || !key) return NULL;
    for (blk = (const char *)st->extra; blk;) {   /* newest first: the value in force */
        void *next;
        if (blk[hdr - 1] == 'K' && !strcmp(blk + hdr, key)) return blk + hdr + strlen(blk + hdr) + 1;
        memcpy(&next, blk, sizeof next);
        blk = (const char *)next;
    }
    return NULL;
}

SMTP_API void smtp_settings_free(smtp_settings *st)
{
    if (!st) return;
    while (st->extra) {
        void *next;
        size_t size;
        char *blk = (char *)st->extra;
        memcpy(&next, blk, sizeof next);
        memcpy(&size, blk + sizeof(void *), sizeof size);
        smtp__wipe(blk, sizeof(void *) + sizeof(size_t) + 1 + size);   /* passwords pass here */
        SMTP_FREE(blk);
        st->extra = next;
    }
    if (st->mem) { smtp__wipe(st->mem, st->cap); SMTP_FREE(st->mem); }
    st->mem = NULL; st->used = st->cap = 0;
}

static void smtp__settings_init(smtp_settings *st, size_t cap)
{
    memset(st, 0, sizeof *st);
    st->notes = "";
    cap += SMTP__NOTES;
    st->mem = (char *)SMTP_MALLOC(cap);
    if (!st->mem) return;
    st->cap = cap;
    st->mem[cap - SMTP__NOTES] = 0;
    st->notes = st->mem + cap - SMTP__NOTES;
}

/* One parsed line of the file: its key and value (unquoted, in place). */
typedef struct smtp__cline { const char *key, *val; int line; } smtp__cline;

/* Splits line p (NUL-terminated, in the file copy) into key and value;
   double quotes group, with \" and \\ inside. 0, or -1 for an
   unterminated quote. */
static int smtp__settings_split(char *p, const char **key, const char **val)
{
    char *o;
    while (*p == ' ' || *p == '\t') p++;
    *key = p;
    while (*p && *p != ' ' && *p != '\t') p++;
    if (*p) *p++ = 0;
    while (*p == ' ' || *p == '\t') p++;
    *val = o = p;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) p++;
            *o++ = *p;
        }
        if (*p != '"') return -1;
        *o = 0;
        return 0;
    }
    for (o = p + strlen(p); o > p && (o[-1] == ' ' || o[-1] == '\t' || o[-1] == '\r'); o--) {}
    *o = 0;
    return 0;
}

#define SMTP__ACC_MAX 64
typedef struct smtp__acct { const char *name; int first, last, parents_line; const char *parents; int defaults_end; } smtp__acct;

/* Account a's settings as line indices, each key once at its last place:
   its parents' (in order, each resolved once and kept in memo), then its
   own lines. Resolving each account once keeps a file of nested
   multi-parent accounts linear (applied per path, 800 bytes took
   minutes); state: 0 new, 1 being resolved (a cycle), 2 done. */
#define SMTP__KEYS_MAX 128
typedef struct smtp__resolved { int n; int idx[SMTP__KEYS_MAX]; } smtp__resolved;

static void smtp__res_add(smtp__resolved *r, const smtp__cline *ln, int i)
{
    int k;
    for (k = 0; k < r->n; k++)
        if (!strcmp(ln[r->idx[k]].key, ln[i].key)) {
            memmove(r->idx + k, r->idx + k + 1, (size_t)(r->n - k - 1) * sizeof *r->idx);
            r->n--;
            break;
        }
    if (r->n < SMTP__KEYS_MAX) r->idx[r->n++] = i;   /* never full: the keys are known ones, checked before */
}

static smtp_result smtp__settings_resolve(smtp_settings *st, const char *path, const smtp__cline *ln, int nl,
                                    const smtp__acct *acc, int na, int a, smtp__resolved *memo, unsigned char *state)
{
    const char *p = acc[a].parents;
    smtp__resolved *r = &memo[a];
    smtp_result rr;
    int i;
    if (state[a] == 2) return SMTP_OK;
    if (state[a] == 1)
        return smtp__settings_fail(st, path, acc[a].parents_line, "account \"%s\" inherits from itself", acc[a].name);
    state[a] = 1;
    r->n = 0;
    while (p && *p) {
        char name[128];
        size_t k = 0;
        int j, found = -1;
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        while (*p && *p != ',' && *p != ' ' && *p != '\t' && k + 1 < sizeof name) name[k++] = *p++;
        name[k] = 0;
        if (!k) break;
        if (*p && *p != ',' && *p != ' ' && *p != '\t')
            return smtp__settings_fail(st, path, acc[a].parents_line, "account \"%s\": a parent name is longer than %d "
                                 "characters", acc[a].name, (int)sizeof name - 1);
        for (j = 0; j < na; j++) if (j != a && !strcmp(acc[j].name, name)) found = j;
        if (!strcmp(name, acc[a].name))
            return smtp__settings_fail(st, path, acc[a].parents_line, "account \"%s\" inherits from itself", name);
        if (found < 0)
            return smtp__settings_fail(st, path, acc[a].parents_line, "account \"%s\" inherits from \"%s\", which is not defined",
                                 acc[a].name, name);
        if ((rr = smtp__settings_resolve(st, path, ln, nl, acc, na, found, memo, state)) != SMTP_OK) return rr;
        for (i = 0; i < memo[found].n; i++) smtp__res_add(r, ln, memo[found].idx[i]);
    }
    for (i = acc[a].first; i < acc[a].last && i < nl; i++) smtp__res_add(r, ln, i);
    state[a] = 2;
    return SMTP_OK;
}

/* Applies account a: the defaults before it, then its resolved lines. */
static smtp_result smtp__settings_account(smtp_settings *st, smtp__load_state *x, const char *path, smtp__cline *ln, int nl,
                                    smtp__acct *acc, int na, int a)
{
    smtp__resolved *memo = (smtp__resolved *)SMTP_MALLOC((size_t)na * sizeof *memo + (size_t)na);
    unsigned char *state;
    smtp_result r;
    int i;
    if (!memo) return SMTP_ERR_NOMEM;
    state = (unsigned char *)(memo + na);
    memset(state, 0, (size_t)na);
    r = smtp__settings_resolve(st, path, ln, nl, acc, na, a, memo, state);
    for (i = 0; r == SMTP_OK && i < acc[a].defaults_end; i++)
        if (ln[i].line < 0) r = smtp__settings_apply(st, x, ln[i].key, ln[i].val, path, -ln[i].line);
    for (i = 0; r == SMTP_OK && i < memo[a].n; i++)
        r = smtp__settings_apply(st, x, ln[memo[a].idx[i]].key, ln[memo[a].idx[i]].val, path, ln[memo[a].idx[i]].line);
    SMTP_FREE(memo);
    return r;
}

/* A configuration file as lines and accounts: ln[0..nl) the key lines
   (line < 0: in defaults), acc[0..na) the accounts with their ranges. */
typedef struct smtp__cfile {
    smtp__cline *ln;
    int nl, na, has_password;
    smtp__acct acc[SMTP__ACC_MAX];
} smtp__cfile;

/* The file's text into the settings' memory (values will point into it),
   with room for its line table after it; *text is that copy. */
static smtp_result smtp__settings_text(smtp_settings *st, const char *path, char **text, smtp__cfile *f)
{
    char *t, ebuf[128];
    size_t n = 0, nlines = 1, i;
    int e;
    if ((e = smtp__read_file(path, &t, &n)) != 0)
        return smtp__settings_fail(st, path, 0, "cannot read the file: %s", smtp__file_error(e, ebuf, sizeof ebuf));
    for (i = 0; i < n; i++) if (t[i] == '\n') nlines++;
    smtp__settings_init(st, n + 1 + nlines * sizeof(smtp__cline) + 64);
    if (!st->mem) { SMTP_FREE(t); return SMTP_ERR_NOMEM; }
    memcpy(st->mem, t, n + 1);
    SMTP_FREE(t);
    *text = st->mem;
    st->used = (n + 1 + 15) & ~(size_t)15;
    f->ln = (smtp__cline *)(void *)(st->mem + st->used);
    st->used += nlines * sizeof(smtp__cline);
    return SMTP_OK;
}

/* "account NAME [: PARENT, ...]" opens account number f->na. */
static smtp_result smtp__settings_account_line(smtp_settings *st, const char *path, int lineno, char *v, smtp__cfile *f)
{
    char *colon = strchr(v, ':'), *end;
    smtp__acct *ac;
    if (f->na == SMTP__ACC_MAX) return smtp__settings_fail(st, path, lineno, "more than %d accounts", SMTP__ACC_MAX);
    if (colon) *colon = 0;
    for (end = v + strlen(v); end > v && (end[-1] == ' ' || end[-1] == '\t');) *--end = 0;
    while (*v == ' ') v++;
    if (!*v) return smtp__settings_fail(st, path, lineno, "account: a name is needed");
    ac = &f->acc[f->na++];
    ac->name = v; ac->first = ac->last = ac->defaults_end = f->nl;
    ac->parents = colon ? colon + 1 : NULL; ac->parents_line = lineno;
    return SMTP_OK;
}

/* The text cut into lines: comments and blank lines skipped, defaults
   and accounts opened, every other line kept in f->ln. */
static smtp_result smtp__settings_lines(smtp_settings *st, const char *path, char *p, smtp__cfile *f)
{
    int lineno = 0, in_defaults = 0, cur = -1;
    smtp_result r = SMTP_OK;
    while (p && *p && r == SMTP_OK) {
        char *eol = strchr(p, '\n');
        const char *key, *val;
        if (eol) *eol = 0;
        if (eol && eol > p && eol[-1] == '\r') eol[-1] = 0;   /* CRLF (a file saved on Windows) */
        lineno++;
        while (*p == ' ' || *p == '\t') p++;
        if (*p && *p != '#' && *p != '\r') {
            if (smtp__settings_split(p, &key, &val) != 0) return smtp__settings_fail(st, path, lineno, "unterminated quote");
            if (!strcmp(key, "defaults") || !strcmp(key, "account")) {
                if (cur >= 0) f->acc[cur].last = f->nl;
                in_defaults = key[0] == 'd';
                cur = -1;
                if (!in_defaults && (r = smtp__settings_account_line(st, path, lineno, (char *)val, f)) == SMTP_OK)
                    cur = f->na - 1;
            } else if (cur < 0 && !in_defaults) {
                return smtp__settings_fail(st, path, lineno, "%s: outside any account or defaults", key);
            } else {
                if (!strcmp(key, "password")) f->has_password = 1;
                f->ln[f->nl].key = key; f->ln[f->nl].val = val; f->ln[f->nl].line = cur < 0 ? -lineno : lineno;
                f->nl++;
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    if (cur >= 0) f->acc[cur].last = f->nl;
    return r;
}

/* Every line checked, in every account, as msmtp does; notes come from here. */
static smtp_result smtp__settings_check_lines(smtp_settings *st, const char *path, const smtp__cfile *f)
{
    int i;
    for (i = 0; i < f->nl; i++) {
        smtp_settings scratch = *st;
        smtp__load_state sx;
        smtp_result r;
        memset(&sx, 0, sizeof sx);
        r = smtp__settings_apply(&scratch, &sx, f->ln[i].key, f->ln[i].val, path, f->ln[i].line < 0 ? -f->ln[i].line : f->ln[i].line);
        if (r != SMTP_OK) { memcpy(st->detail, scratch.detail, sizeof st->detail); return r; }
    }
    return SMTP_OK;
}

static smtp_result smtp__config_load(smtp_settings *st, const char *path, const char *account, int system)
{
    char *text = NULL;
    int i, a = -1;
    smtp__cfile f;
    smtp__load_state x;
    smtp_result r;
    unsigned mode;
    if (!st) return SMTP_ERR_PARAM;
    memset(st, 0, sizeof *st);
    st->notes = "";
    if (!path) return smtp__settings_fail(st, "smtp_config_load", 0, "path is NULL");
    memset(&f, 0, sizeof f);
    if ((r = smtp__settings_text(st, path, &text, &f)) != SMTP_OK || (r = smtp__settings_lines(st, path, text, &f)) != SMTP_OK)
        return r;
    /* msmtp refuses a password in a file others can read; so do we (not the system file: root's to protect) */
    if (f.has_password && !system && smtp__file_mode(path, &mode) == 0 && (mode & 077))
        return smtp__settings_fail(st, path, 0, "holds a password but can be read by others (mode %03o): "
                             "chmod 600 it, as msmtp requires", mode & 0777);
    if ((r = smtp__settings_check_lines(st, path, &f)) != SMTP_OK) return r;
    memset(&x, 0, sizeof x);
    x.quiet = 1; x.record = 1;
    if (!account) account = "default";
    for (i = 0; i < f.na; i++) if (!strcmp(f.acc[i].name, account)) a = i;
    if (a < 0) return smtp__settings_fail(st, path, 0, "no account \"%s\" in the file", account);
    st->account = f.acc[a].name;
    /* "account default : NAME" is an account like the others: it inherits NAME */
    if ((r = smtp__settings_account(st, &x, path, f.ln, f.nl, f.acc, f.na, a)) != SMTP_OK) return r;
    return smtp__settings_finish(st, &x, path);
}

SMTP_API smtp_result smtp_config_load(smtp_settings *st, const char *path, const char *account)
{
    return smtp__config_load(st, path, account, 0);
}

SMTP_API smtp_result smtp_config_load_system(smtp_settings *st, const char *path, const char *account)
{
    return smtp__config_load(st, path, account, 1);
}

/* Percent-decoding (RFC 3986 2.1) of p[0..n) into out, NUL-terminated;
   %00 is refused. */
static int smtp__pct(const char *p, size_t n, char *out, size_t *on)
{
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        if (p[i] == '%') {
            int h, l;
            if (i + 2 >= n) return -1;
            h = smtp__hexval(p[i + 1]); l = smtp__hexval(p[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0)) return -1;
            out[o++] = (char)(h << 4 | l);
            i += 2;
        } else out[o++] = p[i];
    }
    out[o] = 0;
    *on = o;
    return 0;
}

/* An smtp:// or smtps:// URL cut into its parts, each a span of the URL
   (not decoded). Pure: NULL, or what is wrong. */
typedef struct smtp__url {
    int implicit;                       /* smtps:// */
    const char *user, *pass, *host, *port, *path, *query;
    size_t user_n, pass_n, host_n, port_n, path_n;   /* the query runs to the end */
} smtp__url;

static const char *smtp__url_split(const char *url, smtp__url *u)
{
    const char *p, *q, *at = NULL, *t;
    size_t n = strlen(url);
    memset(u, 0, sizeof *u);
    if (n > 8 && (!strncmp(url, "smtps://", 8) || !strncmp(url, "SMTPS://", 8))) { u->implicit = 1; p = url + 8; }
    else if (n > 7 && (!strncmp(url, "smtp://", 7) || !strncmp(url, "SMTP://", 7))) p = url + 7;
    else return "does not start with smtp:// or smtps://";
    for (q = p; *q && *q != '/' && *q != '?'; q++) {}
    for (t = p; t < q; t++) if (*t == '@') at = t;   /* userinfo: up to the last '@' before the path */
    if (at) {
        const char *colon = (const char *)memchr(p, ':', (size_t)(at - p));
        u->user = p; u->user_n = (size_t)((colon ? colon : at) - p);
        if (colon) { u->pass = colon + 1; u->pass_n = (size_t)(at - colon - 1); }
        p = at + 1;
    }
    if (*p == '[') {
        const char *e = strchr(p + 1, ']');
        if (!e || e > q) return "an IPv6 address lacks its ']'";
        u->host = p + 1; u->host_n = (size_t)(e - p - 1);
        p = e + 1;
    } else {
        for (u->host = p; p < q && *p != ':'; p++) {}
        u->host_n = (size_t)(p - u->host);
    }
    if (!u->host_n) return "no host";
    for (t = u->host; t < u->host + u->host_n; t++)
        if ((unsigned char)*t <= 0x20 || *t == 0x7F) return "the host holds white space or control characters";
    if (p < q && *p == ':') { u->port = p + 1; u->port_n = (size_t)(q - p - 1); }
    else if (p != q) return "unexpected text after the host";
    p = q;
    if (*p == '/') {   /* the path is the EHLO name, as curl has it */
        const char *e = strchr(p, '?');
        u->path = p + 1; u->path_n = e ? (size_t)(e - p - 1) : strlen(p + 1);
        p = u->path + u->path_n;
    }
    if (*p == '?') u->query = p + 1;
    return NULL;
}

/* The n bytes at p percent-decoded into the settings' memory; NULL when
   malformed or holding control characters. */
static const char *smtp__url_part(smtp_settings *st, const char *p, size_t n)
{
    char *d = st->mem + st->used;
    size_t dn;
    if (smtp__pct(p, n, d, &dn) || !smtp__clean(d)) return NULL;
    st->used += dn + 1;
    return d;
}

/* The query's key=value pairs, each applied as a config key. */
static smtp_result smtp__url_query(smtp_settings *st, smtp__load_state *x, const char *p)
{
    while (*p) {
        const char *amp = strchr(p, '&'), *eq, *v;
        size_t k = amp ? (size_t)(amp - p) : strlen(p);
        char key[40];
        char *d = st->mem + st->used;
        size_t dn;
        smtp_result r;
        eq = (const char *)memchr(p, '=', k);
        if (!eq || (size_t)(eq - p) >= sizeof key) return smtp__settings_fail(st, "URL", 0, "bad query option \"%.40s\"", p);
        memcpy(key, p, (size_t)(eq - p)); key[eq - p] = 0;
        if (smtp__pct(eq + 1, k - (size_t)(eq - p) - 1, d, &dn))
            return smtp__settings_fail(st, "URL", 0, "bad percent-encoding in %s", key);
        st->used += dn + 1;
        v = d;
        if ((r = smtp__settings_apply(st, x, key, v, "URL", 0)) != SMTP_OK) return r;
        p = amp ? amp + 1 : p + k;
    }
    return SMTP_OK;
}

SMTP_API smtp_result smtp_config_from_url(smtp_settings *st, const char *url)
{
    smtp__url u;
    smtp__load_state x;
    const char *why;
    smtp_result r;
    if (!st) return SMTP_ERR_PARAM;
    memset(st, 0, sizeof *st);
    st->notes = "";
    if (!url) return smtp__settings_fail(st, "smtp_config_from_url", 0, "url is NULL");
    smtp__settings_init(st, 2 * strlen(url) + 64);
    if (!st->mem) return SMTP_ERR_NOMEM;
    memset(&x, 0, sizeof x);
    x.record = 1;
    if (!smtp__clean(url)) return smtp__settings_fail(st, "URL", 0, "holds control characters");
    if ((why = smtp__url_split(url, &u)) != NULL) return smtp__settings_fail(st, "URL", 0, "\"%.80s\": %s", url, why);
    st->cfg.security = u.implicit ? SMTP_SECURITY_IMPLICIT : SMTP_SECURITY_STARTTLS;
    if (u.user && !(st->cfg.username = smtp__url_part(st, u.user, u.user_n)))
        return smtp__settings_fail(st, "URL", 0, "bad percent-encoding in the user name");
    if (u.pass && !(st->cfg.password = smtp__url_part(st, u.pass, u.pass_n)))
        return smtp__settings_fail(st, "URL", 0, "bad percent-encoding in the password");
    st->cfg.host = smtp__settings_dup(st, u.host, u.host_n);
    if (u.port) {
        char num[8];
        long port;
        if (u.port_n == 0 || u.port_n >= sizeof num) return smtp__settings_fail(st, "URL", 0, "bad port");
        memcpy(num, u.port, u.port_n); num[u.port_n] = 0;
        if (smtp__settings_int(num, 1, 65535, &port)) return smtp__settings_fail(st, "URL", 0, "port \"%s\" is not 1..65535", num);
        st->cfg.port = (int)port;
    }
    if (u.path_n) {
        const char *h = smtp__url_part(st, u.path, u.path_n);
        if (!h || strpbrk(h, " \t") || strlen(h) > 255)
            return smtp__settings_fail(st, "URL", 0, "the path (the EHLO name) must be one word without white "
                                 "space or control characters");
        st->cfg.helo_name = h;
    }
    if (u.query && (r = smtp__url_query(st, &x, u.query)) != SMTP_OK) return r;
    return smtp__settings_finish(st, &x, "URL");
}

/* ------------------------------------------------------------------------ */
/* >>session  connect, greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,   */
/*            QUIT; the public functions                                    */
/* ------------------------------------------------------------------------ */

/* Sends one command line (built by the caller, without CRLF) and reads its
   reply, all before dl. The reply's code is in s->rd.reply.code. */
/* Sends one command line, prefix followed by the base64 of secret[0..sn)
   when secret is given, and reads its reply, all before dl. show is what
   the trace and the messages see: AUTH payloads never appear there, and
   the write buffer is wiped after it went out. */
static smtp_result smtp__exchange_as(smtp_session *s, const char *prefix, const unsigned char *secret,
                                     size_t sn, const char *show, smtp__ms dl, int ehlo)
{
    smtp_result r;
    if (s->err) return s->err;
    if (s->rd.xphase == 0) {   /* the line into the buffer (a stepped session comes back for the rest) */
        size_t n = strlen(prefix), need = n + (secret ? 4 * ((sn + 2) / 3) : 0) + 2;
        snprintf(s->rd.cmd, sizeof s->rd.cmd, "%s", show);
        if (s->rd.pos < s->rd.len) {   /* nothing was asked: RFC 5321 4.1.1 is lock-step */
            char seen[64];
            smtp__visible(seen, sizeof seen, s->rd.buf + s->rd.pos, s->rd.len - s->rd.pos);
            return smtp__break(s, smtp__fail(s, SMTP_ERR_PROTOCOL, "%s sent %d bytes that answer nothing before %s: \"%s\"",
                                             s->link.peer, (int)(s->rd.len - s->rd.pos), show, seen));
        }
        if (sizeof s->wr.buf - s->wr.len < need && (r = smtp__flush(s, dl)) != SMTP_OK) return r;
        memcpy(s->wr.buf + s->wr.len, prefix, n);
        if (secret) n += smtp__b64(secret, sn, (char *)s->wr.buf + s->wr.len + n);
        memcpy(s->wr.buf + s->wr.len + n, "\r\n", 2);
        s->wr.len += n + 2;
        smtp__trace(s, SMTP_TRACE_OUT, show, strlen(show));
        s->rd.xphase = 1;
    }
    if (s->rd.xphase == 1) {   /* sending it */
        r = smtp__flush(s, dl);
        if (SMTP__WANTS(r)) return r;
        if (secret) smtp__wipe(s->wr.buf, sizeof s->wr.buf);
        s->rd.xphase = r == SMTP_OK ? 2 : 0;
        if (r != SMTP_OK) return r;
    }
    r = smtp__read_reply(s, dl, ehlo, s->cfg.timeout_ms);   /* its reply */
    if (!SMTP__WANTS(r)) s->rd.xphase = 0;
    return r;
}

static smtp_result smtp__exchange(smtp_session *s, const char *line, smtp__ms dl, int ehlo)
{
    return smtp__exchange_as(s, line, NULL, 0, line, dl, ehlo);
}

/* A command whose reply must be 2xx (or want, when given). */
static smtp_result smtp__command(smtp_session *s, const char *line, int want)
{
    smtp_result r = smtp__exchange(s, line, smtp__deadline(s->cfg.timeout_ms), 0);
    if (r) return r;
    if (want ? s->rd.reply.code != want : s->rd.reply.code / 100 != 2) return smtp__refused(s);
    return SMTP_OK;
}

static smtp_result smtp__check_state(smtp_session *s, int want, const char *call)
{
#define SMTP__STATE_NAME(st, name) name,
    static const char *const names[SMTP__NSTATES] = { SMTP__SESSION_STATES(SMTP__STATE_NAME) };
#undef SMTP__STATE_NAME
    if (s->err) return s->err;
    if (s->op && call)
        return smtp__fail(s, SMTP_ERR_STATE, "%s called while smtp_step drives a send", call);
    if (s->state != want)
        return smtp__fail(s, SMTP_ERR_STATE, "%s called while the session is %s", call ? call : "a call", names[s->state]);
    return SMTP_OK;
}

/* The EHLO name: cfg.helo_name, the FQDN of this host, or the address
   literal of the local end (RFC 5321 4.1.3). No DNS lookup. */
static void smtp__helo_name(smtp_session *s, char *out, size_t n)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char a[INET6_ADDRSTRLEN];
    if (s->cfg.helo_name) { snprintf(out, n, "%s", s->cfg.helo_name); return; }
    out[n - 1] = 0;   /* a name that does not fit is not used */
    if (smtp__hostname(out, n - 1) == 0 && strlen(out) < n - 2 && strchr(out, '.') && smtp__clean(out) &&
        !strchr(out, ' '))
        return;
    if (s->link.fd != SMTP_INVALID_SOCKET && getsockname(s->link.fd, (struct sockaddr *)&ss, &sl) == 0 &&
        (smtp__numeric_host((struct sockaddr *)&ss, a, sizeof a), a[0])) {
        snprintf(out, n, ss.ss_family == AF_INET6 ? "[IPv6:%s]" : "[%s]", a);
        return;
    }
    snprintf(out, n, "[127.0.0.1]");
}

/* EHLO, or HELO when EHLO is refused (RFC 5321 4.1.4: an old server).
   The open is made of resumable functions too (SMTP__BEGIN): a stepped
   open (smtp_open_start) stops where it must wait. */
static smtp_result smtp__ehlo(smtp_session *s, int *pc)
{
    char line[300], name[256];   /* made before each command; a resumed exchange does not read it */
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    smtp__helo_name(s, name, sizeof name);
    snprintf(line, sizeof line, "%s %s", s->cfg.protocol == SMTP_PROTOCOL_LMTP ? "LHLO" : "EHLO", name);
    SMTP__AWAIT(pc, r, smtp__exchange(s, line, smtp__deadline(s->cfg.timeout_ms), 1));
    if (r) SMTP__EXIT(r, r);
    if (s->rd.reply.code == 421) SMTP__EXIT(r, smtp__refused(s));
    if (s->rd.reply.code != 250 && s->cfg.protocol == SMTP_PROTOCOL_LMTP)   /* RFC 2033 4.1: no HELO */
        SMTP__EXIT(r, smtp__break(s, smtp__refused(s)));
    if (s->rd.reply.code != 250) {
        s->caps.ext = 0; s->caps.auth = 0; s->caps.size_max = 0;
        smtp__helo_name(s, name, sizeof name);
        snprintf(line, sizeof line, "HELO %s", name);
        SMTP__AWAIT(pc, r, smtp__command(s, line, 250));
        if (r != SMTP_OK) SMTP__EXIT(r, smtp__break(s, r));
    }
    SMTP__END(pc, r);
}

/* The 220 greeting, then EHLO. A greeting other than 220 is kept (in
   txn.mail_text: no transaction yet) while QUIT is said. */
static smtp_result smtp__greet(smtp_session *s, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    snprintf(s->rd.cmd, sizeof s->rd.cmd, "the greeting");
    SMTP__AWAIT(pc, r, smtp__read_reply(s, smtp__deadline(s->cfg.greeting_timeout_ms), 0, s->cfg.greeting_timeout_ms));
    if (r == SMTP_ERR_TIMEOUT)
        SMTP__EXIT(r, smtp__fail(s, r, "no greeting from %s within %d ms", s->link.peer, s->cfg.greeting_timeout_ms));
    if (r) SMTP__EXIT(r, r);
    if (s->rd.reply.code != 220) {
        s->txn.mail_code = s->rd.reply.code;
        smtp__reply_str(s, s->txn.mail_text, sizeof s->txn.mail_text);
        SMTP__AWAIT(pc, r, smtp__exchange(s, "QUIT", smtp__deadline(s->cfg.timeout_ms), 0));
        r = smtp__break(s, smtp__fail(s, SMTP_ERR_REPLY, "%s does not accept mail: its greeting is %s",
                                      s->link.peer, s->txn.mail_text));
        s->detail_code = s->txn.mail_code;   /* the greeting decides, not the reply to QUIT */
        s->txn.mail_text[0] = 0;
        SMTP__EXIT(r, r);
    }
    SMTP__AWAIT(pc, r, smtp__ehlo(s, pc + 1));
    SMTP__END(pc, r);
}


/* RFC 3207. required: no cleartext fallback, ever; nothing past EHLO is
   sent to a server that does not offer it. */
static smtp_result smtp__starttls(smtp_session *s, int required, int *pc)
{
#ifdef SMTP_NO_TLS
    (void)required; (void)pc;
    return smtp__break(s, smtp__fail(s, SMTP_ERR_UNSUPPORTED, "STARTTLS: built with SMTP_NO_TLS"));
#else
    char rb[300];
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    if (!(s->caps.ext & SMTP_EXT_STARTTLS)) {
        if (!required) { smtp__note(s, "the server does not offer STARTTLS: going on in cleartext"); SMTP__EXIT(r, SMTP_OK); }
        SMTP__EXIT(r, smtp__break(s, smtp__fail(s, SMTP_ERR_NO_STARTTLS, "%s does not offer STARTTLS; TLS is required, "
                                                "so nothing was sent after EHLO", s->link.peer)));
    }
    SMTP__AWAIT(pc, r, smtp__exchange(s, "STARTTLS", smtp__deadline(s->cfg.timeout_ms), 0));
    if (r) SMTP__EXIT(r, r);
    if (s->rd.reply.code != 220) {
        if (s->rd.reply.code == 421) SMTP__EXIT(r, smtp__refused(s));
        if (!required) { smtp__note(s, "the server refused STARTTLS: going on in cleartext"); SMTP__EXIT(r, SMTP_OK); }
        smtp__reply_str(s, rb, sizeof rb);
        SMTP__EXIT(r, smtp__break(s, smtp__fail(s, SMTP_ERR_NO_STARTTLS, "%s refused STARTTLS: %s", s->link.peer, rb)));
    }
    /* Anything after the 220 came before TLS, from anyone on the path: an
       injection (CVE-2011-0411 and kin), never data. */
    if (s->rd.pos < s->rd.len)
        SMTP__EXIT(r, smtp__break(s, smtp__fail(s, SMTP_ERR_PROTOCOL, "%s sent %d bytes after its 220 reply to "
                                                "STARTTLS, before TLS: refused as an injection attempt", s->link.peer,
                                                (int)(s->rd.len - s->rd.pos))));
    SMTP__AWAIT(pc, r, smtp__tls_handshake(s, s->cfg.timeout_ms, pc + 1));
    if (r) SMTP__EXIT(r, r);
    /* RFC 3207 4.2: forget what was learned before TLS and ask again */
    s->caps.ext = 0; s->caps.auth = 0; s->caps.size_max = 0;
    SMTP__AWAIT(pc, r, smtp__ehlo(s, pc + 1));
    SMTP__END(pc, r);
#endif
}

static const char *smtp__mech_name(unsigned m) { return smtp__name_of(smtp__auth_names, m); }

static void smtp__mech_list(unsigned mask, char *out, size_t n)
{
    unsigned m;
    size_t o = 0;
    out[0] = 0;
    for (m = 1; m <= SMTP_AUTH_OAUTHBEARER; m <<= 1)
        if ((mask & m) && o < n)
            o += (size_t)snprintf(out + o, n - o, "%s%s", o ? " " : "", smtp__mech_name(m));
    if (!o) snprintf(out, n, "none");
}

/* One mechanism, to its end. SMTP_OK on 235; SMTP_ERR_AUTH_UNAVAILABLE
   when the server answers 504 (the next mechanism may work); SMTP_ERR_AUTH
   when it refuses the credentials (nothing more is tried). */
/* XOAUTH2 and OAUTHBEARER: the payload with the token into raw (the
   token from cfg.token at the end of the work space, or the password);
   its length, 0 when it does not fit, or -1 when cfg.token gave none
   (the session's error is set). */
static long smtp__bearer_payload(smtp_session *s, unsigned mech, unsigned char *raw)
{
    const char *user = s->cfg.username, *pass = s->cfg.password;
    size_t cap = SMTP__SASL_MAX;
    if (s->cfg.token) {   /* the token goes at the end of the work space, the payload before it */
        char *tb = (char *)raw + sizeof s->work.sasl - SMTP__TOKEN_CAP;
        if (s->conn.renew != 2) {   /* 2: the renewed token is already here, for a fresh connection */
            int renew = s->conn.renew == 1, k;
            tb[0] = 0;
            k = s->cfg.token(s->cfg.token_user, user, tb, SMTP__TOKEN_CAP, renew);
            if (k <= 0 || k >= SMTP__TOKEN_CAP || tb[k] != 0 || strlen(tb) != (size_t)k || !smtp__clean(tb)) {
                (void)smtp__fail(s, SMTP_ERR_AUTH, "cfg.token%s gave no token (it must write a NUL-terminated "
                                 "token of 1..%d printable bytes and return its length); no AUTH was sent",
                                 renew ? " (asked for a new one)" : "", SMTP__TOKEN_CAP - 1);
                return -1;
            }
            if (renew) s->conn.renew = 2;
        }
        pass = tb;
        cap = sizeof s->work.sasl - SMTP__TOKEN_CAP;
    }
    return (long)(mech == SMTP_AUTH_XOAUTH2 ? smtp__sasl_xoauth2(user, pass, raw, cap)
                                            : smtp__sasl_oauthbearer(user, s->sec.name, s->cfg.port, pass, raw, cap));
}

/* What the final reply to AUTH means (RFC 4954 6), as a result and a sentence. */
static smtp_result smtp__auth_outcome(smtp_session *s, const char *name, const char *extra, int *pc)
{
    char rb[300];
    const char *user = s->cfg.username;
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    if (s->rd.reply.code == 334) {   /* more challenges than the mechanism has: cancel (RFC 4954 4) */
        SMTP__AWAIT(pc, r, smtp__exchange(s, "*", smtp__deadline(s->cfg.timeout_ms), 0));
        if (r != SMTP_OK) SMTP__EXIT(r, r);
        SMTP__EXIT(r, smtp__fail(s, SMTP_ERR_AUTH, "%s sent an unexpected challenge during AUTH %s", s->link.peer, name));
    }
    if (s->rd.reply.code == 235) SMTP__EXIT(r, SMTP_OK);
    if (s->rd.reply.code == 421) SMTP__EXIT(r, smtp__refused(s));
    smtp__reply_str(s, rb, sizeof rb);
    if (s->rd.reply.code == 504)
        r = smtp__fail(s, SMTP_ERR_AUTH_UNAVAILABLE, "%s does not support AUTH %s after all: %s", s->link.peer, name, rb);
    else if (s->rd.reply.code == 538)   /* this mechanism needs encryption first; the password was not judged */
        r = smtp__fail(s, SMTP_ERR_AUTH_UNAVAILABLE, "%s wants encryption before AUTH %s: %s", s->link.peer, name, rb);
    else if (s->rd.reply.code / 100 == 4)   /* 454 temporary failure; the credentials were not refused */
        r = smtp__fail(s, SMTP_ERR_AUTH_TEMP, "%s could not check the credentials of \"%.60s\" now (AUTH %s): "
                       "%s%s; try again later", s->link.peer, user, name, rb, extra);
    else
        r = smtp__fail(s, SMTP_ERR_AUTH, "%s refused AUTH %s for user \"%.60s\": %s%s", s->link.peer, name, user, rb,
                       extra);
    SMTP__END(pc, r);
}

/* One mechanism's exchange, then its outcome. Resumable: the payload
   stays in s->work.sasl until AUTH is over (its length in sec.auth_long's
   companion s->snd.k), what a refused token's 334 said in txn.mail_text
   (no transaction during AUTH). A payload goes into the write buffer in
   the call that makes it (the buffer is empty during AUTH), so the local
   CRAM-MD5 response is never needed again after a stop. */
static smtp_result smtp__auth_mech(smtp_session *s, unsigned mech, int *pc)
{
    unsigned char *raw = s->work.sasl;   /* AUTH runs outside any transaction */
    unsigned char resp[1024 + 40];
    const char *user = s->cfg.username, *pass = s->cfg.password, *name = smtp__mech_name(mech);
    char *extra = s->txn.mail_text;
    int xo = mech == SMTP_AUTH_XOAUTH2;
    long cn, k, k2;
    size_t n = 0;   /* resumed, the exchange does not read its payload again */
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    extra[0] = 0;
    s->sec.auth_long = 0;
    if (mech == SMTP_AUTH_PLAIN) {   /* RFC 4954 4: with the initial response */
        if (!(s->snd.k = smtp__sasl_plain(user, pass, raw, SMTP__SASL_MAX))) { s->sec.auth_long = 1; goto sent; }
        SMTP__AWAIT(pc, r, smtp__exchange_as(s, "AUTH PLAIN ", raw, s->snd.k, "AUTH PLAIN <credentials>",
                                             smtp__deadline(s->cfg.timeout_ms), 0));
        if (!r && s->rd.reply.code == 334 && s->rd.reply.len == 0)
            SMTP__AWAIT(pc, r, smtp__exchange_as(s, "", raw, s->snd.k, "<credentials>", smtp__deadline(s->cfg.timeout_ms), 0));
    } else if (mech == SMTP_AUTH_LOGIN) {   /* a 334 prompt for the user name, then one for the password */
        SMTP__AWAIT(pc, r, smtp__exchange(s, "AUTH LOGIN", smtp__deadline(s->cfg.timeout_ms), 0));
        if (!r && s->rd.reply.code == 334)
            SMTP__AWAIT(pc, r, smtp__exchange_as(s, "", (const unsigned char *)user, strlen(user), "<user name>",
                                                 smtp__deadline(s->cfg.timeout_ms), 0));
        if (!r && s->rd.reply.code == 334)
            SMTP__AWAIT(pc, r, smtp__exchange_as(s, "", (const unsigned char *)pass, strlen(pass), "<password>",
                                                 smtp__deadline(s->cfg.timeout_ms), 0));
    } else if (mech == SMTP_AUTH_CRAM_MD5) {
        SMTP__AWAIT(pc, r, smtp__exchange(s, "AUTH CRAM-MD5", smtp__deadline(s->cfg.timeout_ms), 0));
        if (!r && s->rd.reply.code == 334) {
            /* the challenge decodes into raw (a 12288-octet line holds 9216 bytes) */
            if (s->rd.reply.len > 4 * sizeof s->work.sasl / 3 || (cn = smtp__unb64(s->rd.text, s->rd.reply.len, raw)) <= 0)
                SMTP__EXIT(r, smtp__break(s, smtp__fail(s, SMTP_ERR_PROTOCOL, "%s sent a malformed CRAM-MD5 challenge "
                                                        "(not base64): \"%.60s\"", s->link.peer, s->rd.text)));
            n = smtp__sasl_cram(user, pass, raw, (size_t)cn, resp, sizeof resp);
            if (!n) { s->sec.auth_long = 1; goto sent; }
            SMTP__AWAIT(pc, r, smtp__exchange_as(s, "", resp, n, "<credentials>", smtp__deadline(s->cfg.timeout_ms), 0));
            smtp__wipe(resp, sizeof resp);
        }
    } else {   /* XOAUTH2, OAUTHBEARER: the token in the initial response */
        k = smtp__bearer_payload(s, mech, raw);
        if (k < 0) SMTP__EXIT(r, SMTP_ERR_AUTH);
        if (k == 0) { s->sec.auth_long = 1; goto sent; }
        s->snd.k = (size_t)k;
        SMTP__AWAIT(pc, r, smtp__exchange_as(s, xo ? "AUTH XOAUTH2 " : "AUTH OAUTHBEARER ", raw, s->snd.k,
                                             xo ? "AUTH XOAUTH2 <token>" : "AUTH OAUTHBEARER <token>",
                                             smtp__deadline(s->cfg.timeout_ms), 0));
        if (!r && s->rd.reply.code == 334) {
            /* a refusal comes as a 334 with base64 JSON (kept for the detail), which the client
               acknowledges (RFC 7628 3.2.3: ^A; XOAUTH2: an empty line) */
            k2 = smtp__unb64(s->rd.text, s->rd.reply.len, raw);
            if (k2 > 0) snprintf(extra, sizeof s->txn.mail_text, "; the server says %.*s", (int)(k2 > 250 ? 250 : k2),
                                 (char *)raw);
            if (xo) SMTP__AWAIT(pc, r, smtp__exchange(s, "", smtp__deadline(s->cfg.timeout_ms), 0));
            else SMTP__AWAIT(pc, r, smtp__exchange_as(s, "", (const unsigned char *)"\001", 1, "<^A>",
                                                      smtp__deadline(s->cfg.timeout_ms), 0));
        }
    }
sent:
    /* the payload never stays; a renewed token only until AUTH is over (smtp__auth) */
    smtp__wipe(raw, sizeof s->work.sasl - (s->conn.renew == 2 ? SMTP__TOKEN_CAP : 0));
    smtp__wipe(resp, sizeof resp);
    if (r) SMTP__EXIT(r, r);
    if (s->sec.auth_long)   /* a payload that does not fit: nothing was sent for it */
        SMTP__EXIT(r, smtp__fail(s, SMTP_ERR_PARAM, "cfg.username and cfg.password are too long together for AUTH %s "
                                 "(its payload must stay under %d bytes: RFC 4954 allows 12288 octets of base64)",
                                 name, SMTP__SASL_MAX));
    SMTP__AWAIT(pc, r, smtp__auth_outcome(s, name, extra, pc + 1));
    SMTP__END(pc, r);
}


/* The server refused the token: cfg.token is asked once for a new one and
   AUTH tried once more, on this connection, or on a new one when the
   server closed it: SMTP__R_REOPEN, the new token kept (conn.renew 2). */
static smtp_result smtp__auth_renew(smtp_session *s, unsigned mech, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    s->conn.renew = 1;
    smtp__note(s, "the server refused the token: asking cfg.token for a new one");
    if (!s->err) {
        SMTP__AWAIT(pc, r, smtp__auth_mech(s, mech, pc + 1));
        if (s->err != SMTP_ERR_CLOSED && s->err != SMTP_ERR_IO) SMTP__EXIT(r, r);
    }
    r = s->conn.renew == 2 ? SMTP__R_REOPEN : s->err ? s->err : SMTP_ERR_CLOSED;
    SMTP__END(pc, r);
}

/* RFC 4954, inside smtp_open when cfg.username is set. The order, among
   what the server offers and cfg.allowed_auth permits: inside TLS,
   XOAUTH2 and OAUTHBEARER (only when allowed explicitly: the password is
   then a bearer token), then PLAIN, LOGIN, CRAM-MD5. Outside TLS only
   CRAM-MD5, unless cfg.allow_cleartext_auth. A 504 moves on to the next;
   a refusal of the credentials (535) stops: trying others would hide the
   cause and feed account lockouts. */
static const unsigned smtp__auth_order[] = { SMTP_AUTH_XOAUTH2, SMTP_AUTH_OAUTHBEARER, SMTP_AUTH_PLAIN,
                                             SMTP_AUTH_LOGIN, SMTP_AUTH_CRAM_MD5 };
#define SMTP__NAUTH ((int)(sizeof smtp__auth_order / sizeof *smtp__auth_order))

static unsigned smtp__auth_usable(const smtp_session *s)
{
    unsigned common = s->caps.auth & s->cfg.allowed_auth;
    return (s->sec.on || s->cfg.allow_cleartext_auth) ? common : common & SMTP_AUTH_CRAM_MD5;
}

static smtp_result smtp__auth(smtp_session *s, int *pc)
{
    unsigned offered = s->caps.auth, allowed = s->cfg.allowed_auth, usable = smtp__auth_usable(s);
    char o[80], a[80];
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    if (!s->cfg.username) SMTP__EXIT(r, SMTP_OK);
    smtp__mech_list(offered, o, sizeof o);
    smtp__mech_list(allowed, a, sizeof a);
    if (!offered)
        SMTP__EXIT(r, smtp__break(s, smtp__fail(s, SMTP_ERR_AUTH_UNAVAILABLE, "a user name is set but %s offers no AUTH%s",
                   s->link.peer, s->sec.on ? "" : " (outside TLS: many servers offer it only after STARTTLS)")));
    if (!usable && (offered & allowed))
        SMTP__EXIT(r, smtp__break(s, smtp__fail(s, SMTP_ERR_AUTH_UNAVAILABLE, "%s offers %s and cfg.allowed_auth "
                   "permits %s, but these send the password in cleartext without TLS: use TLS, allow CRAM-MD5, or set "
                   "cfg.allow_cleartext_auth", s->link.peer, o, a)));
    if (!usable)
        SMTP__EXIT(r, smtp__break(s, smtp__fail(s, SMTP_ERR_AUTH_UNAVAILABLE, "no AUTH mechanism in common: %s offers "
                   "%s, cfg.allowed_auth permits %s", s->link.peer, o, a)));
    for (s->sec.auth_i = 0; s->sec.auth_i < SMTP__NAUTH; s->sec.auth_i++) {
        if (!(smtp__auth_usable(s) & smtp__auth_order[s->sec.auth_i])) continue;
        SMTP__AWAIT(pc, r, smtp__auth_mech(s, smtp__auth_order[s->sec.auth_i], pc + 1));
        if (r == SMTP_ERR_AUTH && s->cfg.token && s->conn.renew == 0 && s->detail_code / 100 == 5)
            SMTP__AWAIT(pc, r, smtp__auth_renew(s, smtp__auth_order[s->sec.auth_i], pc + 1));
        if (r != SMTP_ERR_AUTH_UNAVAILABLE) break;
    }
    s->txn.mail_text[0] = 0;
    if (r == SMTP__R_REOPEN) SMTP__EXIT(r, r);   /* the renewed token stays for the new connection */
    if (s->conn.renew == 2) smtp__wipe(s->work.sasl + sizeof s->work.sasl - SMTP__TOKEN_CAP, SMTP__TOKEN_CAP);
    s->conn.renew = 0;   /* a later AUTH (after a reconnect) may renew again */
    if (r) r = smtp__break(s, r);
    SMTP__END(pc, r);
}

/* On a connected transport: TLS first in implicit mode (the handshake
   within hs_ms), the greeting, EHLO, STARTTLS when the mode wants it,
   AUTH. Resumable: pc is the stepped open's (s->snd.pc), or a local one
   in the calls that wait. */
static smtp_result smtp__session_start(smtp_session *s, smtp_security mode, int hs_ms, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    s->sec.mode_try = mode;
#ifndef SMTP_NO_TLS
    if (mode == SMTP_SECURITY_IMPLICIT) SMTP__AWAIT(pc, r, smtp__tls_handshake(s, hs_ms, pc + 1));
    if (r) SMTP__EXIT(r, r);
#else
    (void)hs_ms;
#endif
    SMTP__AWAIT(pc, r, smtp__greet(s, pc + 1));
    if (r) SMTP__EXIT(r, r);
    if (mode == SMTP_SECURITY_STARTTLS || mode == SMTP_SECURITY_STARTTLS_IF_AVAILABLE)
        SMTP__AWAIT(pc, r, smtp__starttls(s, mode == SMTP_SECURITY_STARTTLS, pc + 1));
    if (r) SMTP__EXIT(r, r);
    SMTP__AWAIT(pc, r, smtp__auth(s, pc + 1));
    if (r) SMTP__EXIT(r, r);
    s->sec.mode_used = s->sec.on ? mode : SMTP_SECURITY_NONE;
    s->state = SMTP__READY;
    SMTP__END(pc, r);
}

/* The session on a connected transport, in the configured mode,
   waiting (a seam for the fuzzers). */
static smtp_result smtp__session_start_now(smtp_session *s, smtp_security mode, int hs_ms);
static SMTP__MAYBE_UNUSED smtp_result smtp__start(smtp_session *s)
{
    return smtp__session_start_now(s, s->cfg.security, s->cfg.timeout_ms);
}

/* session_start waiting (the fuzzers' seam above): its own resume
   points, never used (nothing stops: the transport waits). */
static smtp_result smtp__session_start_now(smtp_session *s, smtp_security mode, int hs_ms)
{
    int pc[SMTP__DEPTH], nb = s->link.nb;
    smtp_result r;
    memset(pc, 0, sizeof pc);
    s->link.nb = 0;
    r = smtp__session_start(s, mode, hs_ms, pc);
    s->link.nb = nb;
    if (r == SMTP__R_REOPEN) r = s->err ? s->err : SMTP_ERR_CLOSED;   /* a caller's stream: no second one */
    return r;
}

static void smtp__set_peer(smtp_session *s)
{
    if (s->cfg.transport) { snprintf(s->link.peer, sizeof s->link.peer, "%s (cfg.transport)", s->cfg.host); return; }
    if (s->cfg.socket_path) { snprintf(s->link.peer, sizeof s->link.peer, "unix:%s", s->cfg.socket_path); return; }
    snprintf(s->link.peer, sizeof s->link.peer, strchr(s->cfg.host, ':') ? "[%s]:%d" : "%s:%d", s->cfg.host, s->cfg.port);
}

/* Back to a fresh connection, for the next AUTO attempt. */
static void smtp__reset_conn(smtp_session *s)
{
    if (s->link.io.close) s->link.io.close(s);
    s->link.io.close = NULL;
    s->err = SMTP_OK; s->state = SMTP__CLOSED; s->link.sys_errno = 0;
    s->rd.pos = s->rd.len = s->wr.len = s->wr.off = 0;
    s->rd.active = s->rd.xphase = s->wr.busy = 0;
    s->caps.ext = 0; s->caps.auth = 0; s->caps.size_max = 0; s->sec.on = 0; s->sec.err = 0;
}

static const char *smtp__mode_name(smtp_security m) { return smtp__name_of(smtp__security_names, (unsigned)m); }

/* How messages go on this connection: PIPELINING, and BDAT when offered
   with it (RFC 3030) and not turned off. */
static void smtp__send_caps(smtp_session *s)
{
    s->snd.pipe = (s->caps.ext & SMTP_EXT_PIPELINING) != 0;
    s->bdat.on = s->snd.pipe && (s->caps.ext & SMTP_EXT_CHUNKING) && !s->cfg.no_chunking;
}

/* A new connection for a session that was open: the same config, the TLS
   mode that worked (AUTO does not probe again), resumption through
   cfg.tls_cache, EHLO and AUTH again; quit: QUIT on the old one first.
   The trace says why (smtp__reopen_note, before). Resumable: the
   connect and the session are stepped (the name is resolved again, a
   wait). */
static void smtp__reopen_note(smtp_session *s, const char *why)
{
    char note[sizeof s->link.peer + sizeof s->detail + 20];
    snprintf(note, sizeof note, "reconnecting to %s: %s", s->link.peer, why);
    smtp__note(s, note);
}

/* The mode of a new connection: the one configured; under AUTO, the one
   that worked, or (the open's own reconnect) the one being tried. */
static smtp_security smtp__reopen_mode(const smtp_session *s)
{
    if (s->cfg.security != SMTP_SECURITY_AUTO) return s->cfg.security;
    return s->sec.mode_used != SMTP_SECURITY_AUTO ? s->sec.mode_used : s->sec.mode_try;
}

static smtp_result smtp__reopen_step(smtp_session *s, int quit, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    if (quit) SMTP__AWAIT(pc, r, smtp__exchange(s, "QUIT", smtp__deadline(s->cfg.timeout_ms), 0));
    do {
        smtp__reset_conn(s);
        s->conn.reconnects++;
        s->conn.messages = 0;
        s->link.dial.dl = smtp__deadline(s->cfg.connect_timeout_ms);
        SMTP__AWAIT(pc, r, smtp__connect_step(s, pc + 1));
        if (r == SMTP_OK)
            SMTP__AWAIT(pc, r, smtp__session_start(s, smtp__reopen_mode(s), s->cfg.timeout_ms, pc + 1));
        if (r == SMTP__R_REOPEN) smtp__reopen_note(s, "the server closed the connection after refusing the token");
    } while (r == SMTP__R_REOPEN);   /* once at most: the renewed token is not renewed again */
    if (r != SMTP_OK && !s->err) smtp__break(s, r);
    smtp__send_caps(s);   /* a batch under way goes on with what the new connection offers */
    SMTP__END(pc, r);
}

/* AUTO's attempts, kept from SMTP_MALLOC while smtp_open runs (a stepped
   open stops in the middle of one): which, in what mode, what failed. */
typedef struct smtp__autost {
    smtp_security mode[3], m;           /* the attempts' modes (AUTO: the probe); the one under way */
    int port[3], n, i;                  /* their ports; how many; the one under way */
    smtp_result first;                  /* the first failure */
    long long probe_dl;                 /* the probe's deadline */
    size_t ll;
    char log[400];                      /* what each attempt met, for the detail */
} smtp__autost;

static void smtp__auto_free(smtp_session *s)
{
    if (s->sec.au) { SMTP_FREE(s->sec.au); s->sec.au = NULL; }
}

/* AUTO's probe: on a fresh connection, a cleartext SMTP server greets at
   once, an implicit-TLS server waits for our ClientHello. So wait a
   little for the first byte: one came, it is the greeting (STARTTLS on
   this connection); none, start TLS on this connection. A server that
   greets later than the probe still works: its handshake fails on the
   "220" at once and STARTTLS follows on a new connection. Sending
   nothing before a greeting also keeps pregreet traps (postscreen) quiet.
   One read (stepped: SMTP_WANT_READ until a byte or the deadline); the
   mode found goes into au->m. */
#define SMTP__PROBE_MS 400
static smtp_result smtp__probe(smtp_session *s)
{
    smtp__autost *a = s->sec.au;
    int n = s->link.io.read(s, s->rd.buf + s->rd.len, sizeof s->rd.buf - s->rd.len, a->probe_dl);
    if (n == 0) return s->link.want;   /* stepped: nothing yet */
    if (n > 0) {
        s->rd.len += (size_t)n;
        smtp__note(s, "AUTO: the server greeted in cleartext: STARTTLS");
        a->m = SMTP_SECURITY_STARTTLS;
        return SMTP_OK;
    }
    if (n != SMTP_ERR_TIMEOUT)
        return smtp__break(s, smtp__fail(s, n == SMTP_ERR_CLOSED ? SMTP_ERR_CLOSED : (smtp_result)n,
                                         "%s closed the connection before a greeting", s->link.peer));
    smtp__note(s, "AUTO: no cleartext greeting: implicit TLS");
    a->m = SMTP_SECURITY_IMPLICIT;
    return SMTP_OK;
}

/* The attempts AUTO makes. Port 0: implicit TLS on 465, then the probe
   on 587, then on 25. Port 465: implicit TLS, then STARTTLS. Another
   port: the probe (smtp__probe), then the mode it did not pick, with the
   full greeting time (SMTP_SECURITY_NONE below stands for that one). */
static void smtp__auto_plan(const smtp_session *s, smtp__autost *a)
{
    int given = s->cfg.port;
    if (given == 0 && !s->cfg.socket_path && !s->cfg.transport) {
        a->mode[0] = SMTP_SECURITY_IMPLICIT; a->port[0] = 465;
        a->mode[1] = SMTP_SECURITY_AUTO; a->port[1] = 587;
        a->mode[2] = SMTP_SECURITY_AUTO; a->port[2] = 25;
        a->n = 3;
    } else if (given == 465 && !s->cfg.socket_path && !s->cfg.transport) {
        a->mode[0] = SMTP_SECURITY_IMPLICIT; a->port[0] = given;
        a->mode[1] = SMTP_SECURITY_STARTTLS; a->port[1] = given;
        a->n = 2;
    } else {
        a->mode[0] = SMTP_SECURITY_AUTO; a->port[0] = given;
        a->mode[1] = SMTP_SECURITY_NONE; a->port[1] = given;
        a->n = s->cfg.transport ? 1 : 2;                  /* one stream: the probe alone */
    }
}

/* AUTO: TLS required, the mode probed (smtp__auto_plan). A failed
   handshake or a silent server moves on; a certificate that fails
   verification stops (the server speaks TLS: the certificate is the
   problem). Never cleartext. Resumable: each attempt's connect, probe
   and session are stepped. */
static smtp_result smtp__auto(smtp_session *s, int *pc)
{
    smtp__autost *a = s->sec.au;
    char note[120];
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    if (!(a = s->sec.au = (smtp__autost *)SMTP_MALLOC(sizeof *a)))
        SMTP__EXIT(r, smtp__fail(s, SMTP_ERR_NOMEM, "out of memory for AUTO's attempts (%d bytes)", (int)sizeof *a));
    memset(a, 0, sizeof *a);
    smtp__auto_plan(s, a);
    for (a->i = 0; a->i < a->n; a->i++) {
        a->m = a->mode[a->i];
        if (a->m == SMTP_SECURITY_NONE) {   /* after a probe: the other mode, with the whole greeting time */
            if (s->sec.mode_try == SMTP_SECURITY_STARTTLS)
                break;       /* it greeted in cleartext: implicit TLS cannot be it */
            a->m = s->sec.mode_try == SMTP_SECURITY_IMPLICIT ? SMTP_SECURITY_STARTTLS : SMTP_SECURITY_IMPLICIT;
        }
        smtp__reset_conn(s);
        s->cfg.port = a->port[a->i];
        smtp__set_peer(s);
        snprintf(note, sizeof note, "AUTO: trying %s on port %d", a->m == SMTP_SECURITY_AUTO ? "the probe"
                 : smtp__mode_name(a->m), a->port[a->i]);
        smtp__note(s, note);
        s->link.dial.dl = smtp__deadline(s->cfg.connect_timeout_ms);
        SMTP__AWAIT(pc, r, smtp__connect_step(s, pc + 1));
        if (r == SMTP_OK && a->m == SMTP_SECURITY_AUTO) {
            a->probe_dl = smtp__deadline(s->cfg.greeting_timeout_ms >= 0 && s->cfg.greeting_timeout_ms < SMTP__PROBE_MS
                                         ? s->cfg.greeting_timeout_ms : SMTP__PROBE_MS);
            SMTP__AWAIT(pc, r, smtp__probe(s));
        }
        if (r == SMTP_OK) SMTP__AWAIT(pc, r, smtp__session_start(s, a->m, s->cfg.greeting_timeout_ms, pc + 1));
        if (r == SMTP__R_REOPEN) {   /* a refused token, then a close: AUTH again on a new connection */
            smtp__reopen_note(s, "the server closed the connection after refusing the token");
            SMTP__AWAIT(pc, r, smtp__reopen_step(s, 0, pc + 1));
        }
        if (r == SMTP_OK) { s->detail[0] = 0; SMTP__EXIT(r, r); }
        if (!a->first) a->first = r;
        if (a->ll < sizeof a->log)
            a->ll += (size_t)snprintf(a->log + a->ll, sizeof a->log - a->ll, "%s%s on port %d: %s", a->i ? "; " : "",
                                      smtp__mode_name(s->sec.mode_try ? s->sec.mode_try : a->m), a->port[a->i], s->detail);
        if (r == SMTP_ERR_CERT || r == SMTP_ERR_PARAM || r == SMTP_ERR_UNSUPPORTED || r == SMTP_ERR_NOMEM ||
            r == SMTP_ERR_RESOLVE || r == SMTP_ERR_AUTH || r == SMTP_ERR_AUTH_UNAVAILABLE || r == SMTP_ERR_AUTH_TEMP)
            SMTP__EXIT(r, smtp__break(s, r));
#ifndef SMTP_NO_TLS
        if (s->sec.err >= BR_ERR_RECV_FATAL_ALERT && s->sec.err < BR_ERR_SEND_FATAL_ALERT && a->i + 1 < a->n &&
            a->port[a->i + 1] == a->port[a->i])
            break;   /* the server sent a TLS alert: it speaks TLS on this port, STARTTLS cannot be it */
#endif
    }
    smtp__break(s, a->first);
    r = smtp__fail(s, a->first, "AUTO found no way to reach %s over TLS: %s", s->cfg.host, a->log);
    SMTP__END(pc, r);
}

/* cfg.proxy checked: every field the proxy's protocol will carry. */
static smtp_result smtp__check_proxy(smtp_session *s)
{
    const smtp_proxy *px = &s->cfg.proxy;
    size_t ul = px->username ? strlen(px->username) : 0, pl = px->password ? strlen(px->password) : 0;
    if (px->type == SMTP_PROXY_NONE) return SMTP_OK;
    if ((unsigned)px->type > SMTP_PROXY_HTTP)
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.proxy.type %d is not a smtp_proxy_type value", (int)px->type);
    if (!px->host || !*px->host || !smtp__clean(px->host) || strlen(px->host) > 255)
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.proxy.host must be a host name or address");
    if (px->port <= 0 || px->port > 65535)
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.proxy.port must be 1..65535 (got %d)", px->port);
    if (ul > 255 || pl > 255)
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.proxy.username and password must be at most 255 bytes "
                          "each (RFC 1929)");
    if ((px->username && (!smtp__clean(px->username) || (px->type == SMTP_PROXY_HTTP && strchr(px->username, ':'))))
        || (px->password && !smtp__clean(px->password)))
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.proxy.username or password holds a control character%s",
                          px->type == SMTP_PROXY_HTTP ? " or the user name a ':' (HTTP Basic)" : "");
    if (px->type == SMTP_PROXY_SOCKS5 && px->username && !ul)
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.proxy.username is empty (RFC 1929 needs 1..255 bytes)");
    if ((px->type == SMTP_PROXY_SOCKS4 || px->type == SMTP_PROXY_SOCKS4A) && px->password)
        return smtp__fail(s, SMTP_ERR_PARAM, "SOCKS4 has no password: only cfg.proxy.username (the user id)");
    if (px->type == SMTP_PROXY_SOCKS4 && strchr(s->cfg.host, ':'))
        return smtp__fail(s, SMTP_ERR_PARAM, "SOCKS4 cannot reach the IPv6 address %s: use SOCKS5", s->cfg.host);
    return SMTP_OK;
}

/* cfg's TLS fields, when a mode with TLS is asked for. */
static smtp_result smtp__check_tls(smtp_session *s)
{
    if (s->cfg.security == SMTP_SECURITY_NONE) return SMTP_OK;
#ifdef SMTP_NO_TLS
    return smtp__fail(s, SMTP_ERR_UNSUPPORTED, "TLS (cfg.security %s) is not available: smtp.h was built "
                      "with SMTP_NO_TLS; set cfg.security = SMTP_SECURITY_NONE for cleartext",
                      smtp__mode_name(s->cfg.security));
#else
    if (s->cfg.tls_versions & ~(unsigned)SMTP__TLS_CAN & (unsigned)SMTP__TLS_ALL)
        return smtp__fail(s, SMTP_ERR_UNSUPPORTED, "TLS 1.3 was required (smtp_config_set_tls_versions_unsafe) "
                          "but BearSSL speaks TLS 1.0 to 1.2; nothing was sent");
    if (s->cfg.tls_versions & ~(unsigned)SMTP__TLS_ALL)
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.tls_versions holds unknown bits");
#ifdef SMTP_NO_STDIO
    if (s->cfg.ca_file || s->cfg.tls_cert_file || s->cfg.tls_key_file)
        return smtp__fail(s, SMTP_ERR_UNSUPPORTED, "cfg.%s: built with SMTP_NO_STDIO (no file system): give it "
                          "from memory (cfg.trust, cfg.tls_cert_pem, cfg.tls_key_pem)",
                          s->cfg.ca_file ? "ca_file" : s->cfg.tls_cert_file ? "tls_cert_file" : "tls_key_file");
#endif
    return SMTP_OK;
#endif
}

/* cfg.username and password: both or neither, within what AUTH can carry. */
static smtp_result smtp__check_login(smtp_session *s)
{
    size_t ul, pl;
    if (!s->cfg.username) return SMTP_OK;
    if (s->cfg.token && (s->cfg.allowed_auth & ~(unsigned)(SMTP_AUTH_XOAUTH2 | SMTP_AUTH_OAUTHBEARER)))
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.token is set: cfg.allowed_auth may hold only SMTP_AUTH_XOAUTH2 "
                          "and SMTP_AUTH_OAUTHBEARER (a token is not a password)");
    if (!s->cfg.password && !s->cfg.token)
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.username is set but cfg.password (or cfg.token) is NULL");
    ul = strlen(s->cfg.username); pl = s->cfg.password ? strlen(s->cfg.password) : 0;
    if (!ul || ul > 1024 || ul + pl + strlen(s->cfg.host) + 100 > SMTP__SASL_MAX)
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.username or cfg.password is empty or too long "
                          "(together at most %d bytes: RFC 4954 allows 12288 octets of base64)", SMTP__SASL_MAX - 400);
    if (!smtp__clean(s->cfg.username) || (s->cfg.password && !smtp__clean(s->cfg.password)))
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.username or cfg.password holds a control character");
    return SMTP_OK;
}

/* Zeroes the session but its two I/O buffers, copies the config with its
   defaults and checks every field before anything is sent. */
static smtp_result smtp__init(smtp_session *s, const smtp_config *cfg)
{
    smtp_result r;
    size_t hl;
    memset(s, 0, offsetof(smtp_session, wr) + offsetof(smtp__writer, buf));
    memset(&s->rd, 0, offsetof(smtp__reader, buf));
    memset(&s->work, 0, sizeof *s - offsetof(smtp_session, work));
    s->link.fd = SMTP_INVALID_SOCKET;
    s->rd.reply.text = s->rd.text;
    if (!cfg) return smtp__fail(s, SMTP_ERR_PARAM, "smtp_open: cfg is NULL");
    s->cfg = *cfg;
    smtp__defaults(&s->cfg);
    if (s->cfg.socket_path) {
        struct sockaddr_un su;
        if (!*s->cfg.socket_path || strlen(s->cfg.socket_path) >= sizeof su.sun_path)
            return smtp__fail(s, SMTP_ERR_PARAM, "cfg.socket_path is empty or over the %d bytes a Unix socket "
                              "path may have", (int)sizeof su.sun_path - 1);
        if (s->cfg.proxy.type != SMTP_PROXY_NONE || s->cfg.local_address || s->cfg.local_port || s->cfg.addresses)
            return smtp__fail(s, SMTP_ERR_PARAM, "cfg.socket_path excludes cfg.proxy, cfg.local_address, "
                              "cfg.local_port and cfg.addresses (a Unix socket has no route or address of ours)");
        if (!s->cfg.host) s->cfg.host = "localhost";   /* the name TLS checks */
    }
    if (s->cfg.transport) {
        if (!s->cfg.transport->read || !s->cfg.transport->write)
            return smtp__fail(s, SMTP_ERR_PARAM, "cfg.transport needs read and write");
        if (s->cfg.socket_path || s->cfg.local_address || s->cfg.local_port || s->cfg.messages_per_connection ||
            s->cfg.addresses)
            return smtp__fail(s, SMTP_ERR_PARAM, "cfg.transport excludes cfg.socket_path, cfg.local_address, "
                              "cfg.local_port, cfg.addresses and cfg.messages_per_connection (the stream is the "
                              "one connection)");
        if (!s->cfg.host) s->cfg.host = "localhost";
    }
    if (!s->cfg.host || !*s->cfg.host)
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.host is empty: set the SMTP server's name or address");
    if (!smtp__clean(s->cfg.host) || strpbrk(s->cfg.host, " \t") || strlen(s->cfg.host) > 255)
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.host holds white space or control characters, or is over 255 bytes");
    if (s->cfg.port < 0 || s->cfg.port > 65535 || s->cfg.local_port < 0 || s->cfg.local_port > 65535)
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.port or cfg.local_port is outside 0..65535");
    if (s->cfg.helo_name && (!*s->cfg.helo_name || !smtp__clean(s->cfg.helo_name) ||
                             strpbrk(s->cfg.helo_name, " \t") || strlen(s->cfg.helo_name) > 255))
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.helo_name must be one word of at most 255 bytes "
                          "without control characters");
    if (s->cfg.addresses) {
        smtp__addr1 one;
        int k;
        for (k = 0; s->cfg.addresses[k]; k++)
            if (k == 64 || smtp__literal(s->cfg.addresses[k], 0, 0, &one) != 0)
                return smtp__fail(s, SMTP_ERR_PARAM, k == 64 ? "cfg.addresses holds more than 64 addresses"
                                  : "cfg.addresses[%d] \"%.80s\" is not an IPv4 or IPv6 address", k, s->cfg.addresses[k]);
        if (k == 0) return smtp__fail(s, SMTP_ERR_PARAM, "cfg.addresses is empty (NULL: resolve cfg.host)");
    }
    smtp__set_peer(s);
    if ((unsigned)s->cfg.security > SMTP_SECURITY_IMPLICIT)
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.security %d is not a smtp_security value", (int)s->cfg.security);
    if (s->cfg.tls_verify < SMTP_VERIFY_FULL || s->cfg.tls_verify > SMTP_VERIFY_NONE)
        return smtp__fail(s, SMTP_ERR_PARAM, "cfg.tls_verify %d is not a SMTP_VERIFY_* value", s->cfg.tls_verify);
    if ((r = smtp__check_tls(s)) != SMTP_OK || (r = smtp__check_proxy(s)) != SMTP_OK ||
        (r = smtp__check_login(s)) != SMTP_OK)
        return r;
    /* the name the proxy connects to and TLS checks: no trailing dot; IP literals by address */
    snprintf(s->sec.name, sizeof s->sec.name, "%s", s->cfg.host);
    hl = strlen(s->sec.name);
    if (hl > 1 && s->sec.name[hl - 1] == '.') s->sec.name[hl - 1] = 0;
    smtp__entropy((unsigned char *)&s->nonce, sizeof s->nonce);   /* for Message-IDs and boundaries */
    s->nonce ^= (unsigned long long)smtp__now() * 6364136223846793005ULL ^ (unsigned long long)getpid() << 32;
    return SMTP_OK;
}

/* smtp_open failed: the session is over, smtp_close stays harmless. */
static smtp_result smtp__open_failed(smtp_session *s, smtp_result r)
{
    smtp__break(s, r);
    smtp__auto_free(s);
#ifndef SMTP_NO_TLS
    smtp_trust_free(s->tls.own);
    s->tls.own = NULL;
    smtp__client_free(s->tls.client);
    s->tls.client = NULL;
#endif
    return r;
}

static smtp_result smtp__open_session(smtp_session *s, int *pc);

/* The stepped open: AUTO's attempts, or the one mode's. */
static smtp_result smtp__open_run(smtp_session *s)
{
    return s->cfg.security == SMTP_SECURITY_AUTO ? smtp__auto(s, s->snd.pc) : smtp__open_session(s, s->snd.pc);
}

/* smtp_open's start: the checks, the name resolved (getaddrinfo: the
   one wait; AUTO resolves as each attempt begins) and the first step
   (the connect begun). The rest is stepped (SMTP__OP_OPEN: the TCP
   connect, the proxy's handshake, the TLS handshake, greeting, EHLO,
   STARTTLS, AUTH, AUTO's attempts); SMTP__OP_OPENED when a caller's
   stream had it all at once (the next step returns it). SMTP_OK: under
   way. */
static smtp_result smtp__open_start(smtp_session *s, const smtp_config *cfg, int stepped)
{
    smtp_result r;
    if ((r = smtp__init(s, cfg)) != SMTP_OK) return smtp__open_failed(s, r);
    memset(s->snd.pc, 0, sizeof s->snd.pc);
    s->link.dial.dl = smtp__deadline(s->cfg.connect_timeout_ms);   /* the connect's, and a proxy handshake's */
    if (s->cfg.security != SMTP_SECURITY_AUTO && !s->cfg.socket_path && !s->cfg.transport &&
        (r = smtp__dial_begin(s)) != SMTP_OK)
        return smtp__open_failed(s, r);
    s->op = SMTP__OP_OPEN;
    s->link.nb = stepped || !s->cfg.transport;
    r = smtp__open_run(s);   /* as far as it goes: the connect begun (smtp_fd is its socket) */
    s->link.dl = smtp__now();
    if (SMTP__WANTS(r)) return SMTP_OK;
    s->op = SMTP__OP_NONE;
    s->link.nb = 0;
    if (r != SMTP_OK) return smtp__open_failed(s, r);
    s->snd.one = SMTP_OK;   /* a caller's stream that had it all: the next step returns it */
    s->op = SMTP__OP_OPENED;
    return SMTP_OK;
}

/* The open after the name is resolved: the connect (and the proxy's
   handshake when there is one), then the session. */
static smtp_result smtp__open_session(smtp_session *s, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    SMTP__AWAIT(pc, r, smtp__connect_step(s, pc + 1));
    if (r) SMTP__EXIT(r, r);
    SMTP__AWAIT(pc, r, smtp__session_start(s, s->cfg.security, s->cfg.timeout_ms, pc + 1));
    if (r == SMTP__R_REOPEN) {   /* a refused token, then a close: AUTH again on a new connection */
        smtp__reopen_note(s, "the server closed the connection after refusing the token");
        SMTP__AWAIT(pc, r, smtp__reopen_step(s, 0, pc + 1));
    }
    SMTP__END(pc, r);
}

/* The stepped open, one step: on to the end or to a wait. */
static smtp_result smtp__open_step(smtp_session *s)
{
    smtp_result r = s->op == SMTP__OP_OPENED ? s->snd.one : smtp__open_run(s);
    if (SMTP__WANTS(r)) return r;
    s->op = SMTP__OP_NONE;
    s->link.nb = 0;
    smtp__auto_free(s);
    return r == SMTP_OK ? SMTP_OK : smtp__open_failed(s, r);
}

static smtp_result smtp__drive(smtp_session *s);

SMTP_API smtp_result smtp_open(smtp_session *s, const smtp_config *cfg)
{
    smtp_result r;
    if (!s) return SMTP_ERR_PARAM;
    if ((r = smtp__open_start(s, cfg, 0)) != SMTP_OK) return r;
    return smtp__drive(s);
}

SMTP_API smtp_result smtp_open_start(smtp_session *s, const smtp_config *cfg)
{
    if (!s) return SMTP_ERR_PARAM;
    return smtp__open_start(s, cfg, 1);
}

SMTP_API smtp_result smtp_close(smtp_session *s)
{
    smtp_result r;
    int busy;
    if (!s) return SMTP_ERR_PARAM;
    r = s->err;
    busy = s->op != SMTP__OP_NONE;   /* closed in the middle of a stepped send: dropped, no QUIT */
    s->op = SMTP__OP_NONE; s->link.nb = 0;
    if (!s->err && !busy && s->link.io.close && s->state >= SMTP__READY && s->state != SMTP__DATA)
        (void)smtp__exchange(s, "QUIT", smtp__deadline(s->cfg.timeout_ms), 0);
    if (s->link.io.close) s->link.io.close(s);
    s->link.io.close = NULL;
    s->state = SMTP__CLOSED;
    smtp__auto_free(s);                 /* closed in the middle of AUTO's attempts */
    s->cfg.password = NULL;             /* the caller's; nothing derived from it stays behind */
    smtp__wipe(s->wr.buf, sizeof s->wr.buf);
#ifndef SMTP_NO_TLS
    smtp_trust_free(s->tls.own);
    s->tls.own = NULL;
    smtp__client_free(s->tls.client);
    s->tls.client = NULL;
#endif
    if (!s->err) s->err = SMTP_ERR_STATE;   /* closed: later calls fail without I/O */
    if (s->detail[0] == 0) snprintf(s->detail, sizeof s->detail, "the session is closed");
    return r == SMTP_ERR_STATE ? SMTP_OK : r;
}

SMTP_API smtp_result smtp_mail_from_opts(smtp_session *s, const char *addr, const char *params)
{
    char line[700];   /* "MAIL FROM:<" 254 ">" " " 400 */
    const char *a, *bad, *q;
    size_t n;
    smtp_result r;
    int body8;
    if (!s) return SMTP_ERR_PARAM;
    if ((r = smtp__check_state(s, SMTP__READY, "smtp_mail_from")) != SMTP_OK) return r;
    if (!addr) return smtp__fail(s, SMTP_ERR_PARAM, "smtp_mail_from: the sender address is NULL");
    if ((bad = smtp__addr(addr, 0, &a, &n)) != NULL)
        return smtp__fail(s, SMTP_ERR_PARAM, "the sender address \"%.80s\" %s", addr, bad);
    for (q = params; q && *q; q++)
        if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7E)
            return smtp__fail(s, SMTP_ERR_PARAM, "smtp_mail_from_opts: the parameters hold a byte outside printable ASCII");
    if (params && strlen(params) > 400) return smtp__fail(s, SMTP_ERR_PARAM, "smtp_mail_from_opts: parameters too long");
    for (q = params, body8 = 0; q && *q;) {   /* each word: what it declares must be offered (RFC 6152, RFC 6531) */
        size_t w;
        while (*q == ' ') q++;
        for (w = 0; q[w] && q[w] != ' '; w++) {}
        if (smtp__ieq(q, w, "BODY=8BITMIME")) {
            if (!(s->caps.ext & SMTP_EXT_8BITMIME))
                return smtp__fail(s, SMTP_ERR_UNSUPPORTED, "smtp_mail_from_opts: BODY=8BITMIME, but %s does not offer "
                                  "8BITMIME; nothing was sent (encode the body instead)", s->link.peer);
            body8 = 1;
        }
        if (smtp__ieq(q, w, "SMTPUTF8") && !(s->caps.ext & SMTP_EXT_SMTPUTF8))
            return smtp__fail(s, SMTP_ERR_UNSUPPORTED, "smtp_mail_from_opts: SMTPUTF8, but %s does not offer it; "
                              "nothing was sent", s->link.peer);
        q += w;
    }
    snprintf(line, sizeof line, "MAIL FROM:<%.*s>%s%s", (int)n, a, params && *params ? " " : "", params ? params : "");
    if ((r = smtp__command(s, line, 250)) != SMTP_OK) return r;
    s->state = SMTP__MAIL;
    s->txn.body8 = body8;
    s->txn.accepted = 0;
    return SMTP_OK;
}

SMTP_API smtp_result smtp_mail_from(smtp_session *s, const char *addr)
{
    return smtp_mail_from_opts(s, addr, NULL);
}

SMTP_API smtp_result smtp_rcpt_to(smtp_session *s, const char *addr)
{
    return smtp_rcpt_to_opts(s, addr, NULL);
}

SMTP_API smtp_result smtp_rcpt_to_opts(smtp_session *s, const char *addr, const char *params)
{
    char line[800];
    const char *a, *bad, *q;
    size_t n;
    smtp_result r;
    if (!s) return SMTP_ERR_PARAM;
    if (s->err) return s->err;
    if ((s->state != SMTP__RCPT || s->op) && (r = smtp__check_state(s, SMTP__MAIL, "smtp_rcpt_to")) != SMTP_OK)
        return r;
    if (!addr) return smtp__fail(s, SMTP_ERR_PARAM, "smtp_rcpt_to: the recipient address is NULL");
    if ((bad = smtp__addr(addr, 1, &a, &n)) != NULL)
        return smtp__fail(s, SMTP_ERR_PARAM, "the recipient address \"%.80s\" %s", addr, bad);
    for (q = params; q && *q; q++)
        if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7E)
            return smtp__fail(s, SMTP_ERR_PARAM, "smtp_rcpt_to_opts: the parameters hold a byte outside printable ASCII");
    if (params && strlen(params) > 400) return smtp__fail(s, SMTP_ERR_PARAM, "smtp_rcpt_to_opts: parameters too long");
    for (q = params; q && *q;) {   /* RFC 3461: NOTIFY and ORCPT only to a server that offers DSN */
        size_t w;
        while (*q == ' ') q++;
        for (w = 0; q[w] && q[w] != ' '; w++) {}
        if ((w >= 7 && smtp__ieq(q, 7, "NOTIFY=")) || (w >= 6 && smtp__ieq(q, 6, "ORCPT="))) {
            if (!(s->caps.ext & SMTP_EXT_DSN))
                return smtp__fail(s, SMTP_ERR_UNSUPPORTED, "smtp_rcpt_to_opts: %.*s, but %s does not offer DSN; "
                                  "nothing was sent", (int)w, q, s->link.peer);
        }
        q += w;
    }
    snprintf(line, sizeof line, "RCPT TO:<%.*s>%s%s", (int)n, a, params && *params ? " " : "", params ? params : "");
    r = smtp__exchange(s, line, smtp__deadline(s->cfg.timeout_ms), 0);
    if (r) return r;
    if (s->rd.reply.code != 250 && s->rd.reply.code != 251) return smtp__refused(s);
    s->state = SMTP__RCPT;
    s->txn.accepted++;
    return SMTP_OK;
}

/* DATA and its 354 (smtp_data_begin; the envelope sent one command at a time). */
static smtp_result smtp__data_begin(smtp_session *s)
{
    smtp_result r;
    if ((r = smtp__check_state(s, SMTP__RCPT, NULL)) != SMTP_OK) return r;
    if ((r = smtp__command(s, "DATA", 354)) != SMTP_OK) return r;
    smtp__body_start(s, 0);
    snprintf(s->rd.cmd, sizeof s->rd.cmd, "the message");
    return SMTP_OK;
}

SMTP_API smtp_result smtp_data_begin(smtp_session *s)
{
    smtp_result r;
    if (!s) return SMTP_ERR_PARAM;
    if ((r = smtp__check_state(s, SMTP__RCPT, "smtp_data_begin")) != SMTP_OK) return r;
    return smtp__data_begin(s);
}

SMTP_API smtp_result smtp_data_write(smtp_session *s, const void *data, size_t len)
{
    size_t taken;
    smtp_result r;
    if (!s) return SMTP_ERR_PARAM;
    if ((r = smtp__check_state(s, SMTP__DATA, "smtp_data_write")) != SMTP_OK) return r;
    if (!data && len) return smtp__fail(s, SMTP_ERR_PARAM, "smtp_data_write: data is NULL");
    if (!s->txn.body8) {   /* RFC 6152: 8-bit bytes only after BODY=8BITMIME to a server that offers it */
        const unsigned char *p = (const unsigned char *)data;
        size_t i;
        for (i = 0; i < len; i++)
            if (p[i] >= 0x80)
                /* what went before cannot be taken back: the connection is dropped, so the
                   server discards the partial message instead of delivering it damaged */
                return smtp__break(s, smtp__fail(s, SMTP_ERR_UNSUPPORTED, "the message has 8-bit bytes but %s; "
                    "nothing was delivered (the connection was dropped before the end of data)",
                    (s->caps.ext & SMTP_EXT_8BITMIME) ? "MAIL FROM did not declare BODY=8BITMIME (smtp_mail_from_opts)"
                                                : "the server does not offer 8BITMIME: encode it (quoted-printable, base64)"));
    }
    return smtp__put_body(s, data, len, &taken);
}

/* Before the end of the message goes out: the server may owe replies to
   BDAT chunks (owed), nothing more. A reply it sent before it had the
   end of the message answers nothing we sent: taken as the final reply,
   a "250" right after "354" would report a message as sent that the
   server never received. What arrived is read without waiting; a 421
   there means the server is closing (the message was not taken), any
   other byte is a protocol violation. Either way nothing counts as sent
   and the connection is dropped before the end of data goes out. */
static smtp_result smtp__premature(smtp_session *s, int owed)
{
    char seen[64];
    size_t off = s->rd.pos;
    int whole = 0;
    long k;
    if (s->rd.pos > 0) { memmove(s->rd.buf, s->rd.buf + s->rd.pos, s->rd.len - s->rd.pos); s->rd.len -= s->rd.pos; s->rd.pos = off = 0; }
    if (s->rd.len < sizeof s->rd.buf) {
        int n = s->link.io.read(s, s->rd.buf + s->rd.len, sizeof s->rd.buf - s->rd.len, smtp__now());
        if (n > 0) s->rd.len += (size_t)n;
        else if (n != SMTP_ERR_TIMEOUT) return smtp__io_error(s, n);
    }
    for (;;) {   /* the whole replies buffered */
        smtp__reply_parser rp;
        memset(&rp, 0, sizeof rp);
        k = smtp__reply_feed(&rp, (const char *)s->rd.buf + off, s->rd.len - off, NULL, NULL);
        if (k <= 0) break;
        if (whole == owed && rp.code == 421) {
            smtp__visible(seen, sizeof seen, s->rd.buf + off, (size_t)k);
            return smtp__break(s, smtp__fail(s, SMTP_ERR_CLOSED, "%s closed the session before the end of the "
                                             "message: \"%s\"; the message was not sent", s->link.peer, seen));
        }
        whole++;
        off += (size_t)k;
    }
    if (whole <= owed && (whole < owed || off == s->rd.len)) return SMTP_OK;
    smtp__visible(seen, sizeof seen, s->rd.buf, s->rd.len);
    return smtp__break(s, smtp__fail(s, SMTP_ERR_PROTOCOL, "%s replied before the end of the message (%d bytes: "
                                     "\"%s\"); a reply that comes before what it answers claims nothing: the "
                                     "message was not sent", s->link.peer, (int)s->rd.len, seen));
}

/* RSET (smtp_rset; the end of every transaction smtp_send began). */
static smtp_result smtp__rset(smtp_session *s, const char *call)
{
    smtp_result r;
    if (s->err) return s->err;
    if (s->state == SMTP__CLOSED || s->state == SMTP__DATA || (call && s->op))
        return smtp__check_state(s, SMTP__READY, call);
    if ((r = smtp__command(s, "RSET", 250)) != SMTP_OK) return r;
    s->state = SMTP__READY;
    return SMTP_OK;
}

SMTP_API smtp_result smtp_rset(smtp_session *s) { return s ? smtp__rset(s, "smtp_rset") : SMTP_ERR_PARAM; }

SMTP_API int smtp_reconnects(const smtp_session *s) { return s ? s->conn.reconnects : 0; }

SMTP_API int smtp_is_transient(const smtp_session *s, smtp_result r)
{
    switch (r) {
    case SMTP_ERR_NOMEM: case SMTP_ERR_RESOLVE: case SMTP_ERR_CONNECT: case SMTP_ERR_TIMEOUT: case SMTP_ERR_IO:
    case SMTP_ERR_CLOSED: case SMTP_ERR_PROXY: case SMTP_ERR_UNKNOWN_OUTCOME: case SMTP_ERR_AUTH_TEMP:
        return 1;
    case SMTP_ERR_TLS:   /* the handshake's I/O; a version or cipher the server refuses stays refused */
#ifndef SMTP_NO_TLS
        return !s || s->sec.err == 0 || s->sec.err == BR_ERR_IO;
#else
        return 1;
#endif
    case SMTP_ERR_REPLY:   /* the reply that refused: 4xx */
        return s && s->detail_code / 100 == 4;
    default: return 0;
    }
}

SMTP_API smtp_result smtp_noop(smtp_session *s)
{
    if (!s) return SMTP_ERR_PARAM;
    if (s->err) return s->err;
    if (s->state == SMTP__CLOSED || s->state == SMTP__DATA || s->op)
        return smtp__check_state(s, SMTP__READY, "smtp_noop");
    return smtp__command(s, "NOOP", 250);
}

/* Records the outcome of recipient i (in to, cc, bcc order), with the
   reply that decided it. */
static void smtp__result_of(const smtp_message *m, size_t i, const char *addr, int ok, int code,
                            const char *status, const char *text, size_t tn)
{
    smtp_rcpt_result tmp, *rr = (m->results && i < m->results_cap) ? &m->results[i] : &tmp;
    if (!m->results && !m->on_result) return;
    rr->address = addr;
    rr->accepted = ok;
    rr->code = code;
    snprintf(rr->status, sizeof rr->status, "%s", status);
    smtp__visible(rr->text, sizeof rr->text, (const unsigned char *)text, tn);   /* for printing */
    if (m->on_result) m->on_result(m->user, rr);
}

static void smtp__result(smtp_session *s, const smtp_message *m, size_t i, const char *addr, int ok)
{
    if (!ok && !s->txn.refused[0]) smtp__reply_str(s, s->txn.refused, sizeof s->txn.refused);
    smtp__result_of(m, i, addr, ok, s->rd.reply.code, s->rd.reply.status, s->rd.text, s->rd.reply.len);
}


/* Appends one command line to the write buffer (flushing when full), for
   pipelining: the replies are read afterwards, in order. */
static smtp_result smtp__put_cmd(smtp_session *s, const char *line, smtp__ms dl)
{
    size_t n = strlen(line);
    smtp_result r;
    if (sizeof s->wr.buf - s->wr.len < n + 2 && (r = smtp__flush(s, dl)) != SMTP_OK) return r;
    memcpy(s->wr.buf + s->wr.len, line, n);
    memcpy(s->wr.buf + s->wr.len + n, "\r\n", 2);
    s->wr.len += n + 2;
    smtp__trace(s, SMTP_TRACE_OUT, line, n);
    return SMTP_OK;
}

/* "VERB:<address>" for an address already checked ("Name <a@b>" gives a@b). */
static void smtp__path_cmd(char *out, size_t n, const char *verb, const char *addr, int kind)
{
    const char *a = addr;
    size_t len = 0;
    (void)smtp__addr(addr, kind, &a, &len);
    snprintf(out, n, "%s:<%.*s>", verb, (int)len, a);
}


/* One address of the envelope as it goes on the wire: as given with
   SMTPUTF8, else with its domain in A-labels (an error names the label). */
static smtp_result smtp__wire_addr(smtp_session *s, const smtp__job *j, const char *addr, int kind, char *out, size_t n)
{
    const char *a, *why;
    size_t len = 0;
    char bad[80];
    (void)smtp__addr(addr, kind, &a, &len);
    if (len >= n) len = n - 1;
    if (j->utf8 || smtp__is_ascii(a, len)) { memcpy(out, a, len); out[len] = 0; return SMTP_OK; }
    bad[0] = 0;
    if ((why = smtp__idna_addr(a, len, out, n, bad, sizeof bad)) != NULL)
        return smtp__fail(s, SMTP_ERR_UNSUPPORTED, "the address \"%.*s\" %s%s%s%s", (int)len, a, why,
                          bad[0] ? " (the label \"" : "", bad, bad[0] ? "\")" : "");
    if (strlen(out) > 254)   /* RFC 5321 4.5.3.1.3, for the form that goes out */
        return smtp__fail(s, SMTP_ERR_UNSUPPORTED, "the address \"%.*s\" is %lu octets with its domain as "
                          "A-labels, over the 254 a path may have (the server does not offer SMTPUTF8)",
                          (int)len, a, (unsigned long)strlen(out));
    return SMTP_OK;
}

/* The MAIL and RCPT command lines of a job, with their parameters. */
static smtp_result smtp__mail_line(smtp_session *s, const smtp__job *j, char *line, size_t n)
{
    char a[600], x[304];   /* ENVID: 100 characters, each at most 3 as xtext */
    size_t o;
    smtp_result r;
    if ((r = smtp__wire_addr(s, j, j->env, 0, a, sizeof a)) != SMTP_OK) return r;
    o = (size_t)snprintf(line, n, "MAIL FROM:<%s>", a);
    if (j->size && o < n) o += (size_t)snprintf(line + o, n - o, " SIZE=%llu", j->size);
    if (j->body8 && o < n) o += (size_t)snprintf(line + o, n - o, " BODY=8BITMIME");
    if (j->utf8 && o < n) o += (size_t)snprintf(line + o, n - o, " SMTPUTF8");
    if (j->dsn && j->m->dsn_ret && o < n) o += (size_t)snprintf(line + o, n - o, " RET=%s", j->m->dsn_ret);
    if (j->dsn && j->m->dsn_envid && o < n) {
        smtp__xtext(j->m->dsn_envid, strlen(j->m->dsn_envid), x, sizeof x);
        o += (size_t)snprintf(line + o, n - o, " ENVID=%s", x);
    }
    return SMTP_OK;
}

static smtp_result smtp__rcpt_line(smtp_session *s, const smtp__job *j, const char *addr, char *line, size_t n)
{
    char a[600], x[800];
    const char *raw;
    size_t o, len;
    smtp_result r;
    if ((r = smtp__wire_addr(s, j, addr, 1, a, sizeof a)) != SMTP_OK) return r;
    o = (size_t)snprintf(line, n, "RCPT TO:<%s>", a);
    if (j->dsn && j->m->dsn_notify && o < n) o += (size_t)snprintf(line + o, n - o, " NOTIFY=%s", j->m->dsn_notify);
    if (j->dsn && j->m->dsn_orcpt && o < n) {   /* RFC 3461 4.2: the address as given */
        (void)smtp__addr(addr, 1, &raw, &len);
        smtp__xtext(raw, len, x, sizeof x);
        o += (size_t)snprintf(line + o, n - o, " ORCPT=rfc822;%s", x);
    }
    return SMTP_OK;
}

/* message.headers[i]: a name smtp.h does not write itself, a value
   without control bytes; an address header's list checked address by
   address. */
static smtp_result smtp__check_header(smtp_session *s, size_t i, const char *nm, const char *v)
{
    static const char *const ours[] = { "Date", "From", "To", "Cc", "Bcc", "Subject", "Message-ID", "MIME-Version",
                                        "Content-Type", "Content-Transfer-Encoding" };
    const char *a;
    size_t k;
    if (!v) return smtp__fail(s, SMTP_ERR_PARAM, "message.headers[%d].value is NULL", (int)i);
    if (strlen(nm) > 60)
        return smtp__fail(s, SMTP_ERR_PARAM, "message.headers[%d].name is longer than 60 characters", (int)i);
    for (a = nm; *a; a++)
        if ((unsigned char)*a <= 32 || (unsigned char)*a >= 127 || *a == ':')
            return smtp__fail(s, SMTP_ERR_PARAM, "message.headers[%d].name \"%.60s\" holds a character a "
                              "header name cannot have (RFC 5322 2.2: printable ASCII, no ':')", (int)i, nm);
    for (k = 0; k < sizeof ours / sizeof *ours; k++)
        if (!smtp__casecmp(nm, ours[k]))
            return smtp__fail(s, SMTP_ERR_PARAM, "message.headers[%d]: %s is written by smtp.h itself", (int)i, nm);
    if (!smtp__casecmp(nm, "Resent-Bcc"))
        return smtp__fail(s, SMTP_ERR_PARAM, "message.headers[%d]: Resent-Bcc would show the blind copies' "
                          "addresses to every recipient", (int)i);
    if (strlen(v) > 4000)
        return smtp__fail(s, SMTP_ERR_PARAM, "message.headers[%d].value (%s) is longer than 4000 bytes", (int)i, nm);
    if (!smtp__clean(v))
        return smtp__fail(s, SMTP_ERR_PARAM, "message.headers[%d].value (%s) holds a control character "
                          "(CR, LF, ...)", (int)i, nm);
    if (smtp__is_addr_header(nm)) {
        const char *p = v, *bad;
        char el[SMTP__TOKEN_MAX + 4];
        int rc, idx = 0;
        while ((rc = smtp__list_next(&p, el, sizeof el)) == 0) {
            if ((bad = smtp__addr_check(el, 1)) != NULL)
                return smtp__fail(s, SMTP_ERR_PARAM, "message.headers[%d] (%s): address %d \"%.80s\" %s%s",
                                  (int)i, nm, idx + 1, el, bad, strchr(v, ',') ? " (the value is a list "
                                  "split at commas: quote a display name that holds one)" : "");
            idx++;
        }
        if (rc == -1)
            return smtp__fail(s, SMTP_ERR_PARAM, "message.headers[%d] (%s): a quoted string is not closed", (int)i, nm);
        if (rc < 0)
            return smtp__fail(s, SMTP_ERR_PARAM, "message.headers[%d] (%s): address %d is longer than %d bytes",
                              (int)i, nm, idx + 1, SMTP__TOKEN_MAX);
        if (idx == 0) return smtp__fail(s, SMTP_ERR_PARAM, "message.headers[%d] (%s) holds no address", (int)i, nm);
        if (idx > 1 && (!smtp__casecmp(nm, "Sender") || !smtp__casecmp(nm, "Resent-Sender")))
            return smtp__fail(s, SMTP_ERR_PARAM, "message.headers[%d]: %s holds one address, not %d "
                              "(RFC 5322 3.6.2)", (int)i, nm, idx);
    }
    return SMTP_OK;
}

/* message.attachments: one source each, names, content ids and types
   well formed, files readable. */
static smtp_result smtp__check_attachments(smtp_session *s, const smtp_message *m)
{
    const char *a;
    size_t i;
    if (m->attachment_count && !m->attachments)
        return smtp__fail(s, SMTP_ERR_PARAM, "message.attachments is NULL but attachment_count is %lu",
                          (unsigned long)m->attachment_count);
    for (i = 0; i < m->attachment_count; i++) {
        const smtp_attachment *at = &m->attachments[i];
        const char *why;
        if (at->path && at->data)
            return smtp__fail(s, SMTP_ERR_PARAM, "message.attachments[%d]: give path or data, not both", (int)i);
#ifdef SMTP_NO_STDIO
        if (at->path)
            return smtp__fail(s, SMTP_ERR_UNSUPPORTED, "message.attachments[%d].path: built with SMTP_NO_STDIO (no "
                              "file system): give data and size", (int)i);
#endif
        if (!at->path && !at->data && at->size)
            return smtp__fail(s, SMTP_ERR_PARAM, "message.attachments[%d]: size is %lu but data and path are NULL",
                              (int)i, (unsigned long)at->size);
        if (at->filename && !smtp__clean(at->filename))
            return smtp__fail(s, SMTP_ERR_PARAM, "message.attachments[%d].filename holds a control character", (int)i);
        if (at->filename && strlen(at->filename) > 250)
            return smtp__fail(s, SMTP_ERR_PARAM, "message.attachments[%d].filename is longer than 250 bytes", (int)i);
        if (at->content_id && (!*at->content_id || strlen(at->content_id) > 200))
            return smtp__fail(s, SMTP_ERR_PARAM, "message.attachments[%d].content_id must have 1 to 200 characters", (int)i);
        if (at->content_id) {
            for (a = at->content_id; *a; a++)
                if ((unsigned char)*a <= 32 || (unsigned char)*a >= 127 || *a == '<' || *a == '>')
                    return smtp__fail(s, SMTP_ERR_PARAM, "message.attachments[%d].content_id may hold only printable "
                                      "ASCII without spaces, '<' or '>' (RFC 2392: the part inside <>)", (int)i);
        }
        if (at->content_type && strlen(at->content_type) > 900)
            return smtp__fail(s, SMTP_ERR_PARAM, "message.attachments[%d].content_type is longer than 900 bytes", (int)i);
        if (at->content_type && !smtp__clean(at->content_type))
            return smtp__fail(s, SMTP_ERR_PARAM, "message.attachments[%d].content_type holds a control character", (int)i);
        if (at->content_type && (why = smtp__ctype(at->content_type, NULL, NULL)) != NULL)
            return smtp__fail(s, SMTP_ERR_PARAM, "message.attachments[%d].content_type \"%.80s\" %s (RFC 2045 5.1)",
                              (int)i, at->content_type, why);
        if (at->path && access(at->path, R_OK) != 0)
            return smtp__fail(s, SMTP_ERR_PARAM, "message.attachments[%d]: cannot read %s", (int)i, at->path);
    }
    return SMTP_OK;
}

/* DSN (RFC 3461): the parameters well formed; used when the server offers DSN. */
static smtp_result smtp__check_dsn(smtp_session *s, smtp__job *j)
{
    const smtp_message *m = j->m;
    const char *a;
    if (!m->dsn_notify && !m->dsn_ret && !m->dsn_envid && !m->dsn_orcpt) return SMTP_OK;
    if (m->dsn_notify) {
        char tmp[72];
        const char *p = m->dsn_notify;
        if (!*p || strlen(p) > 60 || (strstr(p, "NEVER") && strcmp(p, "NEVER")))
            return smtp__fail(s, SMTP_ERR_PARAM, "message.dsn_notify must be NEVER or a list of SUCCESS, FAILURE, DELAY");
        snprintf(tmp, sizeof tmp, ",%.60s,", p);
        for (a = tmp + 1; *a; a = strchr(a, ',') + 1) {
            size_t w = strcspn(a, ",");
            if (!w) break;
            if (!((w == 7 && !strncmp(a, "SUCCESS", 7)) || (w == 7 && !strncmp(a, "FAILURE", 7)) ||
                  (w == 5 && !strncmp(a, "DELAY", 5)) || (w == 5 && !strncmp(a, "NEVER", 5))))
                return smtp__fail(s, SMTP_ERR_PARAM, "message.dsn_notify: \"%.*s\" is not SUCCESS, FAILURE, DELAY or NEVER", (int)w, a);
        }
    }
    if (m->dsn_ret && strcmp(m->dsn_ret, "FULL") && strcmp(m->dsn_ret, "HDRS"))
        return smtp__fail(s, SMTP_ERR_PARAM, "message.dsn_ret must be FULL or HDRS");
    if (m->dsn_envid && (strlen(m->dsn_envid) > 100 || !smtp__clean(m->dsn_envid)))
        return smtp__fail(s, SMTP_ERR_PARAM, "message.dsn_envid: at most 100 characters, no control characters");
    if (s->caps.ext & SMTP_EXT_DSN) j->dsn = 1;
    else smtp__note(s, "DSN was asked for but the server does not offer it: sent without DSN parameters");
    return SMTP_OK;
}

/* International addresses (RFC 6531): SMTPUTF8 when one needs it and the
   server offers it, else every address must go as A-labels. */
static smtp_result smtp__job_addrs(smtp_session *s, smtp__job *j)
{
    const smtp_message *m = j->m;
    size_t i, k, len;
    const char *a;
    char line[1000];
    smtp_result r;
    (void)smtp__addr(j->env, 0, &a, &len);
    j->utf8 = !smtp__is_ascii(a, len);
    (void)smtp__addr(j->from, 1, &a, &len);   /* the From header's address is written too */
    if (!smtp__is_ascii(a, len)) j->utf8 = 1;
    for (k = 0; k < 3; k++)
        for (i = 0; j->lists[k] && j->lists[k][i]; i++) {
            (void)smtp__addr(j->lists[k][i], 1, &a, &len);
            if (!smtp__is_ascii(a, len)) j->utf8 = 1;
        }
    if (j->utf8 && !(s->caps.ext & SMTP_EXT_SMTPUTF8)) {
        j->utf8 = 0;   /* each address must then convert */
        if ((r = smtp__wire_addr(s, j, j->env, 0, line, sizeof line)) != SMTP_OK) return r;
        if ((r = smtp__wire_addr(s, j, j->from, 1, line, sizeof line)) != SMTP_OK) return r;
        for (k = 0; k < 3; k++)
            for (i = 0; j->lists[k] && j->lists[k][i]; i++)
                if ((r = smtp__wire_addr(s, j, j->lists[k][i], 1, line, sizeof line)) != SMTP_OK) return r;
    }
    for (i = 0; i < m->header_count; i++)   /* the same for addresses in headers */
        if (!j->utf8 && smtp__is_addr_header(m->headers[i].name)) {
            const char *p = m->headers[i].value;
            char el[SMTP__TOKEN_MAX + 4];
            while (smtp__list_next(&p, el, sizeof el) == 0)
                if ((r = smtp__wire_addr(s, j, el, 1, line, sizeof line)) != SMTP_OK) return r;
        }
    return SMTP_OK;
}

/* Everything in the message settled before a byte goes out: headers,
   attachments, DSN, addresses, 8-bit text, and SIZE (measured by
   composing without sending). */
static int smtp__job_check(smtp_session *s, smtp__job *j)
{
    const smtp_message *m = j->m;
    size_t i;
    smtp_result r;
    for (i = 0; i < m->header_count; i++) {
        const char *nm = m->headers[i].name;
        if (!nm || !*nm) return smtp__fail(s, SMTP_ERR_PARAM, "message.headers[%d].name is NULL or empty", (int)i);
        if ((r = smtp__check_header(s, i, nm, m->headers[i].value)) != SMTP_OK) return r;
    }
    if ((r = smtp__check_attachments(s, m)) != SMTP_OK || (r = smtp__check_dsn(s, j)) != SMTP_OK ||
        (r = smtp__job_addrs(s, j)) != SMTP_OK)
        return r;
    /* 8-bit text: as 8bit with BODY=8BITMIME when offered (RFC 6152), else encoded */
    j->body8 = (s->caps.ext & SMTP_EXT_8BITMIME) &&
               ((m->text && !smtp__is_ascii(m->text, strlen(m->text))) || (m->html && !smtp__is_ascii(m->html, strlen(m->html))));
    /* SIZE (RFC 1870): measured by composing without sending */
    if (s->caps.ext & SMTP_EXT_SIZE) {
        int bol = s->wr.dot.bol, cr = s->wr.dot.cr;
        smtp__cursor cur = s->wr.cur;
        s->txn.body8 = j->body8; s->txn.utf8 = j->utf8;
        s->wr.counting = 1; s->wr.counted = 0; s->wr.dot.bol = 1; s->wr.dot.cr = 0;
        memset(&s->wr.cur, 0, sizeof s->wr.cur);   /* every unit counts */
        r = smtp__compose(s, m, j->from, j->date, j->msgid);   /* the very headers that will go */
        if (!s->wr.dot.bol) s->wr.counted += 2;
        s->wr.counting = 0; s->wr.dot.bol = bol; s->wr.dot.cr = cr;
        s->wr.cur = cur;
        if (r != SMTP_OK) return r;
        j->size = s->wr.counted;
        if (s->caps.size_max && j->size > s->caps.size_max)
            return smtp__fail(s, SMTP_ERR_TOO_LONG, "the message is %llu bytes and %s takes at most %lu (SIZE); "
                              "nothing was sent", j->size, s->link.peer, s->caps.size_max);
    }
    return SMTP_OK;
}

/* Checks everything in m before a byte goes out, and readies the job. */
static smtp_result smtp__job_init(smtp_session *s, smtp__job *j, const smtp_message *m)
{
    const char *a, *bad, *rc;
    size_t n, i;
    int k;
    memset(j, 0, sizeof *j);
    j->first_refused = (size_t)-1;
    if (!m) return smtp__fail(s, SMTP_ERR_PARAM, "the message is NULL");
    j->m = m;
    j->from = m->from ? m->from : s->cfg.from;
    if (!j->from) return smtp__fail(s, SMTP_ERR_PARAM, "message.from is NULL (and cfg.from too)");
    if ((bad = smtp__addr_check(j->from, 1)) != NULL)
        return smtp__fail(s, SMTP_ERR_PARAM, "message.from \"%.80s\" %s", j->from, bad);
    j->env = m->envelope_from ? m->envelope_from : j->from;
    if ((bad = smtp__addr(j->env, 0, &a, &n)) != NULL)
        return smtp__fail(s, SMTP_ERR_PARAM, "message.envelope_from \"%.80s\" %s", j->env, bad);
    j->lists[0] = m->to; j->lists[1] = m->cc; j->lists[2] = m->bcc;
    for (k = 0; k < 3; k++) {
        const char *field = k == 0 ? "to" : k == 1 ? "cc" : "bcc";
        for (i = 0; j->lists[k] && j->lists[k][i]; i++, j->total++, j->count[k]++)
            if ((bad = smtp__addr_check(j->lists[k][i], 1)) != NULL)
                return smtp__fail(s, SMTP_ERR_PARAM, "message.%s[%d] \"%.80s\" %s", field, (int)i, j->lists[k][i], bad);
    }
    if (j->total == 0) return smtp__fail(s, SMTP_ERR_PARAM, "the message has no recipient (to, cc and bcc are empty)");
    if (m->subject && !smtp__clean(m->subject))
        return smtp__fail(s, SMTP_ERR_PARAM, "message.subject holds a control character (CR, LF, ...)");
    smtp__date(j->date, sizeof j->date, SMTP__TIME());
    s->msg_count++;
    rc = strrchr(j->from, '@');
    for (n = 0; rc && rc[1 + n] && rc[1 + n] != '>' && rc[1 + n] != ' ' && n < 100; n++) {
        char c = rc[1 + n];   /* RFC 5322 3.6.4: a dot-atom; anything else and "localhost" stands in */
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              (c == '.' && n > 0 && rc[n] != '.')))
            { rc = NULL; break; }
    }
    if (rc && (n == 0 || rc[n] == '.')) rc = NULL;
    snprintf(j->msgid, sizeof j->msgid, "<%016llx.%llu@%.*s>", s->nonce, s->msg_count,
             rc ? (int)n : 9, rc ? rc + 1 : "localhost");
    if ((k = smtp__job_check(s, j)) != SMTP_OK) return (smtp_result)k;   /* SIZE measures the headers above */
    return SMTP_OK;
}

/* Recipient idx of the job (to, cc, bcc in order). */
static const char *smtp__job_addr(const smtp__job *j, size_t idx)
{
    int k;
    for (k = 0; k < 3; k++) {
        if (idx < j->count[k]) return j->lists[k][idx];
        idx -= j->count[k];
    }
    return "";
}

/* The next recipient from the job's lists (advancing), or NULL. */
static const char *smtp__job_next(smtp__job *j, unsigned *idx)
{
    if (j->tried >= j->total) return NULL;
    while (!j->lists[j->list] || !j->lists[j->list][j->list_pos]) { j->list++; j->list_pos = 0; }
    *idx = (unsigned)j->tried++;
    return j->lists[j->list][j->list_pos++];
}

/* One line of the envelope into the write buffer, unless an earlier step
   put it there already (s->snd.lines: the lines put so far). */
static smtp_result smtp__env_put(smtp_session *s, const char *line, size_t at, smtp__ms dl)
{
    smtp_result r;
    if (at < s->snd.lines) return SMTP_OK;
    if ((r = smtp__put_cmd(s, line, dl)) != SMTP_OK) return r;
    s->snd.lines++;
    return SMTP_OK;
}

/* Writes MAIL, the RCPTs and DATA of the job's next transaction into the
   write buffer without waiting (RFC 2920): the carried-over recipients in
   s->work.rcpt first, then the next ones from the lists, peeked at, not
   taken. *g: how many recipients the group has. A long envelope fills the
   buffer: stepped, a flush that must wait stops it, and the next call
   makes the same lines and puts only those not put yet. */
static smtp_result smtp__env_write(smtp_session *s, smtp__job *j, size_t *g, smtp__ms dl)
{
    char line[1600];
    smtp__job peek = *j;
    size_t n = 0, at = 0;
    unsigned idx;
    const char *a;
    smtp_result r;
    if ((r = smtp__mail_line(s, j, line, sizeof line)) != SMTP_OK) goto out;
    if ((r = smtp__env_put(s, line, at++, dl)) != SMTP_OK) goto out;
    for (; n < j->carry; n++) {
        if ((r = smtp__rcpt_line(s, j, smtp__job_addr(j, s->work.rcpt[n].idx), line, sizeof line)) != SMTP_OK) goto out;
        if ((r = smtp__env_put(s, line, at++, dl)) != SMTP_OK) goto out;
    }
    while (n < SMTP__RCPT_MAX && (a = smtp__job_next(&peek, &idx)) != NULL) {
        if ((r = smtp__rcpt_line(s, j, a, line, sizeof line)) != SMTP_OK) goto out;
        if ((r = smtp__env_put(s, line, at++, dl)) != SMTP_OK) goto out;
        n++;
    }
    *g = n;
    if (!s->bdat.on) r = smtp__env_put(s, "DATA", at, dl);   /* BDAT: the body's chunks carry it */
out:
    if (!SMTP__WANTS(r)) s->snd.lines = 0;
    return r;
}

/* What a reply to RCPT makes of recipient k, for both ways of sending
   the envelope: accepted, deferred to a further transaction (452, RFC
   5321 4.5.3.1.10), or refused; 421 ends the session. */
static smtp_result smtp__rcpt_reply(smtp_session *s, smtp__job *j, size_t k, size_t *ok)
{
    smtp__rcpt *rc = &s->work.rcpt[k];
    int code = s->rd.reply.code;
    if (code == 421) return smtp__refused(s);
    if (code == 250 || code == 251) { rc->st = SMTP__OK; (*ok)++; s->state = SMTP__RCPT; }
    else if (code == 452) rc->st = SMTP__DEFERRED;
    else { rc->st = SMTP__REFUSED; smtp__result(s, j->m, rc->idx, smtp__job_addr(j, rc->idx), 0); }
    return SMTP_OK;
}

/* MAIL was refused: its reply is kept for the recipients it leaves. */
static void smtp__mail_refused(smtp_session *s)
{
    smtp__reply_str(s, s->txn.mail_text, sizeof s->txn.mail_text);
    s->txn.mail_code = s->rd.reply.code;
    memcpy(s->txn.mail_status, s->rd.reply.status, sizeof s->txn.mail_status);
}

/* Reads the replies to what smtp__env_write sent, in order, and fills
   s->work.rcpt. b->data_ok: DATA got 354 (with BDAT: someone was
   accepted); b->empty_data: DATA got 354 with nobody accepted. One
   deadline for them all (b->dl). */
static smtp_result smtp__env_read(smtp_session *s, smtp__send *b, smtp__job *j, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    b->data_ok = 0; b->ok = 0; b->empty_data = 0; s->txn.mail_text[0] = 0; s->txn.accepted = 0;
    for (b->k = j->carry; b->k < b->g; b->k++) (void)smtp__job_next(j, &s->work.rcpt[b->k].idx);
    j->live = b->g;
    for (b->k = 0; b->k < b->g; b->k++) s->work.rcpt[b->k].st = SMTP__UNTRIED;
    b->dl = smtp__deadline(s->cfg.timeout_ms);
    smtp__path_cmd(s->rd.cmd, sizeof s->rd.cmd, "MAIL FROM", j->env, 0);
    SMTP__AWAIT(pc, r, smtp__read_reply(s, b->dl, 0, s->cfg.timeout_ms));
    if (r) SMTP__EXIT(r, r);
    if (s->rd.reply.code == 421) SMTP__EXIT(r, smtp__refused(s));
    b->mail_ok = s->rd.reply.code == 250;
    if (!b->mail_ok) smtp__mail_refused(s);
    s->state = b->mail_ok ? SMTP__MAIL : SMTP__READY;
    for (b->k = 0; b->k < b->g; b->k++) {
        smtp__path_cmd(s->rd.cmd, sizeof s->rd.cmd, "RCPT TO", smtp__job_addr(j, s->work.rcpt[b->k].idx), 1);
        SMTP__AWAIT(pc, r, smtp__read_reply(s, b->dl, 0, s->cfg.timeout_ms));
        if (r) SMTP__EXIT(r, r);
        if (!b->mail_ok && s->rd.reply.code != 421) s->work.rcpt[b->k].st = SMTP__DEFERRED;
        else if ((r = smtp__rcpt_reply(s, j, b->k, &b->ok)) != SMTP_OK) SMTP__EXIT(r, r);
    }
    if (s->bdat.on) {   /* RFC 3030: no DATA; the chunks start when someone was accepted */
        if (b->mail_ok && b->ok > 0) { smtp__body_start(s, 1); b->data_ok = 1; }
        SMTP__EXIT(r, SMTP_OK);
    }
    snprintf(s->rd.cmd, sizeof s->rd.cmd, "DATA");
    SMTP__AWAIT(pc, r, smtp__read_reply(s, b->dl, 0, s->cfg.timeout_ms));
    if (r) SMTP__EXIT(r, r);
    if (s->rd.reply.code == 421) SMTP__EXIT(r, smtp__refused(s));
    if (s->rd.reply.code == 354) {
        smtp__body_start(s, 0);
        /* RFC 2920 3.2: DATA accepted with no recipient: it is ended empty (refused or dropped) */
        if (!b->mail_ok || b->ok == 0) b->empty_data = 1;
        else b->data_ok = 1;
    }
    SMTP__END(pc, r);
}

/* The same one command at a time, for servers without PIPELINING. */
static smtp_result smtp__env_lockstep(smtp_session *s, smtp__send *b, smtp__job *j, int *pc)
{
    unsigned idx;
    char line[1600];   /* made before each command; a resumed exchange does not read it */
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    b->data_ok = 0; b->ok = 0; s->txn.mail_text[0] = 0; s->txn.accepted = 0;
    b->g = j->carry;
    while (b->g < SMTP__RCPT_MAX && smtp__job_next(j, &idx) != NULL) s->work.rcpt[b->g++].idx = idx;
    j->live = b->g;
    for (b->k = 0; b->k < b->g; b->k++) s->work.rcpt[b->k].st = SMTP__UNTRIED;
    if ((r = smtp__mail_line(s, j, line, sizeof line)) != SMTP_OK) SMTP__EXIT(r, r);
    SMTP__AWAIT(pc, r, smtp__command(s, line, 250));
    if (r != SMTP_OK) {
        if (s->err) SMTP__EXIT(r, r);
        smtp__mail_refused(s);
        SMTP__EXIT(r, SMTP_OK);
    }
    s->state = SMTP__MAIL;
    for (b->k = 0; b->k < b->g; b->k++) {
        if ((r = smtp__rcpt_line(s, j, smtp__job_addr(j, s->work.rcpt[b->k].idx), line, sizeof line)) != SMTP_OK)
            SMTP__EXIT(r, r);
        SMTP__AWAIT(pc, r, smtp__exchange(s, line, smtp__deadline(s->cfg.timeout_ms), 0));
        if (r) SMTP__EXIT(r, r);
        if ((r = smtp__rcpt_reply(s, j, b->k, &b->ok)) != SMTP_OK) SMTP__EXIT(r, r);
        /* deferred with someone accepted: the rest wait for the further transaction too, untried */
        if (s->work.rcpt[b->k].st == SMTP__DEFERRED && b->ok > 0) break;
    }
    if (b->ok == 0) SMTP__EXIT(r, SMTP_OK);
    SMTP__AWAIT(pc, r, smtp__data_begin(s));
    if (s->err) SMTP__EXIT(r, r);
    b->data_ok = r == SMTP_OK;
    r = SMTP_OK;
    SMTP__END(pc, r);
}

/* Ends an open transaction. RSET must succeed (RFC 5321 4.1.1.5): a
   server that refuses it leaves the session in no known state. */
static smtp_result smtp__must_rset(smtp_session *s)
{
    char rb[300];
    smtp_result r;
    if (s->state == SMTP__READY) return SMTP_OK;
    if ((r = smtp__rset(s, NULL)) == SMTP_OK || SMTP__WANTS(r)) return r;
    if (s->err) return s->err;
    smtp__reply_str(s, rb, sizeof rb);
    return smtp__break(s, smtp__fail(s, SMTP_ERR_PROTOCOL, "%s refused RSET (%s); the session cannot go on",
                                     s->link.peer, rb));
}

/* After the final reply (verdict, or SMTP_ERR_REPLY without data):
   outcomes for the accepted recipients, RSET when a transaction is still
   open, and the recipients carried into a further transaction. */
static smtp_result smtp__job_settle(smtp_session *s, smtp__job *j, size_t g, size_t ok, smtp_result verdict, int *pc)
{
    size_t k;
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    for (k = 0; k < g; k++) {
        if (s->work.rcpt[k].st == SMTP__SENT) continue;   /* LMTP: its own reply settled it */
        if (s->work.rcpt[k].st == SMTP__REFUSED && j->first_refused == (size_t)-1) {
            j->first_refused = s->work.rcpt[k].idx;
            snprintf(j->first_rb, sizeof j->first_rb, "%s", s->txn.refused);
        }
        if (s->work.rcpt[k].st != SMTP__OK) continue;
        if (verdict != SMTP_OK && j->first_refused == (size_t)-1) {
            j->first_refused = s->work.rcpt[k].idx;
            smtp__reply_str(s, j->first_rb, sizeof j->first_rb);
        }
        if (verdict != SMTP_OK && s->bdat.failed)   /* the refused chunk decides, not what followed it */
            smtp__result_of(j->m, s->work.rcpt[k].idx, smtp__job_addr(j, s->work.rcpt[k].idx), 0, s->bdat.code, s->bdat.status,
                            s->txn.refused, strlen(s->txn.refused));
        else smtp__result(s, j->m, s->work.rcpt[k].idx, smtp__job_addr(j, s->work.rcpt[k].idx), verdict == SMTP_OK);
        if (verdict == SMTP_OK) j->sent++;
    }
    /* RFC 2920 3.1: a refused DATA leaves the transaction open */
    SMTP__AWAIT(pc, r, smtp__must_rset(s));
    if (r) SMTP__EXIT(r, r);
    /* what a 452 left over goes into the next transaction; with nothing
       accepted in this one that would loop, so it counts as refused */
    j->carry = 0;
    for (k = 0; k < g; k++) {
        if (s->work.rcpt[k].st != SMTP__DEFERRED && s->work.rcpt[k].st != SMTP__UNTRIED) continue;
        if (ok == 0) {
            smtp__result_of(j->m, s->work.rcpt[k].idx, smtp__job_addr(j, s->work.rcpt[k].idx), 0, 452, "4.5.3", "too many recipients", 19);
            if (j->first_refused == (size_t)-1) {
                j->first_refused = s->work.rcpt[k].idx;
                snprintf(j->first_rb, sizeof j->first_rb, "452 too many recipients, and none accepted");
            }
            continue;
        }
        s->work.rcpt[j->carry++] = s->work.rcpt[k];
    }
    j->live = j->carry;
    SMTP__END(pc, r);
}

/* The job cannot go on (MAIL refused, or the session ended): every
   recipient without an outcome gets this one, not delivered. */
static void smtp__job_abandon(smtp_session *s, smtp__job *j, int code, const char *status, const char *text)
{
    size_t k;
    unsigned idx;
    const char *a;
    for (k = 0; k < j->live; k++)
        if (s->work.rcpt[k].st != SMTP__REFUSED && s->work.rcpt[k].st != SMTP__SENT)
            smtp__result_of(j->m, s->work.rcpt[k].idx, smtp__job_addr(j, s->work.rcpt[k].idx), 0, code, status, text, strlen(text));
    j->live = 0;
    while ((a = smtp__job_next(j, &idx)) != NULL) smtp__result_of(j->m, idx, a, 0, code, status, text, strlen(text));
}

/* The code a reply kept as text ("450 4.2.0 ...") starts with, or 0. */
static int smtp__code_of(const char *rb)
{
    if (rb[0] < '2' || rb[0] > '5' || rb[1] < '0' || rb[1] > '9' || rb[2] < '0' || rb[2] > '9') return 0;
    return (rb[0] - '0') * 100 + (rb[1] - '0') * 10 + (rb[2] - '0');
}

/* The job's verdict once every recipient has its outcome. */
static smtp_result smtp__job_result(smtp_session *s, smtp__job *j)
{
    const char *who = "?";
    size_t idx = 0, i;
    int k;
    if (j->sent == j->total) return SMTP_OK;
    for (k = 0; k < 3; k++)
        for (i = 0; j->lists[k] && j->lists[k][i]; i++, idx++)
            if (idx == j->first_refused) who = j->lists[k][i];
    if (j->sent == 0) {
        (void)smtp__fail(s, SMTP_ERR_REPLY, "%s accepted none of the %d recipient%s; the first refused was "
                          "\"%.80s\": %s", s->link.peer, (int)j->total, j->total == 1 ? "" : "s", who, j->first_rb);
        s->detail_code = smtp__code_of(j->first_rb);
        return SMTP_ERR_REPLY;
    }
    return smtp__fail(s, SMTP_PARTIAL, "%d of %d recipients got the message; the first refused was "
                      "\"%.80s\": %s", (int)j->sent, (int)j->total, who, j->first_rb);
}

/* The one end of data, for DATA and BDAT alike: made ready in the write
   buffer, not sent yet (the next message's envelope may join it, RFC 2920
   3.1). With DATA it is the dot line; with BDAT the last chunk becomes
   "BDAT n LAST", or, when a chunk was refused, nothing more is sent (RFC
   3030 2) and the result is SMTP_ERR_REPLY. The progress callback sees
   the total before the end goes out, so it can still cancel the message. */
static smtp_result smtp__eod_put(smtp_session *s)
{
    smtp_result r;
    size_t n;
    if (s->state == SMTP__BDAT) {
        char hdr[SMTP__BDAT_HDR];
        int hl;
        if (!s->wr.dot.bol) {   /* the message ends with a line end */
            if (sizeof s->wr.buf - s->wr.len < 2 && (r = smtp__bdat_chunk(s, smtp__deadline(s->cfg.timeout_ms))) != SMTP_OK)
                return r;
            memcpy(s->wr.buf + s->wr.len, "\r\n", 2);
            smtp__trace(s, SMTP_TRACE_BODY, "\r\n", 2);
            s->wr.len += 2;
        }
        if (s->bdat.failed) { s->wr.len = 0; return SMTP_ERR_REPLY; }
        n = s->wr.len - SMTP__BDAT_HDR;
        hl = snprintf(hdr, sizeof hdr, "BDAT %lu LAST\r\n", (unsigned long)n);
        memmove(s->wr.buf + hl, s->wr.buf + SMTP__BDAT_HDR, n);
        memcpy(s->wr.buf, hdr, (size_t)hl);
        s->wr.len = (size_t)hl + n;
        smtp__trace(s, SMTP_TRACE_OUT, hdr, (size_t)hl - 2);
        s->bdat.last = 1;
    } else {
        smtp__dot st;
        size_t o;
        st.bol = s->wr.dot.bol; st.cr = s->wr.dot.cr;
        if (sizeof s->wr.buf - s->wr.len < 5 && (r = smtp__flush(s, smtp__deadline(s->cfg.timeout_ms))) != SMTP_OK)
            return r;
        o = smtp__dot_finish(&st, s->wr.buf + s->wr.len);
        smtp__trace(s, SMTP_TRACE_BODY, (const char *)s->wr.buf + s->wr.len, o);
        s->wr.len += o;
        n = s->wr.len;
    }
    s->state = SMTP__END;
    return smtp__progress(s, n);
}

/* Sends what is buffered, ready for the reply to the end of data (with
   BDAT: the replies to the chunks first). Once the end went out,
   txn.eod_sent stays set until its reply came: a failure then leaves the
   message possibly delivered. */
static smtp_result smtp__final_reply_start(smtp_session *s, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    snprintf(s->rd.cmd, sizeof s->rd.cmd, "the end of the message");
    if ((r = smtp__premature(s, s->bdat.last ? s->bdat.pending : 0)) != SMTP_OK) SMTP__EXIT(r, r);
    SMTP__AWAIT(pc, r, smtp__flush(s, smtp__deadline(s->cfg.timeout_ms)));
    if (r) SMTP__EXIT(r, r);
    s->txn.eod_sent = 1;
    if (s->bdat.last) {
        SMTP__AWAIT(pc, r, smtp__bdat_replies(s, 1));
        if (r) SMTP__EXIT(r, r);
        s->bdat.last = 0;
        snprintf(s->rd.cmd, sizeof s->rd.cmd, "BDAT LAST");
    }
    SMTP__END(pc, r);
}

static smtp_result smtp__final_reply(smtp_session *s, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    SMTP__AWAIT(pc, r, smtp__final_reply_start(s, pc + 1));
    if (r) SMTP__EXIT(r, r);
    SMTP__AWAIT(pc, r, smtp__read_reply(s, smtp__deadline(s->cfg.data_timeout_ms), 0, s->cfg.data_timeout_ms));
    if (r) SMTP__EXIT(r, r);
    s->txn.eod_sent = 0;
    s->state = SMTP__READY;
    if (s->rd.reply.code / 100 != 2) r = smtp__refused(s);
    else if (s->bdat.failed) r = SMTP_ERR_REPLY;
    SMTP__END(pc, r);
}

/* LMTP (RFC 2033 4.2): after the end of the message one reply per
   accepted recipient, in the order of their RCPTs, each deciding for its
   recipient. Those read are settled here (SMTP__SENT or refused); if the
   connection fails on the way, the rest are SMTP_ERR_UNKNOWN_OUTCOME. */
static smtp_result smtp__lmtp_replies(smtp_session *s, smtp__send *b, smtp__job *j, int *pc)
{
    smtp__rcpt *rc;
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    SMTP__AWAIT(pc, r, smtp__final_reply_start(s, pc + 1));
    if (r) SMTP__EXIT(r, r);
    b->got = 0;
    for (b->k = 0; b->k < b->g; b->k++) {
        if (s->work.rcpt[b->k].st != SMTP__OK) continue;
        smtp__path_cmd(s->rd.cmd, sizeof s->rd.cmd, "the end of the message for",
                       smtp__job_addr(j, s->work.rcpt[b->k].idx), 1);
        SMTP__AWAIT(pc, r, smtp__read_reply(s, smtp__deadline(s->cfg.data_timeout_ms), 0, s->cfg.data_timeout_ms));
        if (r) SMTP__EXIT(r, r);
        rc = &s->work.rcpt[b->k];
        rc->st = s->rd.reply.code / 100 == 2 ? SMTP__SENT : SMTP__REFUSED;
        smtp__result(s, j->m, rc->idx, smtp__job_addr(j, rc->idx), rc->st == SMTP__SENT);
        if (rc->st == SMTP__SENT) { j->sent++; b->got++; }
        if (s->rd.reply.code == 421) SMTP__EXIT(r, smtp__refused(s));
    }
    s->txn.eod_sent = 0;
    s->state = SMTP__READY;
    r = b->got ? SMTP_OK : SMTP_ERR_REPLY;
    SMTP__END(pc, r);
}

/* "it may have been delivered": the end of the message went out and its
   reply never came (DESIGN.md: nothing claimed, nothing resent blindly). */
static smtp_result smtp__unknown_outcome(smtp_session *s)
{
    size_t dl = strlen(s->detail);
    snprintf(s->detail + dl, sizeof s->detail - dl, "; the end of the message had gone out: it may "
             "have been delivered (SMTP_ERR_UNKNOWN_OUTCOME)");
    s->txn.eod_sent = 0;
    return SMTP_ERR_UNKNOWN_OUTCOME;
}

/* smtp_data_end with LMTP: the replies for the other accepted recipients
   (the first was read as the final reply: first is its verdict, read
   before the first stop only). SMTP_OK when all were 2xx, SMTP_PARTIAL
   when some, else SMTP_ERR_REPLY. */
static smtp_result smtp__lmtp_rest(smtp_session *s, smtp_result first, int *pc)
{
    smtp__send *b = &s->snd;
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    b->got = first == SMTP_OK;
    for (b->k = 1; b->k < s->txn.accepted; b->k++) {
        s->txn.eod_sent = 1;
        snprintf(s->rd.cmd, sizeof s->rd.cmd, "the end of the message (recipient %u)", (unsigned)b->k + 1);
        SMTP__AWAIT(pc, r, smtp__read_reply(s, smtp__deadline(s->cfg.data_timeout_ms), 0, s->cfg.data_timeout_ms));
        if (r) SMTP__EXIT(r, r);
        s->txn.eod_sent = 0;
        if (s->rd.reply.code / 100 == 2) b->got++;
        else (void)smtp__refused(s);
        if (s->err) SMTP__EXIT(r, s->err);
    }
    if (b->got == s->txn.accepted) r = SMTP_OK;
    else r = b->got ? smtp__fail(s, SMTP_PARTIAL, "%u of %u recipients got the message (LMTP): %s", (unsigned)b->got,
                                 s->txn.accepted, s->detail) : SMTP_ERR_REPLY;
    SMTP__END(pc, r);
}

/* The end of the message and its reply (smtp_data_end; a DATA accepted
   with nobody to send to). */
static smtp_result smtp__data_end(smtp_session *s, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    SMTP__AWAIT(pc, r, smtp__eod_put(s));
    if (r) SMTP__EXIT(r, r);
    SMTP__AWAIT(pc, r, smtp__final_reply(s, pc + 1));
    if (s->cfg.protocol == SMTP_PROTOCOL_LMTP && !s->err) SMTP__AWAIT(pc, r, smtp__lmtp_rest(s, r, pc + 1));
    if (r != SMTP_OK && s->txn.eod_sent) r = smtp__unknown_outcome(s);
    SMTP__END(pc, r);
}

SMTP_API smtp_result smtp_data_end(smtp_session *s)
{
    smtp_result r;
    if (!s) return SMTP_ERR_PARAM;
    if ((r = smtp__check_state(s, SMTP__DATA, "smtp_data_end")) != SMTP_OK) return r;
    return smtp__data_end(s, s->snd.pc);
}

static int smtp__any_deferred(const smtp_session *s, size_t g)
{
    size_t k;
    for (k = 0; k < g; k++) if (s->work.rcpt[k].st == SMTP__DEFERRED || s->work.rcpt[k].st == SMTP__UNTRIED) return 1;
    return 0;
}

/* The message jobs[cur] has its result: on to the next one (past those
   that failed their checks while the look-ahead tried them). */
static void smtp__send_done(smtp__send *b, smtp_result r)
{
    b->res[b->i] = r;
    if (r != SMTP_OK) b->last = r;
    b->i = b->nx > b->i + 1 ? b->nx : b->i + 1;
    if (b->ahead) b->cur = !b->cur;
    b->step = SMTP__S_NEXT;
}

/* Before a message: cfg.messages_per_connection (QUIT, then a new
   connection: SMTP__S_REOPEN, then NEXT again; SMTP_OK with the step
   changed) and cfg.messages_per_second (a pause: stepped, a WANT_READ
   whose deadline is the end of the pause, so the caller's loop sleeps).
   SMTP_OK: go. */
static smtp_result smtp__pace(smtp_session *s)
{
    unsigned per = s->cfg.messages_per_second;
    if (s->cfg.messages_per_connection && s->conn.messages >= s->cfg.messages_per_connection) {
        char why[80];
        snprintf(why, sizeof why, "%u messages sent on this connection (cfg.messages_per_connection)",
                 s->conn.messages);
        smtp__reopen_note(s, why);
        s->snd.re = 1;
        s->snd.step = SMTP__S_REOPEN;
        return SMTP_OK;
    }
    if (per) {
        smtp__ms now = smtp__now();
        if (s->conn.next_send > now) {
            if (s->link.nb) { s->link.want = SMTP_WANT_READ; s->link.dl = s->conn.next_send; return SMTP_WANT_READ; }
            smtp__pause((int)(s->conn.next_send - now));
            now = smtp__now();
        }
        s->conn.next_send = now + (1000 + per - 1) / per;
    }
    return SMTP_OK;
}

/* SMTP__S_NEXT: the next message is checked before a byte of it goes out
   (when its envelope went out ahead, it was checked then). */
static smtp_result smtp__step_next(smtp_session *s, smtp__send *b, smtp__job *j)
{
    smtp_result r;
    if (b->i >= b->n) { b->step = SMTP__S_DONE; return SMTP_OK; }
    if (!b->ahead) {
        if (!b->checked) {   /* once, even when the pace below stops the step */
            b->nx = 0;
            b->reopened = 0;
            if ((r = smtp__job_init(s, j, &b->msgs[b->i])) != SMTP_OK) {
                smtp__send_done(b, r);   /* it cannot go: its error is its result */
                return SMTP_OK;
            }
            b->checked = 1;
        }
        if ((r = smtp__pace(s)) != SMTP_OK || b->step == SMTP__S_REOPEN) return r;
        b->checked = 0;
    } else {
        b->nx = 0;
        b->reopened = 0;
    }
    s->conn.messages++;
    s->txn.refused[0] = 0;
    b->step = SMTP__S_ENVELOPE;
    return SMTP_OK;
}

/* What the envelope's replies lead to: MAIL refused ends the message;
   no 354 (or no recipient for BDAT) goes to SETTLE; else the body. */
static smtp_result smtp__after_envelope(smtp_session *s, smtp__send *b, smtp__job *j, int *pc)
{
    const char *t;
    size_t sl;
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    if (!s->txn.mail_text[0]) {
        b->verdict = SMTP_ERR_REPLY;
        b->step = b->data_ok ? SMTP__S_BODY : SMTP__S_SETTLE;
        SMTP__EXIT(r, SMTP_OK);
    }
    /* MAIL refused: this message goes to nobody more; each recipient gets
       MAIL's code and status, and its text without them */
    t = s->txn.mail_text + (strlen(s->txn.mail_text) > 4 ? 4 : strlen(s->txn.mail_text));
    sl = strlen(s->txn.mail_status);
    if (sl && !strncmp(t, s->txn.mail_status, sl)) t += sl + (t[sl] == ' ');
    smtp__job_abandon(s, j, s->txn.mail_code, s->txn.mail_status, t);
    SMTP__AWAIT(pc, r, smtp__must_rset(s));
    if (r) SMTP__EXIT(r, r);
    smtp__send_done(b, j->sent ? smtp__fail(s, SMTP_PARTIAL, "%d of %d recipients got the message; then MAIL "
                                            "FROM was refused: %s", (int)j->sent, (int)j->total, s->txn.mail_text)
                               : smtp__fail(s, SMTP_ERR_REPLY, "%s refused MAIL FROM: %s", s->link.peer, s->txn.mail_text));
    s->detail_code = s->txn.mail_code;
    SMTP__END(pc, r);
}

/* Before a transaction on a connection idle for a while: the server may
   have closed it (its idle timeout), with a 421 first or without. What
   waits is read without waiting; past cfg.idle_check_ms a NOOP asks. A
   closed connection ends the session here, before anything of the
   message went out, so the machine can open a new one. */
#define SMTP__IDLE_PEEK_MS 1000
static smtp_result smtp__check_alive(smtp_session *s, int *pc)
{
    smtp__reply_parser rp;
    smtp__ms idle;
    int n;
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    idle = smtp__now() - s->conn.last_reply;
    if (idle < SMTP__IDLE_PEEK_MS) SMTP__EXIT(r, SMTP_OK);
    if (s->rd.pos == s->rd.len) {
        s->rd.pos = s->rd.len = 0;
        n = s->link.io.read(s, s->rd.buf, sizeof s->rd.buf, smtp__now());
        if (n == SMTP_ERR_CLOSED)
            SMTP__EXIT(r, smtp__break(s, smtp__fail(s, SMTP_ERR_CLOSED, "%s closed the connection while it was "
                                                    "idle (%lld ms)", s->link.peer, (long long)idle)));
        if (n > 0) s->rd.len = (size_t)n;
        else if (n != SMTP_ERR_TIMEOUT) SMTP__EXIT(r, smtp__io_error(s, n));
    }
    if (s->rd.pos < s->rd.len) {   /* a 421 that came while idle; anything else answers nothing */
        memset(&rp, 0, sizeof rp);
        if (smtp__reply_feed(&rp, (const char *)s->rd.buf + s->rd.pos, s->rd.len - s->rd.pos, NULL, NULL) <= 0 ||
            rp.code != 421)
            SMTP__EXIT(r, SMTP_OK);
        snprintf(s->rd.cmd, sizeof s->rd.cmd, "nothing (the connection was idle)");
        SMTP__AWAIT(pc, r, smtp__read_reply(s, smtp__deadline(s->cfg.timeout_ms), 0, s->cfg.timeout_ms));
        SMTP__EXIT(r, r ? r : smtp__refused(s));
    }
    if (s->cfg.idle_check_ms > 0 && idle > s->cfg.idle_check_ms) SMTP__AWAIT(pc, r, smtp__command(s, "NOOP", 250));
    SMTP__END(pc, r);
}

/* SMTP__S_ENVELOPE: one transaction's MAIL, RCPTs and DATA. Pipelined,
   they leave in one write (unless they already went out with the end of
   the message before); else one at a time, replies included. */
static smtp_result smtp__step_envelope(smtp_session *s, smtp__send *b, smtp__job *j, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    b->mark_tried = j->tried; b->mark_list = j->list; b->mark_pos = j->list_pos;
    if (!b->ahead) SMTP__AWAIT(pc, r, smtp__check_alive(s, pc + 1));
    if (r) SMTP__EXIT(r, r);
    if (!b->pipe) {
        SMTP__AWAIT(pc, r, smtp__env_lockstep(s, b, j, pc + 1));
        if (r) SMTP__EXIT(r, r);
        SMTP__AWAIT(pc, r, smtp__after_envelope(s, b, j, pc + 1));
        SMTP__EXIT(r, r);
    }
    if (b->ahead) { b->g = b->next_g; b->ahead = 0; b->step = SMTP__S_REPLIES; SMTP__EXIT(r, SMTP_OK); }
    if (s->rd.pos < s->rd.len)
        SMTP__EXIT(r, smtp__break(s, smtp__fail(s, SMTP_ERR_PROTOCOL, "%s sent %d bytes that answer nothing before "
                                                "MAIL", s->link.peer, (int)(s->rd.len - s->rd.pos))));
    SMTP__AWAIT(pc, r, smtp__env_write(s, j, &b->g, smtp__deadline(s->cfg.timeout_ms)));
    if (r) SMTP__EXIT(r, r);
    snprintf(s->rd.cmd, sizeof s->rd.cmd, "the pipelined MAIL, RCPT and DATA");
    SMTP__AWAIT(pc, r, smtp__flush(s, smtp__deadline(s->cfg.timeout_ms)));
    if (r == SMTP_OK) b->step = SMTP__S_REPLIES;
    SMTP__END(pc, r);
}

/* SMTP__S_REPLIES: the pipelined envelope's replies; a DATA accepted with
   nobody to send to is ended empty. */
static smtp_result smtp__step_replies(smtp_session *s, smtp__send *b, smtp__job *j, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    SMTP__AWAIT(pc, r, smtp__env_read(s, b, j, pc + 1));
    if (r) SMTP__EXIT(r, r);
    if (b->empty_data) {
        SMTP__AWAIT(pc, r, smtp__data_end(s, pc + 1));
        if (s->err) SMTP__EXIT(r, s->err);
    }
    SMTP__AWAIT(pc, r, smtp__after_envelope(s, b, j, pc + 1));
    SMTP__END(pc, r);
}

/* A refused BDAT chunk (SMTP_ERR_REPLY from the body or its end, the
   session intact): the replies still owed are read and the transaction,
   open until RSET, goes to SETTLE. Called again after a stop, it goes on. */
static smtp_result smtp__chunk_refused(smtp_session *s, smtp__send *b)
{
    smtp_result r;
    s->wr.len = s->wr.off = 0;
    s->state = SMTP__RCPT;
    if ((r = smtp__bdat_replies(s, 1)) != SMTP_OK) return r;
    b->verdict = SMTP_ERR_REPLY;
    b->step = SMTP__S_SETTLE;
    return SMTP_OK;
}

/* SMTP__S_BODY: the composed message (a stop resumes it: smtp__cursor). */
static smtp_result smtp__step_body(smtp_session *s, smtp__send *b, smtp__job *j, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    s->txn.body8 = j->body8; s->txn.utf8 = j->utf8;
    SMTP__AWAIT(pc, r, smtp__compose(s, j->m, j->from, j->date, j->msgid));
    if (r == SMTP_OK) { b->step = SMTP__S_END; SMTP__EXIT(r, r); }
    if (r != SMTP_ERR_REPLY || !s->bdat.on || s->err) SMTP__EXIT(r, r);   /* anything else ends the session */
    SMTP__AWAIT(pc, r, smtp__chunk_refused(s, b));
    SMTP__END(pc, r);
}

/* The next message's envelope rides with this end of data (RFC 2920
   3.1, cfg.pipeline_messages) when this message needs no further
   transaction (nothing can be carried over). Messages that fail their
   checks on the way get their error as their result. */
static smtp_result smtp__look_ahead(smtp_session *s, smtp__send *b, const smtp__job *j, int *pc)
{
    smtp_result r = SMTP_OK, ir;
    SMTP__BEGIN(pc);
    if (!b->pipe || !s->cfg.pipeline_messages || b->i + 1 >= b->n || j->tried != j->total || smtp__any_deferred(s, b->g))
        SMTP__EXIT(r, SMTP_OK);
    if (s->cfg.messages_per_second || (s->cfg.messages_per_connection &&
                                       s->conn.messages >= s->cfg.messages_per_connection))
        SMTP__EXIT(r, SMTP_OK);   /* the next message waits, or goes on a new connection */
    for (b->nx = b->i + 1; b->nx < b->n; b->nx++) {
        ir = smtp__job_init(s, &b->jobs[!b->cur], &b->msgs[b->nx]);
        if (ir == SMTP_OK) break;
        b->res[b->nx] = b->last = ir;
    }
    if (b->nx == b->n) SMTP__EXIT(r, SMTP_OK);
    b->ahead = 1;
    SMTP__AWAIT(pc, r, smtp__env_write(s, &b->jobs[!b->cur], &b->next_g, smtp__deadline(s->cfg.timeout_ms)));
    SMTP__END(pc, r);
}

/* SMTP__S_END: the end of data, and the next envelope with it. */
static smtp_result smtp__step_end(smtp_session *s, smtp__send *b, smtp__job *j, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    SMTP__AWAIT(pc, r, smtp__eod_put(s));
    if (r) {
        if (r != SMTP_ERR_REPLY || !s->bdat.on || s->err) SMTP__EXIT(r, r);
        SMTP__AWAIT(pc, r, smtp__chunk_refused(s, b));
        SMTP__EXIT(r, r);
    }
    SMTP__AWAIT(pc, r, smtp__look_ahead(s, b, j, pc + 1));
    if (r == SMTP_OK) b->step = SMTP__S_FINAL;
    SMTP__END(pc, r);
}

/* SMTP__S_FINAL: the reply to the end of data (LMTP: one per recipient). */
static smtp_result smtp__step_final(smtp_session *s, smtp__send *b, smtp__job *j, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    if (s->cfg.protocol == SMTP_PROTOCOL_LMTP) SMTP__AWAIT(pc, r, smtp__lmtp_replies(s, b, j, pc + 1));
    else SMTP__AWAIT(pc, r, smtp__final_reply(s, pc + 1));
    if (s->err) SMTP__EXIT(r, r);
    b->verdict = r;
    b->step = SMTP__S_SETTLE;
    r = SMTP_OK;
    SMTP__END(pc, r);
}

/* SMTP__S_SETTLE: each recipient's outcome, RSET; the message is done, or
   the recipients a 452 deferred go into a further transaction. */
static smtp_result smtp__step_settle(smtp_session *s, smtp__send *b, smtp__job *j, int *pc)
{
    smtp_result r = SMTP_OK;
    SMTP__BEGIN(pc);
    SMTP__AWAIT(pc, r, smtp__job_settle(s, j, b->g, b->ok, b->verdict, pc + 1));
    if (r) SMTP__EXIT(r, r);
    if (j->carry == 0 && j->tried == j->total) smtp__send_done(b, smtp__job_result(s, j));
    else b->step = SMTP__S_ENVELOPE;
    SMTP__END(pc, r);
}

/* SMTP__S_REOPEN: a new connection within the batch: after
   cfg.messages_per_connection (re 1: QUIT first, then NEXT again), or
   after the server closed the old one before the transaction began
   (re 2, smtp__send_reopen: the transaction again). */
static smtp_result smtp__step_reopen(smtp_session *s, smtp__send *b, int *pc)
{
    smtp_result r = smtp__reopen_step(s, b->re == 1, pc);   /* on this step's own resume point: AUTH is deep */
    if (SMTP__WANTS(r)) return r;
    if (r) return s->err ? s->err : r;
    if (b->re == 2) { s->conn.messages = 1; b->step = SMTP__S_ENVELOPE; }
    else b->step = SMTP__S_NEXT;
    return SMTP_OK;
}

/* Advances the batch one step. SMTP_OK: go on (b->step says where);
   SMTP_WANT_*: the step stopped where it must wait and is called again;
   anything else ended the session, or stopped the batch at a caller's
   error that only showed once the message was under way. */
static smtp_result smtp__send_step(smtp_session *s)
{
    smtp__send *b = &s->snd;
    smtp__job *j = &b->jobs[b->cur];
    switch (b->step) {
    case SMTP__S_NEXT: return smtp__step_next(s, b, j);
    case SMTP__S_ENVELOPE: return smtp__step_envelope(s, b, j, b->pc);
    case SMTP__S_REPLIES: return smtp__step_replies(s, b, j, b->pc);
    case SMTP__S_BODY: return smtp__step_body(s, b, j, b->pc);
    case SMTP__S_END: return smtp__step_end(s, b, j, b->pc);
    case SMTP__S_FINAL: return smtp__step_final(s, b, j, b->pc);
    case SMTP__S_SETTLE: return smtp__step_settle(s, b, j, b->pc);
    case SMTP__S_REOPEN: return smtp__step_reopen(s, b, b->pc);
    default: return SMTP_OK;
    }
}

/* The session ended (or a caller error stopped this message). DESIGN.md,
   "Nothing lost": recipients whose final reply came have their outcome;
   the others get the error; the message counts as sent only to them. */
static smtp_result smtp__send_broken(smtp_session *s, smtp_result r)
{
    smtp__send *b = &s->snd;
    smtp__job *j = &b->jobs[b->cur];
    char why[sizeof s->detail];
    smtp_result e = s->err ? s->err : r;
    size_t k, refused = 0;
    for (k = 0; k < j->live; k++) refused += s->work.rcpt[k].st == SMTP__REFUSED;
    if (j->live && refused == j->live && j->tried == j->total && j->carry == 0 && !j->sent && !s->txn.eod_sent) {
        /* every recipient was refused, then the server closed (chasquid: "421 Too many errors" to the
           pipelined DATA): the message's outcome is its refusals */
        size_t dl = strlen(s->detail);
        snprintf(s->detail + dl, sizeof s->detail - dl, "; every recipient had been refused (first: %.120s)",
                 j->first_rb[0] ? j->first_rb : s->txn.refused);
        smtp__job_abandon(s, j, 0, "", s->detail);
        b->res[b->i] = SMTP_ERR_REPLY;
        return e;
    }
    if (s->txn.eod_sent && e != SMTP_ERR_ABORTED) e = smtp__unknown_outcome(s);
    memcpy(why, s->detail, sizeof why);
    smtp__job_abandon(s, j, 0, "", why);
    b->res[b->i] = j->sent ? SMTP_PARTIAL : e;   /* the detail stays the session's error */
    if (e == SMTP_ERR_UNKNOWN_OUTCOME) e = s->err;
    return e;
}

/* The connection ended before the server accepted MAIL of the
   transaction (closed while idle, a 421, a reset): nothing of the message
   went out, so a new connection may take it, once per message. */
static int smtp__may_reopen(const smtp_session *s, const smtp__send *b)
{
    /* not with recipients carried over from a 452 when AUTH will run:
       they wait in work.rcpt, which AUTH's buffer shares */
    if (b->jobs[b->cur].carry && s->cfg.username) return 0;
    return !s->cfg.no_reconnect && !s->cfg.transport && !b->reopened && s->state == SMTP__READY && !s->txn.eod_sent &&
           (b->step == SMTP__S_ENVELOPE || b->step == SMTP__S_REPLIES) &&
           (s->err == SMTP_ERR_CLOSED || s->err == SMTP_ERR_IO);
}

/* The transaction again from its start, on a new connection
   (SMTP__S_REOPEN, then ENVELOPE). */
static void smtp__send_reopen(smtp_session *s, smtp__send *b)
{
    smtp__job *j = &b->jobs[b->cur];
    char why[sizeof s->detail];
    memcpy(why, s->detail, sizeof why);
    j->tried = b->mark_tried; j->list = b->mark_list; j->list_pos = b->mark_pos;
    j->live = j->carry;
    b->ahead = 0;
    b->reopened = 1;
    b->re = 2;
    b->step = SMTP__S_REOPEN;
    memset(b->pc, 0, sizeof b->pc);
    smtp__reopen_note(s, why);
}

/* Starts sending msgs[0..n) (results into res), one step at a time.
   With PIPELINING and cfg.pipeline_messages, the end of one message and
   the next message's envelope leave in one write; each message's result
   still comes only from its own final reply. stepped: the caller's loop
   waits (smtp_step); else smtp__drive does. */
static void smtp__send_begin(smtp_session *s, int op, const smtp_message *msgs, size_t n, smtp_result *res, int stepped)
{
    smtp__send *b = &s->snd;
    b->step = SMTP__S_NEXT;
    b->msgs = msgs; b->res = res; b->n = n;
    b->i = b->nx = b->g = b->ok = b->next_g = 0;
    b->last = b->verdict = SMTP_OK;
    b->cur = b->ahead = b->data_ok = b->checked = 0;
    memset(b->pc, 0, sizeof b->pc);
    s->op = op;
    s->link.dl = smtp__now();   /* smtp_timeout_ms 0: step at once */
    /* on a socket even the blocking calls step (smtp__drive polls); a
       caller's transport waits in its own read and write unless stepped */
    s->link.nb = stepped || !s->cfg.transport;
    smtp__send_caps(s);
}

/* Runs the batch until it is done, or a step must wait (SMTP_WANT_*). */
static smtp_result smtp__send_run(smtp_session *s)
{
    smtp__send *b = &s->snd;
    smtp_result r;
    while (b->step != SMTP__S_DONE) {
        if ((r = smtp__send_step(s)) == SMTP_OK) continue;
        if (SMTP__WANTS(r)) return r;
        if (!smtp__may_reopen(s, b)) {
            b->step = SMTP__S_DONE;
            return smtp__send_broken(s, r);
        }
        smtp__send_reopen(s, b);
    }
    return b->last;
}

/* The batch is over: what smtp_send and smtp_send_batch return. */
static smtp_result smtp__send_end(smtp_session *s, smtp_result r)
{
    smtp__send *b = &s->snd;
    size_t i;
    int op = s->op;
    s->op = SMTP__OP_NONE;
    s->link.nb = 0;
    if (op == SMTP__OP_SEND) {
        if (b->one != SMTP_ERR_STATE) return b->one;   /* SMTP_PARTIAL even when the session ended after some got it */
        return s->err ? s->err : r;
    }
    if (s->err) {
        for (i = 0; i < b->n; i++) if (b->res[i] == SMTP_ERR_STATE) b->res[i] = s->err;
        return s->err;
    }
    return r;
}

/* smtp_send's and smtp_send_batch's checks; SMTP_OK when the batch began. */
static smtp_result smtp__send_start(smtp_session *s, const smtp_message *m, int stepped, const char *call)
{
    smtp_result r;
    if (!s) return SMTP_ERR_PARAM;
    if (s->op) return smtp__fail(s, SMTP_ERR_STATE, "%s called while another operation is under way (smtp_step)", call);
    if ((r = smtp__check_state(s, SMTP__READY, call)) != SMTP_OK) return r;
    if (!m) return smtp__fail(s, SMTP_ERR_PARAM, "%s: the message is NULL", call);
    s->snd.one = SMTP_ERR_STATE;
    smtp__send_begin(s, SMTP__OP_SEND, m, 1, &s->snd.one, stepped);
    return SMTP_OK;
}

static smtp_result smtp__batch_start(smtp_session *s, const smtp_message *msgs, size_t count, smtp_result *results,
                                     int stepped, const char *call)
{
    smtp_result r;
    size_t i;
    if (!s) return SMTP_ERR_PARAM;
    if ((!msgs && count) || !results) return smtp__fail(s, SMTP_ERR_PARAM, "%s: msgs or results is NULL", call);
    for (i = 0; i < count; i++) results[i] = SMTP_ERR_STATE;   /* "not sent": a transport failure stops the batch */
    if (s->op) r = smtp__fail(s, SMTP_ERR_STATE, "%s called while another operation is under way (smtp_step)", call);
    else r = smtp__check_state(s, SMTP__READY, call);
    if (r != SMTP_OK) {
        for (i = 0; i < count; i++) results[i] = r;   /* none was sent */
        return r;
    }
    smtp__send_begin(s, SMTP__OP_BATCH, msgs, count, results, stepped);
    return SMTP_OK;
}

/* smtp_quit_start's steps: QUIT and its reply, then the connection closed. */
static smtp_result smtp__quit_step(smtp_session *s)
{
    smtp_result r = SMTP_OK;
    if (!s->err && s->link.io.close && s->state >= SMTP__READY && s->state != SMTP__DATA) {
        r = smtp__exchange(s, "QUIT", smtp__deadline(s->cfg.timeout_ms), 0);
        if (SMTP__WANTS(r)) return r;
    }
    s->op = SMTP__OP_NONE;
    s->link.nb = 0;
    if (s->link.io.close) s->link.io.close(s);   /* smtp_close has nothing left to say */
    s->link.io.close = NULL;
    return r;
}

SMTP_API smtp_result smtp_quit_start(smtp_session *s)
{
    if (!s) return SMTP_ERR_PARAM;
    if (s->op) return smtp__fail(s, SMTP_ERR_STATE, "smtp_quit_start called while another operation is under way "
                                 "(smtp_step)");
    s->op = SMTP__OP_QUIT;
    s->link.nb = 1;
    s->link.dl = smtp__now();   /* smtp_timeout_ms 0: step at once */
    return SMTP_OK;
}

SMTP_API smtp_result smtp_step(smtp_session *s)
{
    smtp_result r;
    if (!s) return SMTP_ERR_PARAM;
    if (s->op == SMTP__OP_OPEN || s->op == SMTP__OP_OPENED) return smtp__open_step(s);
    if (s->op == SMTP__OP_QUIT) return smtp__quit_step(s);
    if (s->op != SMTP__OP_SEND && s->op != SMTP__OP_BATCH)
        return smtp__fail(s, SMTP_ERR_STATE, "smtp_step called with nothing under way (smtp_open_start, "
                          "smtp_send_start, smtp_send_batch_start, smtp_quit_start)");
    r = smtp__send_run(s);
    return SMTP__WANTS(r) ? r : smtp__send_end(s, r);
}

/* The blocking calls: the same steps, waiting in poll() between them. */
static smtp_result smtp__drive(smtp_session *s)
{
    for (;;) {
        smtp_result r = smtp_step(s);
        int w;
        if (!SMTP__WANTS(r)) return r;
        if (s->link.io.close == smtp__dial_close)   /* a connect (Windows: select, which sees a refusal) */
            w = smtp__poll_connect(s->link.fd, s->link.dl, NULL);
        else w = smtp__poll(s->link.fd, r == SMTP_WANT_READ ? POLLIN : POLLOUT, s->link.dl);
        if (w == SMTP_ERR_IO) {
            char ebuf[128];
            s->link.sys_errno = smtp__sock_errno();
            r = smtp__break(s, smtp__fail(s, SMTP_ERR_IO, "waiting for %s failed: %s", s->link.peer,
                                          smtp__strerror(s->link.sys_errno, ebuf, sizeof ebuf)));
            if (s->op == SMTP__OP_OPEN || s->op == SMTP__OP_OPENED) {
                s->op = SMTP__OP_NONE; s->link.nb = 0;
                return smtp__open_failed(s, r);
            }
            s->snd.step = SMTP__S_DONE;
            return smtp__send_end(s, smtp__send_broken(s, r));
        }
    }
}

SMTP_API smtp_result smtp_send(smtp_session *s, const smtp_message *m)
{
    smtp_result r = smtp__send_start(s, m, 0, "smtp_send");
    return r ? r : smtp__drive(s);
}

SMTP_API smtp_result smtp_send_start(smtp_session *s, const smtp_message *m)
{
    return smtp__send_start(s, m, 1, "smtp_send_start");
}

SMTP_API smtp_result smtp_send_batch(smtp_session *s, const smtp_message *msgs, size_t count, smtp_result *results)
{
    smtp_result r = smtp__batch_start(s, msgs, count, results, 0, "smtp_send_batch");
    return r ? r : smtp__drive(s);
}

SMTP_API smtp_result smtp_send_batch_start(smtp_session *s, const smtp_message *msgs, size_t count,
                                           smtp_result *results)
{
    return smtp__batch_start(s, msgs, count, results, 1, "smtp_send_batch_start");
}

SMTP_API smtp_socket smtp_fd(const smtp_session *s)
{
    return s && !s->cfg.transport && s->link.io.close ? s->link.fd : SMTP_INVALID_SOCKET;   /* connecting too */
}

SMTP_API int smtp_timeout_ms(const smtp_session *s) { return s && s->op ? smtp__left(s->link.dl) : -1; }

SMTP_API smtp_result smtp_send_mail(const smtp_config *cfg, const smtp_message *m,
                                    char *detail, size_t detail_size)
{
    smtp_session *s = (smtp_session *)SMTP_MALLOC(sizeof *s);
    smtp_result r;
    if (!s) {
        if (detail && detail_size) snprintf(detail, detail_size, "out of memory for a session");
        return SMTP_ERR_NOMEM;
    }
    r = smtp_open(s, cfg);
    if (r == SMTP_OK) r = smtp_send(s, m);
    if (detail && detail_size) snprintf(detail, detail_size, "%s", r ? s->detail : "");
    (void)smtp_close(s);
    SMTP_FREE(s);
    return r;
}

SMTP_API smtp_security smtp_security_used(const smtp_session *s) { return s ? s->sec.mode_used : SMTP_SECURITY_NONE; }
SMTP_API int smtp_tls_resumed(const smtp_session *s) { return s && s->sec.on && s->sec.resumed; }
SMTP_API int smtp_port_used(const smtp_session *s) { return s ? s->cfg.port : 0; }

SMTP_API const char *smtp_tls_version(const smtp_session *s)
{
#ifndef SMTP_NO_TLS
    if (s && s->sec.on) {
        return smtp__tls_vname(&s->tls.sc.eng);
    }
#else
    (void)s;
#endif
    return "";
}

SMTP_API const char *smtp_tls_cipher(const smtp_session *s)
{
#ifndef SMTP_NO_TLS
    if (s && s->sec.on) {
        return smtp__tls_suite(&s->tls.sc.eng);
    }
#else
    (void)s;
#endif
    return "";
}

SMTP_API smtp_result smtp_tls_peer_cert(const smtp_session *s, smtp_peer_cert *out)
{
    if (!s || !out) return SMTP_ERR_PARAM;
    memset(out, 0, sizeof *out);
#ifndef SMTP_NO_TLS
    if (!s->sec.on || s->sec.resumed || !s->tls.x.peer.chain_length) return SMTP_ERR_STATE;
    *out = s->tls.x.peer;
    return SMTP_OK;
#else
    return SMTP_ERR_UNSUPPORTED;
#endif
}

SMTP_API unsigned smtp_supported_auth(const smtp_session *s) { return s ? s->caps.auth : 0; }
SMTP_API unsigned smtp_extensions(const smtp_session *s) { return s ? s->caps.ext : 0; }
SMTP_API unsigned long smtp_size_limit(const smtp_session *s) { return s ? s->caps.size_max : 0; }
SMTP_API const smtp_reply *smtp_last_reply(const smtp_session *s) { return s ? &s->rd.reply : NULL; }
SMTP_API const char *smtp_error_detail(const smtp_session *s)
{
    return s ? s->detail : "no session (NULL)";
}

#endif /* SMTP_IMPLEMENTATION */

/*
   REVISION HISTORY
     0.6.0  2026-11-21  pipelining, smtp_send_batch, BDAT, TLS resumption,
                        attachments, HTML, SIZE, 8BITMIME, SMTPUTF8, DSN.
     0.5.0  2026-11-21  msmtp configuration files, smtp:// URLs, progress
                        callback with cancel, smtp_settings_set.
     0.4.0  2026-11-21  proxies: SOCKS4, SOCKS4a, SOCKS5, HTTP CONNECT.
     0.3.0  2026-11-21  AUTH: PLAIN, LOGIN, CRAM-MD5 (own MD5), XOAUTH2,
                        OAUTHBEARER.
     0.2.0  2026-11-21  TLS with BearSSL: implicit, STARTTLS, AUTO probing,
                        trust stores, pinning, client certificates.
     0.1.0  2026-11-21  foundation: cleartext session, deadlines, reader,
                        writer, composer.

   ------------------------------------------------------------------------
   This is free and unencumbered software released into the public domain.

   Anyone is free to copy, modify, publish, use, compile, sell, or
   distribute this software, either in source code form or as a compiled
   binary, for any purpose, commercial or non-commercial, and by any
   means.

   In jurisdictions that recognize copyright laws, the author or authors
   of this software dedicate any and all copyright interest in the
   software to the public domain. We make this dedication for the benefit
   of the public at large and to the detriment of our heirs and
   successors. We intend this dedication to be an overt act of
   relinquishment in perpetuity of all present and future rights to this
   software under copyright law.

   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
   EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
   MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.
   IN NO EVENT SHALL THE AUTHORS BE LIABLE FOR ANY CLAIM, DAMAGES OR
   OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE,
   ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR
   OTHER DEALINGS IN THE SOFTWARE.

   For more information, please refer to <https://unlicense.org>
*/
