/* tls-versions.c - choose TLS versions, the safe way and the strict way.
   BearSSL speaks TLS 1.0 to 1.2, not 1.3. smtp_config_set_tls_versions
   keeps what can be spoken (1.2|1.3 becomes 1.2; 1.3 alone the newest
   supported), so the session still opens. smtp_config_set_tls_versions_unsafe
   stores the mask as given: smtp_open then fails with SMTP_ERR_UNSUPPORTED
   before connecting, rather than quietly using a version you ruled out.
   Build: cc -std=c99 -o tls-versions examples/tls-versions.c -lbearssl
   Run:   ./tls-versions HOST PORT [CA_FILE]   (AUTO: 465 implicit, else STARTTLS)
   Exit 0 when both behave as described. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

static void print_mask(const char *what, unsigned m)
{
    printf("%s:%s%s%s%s\n", what, m & SMTP_TLS_1_0 ? " 1.0" : "", m & SMTP_TLS_1_1 ? " 1.1" : "",
           m & SMTP_TLS_1_2 ? " 1.2" : "", m & SMTP_TLS_1_3 ? " 1.3" : "");
}

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_session s;
    const unsigned want = SMTP_TLS_1_2 | SMTP_TLS_1_3;
    smtp_result r;
    int ok = 1;
    if (argc < 3 || argc > 4) { fprintf(stderr, "usage: %s HOST PORT [CA_FILE]\n", argv[0]); return 2; }
    cfg.host = argv[1]; cfg.port = atoi(argv[2]);
    if (argc == 4) cfg.ca_file = argv[3];
    print_mask("asked for", want);

    /* 1. the safe setter: degrades to what BearSSL can do, and connects */
    if ((r = smtp_config_set_tls_versions(&cfg, want)) != SMTP_OK) {
        fprintf(stderr, "smtp_config_set_tls_versions: %s\n", smtp_result_str(r));
        return 1;
    }
    print_mask("smtp_config_set_tls_versions kept", cfg.tls_versions);
    r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) printf("  smtp_open: OK, negotiated %s %s\n", smtp_tls_version(&s), smtp_tls_cipher(&s));
    else { fprintf(stderr, "  smtp_open: %s: %s\n", smtp_result_str(r), smtp_error_detail(&s)); ok = 0; }
    smtp_close(&s);

    /* 2. the unsafe setter: the mask as given; smtp_open refuses it without I/O */
    if ((r = smtp_config_set_tls_versions_unsafe(&cfg, want)) != SMTP_OK) {
        fprintf(stderr, "smtp_config_set_tls_versions_unsafe: %s\n", smtp_result_str(r));
        return 1;
    }
    print_mask("smtp_config_set_tls_versions_unsafe kept", cfg.tls_versions);
    r = smtp_open(&s, &cfg);
    printf("  smtp_open: %s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    if (r != SMTP_ERR_UNSUPPORTED) ok = 0;      /* the expected outcome */
    smtp_close(&s);
    return ok ? 0 : 1;
}
