/* stream-body.c - send a large message file as it is (headers, empty
   line, body: an .eml) without ever holding it whole: 64 KB at a time
   through the low-level calls, with a progress report that can cancel.
   Shows: smtp_mail_from, smtp_rcpt_to, smtp_data_begin, smtp_data_write
   (line ends normalised to CRLF and dots stuffed across pieces),
   smtp_data_end, smtp_size_limit, cfg.progress. A non-zero return from
   the progress callback drops the connection before the end of data, so
   the server discards the message; the call returns SMTP_ERR_ABORTED.
   Build: cc -std=c99 -o stream-body examples/stream-body.c -lbearssl
   Run:   ./stream-body HOST PORT FROM TO FILE
          CANCEL_AFTER=N: cancel once N bytes are out. SMTP_CA_FILE: CA file.
          SMTP_SECURITY=none: cleartext to a test server (else AUTO: TLS).
          SMTP_USER and SMTP_PASSWORD log in. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct { unsigned long long total, cancel_after; int shown; } progress_state;

/* Called after each write of up to 16 KB; sent counts bytes on the wire
   (CRLF line ends and stuffed dots included, so a little over the file). */
static int on_progress(void *user, unsigned long long sent)
{
    progress_state *p = (progress_state *)user;
    int pct = p->total ? (int)(sent * 100 / p->total) : 100;
    if (pct > 100) pct = 100;
    if (pct != p->shown) { fprintf(stderr, "\r%3d%% (%llu bytes)", pct, sent); p->shown = pct; }
    if (p->cancel_after && sent >= p->cancel_after) { fprintf(stderr, " - cancelling\n"); return 1; }
    return 0;                                   /* go on */
}

int main(int argc, char **argv)
{
    static char buf[64 * 1024];
    smtp_config cfg = {0};
    smtp_session s;
    progress_state ps = {0, 0, -1};
    struct stat sb;
    const char *sec = getenv("SMTP_SECURITY"), *cancel = getenv("CANCEL_AFTER");
    FILE *f;
    size_t n;
    smtp_result r;
    if (argc != 6) { fprintf(stderr, "usage: %s HOST PORT FROM TO FILE\n", argv[0]); return 2; }
    if (!(f = fopen(argv[5], "rb")) || fstat(fileno(f), &sb) != 0) { perror(argv[5]); return 1; }
    ps.total = (unsigned long long)sb.st_size;
    ps.cancel_after = cancel ? strtoull(cancel, NULL, 10) : 0;
    cfg.host = argv[1]; cfg.port = atoi(argv[2]);
    if (sec && !strcmp(sec, "none")) cfg.security = SMTP_SECURITY_NONE;
    cfg.ca_file = getenv("SMTP_CA_FILE");
    cfg.username = getenv("SMTP_USER");
    cfg.password = getenv("SMTP_PASSWORD");
    cfg.progress = on_progress; cfg.progress_user = &ps;

    r = smtp_open(&s, &cfg);
    if (r == SMTP_OK && smtp_size_limit(&s) && ps.total > smtp_size_limit(&s)) {
        fprintf(stderr, "%s is %llu bytes; the server takes at most %lu\n", argv[5], ps.total, smtp_size_limit(&s));
        fclose(f); smtp_close(&s);
        return 1;
    }
    if (r == SMTP_OK) r = smtp_mail_from(&s, argv[3]);
    if (r == SMTP_OK) r = smtp_rcpt_to(&s, argv[4]);   /* call again for each further recipient */
    if (r == SMTP_OK) r = smtp_data_begin(&s);
    while (r == SMTP_OK && (n = fread(buf, 1, sizeof buf, f)) > 0)
        r = smtp_data_write(&s, buf, n);
    if (r == SMTP_OK && ferror(f)) {            /* no end of data: closing makes the server discard it */
        perror(argv[5]);
        fclose(f); smtp_close(&s);
        return 1;
    }
    if (r == SMTP_OK) r = smtp_data_end(&s);    /* only now is the message the server's */
    fclose(f);
    if (r == SMTP_OK) printf("\nsent: %d %s\n", smtp_last_reply(&s)->code, smtp_last_reply(&s)->text);
    else fprintf(stderr, "\n%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}
