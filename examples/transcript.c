/* transcript.c - watch the conversation: cfg.trace receives every command
   sent (C:), every reply line (S:), the message as it went on the wire and
   notes (*). Passwords never reach it. make demo runs this program.
   Build: cc -std=c99 -o transcript examples/transcript.c -lbearssl */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

static void show(void *user, smtp_trace_dir dir, const char *data, size_t len)
{
    (void)user;                               /* cfg.trace_user */
    switch (dir) {
    case SMTP_TRACE_OUT:  printf("C: %.*s\n", (int)len, data); break;
    case SMTP_TRACE_IN:   printf("S: %.*s\n", (int)len, data); break;
    case SMTP_TRACE_BODY: printf("%.*s", (int)len, data); break;   /* the message, CRLF and dots as sent */
    case SMTP_TRACE_INFO: printf("*  %.*s\n", (int)len, data); break;
    }
}

static void from_args(int argc, char **argv, smtp_config *cfg, smtp_message *msg);

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_message msg = {0};
    smtp_session s;
    const char *to[] = { "bob@example.com", NULL };
    cfg.host = "127.0.0.1"; cfg.port = 2525;
    cfg.security = SMTP_SECURITY_NONE;        /* a local test server */
    cfg.trace = show;
    msg.from = "Alice <alice@example.com>"; msg.to = to;
    msg.subject = "Hello from smtp.h"; msg.text = "This message was sent by examples/transcript.c.\n";
    from_args(argc, argv, &cfg, &msg);        /* optional: ./transcript HOST PORT FROM TO... */
    smtp_result r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) r = smtp_send(&s, &msg);
    if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);                           /* the trace shows QUIT too */
    return r == SMTP_OK ? 0 : 1;
}

/* Not the lesson: tests and make demo point it elsewhere.
   ./transcript [HOST PORT [FROM [TO...]]]; SUBJECT and TEXT from the environment. */
static void from_args(int argc, char **argv, smtp_config *cfg, smtp_message *msg)
{
    if (argc > 2) { cfg->host = argv[1]; cfg->port = atoi(argv[2]); }
    if (argc > 3) msg->from = argv[3];
    if (argc > 4) msg->to = (const char *const *)(argv + 4);   /* argv[argc] is NULL */
    if (getenv("SUBJECT")) msg->subject = getenv("SUBJECT");
    if (getenv("TEXT")) msg->text = getenv("TEXT");
}
