/* tls_sink.c - a small, fast SMTP sink over implicit TLS (BearSSL server
   mode), for `make bench`: the TLS counterpart of Postfix's smtp-sink,
   which has no TLS. It takes messages and throws them away.

   tls_sink -a ADDR -p PORT -c CERT.pem -k KEY.pem [-P] [-C] [-r READYFILE]
     -c, -k   server certificate chain and private key, PEM (RSA or EC;
              the key raw or unencrypted PKCS#8)
     -P       plain: no TLS (to tell the TLS cost from the sink's own)
     -C       offer CHUNKING and take BDAT (RFC 3030): 250 for each chunk
     -r FILE  created once listening
   Answers EHLO (250-PIPELINING, 8BITMIME, ENHANCEDSTATUSCODES), HELO,
   MAIL, RCPT, DATA (354), the end of data (250), RSET, NOOP, QUIT (221,
   then close_notify); anything else 502. Pipelined input: replies are
   buffered and flushed only when no complete line is left in the input
   and the TLS engine holds no more decrypted data, the way Postfix's
   smtpd does, so a pipelined group gets its replies in one record.
   One connection at a time (a benchmark opens one); a TLS session cache
   (LRU, 64 KB) lets clients resume. On SIGTERM/SIGINT it prints the
   totals and exits. After each connection, one line on stderr:
     tls_sink: conn=3 msgs=2000 version=TLSv1.2 suite=0xC02F resumed=0 */
#define _POSIX_C_SOURCE 200809L
#include <bearssl.h>
#include <errno.h>
#include <signal.h>
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

static void die(const char *what)
{
    fprintf(stderr, "tls_sink: %s\n", what);
    exit(1);
}

/* ---- PEM files: every object as DER, with its name ---- */

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

typedef struct { char name[128]; buf_t der; } pem_obj;

static size_t read_pem(const char *path, pem_obj *objs, size_t max)
{
    FILE *f = fopen(path, "rb");
    buf_t file = {0};
    br_pem_decoder_context pc;
    size_t count = 0, off = 0;
    unsigned char tmp[4096];
    size_t k;
    int inside = 0;
    if (!f) { perror(path); exit(1); }
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) buf_add(&file, tmp, k);
    fclose(f);
    buf_add(&file, "\n", 1);
    br_pem_decoder_init(&pc);
    while (off < file.n) {
        off += br_pem_decoder_push(&pc, file.p + off, file.n - off);
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ:
            if (count == max) die("too many PEM objects");
            memset(&objs[count], 0, sizeof objs[count]);
            snprintf(objs[count].name, sizeof objs[count].name, "%s", br_pem_decoder_name(&pc));
            br_pem_decoder_setdest(&pc, buf_add, &objs[count].der);
            inside = 1;
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
    free(file.p);
    return count;
}

/* ---- transport: TLS (br_sslio over a blocking socket) or plain ---- */

static int sock_read(void *ctx, unsigned char *buf, size_t len)
{
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t n = recv(fd, buf, len, 0);
        if (n > 0) return (int)n;
        if (n < 0 && errno == EINTR) continue;
        return -1;
    }
}

static int sock_write(void *ctx, const unsigned char *buf, size_t len)
{
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) return (int)n;
        if (n < 0 && errno == EINTR) continue;
        return -1;
    }
}

typedef struct {
    int fd, tls;
    br_ssl_server_context *sc;
    br_sslio_context io;
} conn_t;

static int conn_read(conn_t *c, unsigned char *buf, size_t len)
{
    if (c->tls) return br_sslio_read(&c->io, buf, len);
    return sock_read(&c->fd, buf, len);
}

/* More decrypted input waiting inside the engine? */
static int conn_pending(conn_t *c)
{
    return c->tls && (br_ssl_engine_current_state(&c->sc->eng) & BR_SSL_RECVAPP);
}

static int conn_write(conn_t *c, const void *buf, size_t len)
{
    if (c->tls) {
        if (br_sslio_write_all(&c->io, buf, len) < 0) return -1;
        return br_sslio_flush(&c->io);
    }
    {
        const unsigned char *p = (const unsigned char *)buf;
        while (len > 0) {
            int n = sock_write(&c->fd, p, len);
            if (n < 0) return -1;
            p += n; len -= (size_t)n;
        }
    }
    return 0;
}

/* ---- session cache: BearSSL's LRU, wrapped to count resumptions ---- */

typedef struct {
    const br_ssl_session_cache_class *vtable;
    br_ssl_session_cache_lru lru;
    unsigned long hits;
} cache_t;

static void cache_save(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
                       const br_ssl_session_parameters *p)
{
    cache_t *c = (cache_t *)(void *)ctx;
    c->lru.vtable->save(&c->lru.vtable, sc, p);
}

static int cache_load(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
                      br_ssl_session_parameters *p)
{
    cache_t *c = (cache_t *)(void *)ctx;
    int r = c->lru.vtable->load(&c->lru.vtable, sc, p);
    if (r) c->hits++;
    return r;
}

static const br_ssl_session_cache_class cache_class = { sizeof(cache_t), cache_save, cache_load };

/* ---- the SMTP side ---- */

static volatile sig_atomic_t stop;
static int chunking;
static unsigned long total_msgs, total_conns;

static void on_signal(int sig) { (void)sig; stop = 1; }

static int ieq_prefix(const char *line, size_t n, const char *cmd)
{
    size_t i, k = strlen(cmd);
    if (n < k) return 0;
    for (i = 0; i < k; i++) {
        char ch = line[i];
        if (ch >= 'a' && ch <= 'z') ch = (char)(ch - 32);
        if (ch != cmd[i]) return 0;
    }
    return n == k || line[k] == ' ' || line[k] == ':' || line[k] == '\r' || line[k] == '\n';
}

#define INBUF 65536
#define OUTBUF 16384

/* One session; returns the messages taken. */
static unsigned long serve(conn_t *c)
{
    static unsigned char in[INBUF];
    static char out[OUTBUF];
    size_t inlen = 0, outlen = 0, pos, bdat_left = 0;
    int data = 0, bol = 1, quit = 0, bdat_last = 0, in_bdat = 0;
    unsigned long msgs = 0;
#define REPLY(s) do { size_t l_ = sizeof(s) - 1; memcpy(out + outlen, s, l_); outlen += l_; } while (0)

    REPLY("220 tls-sink ESMTP\r\n");
    if (conn_write(c, out, outlen) < 0) return 0;
    outlen = 0;
    while (!quit) {
        int n = conn_read(c, in + inlen, INBUF - inlen);
        if (n <= 0) break;
        inlen += (size_t)n;
        pos = 0;
        for (;;) {
            unsigned char *nl;
            size_t len;
            const char *line = (const char *)in + pos;
            if (outlen > OUTBUF - 256) {   /* a very long pipelined group */
                if (conn_write(c, out, outlen) < 0) return msgs;
                outlen = 0;
            }
            if (in_bdat) {   /* BDAT: exactly bdat_left octets, then the chunk's reply */
                size_t k = inlen - pos < bdat_left ? inlen - pos : bdat_left;
                pos += k; bdat_left -= k;
                if (bdat_left > 0) break;
                in_bdat = 0;
                if (bdat_last) { msgs++; REPLY("250 2.0.0 Ok: queued as BENCH\r\n"); }
                else REPLY("250 2.0.0 Ok: chunk received\r\n");
                continue;
            }
            nl = (unsigned char *)memchr(in + pos, '\n', inlen - pos);
            if (!nl) {
                if (data && inlen - pos > 0 && pos == 0 && inlen == INBUF) {
                    /* a very long body line: drop what we have */
                    bol = 0; pos = inlen;
                }
                break;
            }
            len = (size_t)(nl - (in + pos)) + 1;
            pos += len;
            if (data) {
                if (bol && (len == 3 && line[0] == '.' && line[1] == '\r')) {
                    data = 0; msgs++;
                    REPLY("250 2.0.0 Ok: queued as BENCH\r\n");
                } else if (bol && len == 2 && line[0] == '.') {
                    data = 0; msgs++;
                    REPLY("250 2.0.0 Ok: queued as BENCH\r\n");
                }
                bol = 1;
                continue;
            }
            if (ieq_prefix(line, len, "EHLO")) {
                REPLY("250-tls-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 0\r\n");
                if (chunking) REPLY("250-CHUNKING\r\n");
                REPLY("250 ENHANCEDSTATUSCODES\r\n");
            }
            else if (chunking && ieq_prefix(line, len, "BDAT")) {
                char *end;
                unsigned long long v = strtoull(line + 5, &end, 10);
                in_bdat = 1; bdat_left = (size_t)v;
                bdat_last = (end[0] == ' ' && (end[1] == 'L' || end[1] == 'l'));
            }
            else if (ieq_prefix(line, len, "HELO")) REPLY("250 tls-sink\r\n");
            else if (ieq_prefix(line, len, "MAIL")) REPLY("250 2.1.0 Ok\r\n");
            else if (ieq_prefix(line, len, "RCPT")) REPLY("250 2.1.5 Ok\r\n");
            else if (ieq_prefix(line, len, "DATA")) { REPLY("354 End data with <CR><LF>.<CR><LF>\r\n"); data = 1; bol = 1; }
            else if (ieq_prefix(line, len, "RSET")) REPLY("250 2.0.0 Ok\r\n");
            else if (ieq_prefix(line, len, "NOOP")) REPLY("250 2.0.0 Ok\r\n");
            else if (ieq_prefix(line, len, "QUIT")) { REPLY("221 2.0.0 Bye\r\n"); quit = 1; break; }
            else REPLY("502 5.5.2 Error: command not recognized\r\n");
        }
        if (pos > 0) { memmove(in, in + pos, inlen - pos); inlen -= pos; }
        if (outlen > 0 && (quit || !conn_pending(c))) {
            if (conn_write(c, out, outlen) < 0) break;
            outlen = 0;
        }
    }
    return msgs;
#undef REPLY
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1", *cert = NULL, *key = NULL, *ready = NULL;
    int port = 0, plain = 0, opt, lfd, one = 1;
    static pem_obj certs[16], keys[4];
    size_t ncert = 0, nkey, i;
    br_x509_certificate chain[16];
    br_skey_decoder_context kd;
    static br_ssl_server_context sc;
    static cache_t cache;
    static unsigned char cache_store[65536];
    static unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
    struct sockaddr_in sa;
    struct sigaction act;

    while ((opt = getopt(argc, argv, "a:p:c:k:PCr:")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'P': plain = 1; break;
        case 'C': chunking = 1; break;
        case 'r': ready = optarg; break;
        default:
            fprintf(stderr, "usage: tls_sink -a ADDR -p PORT -c CERT.pem -k KEY.pem [-P] [-C] [-r READYFILE]\n");
            return 2;
        }
    }
    if (port <= 0 || (!plain && (!cert || !key))) die("need -p PORT, and -c CERT -k KEY unless -P");

    memset(&kd, 0, sizeof kd);
    if (!plain) {
        ncert = read_pem(cert, certs, 16);
        for (i = 0; i < ncert; i++) {
            chain[i].data = certs[i].der.p;
            chain[i].data_len = certs[i].der.n;
        }
        if (ncert == 0) die("no certificate in the -c file");
        nkey = read_pem(key, keys, 4);
        if (nkey == 0) die("no key in the -k file");
        br_skey_decoder_init(&kd);
        br_skey_decoder_push(&kd, keys[0].der.p, keys[0].der.n);
        if (br_skey_decoder_last_error(&kd) != 0) die("cannot decode the private key");
        br_ssl_session_cache_lru_init(&cache.lru, cache_store, sizeof cache_store);
        cache.vtable = &cache_class;
    }

    memset(&act, 0, sizeof act);
    act.sa_handler = on_signal;       /* no SA_RESTART: accept() returns EINTR */
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    signal(SIGPIPE, SIG_IGN);

    if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0) die("socket");
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) die("bad -a address (IPv4)");
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 64) < 0) {
        perror("tls_sink: bind/listen");
        return 1;
    }
    if (ready) { FILE *f = fopen(ready, "w"); if (f) fclose(f); }

    while (!stop) {
        conn_t c;
        struct timeval tv = { 60, 0 };
        unsigned long msgs, hits0 = cache.hits;
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) { if (errno == EINTR) continue; perror("tls_sink: accept"); break; }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        memset(&c, 0, sizeof c);
        c.fd = fd;
        c.tls = !plain;
        c.sc = &sc;
        if (!plain) {
            unsigned char seed[32];
            if (br_skey_decoder_key_type(&kd) == BR_KEYTYPE_RSA)
                br_ssl_server_init_full_rsa(&sc, chain, ncert, br_skey_decoder_get_rsa(&kd));
            else
                br_ssl_server_init_full_ec(&sc, chain, ncert, BR_KEYTYPE_RSA, br_skey_decoder_get_ec(&kd));
            br_ssl_engine_set_buffer(&sc.eng, iobuf, sizeof iobuf, 1);
            br_ssl_server_set_cache(&sc, &cache.vtable);
            if (getrandom(seed, sizeof seed, 0) == (ssize_t)sizeof seed)
                br_ssl_engine_inject_entropy(&sc.eng, seed, sizeof seed);
            if (!br_ssl_server_reset(&sc)) die("br_ssl_server_reset failed");
            br_sslio_init(&c.io, &sc.eng, sock_read, &c.fd, sock_write, &c.fd);
        }
        msgs = serve(&c);
        total_msgs += msgs;
        total_conns++;
        if (!plain) {
            br_ssl_session_parameters sp;
            unsigned v = br_ssl_engine_get_version(&sc.eng), err = (unsigned)br_ssl_engine_last_error(&sc.eng);
            br_ssl_engine_get_session_parameters(&sc.eng, &sp);
            fprintf(stderr, "tls_sink: conn=%lu msgs=%lu version=TLSv1.%u suite=0x%04X resumed=%d err=%u\n",
                    total_conns, msgs, v >= 0x0301 ? v - 0x0301 : 0, sp.cipher_suite,
                    cache.hits != hits0, err);
            /* close_notify without waiting for the client's */
            br_ssl_engine_close(&sc.eng);
            while (br_ssl_engine_current_state(&sc.eng) & BR_SSL_SENDREC) {
                size_t len;
                unsigned char *b = br_ssl_engine_sendrec_buf(&sc.eng, &len);
                int w = sock_write(&c.fd, b, len);
                if (w <= 0) break;
                br_ssl_engine_sendrec_ack(&sc.eng, (size_t)w);
            }
        } else {
            fprintf(stderr, "tls_sink: conn=%lu msgs=%lu plain\n", total_conns, msgs);
        }
        close(fd);
    }
    fprintf(stderr, "tls_sink: total conns=%lu msgs=%lu\n", total_conns, total_msgs);
    close(lfd);
    return 0;
}
