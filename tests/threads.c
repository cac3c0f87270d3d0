/* threads.c - two sessions in two threads never touch each other, and one
   trust store is shared read-only by both (built with -fsanitize=thread;
   run by tests/run-integration.sh against the TLS aiosmtpd). */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static smtp_trust *trust;
static int port;

static void *worker(void *arg)
{
    static const char *to[] = { "bob@example.com", NULL };
    smtp_session *s = (smtp_session *)malloc(sizeof *s);
    smtp_config cfg;
    smtp_message m;
    long id = (long)arg, ok = 0;
    int i;
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "localhost"; cfg.port = port; cfg.security = SMTP_SECURITY_IMPLICIT; cfg.trust = trust;
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.subject = id ? "thread 1" : "thread 0"; m.text = "concurrent";
    for (i = 0; i < 20; i++) {
        if (smtp_open(s, &cfg) == SMTP_OK && smtp_send(s, &m) == SMTP_OK) ok++;
        smtp_close(s);
    }
    free(s);
    return (void *)ok;
}

TEST(two_threads_two_sessions_one_trust_store)
{
    pthread_t t[2];
    void *r[2];
    char ca[600];
    snprintf(ca, sizeof ca, "%s/ca.pem", getenv("CERTS") ? getenv("CERTS") : "tests/.run/certs");
    port = getenv("AIOTLS_IMPLICIT") ? atoi(getenv("AIOTLS_IMPLICIT")) : 24531;
    CHECK_EQ_INT(smtp_trust_load_file(&trust, ca, NULL, 0), SMTP_OK);
    CHECK_EQ_INT(pthread_create(&t[0], NULL, worker, (void *)0), 0);
    CHECK_EQ_INT(pthread_create(&t[1], NULL, worker, (void *)1), 0);
    pthread_join(t[0], &r[0]);
    pthread_join(t[1], &r[1]);
    CHECK_EQ_INT((long)r[0], 20);
    CHECK_EQ_INT((long)r[1], 20);
    smtp_trust_free(trust);
}

int main(void)
{
    RUN(two_threads_two_sessions_one_trust_store);
    return TEST_END();
}
