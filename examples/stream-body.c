/* stream-body.c - send a file as it is (an .eml: headers, empty line,
   body), never held whole: the low-level calls, 64 KB per smtp_data_write,
   which turns line ends into CRLF and stuffs dots across pieces.
   Build: cc -std=c99 -o stream-body examples/stream-body.c -lbearssl */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

static void from_args(int argc, char **argv, smtp_config *cfg, const char **file);
static int on_progress(void *user, unsigned long long sent);

int main(int argc, char **argv)
{
    static char buf[64 * 1024];
    smtp_config cfg = {0};
    smtp_session s;
    const char *file = "message.eml";
    size_t n;
    cfg.host = "127.0.0.1"; cfg.port = 2525;
    cfg.security = SMTP_SECURITY_NONE;        /* a local test server, as in hello.c */
    cfg.progress = on_progress;               /* optional: bytes sent so far; can cancel */
    from_args(argc, argv, &cfg, &file);       /* optional: ./stream-body HOST PORT FILE */
    FILE *f = fopen(file, "rb");
    if (!f) { perror(file); return 1; }
    smtp_result r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) r = smtp_mail_from(&s, "alice@example.com");
    if (r == SMTP_OK) r = smtp_rcpt_to(&s, "bob@example.com");   /* once per recipient */
    if (r == SMTP_OK) r = smtp_data_begin(&s);
    while (r == SMTP_OK && (n = fread(buf, 1, sizeof buf, f)) > 0)
        r = smtp_data_write(&s, buf, n);
    if (r == SMTP_OK && ferror(f)) { perror(file); r = SMTP_ERR_IO; }   /* no end of data: discarded */
    if (r == SMTP_OK) r = smtp_data_end(&s);  /* only now is the message the server's */
    fclose(f);
    if (r == SMTP_OK) printf("\nsent: %d %s\n", smtp_last_reply(&s)->code, smtp_last_reply(&s)->text);
    else fprintf(stderr, "\n%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);                           /* closing before the end of data: the server drops it */
    return r == SMTP_OK ? 0 : 1;
}

/* Called after each write of up to 16 KB; sent counts bytes on the wire
   (CRLF line ends and stuffed dots included). A non-zero return cancels:
   the connection drops before the end of data, the call returns
   SMTP_ERR_ABORTED and the server discards the message. */
static unsigned long long cancel_after;
static int on_progress(void *user, unsigned long long sent)
{
    (void)user;                               /* cfg.progress_user */
    fprintf(stderr, "\r%llu bytes sent", sent);
    return cancel_after && sent >= cancel_after;
}

/* Not the lesson: tests point it elsewhere.
   ./stream-body [HOST PORT [FILE]]; CANCEL_AFTER=N in the environment
   cancels once N bytes are out. */
static void from_args(int argc, char **argv, smtp_config *cfg, const char **file)
{
    const char *c = getenv("CANCEL_AFTER");
    if (argc > 2) { cfg->host = argv[1]; cfg->port = atoi(argv[2]); }
    if (argc > 3) *file = argv[3];
    if (c) cancel_after = strtoull(c, NULL, 10);
}
