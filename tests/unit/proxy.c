/* proxy.c - unit tests of smtp.h's >>proxy: the SOCKS4, SOCKS5 and HTTP
   CONNECT reply parsers, pure functions over a buffer (tests/proxy.c goes
   through real proxies). */
#include "unit.h"

TEST(proxy_reply_parsers)
{
    smtp__preply r;
    const unsigned char s4[] = { 0, 90, 0, 25, 127, 0, 0, 1, 'x' }, s4bad[] = { 4, 90, 0, 0, 0, 0, 0, 0 };
    const unsigned char v4[] = { 5, 0, 0, 1, 127, 0, 0, 1, 0, 25, '2', '2', '0' };
    const unsigned char name[] = { 5, 5, 0, 3, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0, 25 };
    const unsigned char v6[] = { 5, 0, 0, 4, 0,0,0,0, 0,0,0,0, 0,0,0,0, 0,0,0,1, 0, 25 };
    const unsigned char badatyp[] = { 5, 0, 0, 9, 0, 0, 0, 0, 0, 0 };
    const char *http = "HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n220 greeting\r\n";
    const char *h407 = "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n";
    size_t k, hl = strlen(http) - 14;
    memset(&r, 0, sizeof r);
    for (k = 0; k < 8; k++) CHECK_EQ_INT(smtp__socks4_reply(s4, k, &r), 0);
    CHECK_EQ_INT(smtp__socks4_reply(s4, sizeof s4, &r), 8);
    CHECK_EQ_INT(r.status, 90);
    CHECK_EQ_INT(smtp__socks4_reply(s4bad, 8, &r), SMTP_ERR_PROTOCOL);
    for (k = 0; k < 10; k++) CHECK_EQ_INT(smtp__socks5_reply(v4, k, &r), 0);
    CHECK_EQ_INT(smtp__socks5_reply(v4, sizeof v4, &r), 10);     /* not one byte of the greeting */
    CHECK_EQ_INT(r.status, 0);
    for (k = 0; k < sizeof name; k++) CHECK_EQ_INT(smtp__socks5_reply(name, k, &r), 0);
    CHECK_EQ_INT(smtp__socks5_reply(name, sizeof name, &r), 16);
    CHECK_EQ_INT(r.status, 5);
    CHECK_EQ_INT(smtp__socks5_reply(v6, sizeof v6, &r), 22);
    CHECK_EQ_INT(smtp__socks5_reply(badatyp, sizeof badatyp, &r), SMTP_ERR_PROTOCOL);
    r.ver = 5;   /* SOCKS5's method selection */
    CHECK_EQ_INT(smtp__socks5_two((const unsigned char *)"\x05\xff", 1, &r), 0);
    CHECK_EQ_INT(smtp__socks5_two((const unsigned char *)"\x05\xff", 2, &r), 2);
    CHECK_EQ_INT(r.status, 0xFF);
    CHECK_EQ_INT(smtp__socks5_two((const unsigned char *)"\x04\x00", 2, &r), SMTP_ERR_PROTOCOL);
    r.ver = 1;   /* RFC 1929's status */
    CHECK_EQ_INT(smtp__socks5_two((const unsigned char *)"\x01\x01", 2, &r), 2);
    CHECK_EQ_INT(r.status, 1);
    CHECK_EQ_INT(smtp__socks5_two((const unsigned char *)"\x05\x00", 2, &r), SMTP_ERR_PROTOCOL);
    for (k = 0; k < hl; k++) CHECK_EQ_INT(smtp__http_reply((const unsigned char *)http, k, &r), 0);
    CHECK_EQ_INT(smtp__http_reply((const unsigned char *)http, strlen(http), &r), (long)hl);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(r.reason, "Connection established");
    CHECK_EQ_INT(smtp__http_reply((const unsigned char *)h407, strlen(h407), &r), (long)strlen(h407));
    CHECK_EQ_INT(r.status, 407);
    CHECK_EQ_INT(smtp__http_reply((const unsigned char *)"HTTP/1.1 2x0 no\r\n\r\n", 19, &r), SMTP_ERR_PROTOCOL);
    CHECK_EQ_INT(smtp__http_reply((const unsigned char *)"SSH-2.0-x\r\n\r\n", 13, &r), SMTP_ERR_PROTOCOL);
    CHECK_EQ_INT(smtp__http_reply((const unsigned char *)"HTTP/1.1 200 OK\n\n", 17, &r), 17);
    {
        static char big[9000];
        memset(big, 'x', sizeof big);
        memcpy(big, "HTTP/1.1 200 OK\r\n", 17);
        CHECK_EQ_INT(smtp__http_reply((const unsigned char *)big, sizeof big, &r), SMTP_ERR_PROTOCOL);
    }
}

void unit_proxy(void)
{
    RUN(proxy_reply_parsers);
}
