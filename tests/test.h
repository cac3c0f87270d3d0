/* test.h - a tiny test runner for smtp.h's tests.
   TEST(name) { CHECK(...); }  then in main: RUN(name); ... return TEST_END();
   The last line printed is "N passed, N failed" (tests), the line before
   it "N checks" (the checks made).
   A binary built from several files (tests/unit/): each defines
   TEST_SHARED before including this, the one with main() also TEST_MAIN;
   the counters are then one set, defined in that file.
   Also here: now_ms() and write_conf(), which tests of every kind use. */
#ifndef SMTP_TEST_H
#define SMTP_TEST_H
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#if defined(__GNUC__)
#define TEST_UNUSED __attribute__((unused))
#else
#define TEST_UNUSED
#endif
#ifdef TEST_SHARED
extern int test_passed, test_failed, test_cur_failed, test_checks;
extern const char *test_cur;
#ifdef TEST_MAIN
int test_passed, test_failed, test_cur_failed, test_checks;
const char *test_cur;
#endif
#else
static int test_passed, test_failed, test_cur_failed, test_checks;
static const char *test_cur;
#endif

#define TEST(name) static void name(void)
#define RUN(name) do { \
        test_cur = #name; test_cur_failed = 0; name(); \
        if (test_cur_failed) { test_failed++; printf("FAIL %s\n", #name); } \
        else { test_passed++; if (test_verbose()) printf("ok   %s\n", #name); } \
        fflush(stdout); \
    } while (0)

TEST_UNUSED static int test_verbose(void) { const char *v = getenv("TEST_VERBOSE"); return v && *v == '1'; }

#define TEST_FAILMSG(...) do { test_cur_failed++; printf("  %s:%d: in %s: ", __FILE__, __LINE__, test_cur); \
                               printf(__VA_ARGS__); printf("\n"); } while (0)
#define CHECK(c) do { test_checks++; if (!(c)) TEST_FAILMSG("CHECK(%s)", #c); } while (0)
#define CHECK_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); test_checks++; \
        if (a_ != b_) TEST_FAILMSG("%s == %lld, expected %s == %lld", #a, a_, #b, b_); } while (0)
#define CHECK_EQ_STR(a, b) do { const char *a_ = (a), *b_ = (b); test_checks++; \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) TEST_FAILMSG("%s == \"%s\", expected \"%s\"", #a, \
            a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)
#define CHECK_CONTAINS(hay, needle) do { const char *h_ = (hay), *n_ = (needle); test_checks++; \
        if (!h_ || !strstr(h_, n_)) TEST_FAILMSG("%s == \"%s\" lacks \"%s\"", #hay, h_ ? h_ : "(null)", n_); } while (0)
#define CHECK_EQ_MEM(a, an, b, bn) do { test_checks++; \
        if (!test_mem_eq((const unsigned char *)(a), (size_t)(an), (const unsigned char *)(b), (size_t)(bn))) \
            TEST_FAILMSG("%s differs from %s (see dump above)", #a, #b); } while (0)

/* BearSSL's check_equals: on a mismatch, both sides dumped around the first difference. */
TEST_UNUSED static void test_dump(const char *label, const unsigned char *p, size_t n, size_t from)
{
    size_t i, end = from + 48 < n ? from + 48 : n;
    printf("    %s (%zu bytes) at %zu:", label, n, from);
    for (i = from; i < end; i++) printf(i % 16 == from % 16 ? "\n      %02x" : " %02x", p[i]);
    printf("\n      \"");
    for (i = from; i < end; i++) putchar(p[i] >= 32 && p[i] < 127 ? p[i] : '.');
    printf("\"\n");
}

TEST_UNUSED static int test_mem_eq(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    size_t i = 0, start;
    if (an == bn && memcmp(a, b, an) == 0) return 1;
    while (i < an && i < bn && a[i] == b[i]) i++;
    start = i > 16 ? i - 16 : 0;
    printf("  first difference at byte %zu\n", i);
    test_dump("got", a, an, start);
    test_dump("expected", b, bn, start);
    return 0;
}

TEST_UNUSED static int test_end(void)
{
    printf("%d checks\n%d passed, %d failed\n", test_checks, test_passed, test_failed);
    return test_failed ? 1 : 0;
}
#define TEST_END() test_end()

/* Monotonic milliseconds. */
TEST_UNUSED static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes text to this process's scratch file, /tmp/smtph-test-PID.conf,
   then gives it the permissions asked for (a new file each time: unlinked
   first, so a link planted there is not followed); its path, or NULL. */
TEST_UNUSED static const char *write_conf(const char *text, int mode)
{
    static char path[64];
    size_t n = strlen(text);
    int fd;
    snprintf(path, sizeof path, "/tmp/smtph-test-%ld.conf", (long)getpid());
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return NULL;
    if (write(fd, text, n) != (ssize_t)n) { close(fd); unlink(path); return NULL; }
    close(fd);
    if (chmod(path, (mode_t)mode) != 0) { unlink(path); return NULL; }
    return path;
}
#endif
