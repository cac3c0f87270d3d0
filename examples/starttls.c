/* starttls.c - send one message over STARTTLS, required: a server that
   does not offer it gets nothing past EHLO (SMTP_ERR_NO_STARTTLS), and
   the login, if any, goes only inside TLS.
   Shows: SMTP_SECURITY_STARTTLS, a CA file instead of the system CAs,
   the negotiated TLS version and cipher suite.
   Build: cc -std=c99 -o starttls examples/starttls.c -lbearssl
   Run:   ./starttls HOST PORT FROM TO [CA_FILE]      (PORT 0: 587)
          SMTP_USER and SMTP_PASSWORD in the environment log in. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_message msg = {0};
    smtp_session s;
    const char *to[2] = {0};
    smtp_result r;
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: %s HOST PORT FROM TO [CA_FILE]\n", argv[0]);
        return 2;
    }
    cfg.host = argv[1]; cfg.port = atoi(argv[2]);
    cfg.security = SMTP_SECURITY_STARTTLS;
    if (argc == 6) cfg.ca_file = argv[5];       /* else the system bundle */
    cfg.username = getenv("SMTP_USER");         /* NULL: no login */
    cfg.password = getenv("SMTP_PASSWORD");
    to[0] = argv[4];
    msg.from = argv[3]; msg.to = to;
    msg.subject = "Hello over STARTTLS"; msg.text = "Sent by examples/starttls.c.\n";

    r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) {
        printf("STARTTLS to %s:%d: %s, %s%s\n", cfg.host, smtp_port_used(&s),
               smtp_tls_version(&s), smtp_tls_cipher(&s), cfg.username ? ", logged in" : "");
        r = smtp_send(&s, &msg);
    }
    if (r == SMTP_OK) printf("sent: %d %s\n", smtp_last_reply(&s)->code, smtp_last_reply(&s)->text);
    else fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}
