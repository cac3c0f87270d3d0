/* winprobe.c - a trivial mingw-w64 program for wine, independent of smtp.h:
   proves that wine runs here and that Winsock reaches aiosmtpd on loopback.
   It speaks just enough SMTP to deliver one message (EHLO, MAIL, RCPT,
   DATA, QUIT), each reply checked; tests/ports/run.sh then finds the
   message in the server's spool like any send of smtp.h's examples.
   Build: x86_64-w64-mingw32-gcc -o winprobe.exe winprobe.c -lws2_32
   Run:   wine winprobe.exe PORT FROM TO      (Subject: winprobe) */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static SOCKET s;

/* one reply (multi-line replies until the final "NNN " line); its code */
static int reply(char *buf, int cap)
{
    int n = 0, r;
    buf[0] = 0;
    while (n < cap - 1) {
        r = recv(s, buf + n, cap - 1 - n, 0);
        if (r <= 0) break;
        n += r;
        buf[n] = 0;
        if (n >= 2 && buf[n - 1] == '\n') {
            char *last = buf + n - 2;
            while (last > buf && last[-1] != '\n') last--;
            if (strlen(last) >= 4 && last[3] == ' ') return atoi(last);
        }
    }
    return -1;
}

/* send LINE, expect a reply with code WANT */
static int step(const char *line, int want)
{
    char buf[4096];
    int code;
    if (line && send(s, line, (int)strlen(line), 0) != (int)strlen(line)) {
        fprintf(stderr, "winprobe: send failed: %d\n", WSAGetLastError());
        return 0;
    }
    code = reply(buf, sizeof buf);
    printf("winprobe: %.*s -> %.*s\n", line ? (int)strcspn(line, "\r\n") : 8, line ? line : "greeting",
           (int)strcspn(buf, "\r\n"), buf);
    return code == want;
}

int main(int argc, char **argv)
{
    WSADATA wsa;
    struct sockaddr_in a;
    char cmd[1024];
    DWORD tmo = 30000;
    int ok;
    if (argc != 4) { fprintf(stderr, "usage: %s PORT FROM TO\n", argv[0]); return 2; }
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) { fprintf(stderr, "winprobe: WSAStartup failed\n"); return 1; }
    s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (s == INVALID_SOCKET) { fprintf(stderr, "winprobe: socket: %d\n", WSAGetLastError()); return 1; }
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (const char *)&tmo, sizeof tmo);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        fprintf(stderr, "winprobe: connect: %d\n", WSAGetLastError());
        return 1;
    }
    ok = step(NULL, 220) && step("EHLO winprobe.test\r\n", 250);
    snprintf(cmd, sizeof cmd, "MAIL FROM:<%s>\r\n", argv[2]);
    ok = ok && step(cmd, 250);
    snprintf(cmd, sizeof cmd, "RCPT TO:<%s>\r\n", argv[3]);
    ok = ok && step(cmd, 250) && step("DATA\r\n", 354);
    snprintf(cmd, sizeof cmd, "From: <%s>\r\nTo: <%s>\r\nSubject: winprobe\r\n\r\nSent by wine.\r\n.\r\n",
             argv[2], argv[3]);
    ok = ok && step(cmd, 250) && step("QUIT\r\n", 221);
    closesocket(s);
    WSACleanup();
    printf("winprobe: %s\n", ok ? "delivered" : "FAILED");
    return ok ? 0 : 1;
}
