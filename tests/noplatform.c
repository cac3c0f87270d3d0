/* noplatform.c - issue 15: the embedded builds without a file system
   (SMTP_NO_STDIO) and without name resolution (SMTP_NO_GETADDRINFO), as a
   system without them would build smtp.h. Every file the library would
   read is refused with SMTP_ERR_UNSUPPORTED (or the loader's own code) and
   a sentence naming the field and the way out, before anything is sent;
   names are SMTP_ERR_RESOLVE, IP literals connect. No server: a listening
   socket of this test's own that never greets. */
#define SMTP_NO_STDIO
#define SMTP_NO_GETADDRINFO
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include "fake.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static smtp_session S;

TEST(no_files)
{
    smtp_trust *t = NULL;
    smtp_settings st;
    smtp_config cfg;
    smtp_message m;
    smtp_attachment at;
    const char *to[] = { "b@x.org", NULL };
    char detail[300];
    CHECK_EQ_INT(smtp_trust_load_file(&t, "tests/peers/certs.sh", detail, sizeof detail), SMTP_ERR_UNSUPPORTED);
    CHECK_CONTAINS(detail, "SMTP_NO_STDIO");
    CHECK(t == NULL);
    CHECK_EQ_INT(smtp_trust_load_system(&t, detail, sizeof detail), SMTP_ERR_UNSUPPORTED);
    CHECK_CONTAINS(detail, "smtp_trust_load_pem");
    CHECK(smtp_config_load(&st, "tests/peers/certs.sh", NULL) < SMTP_OK);
    CHECK_CONTAINS(st.detail, "SMTP_NO_STDIO");
    smtp_settings_free(&st);
    /* a CA file in the config: refused at smtp_open, before a connection */
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "127.0.0.1"; cfg.port = 9; cfg.security = SMTP_SECURITY_STARTTLS; cfg.ca_file = "/nonexistent.pem";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_UNSUPPORTED);
    CHECK_CONTAINS(smtp_error_detail(&S), "cfg.ca_file");
    smtp_close(&S);
    /* an attachment by path: refused before MAIL, the session goes on */
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    memset(&at, 0, sizeof at);
    at.path = "tests/peers/certs.sh";
    m.from = "a@x.org"; m.to = to; m.text = "hi"; m.attachments = &at; m.attachment_count = 1;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_UNSUPPORTED);
    CHECK_CONTAINS(smtp_error_detail(&S), "attachments[0].path");
    CHECK_EQ_INT(fake_count("MAIL"), 0);
    at.path = NULL; at.data = "in memory"; at.size = 9; at.filename = "a.txt";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);   /* from memory it goes */
    CHECK_EQ_INT(F.messages, 1);
    smtp_close(&S);
}

TEST(no_name_resolution)
{
    smtp_config cfg;
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    long long t0;
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "localhost"; cfg.port = 25; cfg.security = SMTP_SECURITY_NONE;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_RESOLVE);
    CHECK_CONTAINS(smtp_error_detail(&S), "SMTP_NO_GETADDRINFO");
    smtp_close(&S);
    /* an IP literal connects: a listener of ours that never greets */
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); a.sin_port = 0;
    CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 4) == 0 &&
          getsockname(lfd, (struct sockaddr *)&a, &al) == 0);
    cfg.host = "127.0.0.1"; cfg.port = ntohs(a.sin_port); cfg.greeting_timeout_ms = 300;
    t0 = now_ms();
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_TIMEOUT);
    CHECK_CONTAINS(smtp_error_detail(&S), "no greeting");
    CHECK(now_ms() - t0 >= 300);
    smtp_close(&S);
    cfg.local_address = "localhost";   /* a local address must be a literal too */
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_RESOLVE);
    CHECK_CONTAINS(smtp_error_detail(&S), "local_address");
    smtp_close(&S);
    close(lfd);
}

/* cfg.addresses: the caller's own resolver's answer. A name that cannot
   be resolved here connects through it, each address in turn (127.0.0.2
   on that port refuses: the next is ours); bad entries are
   SMTP_ERR_PARAM naming the entry, before anything is tried. */
TEST(addresses_of_the_caller)
{
    smtp_config cfg;
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    const char *two[] = { "127.0.0.2", "127.0.0.1", NULL }, *bad[] = { "127.0.0.1", "mail.example", NULL };
    const char *none[] = { NULL }, *refused[] = { "127.0.0.2", "127.0.0.3", NULL };
    smtp_result r;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); a.sin_port = 0;
    CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 4) == 0 &&
          getsockname(lfd, (struct sockaddr *)&a, &al) == 0);
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "mail.example"; cfg.port = ntohs(a.sin_port); cfg.security = SMTP_SECURITY_NONE;
    cfg.greeting_timeout_ms = 300;
    cfg.addresses = two;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_TIMEOUT);   /* connected to ours, which never greets */
    CHECK_CONTAINS(smtp_error_detail(&S), "no greeting");
    smtp_close(&S);
    CHECK_EQ_INT(smtp_open_start(&S, &cfg), SMTP_OK);       /* the same, stepped */
    while ((r = smtp_step(&S)) == SMTP_WANT_READ || r == SMTP_WANT_WRITE) {}
    CHECK_EQ_INT(r, SMTP_ERR_TIMEOUT);
    smtp_close(&S);
    cfg.addresses = refused;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_CONNECT);
    CHECK_CONTAINS(smtp_error_detail(&S), "127.0.0.3");
    CHECK_CONTAINS(smtp_error_detail(&S), "the last of several addresses");
    smtp_close(&S);
    cfg.addresses = bad;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "cfg.addresses[1] \"mail.example\"");
    smtp_close(&S);
    cfg.addresses = none;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "cfg.addresses is empty");
    smtp_close(&S);
    close(lfd);
}

int main(void)
{
    RUN(no_files);
    RUN(no_name_resolution);
    RUN(addresses_of_the_caller);
    return TEST_END();
}
