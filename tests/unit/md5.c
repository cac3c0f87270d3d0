/* md5.c - unit tests of smtp.h's >>md5: MD5 against RFC 1321's suite and the
   padding edges, fed in pieces; HMAC-MD5 against RFC 2202. */
#include "unit.h"

static void md5_hex(const void *p, size_t n, size_t piece, char *hex)
{
    smtp__md5 m;
    unsigned char d[16];
    size_t off;
    int i;
    smtp__md5_init(&m);
    for (off = 0; off < n; off += piece) smtp__md5_update(&m, (const char *)p + off, off + piece > n ? n - off : piece);
    smtp__md5_final(&m, d);
    for (i = 0; i < 16; i++) sprintf(hex + 2 * i, "%02x", d[i]);
}

TEST(md5_rfc1321_suite_and_padding)
{
    static const char *suite[][2] = {
        { "", "d41d8cd98f00b204e9800998ecf8427e" }, { "a", "0cc175b9c0f1b6a831c399e269772661" },
        { "abc", "900150983cd24fb0d6963f7d28e17f72" }, { "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
        { "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
        { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f" },
        { "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
          "57edf4a22be3c955ac49da2e2107b67a" } };
    static const struct { size_t n; const char *hex; } pad[] = {
        { 55, "ef1772b6dff9a122358552954ad0df65" }, { 56, "3b0c8ac703f828b04c6c197006d17218" },
        { 63, "b06521f39153d618550606be297466d5" }, { 64, "014842d480b571495a4a0363793f7367" },
        { 65, "c743a45e0d2e6a95cb859adae0248435" }, { 127, "020406e1d05cdc2aa287641f7ae2cc39" },
        { 128, "e510683b3f5ffe4093d021808bc6ff70" }, { 1000000, "7707d6ae4e027c70eea2a935c2296f21" } };
    static char a[1000000];
    char hex[33];
    size_t i, piece;
    for (i = 0; i < sizeof suite / sizeof *suite; i++)
        for (piece = 1; piece <= 100; piece += 33) {
            md5_hex(suite[i][0], strlen(suite[i][0]), piece, hex);
            CHECK_EQ_STR(hex, suite[i][1]);
        }
    memset(a, 'a', sizeof a);
    for (i = 0; i < sizeof pad / sizeof *pad; i++) {
        md5_hex(a, pad[i].n, pad[i].n, hex);
        CHECK_EQ_STR(hex, pad[i].hex);
        md5_hex(a, pad[i].n, 7, hex);             /* in pieces across block edges */
        CHECK_EQ_STR(hex, pad[i].hex);
    }
}

TEST(hmac_md5_rfc2202)
{
    static unsigned char k1[16], k3[16], d3[50], k4[25], d4[50], k5[16], k67[80];
    static const char *want[] = { "9294727a3638bb1c13f48ef8158bfc9d", "750c783e6ab0b503eaa86e310a5db738",
        "56be34521d144c88dbb8c733f0e8b3f6", "697eaf0aca3a3aea3a75164746ffaa79", "56461ef2342edc00f9bab995690efd4c",
        "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd", "6f630fad67cda0ee1fb1f562db3aa53e" };
    const char *t6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    const char *t7 = "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data";
    unsigned char d[16];
    char hex[33];
    int c, i;
    memset(k1, 0x0b, 16); memset(k3, 0xaa, 16); memset(d3, 0xdd, 50);
    for (i = 0; i < 25; i++) k4[i] = (unsigned char)(i + 1);
    memset(d4, 0xcd, 50); memset(k5, 0x0c, 16); memset(k67, 0xaa, 80);
    for (c = 0; c < 7; c++) {
        switch (c) {
        case 0: smtp__hmac_md5(k1, 16, "Hi There", 8, d); break;
        case 1: smtp__hmac_md5("Jefe", 4, "what do ya want for nothing?", 28, d); break;
        case 2: smtp__hmac_md5(k3, 16, d3, 50, d); break;
        case 3: smtp__hmac_md5(k4, 25, d4, 50, d); break;
        case 4: smtp__hmac_md5(k5, 16, "Test With Truncation", 20, d); break;
        case 5: smtp__hmac_md5(k67, 80, t6, strlen(t6), d); break;
        default: smtp__hmac_md5(k67, 80, t7, strlen(t7), d); break;
        }
        for (i = 0; i < 16; i++) sprintf(hex + 2 * i, "%02x", d[i]);
        CHECK_EQ_STR(hex, want[c]);
    }
}

void unit_md5(void)
{
    RUN(md5_rfc1321_suite_and_padding);
    RUN(hmac_md5_rfc2202);
}
