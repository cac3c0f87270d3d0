/* cleartext.c - several recipients over cleartext, and what happened to
   each: msg.results gets one entry per address (no allocation). SMTP_OK:
   all took it; SMTP_PARTIAL (> 0): sent, some refused; < 0: sent to none.
   Cleartext only to a server you trust (here a local test server, as in
   hello.c): AUTO, the default, never falls back to it.
   Build: cc -std=c99 -o cleartext examples/cleartext.c -lbearssl */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

static void from_args(int argc, char **argv, smtp_config *cfg, smtp_message *msg);

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_message msg = {0};
    smtp_rcpt_result results[8];
    smtp_session s;
    const char *to[] = { "bob@example.com", "carol@example.com", NULL };
    cfg.host = "127.0.0.1"; cfg.port = 2525;
    cfg.security = SMTP_SECURITY_NONE;
    msg.from = "alice@example.com"; msg.to = to;
    msg.subject = "Cleartext test"; msg.text = "Sent by examples/cleartext.c without TLS.\n";
    msg.results = results; msg.results_cap = 8;   /* one per recipient, in order; more are not kept */
    from_args(argc, argv, &cfg, &msg);            /* optional: ./cleartext HOST PORT FROM TO... */
    smtp_result r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) r = smtp_send(&s, &msg);
    for (size_t i = 0; r >= 0 && i < 8 && msg.to[i]; i++)  /* OK or PARTIAL: results filled in */
        printf("%s: %s (%d %s %s)\n", results[i].address, results[i].accepted ? "accepted" : "refused",
               results[i].code, results[i].status, results[i].text);
    if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);                               /* QUIT; harmless after any failure */
    return r == SMTP_OK ? 0 : 1;
}

/* Not the lesson: tests point it elsewhere. ./cleartext [HOST PORT [FROM [TO...]]] */
static void from_args(int argc, char **argv, smtp_config *cfg, smtp_message *msg)
{
    if (argc > 2) { cfg->host = argv[1]; cfg->port = atoi(argv[2]); }
    if (argc > 3) msg->from = argv[3];
    if (argc > 4) msg->to = (const char *const *)(argv + 4);   /* argv[argc] is NULL */
}
