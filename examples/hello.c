/* hello.c - send one mail: the README's program, cleartext to a local
   test server. Start one, run this, read what it stored:
     /usr/bin/python3 tests/peers/aiosmtpd_server.py --listen 127.0.0.1:2525 --spool /tmp/spool
     cat /tmp/spool/msg-0001.eml
   Build: cc -std=c99 -o hello examples/hello.c -lbearssl */
#define SMTP_IMPLEMENTATION   /* in one .c file; include smtp.h first there */
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

static void from_args(int argc, char **argv, smtp_config *cfg, smtp_message *msg);

int main(int argc, char **argv)
{
    smtp_config cfg = {0};                    /* zero means default */
    smtp_message msg = {0};
    smtp_session s;
    const char *to[] = { "bob@example.com", NULL };
    cfg.host = "127.0.0.1"; cfg.port = 2525;
    cfg.security = SMTP_SECURITY_NONE;        /* the default, AUTO, means TLS */
    msg.from = "Alice <alice@example.com>"; msg.to = to;
    msg.subject = "Hello"; msg.text = "It works.\n";
    from_args(argc, argv, &cfg, &msg);        /* optional: ./hello HOST PORT FROM TO... */
    smtp_result r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) r = smtp_send(&s, &msg);
    if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}

/* Not the lesson: tests point it elsewhere. ./hello [HOST PORT [FROM [TO...]]] */
static void from_args(int argc, char **argv, smtp_config *cfg, smtp_message *msg)
{
    if (argc > 2) { cfg->host = argv[1]; cfg->port = atoi(argv[2]); }
    if (argc > 3) msg->from = argv[3];
    if (argc > 4) msg->to = (const char *const *)(argv + 4);   /* argv[argc] is NULL */
}
