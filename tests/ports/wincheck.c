/* wincheck.c - smtp.h's Windows platform section under wine, beyond what
   the unit tests and the example sends show (tests/ports/run.sh runs it):
   - smtp_trust_load_system reads Windows' ROOT store (wine fills it from
     the host's CA bundle): some anchors, each decoded by BearSSL;
   - a refused connect is SMTP_ERR_CONNECT at once (select's exception
     set), with the system's words for it, not a timeout;
   - a server that never greets: SMTP_ERR_TIMEOUT after greeting_timeout_ms
     by the monotonic clock (WSAPoll), measured with GetTickCount64;
   - a connection reset by the server is SMTP_ERR_CLOSED (WSAECONNRESET);
   - WSAStartup/WSACleanup leave no trace: after smtp_close Winsock is
     uninitialised again (WSANOTINITIALISED) when the program never started
     it, and still usable when the program did;
   - cfg.socket_path: delivered over AF_UNIX, or SMTP_ERR_UNSUPPORTED where
     Winsock has no AF_UNIX (wine 8), never another error.
   Run: wine wincheck.exe PORT UNIX-SOCKET-PATH (aiosmtpd on 127.0.0.1:PORT
   in cleartext, and on the Unix socket). */
#define SMTP_IMPLEMENTATION
#include "../../smtp.h"
#include "../test.h"

static int port;
static const char *unix_path;

/* Winsock is initialised when socket() works. */
static int winsock_up(void)
{
    SOCKET k = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (k == INVALID_SOCKET) return WSAGetLastError() == WSANOTINITIALISED ? 0 : -1;
    closesocket(k);
    return 1;
}

TEST(trust_store_root)
{
    smtp_trust *t = NULL;
    char detail[256] = "";
    CHECK_EQ_INT(smtp_trust_load_system(&t, detail, sizeof detail), SMTP_OK);
    printf("  ROOT store: %u anchors%s%s\n", (unsigned)smtp_trust_count(t), *detail ? ": " : "", detail);
    CHECK(smtp_trust_count(t) >= 1);
    smtp_trust_free(t);
}

TEST(winsock_balanced)
{
    smtp_config cfg = {0};
    smtp_session s;
    WSADATA w;
    CHECK_EQ_INT(winsock_up(), 0);                      /* nobody started it yet */
    cfg.host = "127.0.0.1"; cfg.port = port; cfg.security = SMTP_SECURITY_NONE;
    CHECK_EQ_INT(smtp_open(&s, &cfg), SMTP_OK);
    CHECK_EQ_INT(winsock_up(), 1);                      /* the session's reference */
    CHECK_EQ_INT(smtp_close(&s), SMTP_OK);
    CHECK_EQ_INT(winsock_up(), 0);                      /* given back */
    /* a program that uses Winsock itself keeps it after smtp_close */
    CHECK_EQ_INT(WSAStartup(MAKEWORD(2, 2), &w), 0);
    CHECK_EQ_INT(smtp_open(&s, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_close(&s), SMTP_OK);
    CHECK_EQ_INT(winsock_up(), 1);
    WSACleanup();
    CHECK_EQ_INT(winsock_up(), 0);
}

TEST(connect_refused)
{
    smtp_config cfg = {0};
    smtp_session s;
    unsigned long long t0 = GetTickCount64(), ms;
    cfg.host = "127.0.0.1"; cfg.port = port + 2;          /* nothing listens there */
    cfg.security = SMTP_SECURITY_NONE; cfg.connect_timeout_ms = 20000;
    CHECK_EQ_INT(smtp_open(&s, &cfg), SMTP_ERR_CONNECT);
    ms = GetTickCount64() - t0;
    printf("  refused after %llu ms: %s\n", ms, smtp_error_detail(&s));
    CHECK(ms < 10000);                                   /* not the connect timeout */
    CHECK_CONTAINS(smtp_error_detail(&s), "cannot connect to SMTP server 127.0.0.1");
    CHECK(strstr(smtp_error_detail(&s), "Winsock error") == NULL);   /* words, not a number */
    smtp_close(&s);
    CHECK_EQ_INT(winsock_up(), 0);                      /* a failed connect gives its reference back */
}

TEST(greeting_timeout)
{
    smtp_config cfg = {0};
    smtp_session s;
    WSADATA w;
    SOCKET l;
    struct sockaddr_in a;
    int al = (int)sizeof a;
    unsigned long long t0, ms;
    WSAStartup(MAKEWORD(2, 2), &w);
    l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(l != INVALID_SOCKET && bind(l, (struct sockaddr *)&a, al) == 0 && listen(l, 4) == 0 &&
          getsockname(l, (struct sockaddr *)&a, &al) == 0);
    /* the connection completes in the backlog; nothing is ever sent */
    cfg.host = "127.0.0.1"; cfg.port = ntohs(a.sin_port);
    cfg.security = SMTP_SECURITY_NONE; cfg.greeting_timeout_ms = 700;
    t0 = GetTickCount64();
    CHECK_EQ_INT(smtp_open(&s, &cfg), SMTP_ERR_TIMEOUT);
    ms = GetTickCount64() - t0;
    printf("  no greeting: SMTP_ERR_TIMEOUT after %llu ms (greeting_timeout_ms 700): %s\n", ms, smtp_error_detail(&s));
    CHECK(ms >= 650 && ms < 5000);
    smtp_close(&s);
    closesocket(l);
    WSACleanup();
}

/* A server that greets, answers EHLO, then resets the connection
   (SO_LINGER 0): the next command finds it closed (WSAECONNRESET is
   SMTP_ERR_CLOSED, as ECONNRESET is on POSIX), not an I/O error. */
static SOCKET reset_listener;

static DWORD WINAPI reset_server(LPVOID arg)
{
    SOCKET c = accept(reset_listener, NULL, NULL);
    char buf[512];
    struct linger lg;
    (void)arg;
    if (c == INVALID_SOCKET) return 1;
    send(c, "220 reset.test ESMTP\r\n", 22, 0);
    (void)recv(c, buf, sizeof buf, 0);
    send(c, "250 reset.test\r\n", 16, 0);
    Sleep(200);
    lg.l_onoff = 1; lg.l_linger = 0;
    setsockopt(c, SOL_SOCKET, SO_LINGER, (const char *)&lg, (int)sizeof lg);
    closesocket(c);
    return 0;
}

TEST(peer_reset)
{
    smtp_config cfg = {0};
    smtp_session s;
    WSADATA w;
    struct sockaddr_in a;
    int al = (int)sizeof a;
    HANDLE th;
    WSAStartup(MAKEWORD(2, 2), &w);
    reset_listener = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(reset_listener, (struct sockaddr *)&a, al) == 0 && listen(reset_listener, 4) == 0 &&
          getsockname(reset_listener, (struct sockaddr *)&a, &al) == 0);
    th = CreateThread(NULL, 0, reset_server, NULL, 0, NULL);
    cfg.host = "127.0.0.1"; cfg.port = ntohs(a.sin_port);
    cfg.security = SMTP_SECURITY_NONE; cfg.timeout_ms = 10000;
    CHECK_EQ_INT(smtp_open(&s, &cfg), SMTP_OK);
    WaitForSingleObject(th, 10000);
    Sleep(100);
    CHECK_EQ_INT(smtp_noop(&s), SMTP_ERR_CLOSED);
    printf("  reset by the server: %s: %s\n", smtp_result_str(SMTP_ERR_CLOSED), smtp_error_detail(&s));
    smtp_close(&s);
    CloseHandle(th);
    closesocket(reset_listener);
    WSACleanup();
}

TEST(unix_socket)
{
    smtp_config cfg = {0};
    smtp_session s;
    const char *to[] = { "rcpt@ports.test", NULL };
    smtp_message m = {0};
    smtp_result r;
    cfg.socket_path = unix_path; cfg.security = SMTP_SECURITY_NONE;
    r = smtp_open(&s, &cfg);
    printf("  cfg.socket_path %s: %s%s%s\n", unix_path, smtp_result_str(r), r ? ": " : "", r ? smtp_error_detail(&s) : "");
    if (r == SMTP_OK) {
        m.from = "mingw.unix@ports.test"; m.to = to; m.subject = "Hello over AF_UNIX"; m.text = "wincheck\n";
        CHECK_EQ_INT(smtp_send(&s, &m), SMTP_OK);
    } else {
        CHECK_EQ_INT(r, SMTP_ERR_UNSUPPORTED);
        CHECK_CONTAINS(smtp_error_detail(&s), "no Unix-domain sockets");
    }
    smtp_close(&s);
    CHECK_EQ_INT(winsock_up(), 0);
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: %s PORT UNIX-SOCKET-PATH\n", argv[0]); return 2; }
    port = atoi(argv[1]); unix_path = argv[2];
    RUN(trust_store_root);
    RUN(winsock_balanced);
    RUN(connect_refused);
    RUN(greeting_timeout);
    RUN(peer_reset);
    RUN(unix_socket);
    return TEST_END();
}
