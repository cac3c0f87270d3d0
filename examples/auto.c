/* auto.c - let smtp.h find how a server speaks TLS. AUTO, the zero value,
   requires TLS and probes the mode: port 0 tries implicit TLS on 465, then
   STARTTLS on 587, then 25; a port given is tried both ways. A wrong guess
   against a silent server costs greeting_timeout_ms. Never cleartext.
   Build: cc -std=c99 -o auto examples/auto.c -lbearssl */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

static void from_args(int argc, char **argv, smtp_config *cfg);

int main(int argc, char **argv)
{
    smtp_config cfg = {0};                    /* security = SMTP_SECURITY_AUTO */
    smtp_message msg = {0};
    smtp_session s;
    const char *to[] = { "bob@example.com", NULL };
    cfg.host = "smtp.example.com";            /* port 0: 465, 587, 25 */
    cfg.greeting_timeout_ms = 3000;           /* the price of a wrong guess */
    msg.from = "Alice <alice@example.com>"; msg.to = to;
    msg.subject = "Hello, found by AUTO"; msg.text = "Sent by examples/auto.c.\n";
    from_args(argc, argv, &cfg);              /* optional: ./auto HOST PORT CA_FILE */
    smtp_result r = smtp_open(&s, &cfg);      /* on failure the detail lists every attempt */
    if (r == SMTP_OK) {
        printf("AUTO chose %s on port %d (%s)\n",
               smtp_security_used(&s) == SMTP_SECURITY_IMPLICIT ? "implicit TLS" : "STARTTLS",
               smtp_port_used(&s), smtp_tls_version(&s));
        r = smtp_send(&s, &msg);
    }
    if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}

/* Not the lesson: tests point it at their servers and CA.
   ./auto [HOST PORT [CA_FILE]] */
static void from_args(int argc, char **argv, smtp_config *cfg)
{
    if (argc > 2) { cfg->host = argv[1]; cfg->port = atoi(argv[2]); }
    if (argc > 3) cfg->ca_file = argv[3];
}
