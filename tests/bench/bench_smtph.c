/* bench_smtph.c - the smtp.h side of `make bench` (tests/bench/run.sh).
   Sends N messages of about 1 KB, one recipient each, over ONE connection
   and prints the rate. Timed inside the process from before smtp_open to
   after smtp_close; run.sh also times the whole process from outside,
   the same way as for the other clients, and uses that for the table.

   bench_smtph -p PORT [-h HOST] [-n N] [-c CHUNK] [-t] [-a CAFILE]
               [-d FILE] [-r CONNS [-R]] [-k]
     -n N       messages (default 2000)
     -c CHUNK   messages per smtp_send_batch call (default 100);
                0 = smtp_send, one message per call
     -t         implicit TLS (SMTP_SECURITY_IMPLICIT); else cleartext
     -a CAFILE  with -t: verify the server against this CA (loaded once into
                a shared trust store); without it tls_verify = NONE
     -d FILE    also write the first message as it went on the wire (CRLF,
                without the final ".") to FILE: the other clients send it
     -r CONNS   reconnect mode: CONNS sessions, each open + one message +
                close (full handshake each time with -t); prints conn/s
     -R         with -r -t: resume TLS sessions (cfg.tls_cache; needs -a, as
                only verified sessions are kept): every connection after
                the first resumes; prints how many did
     -k         cfg.no_chunking: DATA even when the server offers CHUNKING
     -P         cfg.pipeline_messages: the next envelope with the end of data (opt-in)
   Output (one line, for run.sh):
     smtph mode=batch chunk=100 n=2000 secs=0.123456 rate=16203.1 ok=2000 */
#define SMTP_IMPLEMENTATION
#include "../../smtp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench_msg.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* -d: collect the body bytes of the first message from the trace. */
static FILE *dump_f;
static int dump_done;
static void on_trace(void *user, smtp_trace_dir dir, const char *data, size_t len)
{
    (void)user;
    if (dir != SMTP_TRACE_BODY || !dump_f || dump_done) return;
    if (len >= 3 && memcmp(data + len - 3, ".\r\n", 3) == 0 &&
        (len == 3 || (len >= 5 && memcmp(data + len - 5, "\r\n.\r\n", 5) == 0))) {
        /* the terminator chunk: keep what precedes "." (a CRLF when added) */
        fwrite(data, 1, len - 3, dump_f);
        dump_done = 1;
        return;
    }
    fwrite(data, 1, len, dump_f);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_smtph -p PORT [-h HOST] [-n N] [-c CHUNK] [-t] [-a CAFILE] [-d FILE] [-r CONNS [-R]] [-k]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_session *s;
    smtp_message *msgs;
    smtp_result *res, r;
    smtp_trust *trust = NULL;
    const char *host = "127.0.0.1", *ca = NULL, *dump = NULL;
    smtp_tls_cache *cache = NULL;
    int port = 0, tls = 0, resume = 0, opt;
    long n = 2000, chunk = 100, conns = 0, i, ok = 0, resumed = 0;
    double t0, t1;
    char cipher[64] = "";
    int bdat = 0;

    while ((opt = getopt(argc, argv, "p:h:n:c:ta:d:r:RkP")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'h': host = optarg; break;
        case 'n': n = atol(optarg); break;
        case 'c': chunk = atol(optarg); break;
        case 't': tls = 1; break;
        case 'a': ca = optarg; break;
        case 'd': dump = optarg; break;
        case 'r': conns = atol(optarg); break;
        case 'R': resume = 1; break;
        case 'k': cfg.no_chunking = 1; break;
        case 'P': cfg.pipeline_messages = 1; break;
        default: usage();
        }
    }
    if (port <= 0 || n <= 0 || chunk < 0 || (resume && (!tls || !ca || !conns))) usage();
    bench_make_body();

    s = (smtp_session *)malloc(sizeof *s);
    msgs = (smtp_message *)calloc((size_t)n, sizeof *msgs);
    res = (smtp_result *)calloc((size_t)n, sizeof *res);
    if (!s || !msgs || !res) { fprintf(stderr, "out of memory\n"); return 1; }
    for (i = 0; i < n; i++) bench_fill_message(&msgs[i]);

    cfg.host = host;
    cfg.port = port;
    cfg.helo_name = "bench.example.com";
    cfg.security = tls ? SMTP_SECURITY_IMPLICIT : SMTP_SECURITY_NONE;
    if (tls) {
        if (ca) {
            char detail[256];
            if (smtp_trust_load_file(&trust, ca, detail, sizeof detail) != SMTP_OK) {
                fprintf(stderr, "bench_smtph: %s\n", detail);
                return 1;
            }
            cfg.trust = trust;
        } else {
            cfg.tls_verify = SMTP_VERIFY_NONE;
        }
    }
    if (dump) {
        if (!(dump_f = fopen(dump, "wb"))) { perror(dump); return 1; }
        cfg.trace = on_trace;
    }

    if (conns > 0) {   /* reconnects: open, one message, close; CONNS times */
        long c;
        if (resume && !(cfg.tls_cache = cache = smtp_tls_cache_new())) { fprintf(stderr, "no TLS cache\n"); return 1; }
        t0 = now();
        for (c = 0; c < conns; c++) {
            r = smtp_open(s, &cfg);
            if (r == SMTP_OK && smtp_tls_resumed(s)) resumed++;
            if (r == SMTP_OK) r = smtp_send(s, &msgs[0]);
            if (r == SMTP_OK) ok++;
            else fprintf(stderr, "bench_smtph: connection %ld: %s: %s\n", c, smtp_result_str(r), smtp_error_detail(s));
            smtp_close(s);
            if (r != SMTP_OK) break;
        }
        t1 = now();
        printf("smtph mode=reconnect%s%s conns=%ld secs=%.6f rate=%.1f ms_per_conn=%.3f ok=%ld resumed=%ld\n",
               tls ? "-tls" : "", resume ? "-resume" : "", conns, t1 - t0, (double)ok / (t1 - t0),
               (t1 - t0) * 1000.0 / (double)conns, ok, resumed);
        smtp_tls_cache_free(cache);
        smtp_trust_free(trust);
        return ok == conns && (!resume || resumed == conns - 1) ? 0 : 1;
    }

    t0 = now();
    r = smtp_open(s, &cfg);
    if (r != SMTP_OK) {
        fprintf(stderr, "bench_smtph: open: %s: %s\n", smtp_result_str(r), smtp_error_detail(s));
        smtp_close(s);
        return 1;
    }
    snprintf(cipher, sizeof cipher, "%s", smtp_tls_cipher(s));
    bdat = (smtp_extensions(s) & SMTP_EXT_CHUNKING) && (smtp_extensions(s) & SMTP_EXT_PIPELINING) && !cfg.no_chunking;
    if (!(smtp_extensions(s) & SMTP_EXT_PIPELINING))
        fprintf(stderr, "bench_smtph: note: the server does not offer PIPELINING\n");
    if (chunk == 0) {
        for (i = 0; i < n; i++) {
            r = smtp_send(s, &msgs[i]);
            if (r == SMTP_OK) ok++;
            else { fprintf(stderr, "bench_smtph: message %ld: %s: %s\n", i, smtp_result_str(r), smtp_error_detail(s)); break; }
        }
    } else {
        for (i = 0; i < n; i += chunk) {
            long k, m = n - i < chunk ? n - i : chunk;
            r = smtp_send_batch(s, msgs + i, (size_t)m, res + i);
            for (k = 0; k < m; k++) if (res[i + k] == SMTP_OK) ok++;
            if (r != SMTP_OK) { fprintf(stderr, "bench_smtph: batch at %ld: %s: %s\n", i, smtp_result_str(r), smtp_error_detail(s)); break; }
        }
    }
    r = smtp_close(s);
    t1 = now();
    if (dump_f) fclose(dump_f);
    printf("smtph mode=%s chunk=%ld n=%ld secs=%.6f rate=%.1f ok=%ld body=%s%s%s\n", chunk ? "batch" : "send", chunk, n,
           t1 - t0, (double)ok / (t1 - t0), ok, bdat ? "BDAT" : "DATA", tls ? " tls=" : "", cipher);
    smtp_trust_free(trust);
    free(msgs); free(res); free(s);
    return ok == n ? 0 : 1;
}
