/* bind-address.c - send one message from a chosen local address (and
   port): a host with several addresses, a relay that trusts only one of
   them, a firewall rule keyed on the source.
   Shows: cfg.local_address / cfg.local_port (bound before connect; also
   used to reach a proxy), a bind failure as SMTP_ERR_CONNECT, the EHLO
   name (the local address literal unless this machine's name holds a dot).
   Build: cc -std=c99 -o bind-address examples/bind-address.c -lbearssl
   Run:   ./bind-address LOCAL_ADDRESS LOCAL_PORT HOST PORT FROM TO   (LOCAL_PORT 0: any)
          e.g. ./bind-address 127.0.0.2 0 127.0.0.1 2525 a@example.com b@example.com
          SMTP_CA_FILE: CA file (else the system CAs). SMTP_SECURITY=none:
          cleartext to a test server (else AUTO: TLS required). */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void show_ehlo(void *user, smtp_trace_dir dir, const char *data, size_t len)
{
    (void)user;
    if (dir == SMTP_TRACE_OUT && len >= 5 && !memcmp(data, "EHLO ", 5))
        printf("C: %.*s\n", (int)len, data);
}

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_message msg = {0};
    smtp_session s;
    const char *to[2] = {0};
    const char *sec = getenv("SMTP_SECURITY");
    smtp_result r;
    if (argc != 7) {
        fprintf(stderr, "usage: %s LOCAL_ADDRESS LOCAL_PORT HOST PORT FROM TO\n", argv[0]);
        return 2;
    }
    cfg.local_address = argv[1];                /* must be of the same family as HOST's address */
    cfg.local_port = atoi(argv[2]);             /* 0: any; a fixed one is bound with SO_REUSEADDR */
    cfg.host = argv[3]; cfg.port = atoi(argv[4]);
    if (sec && !strcmp(sec, "none")) cfg.security = SMTP_SECURITY_NONE;
    cfg.ca_file = getenv("SMTP_CA_FILE");
    cfg.trace = show_ehlo;
    to[0] = argv[6];
    msg.from = argv[5]; msg.to = to;
    msg.subject = "Hello from a chosen address"; msg.text = "Sent by examples/bind-address.c.\n";

    r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) {
        printf("connected from %s port %s to %s:%d\n", cfg.local_address,
               cfg.local_port ? argv[2] : "(any)", cfg.host, smtp_port_used(&s));
        r = smtp_send(&s, &msg);
    }
    if (r == SMTP_OK) printf("sent: %d %s\n", smtp_last_reply(&s)->code, smtp_last_reply(&s)->text);
    else fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}
