/* chk-shim.c - glibc's fortified memcpy, memmove and memset for a musl
   link (make test's ports step, tests/ports/run.sh with PORTS_QUICK=1).
   Debian builds libbearssl.a with _FORTIFY_SOURCE, so its objects call
   __memcpy_chk and friends, which musl does not have. Each does what
   glibc's does: abort when the length exceeds the destination's size as
   the compiler knew it, else the plain function. */
#include <stdlib.h>
#include <string.h>

void *__memcpy_chk(void *dst, const void *src, size_t len, size_t dstlen);
void *__memmove_chk(void *dst, const void *src, size_t len, size_t dstlen);
void *__memset_chk(void *dst, int c, size_t len, size_t dstlen);

void *__memcpy_chk(void *dst, const void *src, size_t len, size_t dstlen)
{
    if (len > dstlen) abort();
    return memcpy(dst, src, len);
}

void *__memmove_chk(void *dst, const void *src, size_t len, size_t dstlen)
{
    if (len > dstlen) abort();
    return memmove(dst, src, len);
}

void *__memset_chk(void *dst, int c, size_t len, size_t dstlen)
{
    if (len > dstlen) abort();
    return memset(dst, c, len);
}
