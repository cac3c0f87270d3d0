/* http-proxy.c - send one message through an HTTP proxy (CONNECT), with
   Basic credentials when PROXY_USER is set. Many proxies allow CONNECT
   only to port 443; the one you use must allow the SMTP port.
   Shows: SMTP_PROXY_HTTP; the proxy's status and reason on refusal
   (407, 401, 403, 500...) as SMTP_ERR_PROXY.
   Build: cc -std=c99 -o http-proxy examples/http-proxy.c -lbearssl
   Run:   PROXY_USER=u PROXY_PASSWORD=p ./http-proxy PROXY_HOST PROXY_PORT HOST PORT FROM TO
          SMTP_CA_FILE: CA file (else the system CAs). SMTP_SECURITY=none:
          cleartext to a test server (else AUTO: TLS required).
          SMTP_USER and SMTP_PASSWORD log in to the SMTP server. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_message msg = {0};
    smtp_session s;
    const char *to[2] = {0};
    const char *sec = getenv("SMTP_SECURITY");
    smtp_result r;
    if (argc != 7) {
        fprintf(stderr, "usage: %s PROXY_HOST PROXY_PORT HOST PORT FROM TO\n", argv[0]);
        return 2;
    }
    cfg.proxy.type = SMTP_PROXY_HTTP;
    cfg.proxy.host = argv[1]; cfg.proxy.port = atoi(argv[2]);
    cfg.proxy.username = getenv("PROXY_USER");  /* NULL: no Proxy-Authorization */
    cfg.proxy.password = getenv("PROXY_PASSWORD");
    cfg.host = argv[3]; cfg.port = atoi(argv[4]);
    if (sec && !strcmp(sec, "none")) cfg.security = SMTP_SECURITY_NONE;
    cfg.ca_file = getenv("SMTP_CA_FILE");
    cfg.username = getenv("SMTP_USER");
    cfg.password = getenv("SMTP_PASSWORD");
    to[0] = argv[6];
    msg.from = argv[5]; msg.to = to;
    msg.subject = "Hello through an HTTP proxy"; msg.text = "Sent by examples/http-proxy.c.\n";

    r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) {
        printf("through HTTP CONNECT %s:%d%s to %s:%d, %s\n", cfg.proxy.host, cfg.proxy.port,
               cfg.proxy.username ? " (Basic)" : "", cfg.host, smtp_port_used(&s),
               *smtp_tls_version(&s) ? smtp_tls_version(&s) : "cleartext");
        r = smtp_send(&s, &msg);
    }
    if (r == SMTP_OK) printf("sent: %d %s\n", smtp_last_reply(&s)->code, smtp_last_reply(&s)->text);
    else fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}
