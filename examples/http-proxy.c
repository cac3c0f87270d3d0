/* http-proxy.c - send through an HTTP proxy with CONNECT, and Basic
   credentials. Many proxies allow CONNECT only to port 443: the one you
   use must allow the SMTP port. TLS runs end to end through the tunnel.
   A refusal (407, 403, ...) is SMTP_ERR_PROXY with the proxy's status.
   Build: cc -std=c99 -o http-proxy examples/http-proxy.c -lbearssl */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

static void from_args(int argc, char **argv, smtp_config *cfg);

int main(int argc, char **argv)
{
    smtp_config cfg = {0};                    /* AUTO: TLS required, through the proxy too */
    smtp_message msg = {0};
    smtp_session s;
    const char *to[] = { "bob@example.com", NULL };
    cfg.proxy.type = SMTP_PROXY_HTTP;
    cfg.proxy.host = "127.0.0.1"; cfg.proxy.port = 8080;
    cfg.proxy.username = "proxyuser"; cfg.proxy.password = "proxypass";   /* NULL: no Proxy-Authorization */
    cfg.host = "smtp.example.com"; cfg.port = 587;
    msg.from = "Alice <alice@example.com>"; msg.to = to;
    msg.subject = "Hello through an HTTP proxy"; msg.text = "Sent by examples/http-proxy.c.\n";
    from_args(argc, argv, &cfg);              /* optional: ./http-proxy PROXY_HOST PROXY_PORT HOST PORT CA_FILE */
    smtp_result r = smtp_open(&s, &cfg);      /* CONNECT within connect_timeout_ms */
    if (r == SMTP_OK) {
        printf("through HTTP CONNECT %s:%d to %s:%d, %s\n", cfg.proxy.host, cfg.proxy.port,
               cfg.host, smtp_port_used(&s), smtp_tls_version(&s));
        r = smtp_send(&s, &msg);
    }
    if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}

/* Not the lesson: tests point it at their proxy, server and CA.
   ./http-proxy [PROXY_HOST PROXY_PORT [HOST PORT [CA_FILE]]] */
static void from_args(int argc, char **argv, smtp_config *cfg)
{
    if (argc > 2) { cfg->proxy.host = argv[1]; cfg->proxy.port = atoi(argv[2]); }
    if (argc > 4) { cfg->host = argv[3]; cfg->port = atoi(argv[4]); }
    if (argc > 5) cfg->ca_file = argv[5];
}
