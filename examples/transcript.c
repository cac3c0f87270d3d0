/* transcript.c - send one message and print the whole SMTP conversation:
   every command (C:), every reply line (S:) and the message as sent.
   Shows: the trace callback, per-recipient results, the error detail.
   Build: cc -std=c99 -o transcript examples/transcript.c
   Run:   ./transcript HOST PORT FROM TO [TO...]
          SUBJECT and TEXT come from the environment when set. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

static void show(void *user, smtp_trace_dir dir, const char *data, size_t len)
{
    (void)user;
    switch (dir) {
    case SMTP_TRACE_OUT:  printf("C: %.*s\n", (int)len, data); break;
    case SMTP_TRACE_IN:   printf("S: %.*s\n", (int)len, data); break;
    case SMTP_TRACE_BODY: printf("%.*s", (int)len, data); break;   /* the message, CRLF as sent */
    case SMTP_TRACE_INFO: printf("*  %.*s\n", (int)len, data); break;
    }
}

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_message msg = {0};
    smtp_rcpt_result results[16];
    smtp_session s;
    const char *to[17] = {0};
    const char *subject = getenv("SUBJECT"), *text = getenv("TEXT");
    smtp_result r;
    int i, n = argc - 4;
    if (argc < 5 || n > 16) { fprintf(stderr, "usage: %s HOST PORT FROM TO [TO...] (at most 16)\n", argv[0]); return 2; }
    cfg.host = argv[1]; cfg.port = atoi(argv[2]);
    cfg.security = SMTP_SECURITY_NONE;
    cfg.trace = show;
    for (i = 0; i < n; i++) to[i] = argv[4 + i];
    msg.from = argv[3]; msg.to = to;
    msg.subject = subject ? subject : "Hello from smtp.h";
    msg.text = text ? text : "This message was sent by examples/transcript.c.\n";
    msg.results = results; msg.results_cap = 16;
    r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) {
        r = smtp_send(&s, &msg);
        for (i = 0; r >= 0 && i < n; i++)
            printf("*  %s: %s (%d %s)\n", results[i].address, results[i].accepted ? "accepted" : "refused",
                   results[i].code, results[i].text);
    }
    if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}
