/* bind-address.c - send from a chosen local address (and port): a host
   with several addresses, a relay that trusts only one of them, a
   firewall rule keyed on the source. The socket is bound before connect
   (also the one to a proxy). A failed bind is SMTP_ERR_CONNECT. Here:
   127.0.0.2 to the local test server of hello.c; any 127.x works on Linux.
   Build: cc -std=c99 -o bind-address examples/bind-address.c -lbearssl */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

static void from_args(int argc, char **argv, smtp_config *cfg);

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_message msg = {0};
    smtp_session s;
    const char *to[] = { "bob@example.com", NULL };
    cfg.local_address = "127.0.0.2";          /* same family as the server's address */
    cfg.local_port = 0;                       /* 0: any; a fixed one is bound with SO_REUSEADDR */
    cfg.host = "127.0.0.1"; cfg.port = 2525;
    cfg.security = SMTP_SECURITY_NONE;        /* a local test server */
    msg.from = "Alice <alice@example.com>"; msg.to = to;
    msg.subject = "Hello from a chosen address"; msg.text = "Sent by examples/bind-address.c.\n";
    from_args(argc, argv, &cfg);              /* optional: ./bind-address LOCAL_ADDRESS LOCAL_PORT HOST PORT */
    smtp_result r = smtp_open(&s, &cfg);      /* bind, connect, greeting, EHLO */
    if (r == SMTP_OK) r = smtp_send(&s, &msg);
    if (r == SMTP_OK) printf("sent from %s to %s:%d\n", cfg.local_address, cfg.host, smtp_port_used(&s));
    else fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}

/* Not the lesson: tests point it elsewhere.
   ./bind-address [LOCAL_ADDRESS LOCAL_PORT [HOST PORT]] */
static void from_args(int argc, char **argv, smtp_config *cfg)
{
    if (argc > 2) { cfg->local_address = argv[1]; cfg->local_port = atoi(argv[2]); }
    if (argc > 4) { cfg->host = argv[3]; cfg->port = atoi(argv[4]); }
}
