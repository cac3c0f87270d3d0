/* socks5.c - send through a SOCKS5 proxy (RFC 1928), logging in to it
   with a user name and password (RFC 1929). The proxy resolves the SMTP
   host's name; TLS runs end to end through the tunnel, the certificate
   checked against the SMTP host, never the proxy. A refusal by the proxy
   is SMTP_ERR_PROXY with its reason in words.
   Build: cc -std=c99 -o socks5 examples/socks5.c -lbearssl */
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
    cfg.proxy.type = SMTP_PROXY_SOCKS5;       /* or SMTP_PROXY_SOCKS4, _SOCKS4A */
    cfg.proxy.host = "127.0.0.1"; cfg.proxy.port = 1080;
    cfg.proxy.username = "proxyuser"; cfg.proxy.password = "proxy pass";   /* NULL: no login */
    cfg.host = "smtp.example.com"; cfg.port = 587;
    msg.from = "Alice <alice@example.com>"; msg.to = to;
    msg.subject = "Hello through SOCKS5"; msg.text = "Sent by examples/socks5.c.\n";
    from_args(argc, argv, &cfg);              /* optional: ./socks5 PROXY_HOST PROXY_PORT HOST PORT CA_FILE */
    smtp_result r = smtp_open(&s, &cfg);      /* proxy handshake within connect_timeout_ms */
    if (r == SMTP_OK) {
        printf("through SOCKS5 %s:%d to %s:%d, %s\n", cfg.proxy.host, cfg.proxy.port,
               cfg.host, smtp_port_used(&s), smtp_tls_version(&s));
        r = smtp_send(&s, &msg);
    }
    if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}

/* Not the lesson: tests point it at their proxy, server and CA.
   ./socks5 [PROXY_HOST PROXY_PORT [HOST PORT [CA_FILE]]] */
static void from_args(int argc, char **argv, smtp_config *cfg)
{
    if (argc > 2) { cfg->proxy.host = argv[1]; cfg->proxy.port = atoi(argv[2]); }
    if (argc > 4) { cfg->host = argv[3]; cfg->port = atoi(argv[4]); }
    if (argc > 5) cfg->ca_file = argv[5];
}
