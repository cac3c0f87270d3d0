/* evil_tls.c - a small SMTP server over TLS (BearSSL server mode) that
   sends whatever certificate chain it is given, byte for byte: for the
   hostile-certificate tests (tests/certpolicy.c, tests/peers/badcerts.sh).
   OpenSSL-based servers refuse to load some of these chains (RSA 1024,
   SHA-1 under security level 2, malformed DER); BearSSL's server sends
   each br_x509_certificate entry as given and never looks inside.

   evil_tls -k KEY [-c CERT]... [-i PORT] [-s PORT] [-a ADDR] [-l LOG]
            [-m DIR] [-r READY] [-n NAME]
     -k KEY   private key: PEM or DER; RSA or EC, raw or unencrypted PKCS#8.
              It need not match the certificate (the client gives up first)
     -c CERT  one entry of the chain, in order (leaf first), up to 16: a file
              that starts with "-----BEGIN" is PEM and gives one entry per
              CERTIFICATE object; any other file is sent whole as ONE entry
              (DER with trailing bytes, truncated DER, anything)
     -i PORT  implicit TLS: TLS from the first byte, then the 220 greeting
     -s PORT  STARTTLS: cleartext 220, EHLO offers STARTTLS, the handshake,
              then the SMTP dialog again inside TLS
     -a ADDR  IPv4 address to listen on (127.0.0.1)
     -l LOG   append one line per connection and one per message (flushed)
     -m DIR   also store each message as DIR/msg-NNNN.eml (as received,
              dot-unstuffed, CRLF kept)
     -r READY created once every port listens
     -n NAME  prefix of the log lines (the chain's name)
   Log lines:
     NAME conn=N mode=implicit|starttls handshake=ok version=TLSv1.2 suite=0xC02F
     NAME conn=N mode=... handshake=failed err=E alert=A   (A: the client's alert, 0 if none)
     NAME conn=N mode=... msg=K bytes=B subject=SUBJECT
     NAME conn=N mode=... closed msgs=K
   Answers EHLO/HELO, MAIL, RCPT (250), DATA (354, then 250 after the end
   of data), RSET, NOOP (250), QUIT (221, then close_notify without
   waiting for the client's); anything else 502. One connection at a time,
   any number of them, until SIGTERM/SIGINT; 60 s socket timeouts, so a
   client that stalls or dies mid-handshake frees the server. */
#define _POSIX_C_SOURCE 200809L
#include <bearssl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>

#define MAXCERTS 16

static const char *name = "evil_tls";
static FILE *logfp;
static const char *msgdir;
static unsigned long conn_no, msg_no;
static volatile sig_atomic_t stop;

static void die(const char *what)
{
    fprintf(stderr, "evil_tls: %s\n", what);
    exit(1);
}

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
    va_list ap;
    FILE *f = logfp ? logfp : stderr;
    va_start(ap, fmt);
    fprintf(f, "%s ", name);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
    va_end(ap);
}

/* ---- files ---- */

typedef struct { unsigned char *p; size_t n, cap; } buf_t;

static void buf_add(void *ctx, const void *src, size_t len)
{
    buf_t *b = (buf_t *)ctx;
    if (b->n + len > b->cap) {
        b->cap = (b->n + len) * 2 + 256;
        if (!(b->p = (unsigned char *)realloc(b->p, b->cap))) die("out of memory");
    }
    memcpy(b->p + b->n, src, len);
    b->n += len;
}

static buf_t slurp(const char *path)
{
    buf_t b = {0};
    unsigned char tmp[4096];
    size_t k;
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) buf_add(&b, tmp, k);
    fclose(f);
    return b;
}

static int is_pem(const buf_t *b)
{
    return b->n >= 10 && memcmp(b->p, "-----BEGIN", 10) == 0;
}

/* Every PEM object of the file whose name contains want (NULL: any). */
static size_t read_pem(buf_t file, const char *want, buf_t *objs, size_t max)
{
    br_pem_decoder_context pc;
    size_t count = 0, off = 0;
    int inside = 0;
    buf_t junk = {0};
    buf_add(&file, "\n", 1);
    br_pem_decoder_init(&pc);
    while (off < file.n) {
        off += br_pem_decoder_push(&pc, file.p + off, file.n - off);
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ:
            if (!want || strstr(br_pem_decoder_name(&pc), want)) {
                if (count == max) die("too many PEM objects");
                memset(&objs[count], 0, sizeof objs[count]);
                br_pem_decoder_setdest(&pc, buf_add, &objs[count]);
                inside = 1;
            } else {
                br_pem_decoder_setdest(&pc, buf_add, &junk);
                inside = 0;
            }
            break;
        case BR_PEM_END_OBJ:
            if (inside) count++;
            inside = 0;
            break;
        case BR_PEM_ERROR:
            die("PEM decoding error");
        default:
            break;
        }
    }
    free(junk.p);
    return count;
}

/* ---- sockets ---- */

static int sock_read(void *ctx, unsigned char *buf, size_t len)
{
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t n = recv(fd, buf, len, 0);
        if (n > 0) return (int)n;
        if (n < 0 && errno == EINTR && !stop) continue;
        return -1;
    }
}

static int sock_write(void *ctx, const unsigned char *buf, size_t len)
{
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) return (int)n;
        if (n < 0 && errno == EINTR && !stop) continue;
        return -1;
    }
}

/* ---- one connection ---- */

typedef struct {
    int fd, tls, hs_logged;
    const char *mode;
    br_ssl_server_context *sc;
    br_sslio_context io;
    unsigned char in[16384];
    size_t inlen;
} conn_t;

static void log_handshake(conn_t *c, int ok)
{
    if (c->hs_logged) return;
    c->hs_logged = 1;
    if (ok) {
        br_ssl_session_parameters sp;
        unsigned v = br_ssl_engine_get_version(&c->sc->eng);
        br_ssl_engine_get_session_parameters(&c->sc->eng, &sp);
        logline("conn=%lu mode=%s handshake=ok version=TLSv1.%u suite=0x%04X", conn_no, c->mode,
                v >= 0x0301 ? v - 0x0301 : 0, sp.cipher_suite);
    } else {
        int err = br_ssl_engine_last_error(&c->sc->eng);
        logline("conn=%lu mode=%s handshake=failed err=%d alert=%d", conn_no, c->mode, err,
                err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT ? err - BR_ERR_RECV_FATAL_ALERT : 0);
    }
}

static int conn_write(conn_t *c, const char *s)
{
    size_t len = strlen(s);
    if (c->tls) {
        if (br_sslio_write_all(&c->io, s, len) < 0 || br_sslio_flush(&c->io) < 0) {
            log_handshake(c, 0);
            return -1;
        }
        log_handshake(c, 1);
        return 0;
    }
    while (len > 0) {
        int n = sock_write(&c->fd, (const unsigned char *)s, len);
        if (n < 0) return -1;
        s += n; len -= (size_t)n;
    }
    return 0;
}

/* One line (up to and with LF) into line; 0 at end of input or error. */
static size_t conn_line(conn_t *c, char *line, size_t max)
{
    for (;;) {
        unsigned char *nl = (unsigned char *)memchr(c->in, '\n', c->inlen);
        int n;
        if (nl || c->inlen == sizeof c->in) {
            size_t len = nl ? (size_t)(nl - c->in) + 1 : c->inlen;
            size_t k = len < max - 1 ? len : max - 1;
            memcpy(line, c->in, k);
            line[k] = 0;
            memmove(c->in, c->in + len, c->inlen - len);
            c->inlen -= len;
            return len;
        }
        if (c->tls) {
            n = br_sslio_read(&c->io, c->in + c->inlen, sizeof c->in - c->inlen);
            if (n < 0) { log_handshake(c, 0); return 0; }
            log_handshake(c, 1);
        } else {
            n = sock_read(&c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
            if (n <= 0) return 0;
        }
        c->inlen += (size_t)n;
    }
}

static int is_cmd(const char *line, const char *cmd)
{
    size_t i, k = strlen(cmd);
    for (i = 0; i < k; i++) {
        char ch = line[i];
        if (ch >= 'a' && ch <= 'z') ch = (char)(ch - 32);
        if (ch != cmd[i]) return 0;
    }
    return line[k] == ' ' || line[k] == ':' || line[k] == '\r' || line[k] == '\n' || line[k] == 0;
}

/* The message after 354, to the end of data; logs it. 0 when the input ended first. */
static int take_message(conn_t *c, unsigned long *msgs)
{
    static char line[8192];
    buf_t msg = {0};
    char subject[200] = "";
    int in_headers = 1;
    size_t len;
    while ((len = conn_line(c, line, sizeof line)) > 0) {
        const char *p = line;
        if (!strcmp(line, ".\r\n") || !strcmp(line, ".\n")) {
            size_t i;
            FILE *f;
            ++*msgs;
            ++msg_no;
            for (i = 0; subject[i]; i++)
                if ((unsigned char)subject[i] < 32 || subject[i] == 127) subject[i] = '?';
            logline("conn=%lu mode=%s msg=%lu bytes=%zu subject=%s", conn_no, c->mode, *msgs, msg.n, subject);
            if (msgdir) {
                char path[4096];
                snprintf(path, sizeof path, "%s/msg-%04lu.eml", msgdir, msg_no);
                if ((f = fopen(path, "wb")) != NULL) {
                    fwrite(msg.p, 1, msg.n, f);
                    fclose(f);
                }
            }
            free(msg.p);
            return 1;
        }
        if (line[0] == '.') { p++; len--; }
        if (len > sizeof line - 1) len = strlen(p);   /* a longer line was cut: keep what we have */
        if (in_headers && (p[0] == '\r' || p[0] == '\n')) in_headers = 0;
        if (in_headers && !strncmp(p, "Subject: ", 9)) {
            size_t k = strcspn(p + 9, "\r\n");
            if (k >= sizeof subject) k = sizeof subject - 1;
            memcpy(subject, p + 9, k);
            subject[k] = 0;
        }
        buf_add(&msg, p, strlen(p));
    }
    free(msg.p);
    return 0;
}

/* The SMTP dialog; greeting: send 220 first. Returns 1 after QUIT, 2 after
   STARTTLS (the caller starts TLS), 0 when the client went away. */
static int dialog(conn_t *c, int greeting, int offer_starttls, unsigned long *msgs)
{
    char line[1024];
    if (greeting && conn_write(c, "220 evil.test ESMTP evil_tls\r\n") < 0) return 0;
    while (!stop && conn_line(c, line, sizeof line) > 0) {
        int r = 0;
        if (is_cmd(line, "EHLO"))
            r = conn_write(c, offer_starttls ? "250-evil.test\r\n250-8BITMIME\r\n250 STARTTLS\r\n"
                                             : "250-evil.test\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n");
        else if (is_cmd(line, "HELO")) r = conn_write(c, "250 evil.test\r\n");
        else if (offer_starttls && is_cmd(line, "STARTTLS")) {
            if (conn_write(c, "220 2.0.0 Ready to start TLS\r\n") < 0) return 0;
            if (c->inlen > 0) {   /* bytes sent after STARTTLS before the handshake: dropped */
                logline("conn=%lu mode=%s note=%zu-bytes-pipelined-after-STARTTLS-dropped", conn_no, c->mode,
                        c->inlen);
                c->inlen = 0;
            }
            return 2;
        }
        else if (is_cmd(line, "MAIL")) r = conn_write(c, "250 2.1.0 Ok\r\n");
        else if (is_cmd(line, "RCPT")) r = conn_write(c, "250 2.1.5 Ok\r\n");
        else if (is_cmd(line, "DATA")) {
            if (conn_write(c, "354 End data with <CR><LF>.<CR><LF>\r\n") < 0) return 0;
            if (!take_message(c, msgs)) return 0;
            r = conn_write(c, "250 2.0.0 Ok: queued\r\n");
        }
        else if (is_cmd(line, "RSET") || is_cmd(line, "NOOP")) r = conn_write(c, "250 2.0.0 Ok\r\n");
        else if (is_cmd(line, "QUIT")) { conn_write(c, "221 2.0.0 Bye\r\n"); return 1; }
        else r = conn_write(c, "502 5.5.2 Error: command not recognized\r\n");
        if (r < 0) return 0;
    }
    return 0;
}

/* ---- the server ---- */

static br_x509_certificate chain[MAXCERTS];
static size_t nchain;
static br_skey_decoder_context kd;

static void start_tls(conn_t *c)
{
    static br_ssl_server_context sc;
    static unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
    unsigned char seed[32];
    if (br_skey_decoder_key_type(&kd) == BR_KEYTYPE_RSA)
        br_ssl_server_init_full_rsa(&sc, chain, nchain, br_skey_decoder_get_rsa(&kd));
    else
        br_ssl_server_init_full_ec(&sc, chain, nchain, BR_KEYTYPE_RSA, br_skey_decoder_get_ec(&kd));
    br_ssl_engine_set_buffer(&sc.eng, iobuf, sizeof iobuf, 1);
    if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) die("getrandom");
    br_ssl_engine_inject_entropy(&sc.eng, seed, sizeof seed);
    if (!br_ssl_server_reset(&sc)) die("br_ssl_server_reset failed");
    c->sc = &sc;
    c->tls = 1;
    c->hs_logged = 0;
    br_sslio_init(&c->io, &sc.eng, sock_read, &c->fd, sock_write, &c->fd);
}

static void serve(int fd, int implicit)
{
    static conn_t c;
    unsigned long msgs = 0;
    int r;
    memset(&c, 0, sizeof c);
    c.fd = fd;
    c.mode = implicit ? "implicit" : "starttls";
    conn_no++;
    if (implicit) {
        start_tls(&c);
        r = dialog(&c, 1, 0, &msgs);
    } else {
        r = dialog(&c, 1, 1, &msgs);
        if (r == 2) {
            start_tls(&c);
            r = dialog(&c, 0, 0, &msgs);
        }
    }
    if (c.tls && !c.hs_logged) log_handshake(&c, 0);
    logline("conn=%lu mode=%s closed msgs=%lu", conn_no, c.mode, msgs);
    if (c.tls && r == 1) {   /* close_notify, without waiting for the client's */
        br_ssl_engine_close(&c.sc->eng);
        while (br_ssl_engine_current_state(&c.sc->eng) & BR_SSL_SENDREC) {
            size_t len;
            unsigned char *b = br_ssl_engine_sendrec_buf(&c.sc->eng, &len);
            int w = sock_write(&c.fd, b, len);
            if (w <= 0) break;
            br_ssl_engine_sendrec_ack(&c.sc->eng, (size_t)w);
        }
    }
    close(fd);
}

static int listen_on(const char *addr, int port)
{
    struct sockaddr_in sa;
    int fd, one = 1;
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) die("bad -a address (IPv4)");
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0) {
        fprintf(stderr, "evil_tls: bind/listen %s:%d: %s\n", addr, port, strerror(errno));
        exit(1);
    }
    return fd;
}

static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1", *keyfile = NULL, *ready = NULL, *logpath = NULL;
    int iport = 0, sport = 0, opt, one = 1, k;
    struct pollfd pf[2];
    int npf = 0, implicit_of[2];
    struct sigaction act;
    buf_t keybuf, keyder = {0};
    size_t i;

    while ((opt = getopt(argc, argv, "k:c:i:s:a:l:m:r:n:")) != -1) {
        switch (opt) {
        case 'k': keyfile = optarg; break;
        case 'c': {
            buf_t f = slurp(optarg);
            if (is_pem(&f)) {
                buf_t objs[MAXCERTS];
                size_t n = read_pem(f, "CERTIFICATE", objs, MAXCERTS);
                if (n == 0) die("no CERTIFICATE in a PEM -c file");
                for (i = 0; i < n; i++) {
                    if (nchain == MAXCERTS) die("too many certificates");
                    chain[nchain].data = objs[i].p;
                    chain[nchain++].data_len = objs[i].n;
                }
                free(f.p);
            } else {
                if (nchain == MAXCERTS) die("too many certificates");
                chain[nchain].data = f.p;
                chain[nchain++].data_len = f.n;
            }
            break;
        }
        case 'i': iport = atoi(optarg); break;
        case 's': sport = atoi(optarg); break;
        case 'a': addr = optarg; break;
        case 'l': logpath = optarg; break;
        case 'm': msgdir = optarg; break;
        case 'r': ready = optarg; break;
        case 'n': name = optarg; break;
        default:
            fprintf(stderr, "usage: evil_tls -k KEY -c CERT [-c CERT]... [-i PORT] [-s PORT] [-a ADDR] "
                            "[-l LOG] [-m DIR] [-r READY] [-n NAME]\n");
            return 2;
        }
    }
    if (!keyfile || nchain == 0 || (!iport && !sport)) die("need -k KEY, -c CERT and -i or -s PORT");
    keybuf = slurp(keyfile);
    if (is_pem(&keybuf)) {
        if (read_pem(keybuf, "PRIVATE KEY", &keyder, 1) != 1) die("no PRIVATE KEY in the -k file");
    } else {
        keyder = keybuf;
    }
    br_skey_decoder_init(&kd);
    br_skey_decoder_push(&kd, keyder.p, keyder.n);
    if (br_skey_decoder_last_error(&kd) != 0) die("cannot decode the private key");
    if (logpath && !(logfp = fopen(logpath, "a"))) { perror(logpath); return 1; }

    memset(&act, 0, sizeof act);
    act.sa_handler = on_signal;        /* no SA_RESTART: poll() returns EINTR */
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (iport) { pf[npf].fd = listen_on(addr, iport); pf[npf].events = POLLIN; implicit_of[npf++] = 1; }
    if (sport) { pf[npf].fd = listen_on(addr, sport); pf[npf].events = POLLIN; implicit_of[npf++] = 0; }
    if (ready) { FILE *f = fopen(ready, "w"); if (f) fclose(f); }

    while (!stop) {
        if (poll(pf, (nfds_t)npf, -1) < 0) {
            if (errno == EINTR) continue;
            die("poll");
        }
        for (k = 0; k < npf && !stop; k++) {
            struct timeval tv = { 60, 0 };
            int fd;
            if (!(pf[k].revents & POLLIN)) continue;
            fd = accept(pf[k].fd, NULL, NULL);
            if (fd < 0) continue;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            serve(fd, implicit_of[k]);
        }
    }
    if (logfp) fclose(logfp);
    return 0;
}
